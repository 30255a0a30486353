// Loads a realistic demo history through the admin and import APIs (once: a second run
// finds the programs and reuses them), rolls it up, then prints the dashboard URL, a
// partner's sign-in link and a sample referral link. The history is generated from a
// fixed seed, so every fresh start shows the same numbers: 120 days of three programs
// (sales, referral and services models), partners of every segment standing in every
// journey stage, leads, sales, refunds and rejections, program costs and some bot traffic;
// a blogger's promo code with sales that came without a click; then the nightly insights
// job and two SMART goals.
const base = process.env.BASE_URL;
const key = process.env.ADMIN_API_KEY;
const DAYS = 120;
const DAY_MS = 86_400_000;

async function api(method, path, body, contentType = "application/json") {
  const response = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": contentType },
    body: body === undefined ? undefined : contentType === "application/json" ? JSON.stringify(body) : body,
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

// mulberry32: a small seeded generator, so the demo is the same on every machine.
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = random(20261123);
const pick = (list) => list[Math.floor(rnd() * list.length)];
const poisson = (mean) => {
  let k = 0;
  let p = Math.exp(-mean);
  let s = p;
  const u = rnd();
  while (u > s && k < 500) {
    k += 1;
    p *= mean / k;
    s += p;
  }
  return k;
};

const PROGRAMS = [
  { key: "shop", name: "Demo Shop", currency: "EUR", model: "sales", hold_days: 14, min_payout: "50.00", timezone: "Europe/Berlin", partner_link_domains: ["shop.example"] },
  { key: "crm", name: "Cloud CRM", currency: "USD", model: "referral", hold_days: 30, min_payout: "100.00", timezone: "America/New_York", partner_link_domains: ["crm.example"] },
  { key: "consult", name: "Consulting Partners", currency: "EUR", model: "services", hold_days: 0, min_payout: "0.00", timezone: "Europe/Berlin", partner_link_domains: [] },
];

// Daily clicks by day index (0 = 120 days ago, 119 = today); each profile shapes a stage.
const SHAPES = {
  steady: (d) => 1,
  growing: (d) => 0.4 + (d / DAYS) * 1.2,
  halved: (d) => (d < DAYS - 14 ? 1 : 0.35),
  stopped20: (d) => (d < DAYS - 20 ? 1 : 0),
  stopped60: (d) => (d < DAYS - 60 ? 1 : 0),
  recent: (d) => (d >= DAYS - 25 ? 1 : 0),
  none: () => 0,
};

const PARTNERS = [
  { name: "Anna Travel Blog", segment: "blogger", tier: "gold", region: "DE", programs: ["shop"], clicks: 55, shape: "growing", promoCode: "ANNA10" },
  { name: "Deals Webmaster", segment: "webmaster", region: "FR", programs: ["shop", "crm"], clicks: 30, shape: "steady" },
  { name: "Growth Agency", segment: "agency", tier: "silver", region: "PL", programs: ["crm", "consult"], clicks: 18, shape: "steady" },
  { name: "Smart Home Guide", segment: "expert", region: "AT", programs: ["shop"], clicks: 14, shape: "steady" },
  { name: "Max Tech Review", segment: "blogger", region: "DE", programs: ["shop", "crm"], clicks: 24, shape: "halved" },
  { name: "Coupon Corner", segment: "webmaster", region: "NL", programs: ["shop"], clicks: 20, shape: "stopped20" },
  { name: "Finance Expert Lena", segment: "expert", region: "CH", programs: ["crm"], clicks: 12, shape: "stopped60" },
  { name: "Startup Advisors", segment: "agency", region: "US", programs: ["consult"], clicks: 6, shape: "recent", conversionDays: 1 },
  { name: "New Voices Podcast", segment: "blogger", region: "GB", programs: ["shop"], clicks: 5, shape: "recent", conversionDays: 0 },
  { name: "Niche Reviews", segment: "webmaster", region: "ES", programs: ["shop"], clicks: 0, shape: "none" },
  { name: "Bargain Bots Ltd", segment: "other", region: "US", programs: ["shop"], clicks: 16, shape: "steady", bots: 0.45 },
  { name: "Applicant Studio", segment: "other", region: "IT", programs: ["consult"], clicks: 0, shape: "none", status: "applied" },
];

const COUNTRIES = ["DE", "DE", "DE", "FR", "FR", "PL", "NL", "AT", "US", "US", "GB", "ES", "IT", "CH"];
const SOURCES = ["instagram", "youtube", "newsletter", "google", "telegram", "facebook"];
const BROWSERS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
];
const BOTS = ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "python-requests/2.31.0", "WhatsApp/2.23.20.0"];

/** What a click turns into, per program model. */
const FUNNEL = {
  sales: { lead: 0, sale: 0.028, amount: [25, 240], refund: 0.06 },
  referral: { lead: 0.09, qualified: 0.45, sale: 0.35, amount: [29, 99], refund: 0.03 },
  services: { lead: 0.06, qualified: 0.5, sale: 0.3, amount: [600, 3200], refund: 0 },
};

async function existing() {
  const programs = await api("GET", "/api/v1/programs?limit=50");
  return programs.data.length > 0;
}

async function createEntities() {
  const programs = {};
  for (const p of PROGRAMS) {
    const { key: k, ...body } = p;
    programs[k] = await api("POST", "/api/v1/programs", body);
  }
  const rules = [
    ["shop", { event: "sale", kind: "percent", value: "10" }],
    ["shop", { event: "sale", kind: "percent", value: "12", segment: "blogger" }],
    ["shop", { event: "sale", kind: "percent", value: "15", from_monthly_sale: 20 }],
    ["crm", { event: "lead", kind: "fixed", value: "2.00" }],
    ["crm", { event: "sale", kind: "fixed", value: "40.00" }],
    ["consult", { event: "qualified", kind: "fixed", value: "50.00" }],
    ["consult", { event: "sale", kind: "percent", value: "8" }],
  ];
  for (const [program, rule] of rules) await api("POST", "/api/v1/commission-rules", { program_id: programs[program].id, ...rule });
  const partners = [];
  for (const [i, spec] of PARTNERS.entries()) {
    const partner = await api("POST", "/api/v1/partners", {
      name: spec.name, segment: spec.segment, tier: spec.tier, region: spec.region, status: spec.status ?? "approved",
      email: `${spec.name.toLowerCase().replace(/[^a-z]+/g, ".")}@partners.example`,
    });
    const links = [];
    for (const program of spec.programs) {
      const host = program === "crm" ? "crm.example" : program === "consult" ? "consulting.example" : "shop.example";
      links.push(await api("POST", "/api/v1/links", {
        program_id: programs[program].id, partner_id: partner.id,
        destination: `https://${host}/landing?ref=${i + 1}`, code: `demo-${i + 1}-${program}`,
      }));
      // A blogger's followers also buy with her code, without a click.
      if (spec.promoCode) await api("POST", "/api/v1/promo-codes", { program_id: programs[program].id, partner_id: partner.id, code: spec.promoCode });
    }
    partners.push({ spec, partner, links });
  }
  return { programs, partners };
}

/** Clicks and the conversions that follow them, as NDJSON lines. */
function history(programs, partners) {
  const clicks = [];
  const conversions = [];
  const start = Math.floor(Date.now() / DAY_MS) * DAY_MS - (DAYS - 1) * DAY_MS;
  let order = 0;
  const customers = {};
  for (const { spec, links } of partners) {
    const convertOn = new Set();
    for (const link of links) {
      const program = Object.values(programs).find((p) => p.id === link.program_id);
      const funnel = FUNNEL[program.model];
      for (let d = 0; d < DAYS; d++) {
        const dayStart = start + d * DAY_MS;
        const n = poisson((spec.clicks / links.length) * SHAPES[spec.shape](d) * (0.8 + 0.4 * rnd()) * (d % 7 >= 5 ? 0.75 : 1));
        for (let i = 0; i < n; i++) {
          const ts = dayStart + Math.floor((7 + rnd() * 15) * 3_600_000);
          if (ts > Date.now() - 60_000) continue;
          const bot = rnd() < (spec.bots ?? 0.03);
          const id = `demo-${link.code}-${d}-${i}`;
          clicks.push({
            id, ts: new Date(ts).toISOString(), link_code: link.code,
            ua: bot ? pick(BOTS) : pick(BROWSERS),
            ip: `198.51.${Math.floor(rnd() * 200)}.${1 + Math.floor(rnd() * 250)}`,
            country: pick(COUNTRIES), referrer: `https://${pick(["instagram.com", "youtube.com", "t.me", "google.com", "news.example"])}/`,
            utm_source: pick(SOURCES), sub1: `post-${1 + Math.floor(rnd() * 8)}`,
          });
          if (bot) continue;
          const limited = spec.conversionDays !== undefined;
          const canConvert = !limited || convertOn.size < spec.conversionDays || convertOn.has(d);
          if (!canConvert) continue;
          const later = (hours) => new Date(Math.min(ts + hours * 3_600_000, Date.now() - 30_000)).toISOString();
          const age = (Date.now() - ts) / DAY_MS;
          const status = () => (rnd() < 0.03 ? "rejected" : age > program.hold_days ? "approved" : "pending");
          const sale = (hours) => {
            const [lo, hi] = funnel.amount;
            const amount = (lo + rnd() * (hi - lo)).toFixed(2);
            const customer = rnd() < 0.2 && customers[program.id]?.length ? pick(customers[program.id]) : `cust-${program.model}-${++order}`;
            (customers[program.id] ??= []).push(customer);
            const orderId = `demo-order-${++order}`;
            conversions.push({ click_id: id, event: "sale", order_id: orderId, amount, status: status(), customer_id: customer, ts: later(hours) });
            convertOn.add(d);
            if (rnd() < funnel.refund && age > 3) {
              const part = rnd() < 0.5 ? amount : (Number(amount) / 2).toFixed(2);
              conversions.push({ click_id: id, event: "refund", order_id: orderId, amount: part, status: "approved", ts: later(hours + 48) });
            }
          };
          if (funnel.lead === 0) {
            if (rnd() < funnel.sale) sale(1 + rnd() * 20);
            continue;
          }
          if (rnd() >= funnel.lead) continue;
          conversions.push({ click_id: id, event: "lead", ts: later(0.2), status: rnd() < 0.05 ? "rejected" : "approved" });
          convertOn.add(d);
          if (rnd() >= funnel.qualified) continue;
          conversions.push({ click_id: id, event: "qualified", ts: later(6 + rnd() * 40), status: "approved" });
          if (rnd() < funnel.sale) sale(48 + rnd() * 200);
        }
        const codeSaleAt = dayStart + Math.floor((9 + rnd() * 12) * 3_600_000);
        if (spec.promoCode && funnel.lead === 0 && rnd() < 0.6 && codeSaleAt < Date.now() - 60_000) {
          const [lo, hi] = funnel.amount;
          conversions.push({
            program_id: program.id, coupon: spec.promoCode.toLowerCase(), event: "sale", order_id: `demo-order-${++order}`,
            amount: (lo + rnd() * (hi - lo)).toFixed(2), status: Date.now() - codeSaleAt > program.hold_days * DAY_MS ? "approved" : "pending",
            customer_id: `cust-${program.model}-${++order}`, ts: new Date(codeSaleAt).toISOString(),
          });
        }
      }
    }
  }
  return { clicks, conversions, start };
}

async function importAll(path, rows) {
  let accepted = 0;
  for (let i = 0; i < rows.length; i += 5000) {
    const body = rows.slice(i, i + 5000).map((r) => JSON.stringify(r)).join("\n");
    const answer = await api("POST", path, body, "application/x-ndjson");
    accepted += answer.accepted + answer.duplicates;
    if (answer.rejected.length) console.error(`${path}: ${answer.rejected.length} lines refused, e.g. ${JSON.stringify(answer.rejected[0])}`);
  }
  return accepted;
}

async function load() {
  process.stderr.write("partnerlens: loading the demo history (120 days, three programs, twelve partners)…\n");
  const { programs, partners } = await createEntities();
  const { clicks, conversions, start } = history(programs, partners);
  conversions.sort((a, b) => a.ts.localeCompare(b.ts));
  const clicked = await importAll("/api/v1/import/clicks", clicks);
  const converted = await importAll("/api/v1/import/conversions", conversions);
  for (const program of Object.values(programs)) {
    for (let d = 0; d < DAYS; d += 7) {
      const date = new Date(start + d * DAY_MS).toISOString().slice(0, 10);
      const amount = program.model === "services" ? "400.00" : program.model === "referral" ? "250.00" : "600.00";
      await api("POST", "/api/v1/costs", { program_id: program.id, date, category: pick(["marketing", "marketing", "support", "training"]), amount });
    }
  }
  const from = new Date(start - DAY_MS).toISOString().slice(0, 10);
  const to = new Date(Date.now() + 2 * DAY_MS).toISOString().slice(0, 10);
  await api("POST", `/api/v1/rollups/run?from=${from}&to=${to}`);
  // The nightly insights job now, not at the next local midnight: forecasts and flags.
  for (const program of Object.values(programs)) await api("POST", `/api/v1/insights/run?program_id=${program.id}`);
  const day = (offset) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
  await api("POST", "/api/v1/goals", {
    program_id: programs.shop.id, metric: "sales", target_change_percent: "15",
    baseline_from: day(-75), baseline_to: day(-16), start: day(-15), deadline: day(44),
  });
  await api("POST", "/api/v1/goals", { program_id: programs.crm.id, metric: "new_customers", target: "40", start: day(-30), deadline: day(29) });
  process.stderr.write(`partnerlens: demo loaded: ${clicked} clicks, ${converted} conversions, forecasts, flags and two goals\n`);
}

if (!(await existing())) await load();
const partners = (await api("GET", "/api/v1/partners?limit=50")).data;
const anna = partners.find((p) => p.name === "Anna Travel Blog") ?? partners[0];
const token = await api("POST", "/api/v1/partner-tokens", { partner_id: anna.id, name: "demo sign-in link" });
const links = (await api("GET", `/api/v1/links?partner_id=${anna.id}&limit=5`)).data;
const sample = links[0];
console.log(`
partnerlens is running at ${base}

  dashboard:            ${base}/            (sign in with the admin key)
  admin key:            ${key}
  ${anna.name} portal:  ${base}/portal#token=${token.token}
  sample link:          ${sample.short_url}?sub1=readme&utm_source=demo
  admin API:            curl -H 'Authorization: Bearer ${key}' ${base}/api/v1/links
`);
