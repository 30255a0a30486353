// The KPI report over rolled-up data, against a hand-computed fixture: every base measure
// and derived KPI of kpis.md, to the cent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, hit, storedClick, clickIdOf, eventually, events, unique, GOOGLEBOT, IPHONE, BASE } from "./helpers.mjs";

const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
const RANGE = `from=${day(-1)}&to=${day(2)}`;

async function postback(params) {
  const response = await fetch(`${BASE}/postback?${new URLSearchParams(params)}`);
  const json = await response.json();
  assert.equal(response.status, 200, JSON.stringify(json));
  return json;
}

async function rollup() {
  const run = await api("POST", `/api/v1/rollups/run?${RANGE}`);
  assert.equal(run.status, 200, run.text);
}

/** Program P: partner A (blogger, link LA) and B (agency, link LB), traffic and money. */
async function fixture() {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Report"), currency: "EUR", model: "sales" })).json;
  const token = program.postback_secret;
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "lead", kind: "fixed", value: "2" });
  const partner = async (segment) => (await api("POST", "/api/v1/partners", { name: unique(segment), segment })).json;
  const a = await partner("blogger");
  const b = await partner("agency");
  const link = async (p) => (await api("POST", "/api/v1/links", { program_id: program.id, partner_id: p.id, destination: "https://shop.example/" })).json;
  const la = await link(a);
  const lb = await link(b);
  const click = (l, ip, ua) => hit(`/r/${l.code}`, { headers: { "cf-connecting-ip": ip, ...(ua && { "user-agent": ua }) } }).then(clickIdOf);
  const c1 = await click(la, "198.51.100.1");
  await click(la, "198.51.100.1");
  const c2 = await click(la, "198.51.100.2");
  await click(la, "198.51.100.3", GOOGLEBOT);
  const c3 = await click(lb, "198.51.100.4", IPHONE);
  for (let i = 0; i < 4; i++) await hit(`/i/${la.code}`);
  await hit(`/i/${la.code}`, { headers: { "user-agent": GOOGLEBOT } });
  await storedClick(lb.id, c3);
  await storedClick(la.id, c2);
  await eventually(async () => (await events("impressions", la.id)).length === 5, { what: "impressions" });
  await postback({ click_id: c1, event: "lead", token });
  await postback({ click_id: c1, order_id: "S1", amount: "100", customer_id: "c1", token });
  await postback({ click_id: c2, order_id: "S2", amount: "50.50", customer_id: "c2", token });
  await postback({ event: "refund", order_id: "S1", amount: "20", token });
  const saleB = await postback({ click_id: c3, order_id: "S3", amount: "200", customer_id: "c3", token });
  await postback({ click_id: c3, order_id: "S4", amount: "999", status: "rejected", customer_id: "c4", token });
  await api("POST", "/api/v1/costs", { program_id: program.id, date: day(0), category: "marketing", amount: "30" });
  await rollup();
  return { program, a, b, saleB };
}

const fixtureReady = fixture();

test("every KPI of a program matches the hand-computed fixture", async () => {
  const { program } = await fixtureReady;
  const report = await api("GET", `/api/v1/reports/kpis?${RANGE}&group_by=program&program_id=${program.id}`);
  assert.equal(report.status, 200, report.text);
  assert.equal(report.json.data.length, 1);
  const [row] = report.json.data;
  assert.deepEqual(row, {
    program_id: program.id,
    program_name: program.name,
    clicks: 4,
    unique_clicks: 3,
    bot_clicks: 1,
    impressions: 4,
    leads: 1,
    qualified_leads: 0,
    sales: 3,
    refunds: 1,
    revenue: "330.50",
    commission: "35.05",
    other_cost: "30.00",
    cost: "65.05",
    new_customers: 3,
    cr_click_to_lead: 0.25,
    cr_lead_to_sale: 3,
    cr_click_to_sale: 0.75,
    ctr: 1,
    epc: "8.76",
    rpc: "82.63",
    ecpm: "8762.50",
    aov: "110.17",
    cpa: "21.68",
    cac: "21.68",
    roi: 4.080707,
    roas: 5.080707,
    ltv: "88.48",
  });
  assert.equal(report.json.next, null);
  assert.equal(report.json.meta.timezone, "UTC");
});

test("partner rows split the program, carry no program costs, and sum back to it", async () => {
  const { program, a, b } = await fixtureReady;
  const report = await api("GET", `/api/v1/reports/kpis?${RANGE}&group_by=partner&program_id=${program.id}&metrics=clicks,unique_clicks,sales,revenue,commission,other_cost,cost,new_customers,epc`);
  const rows = Object.fromEntries(report.json.data.map((r) => [r.partner_id, r]));
  assert.deepEqual(rows[a.id], {
    partner_id: a.id, partner_name: a.name, clicks: 3, unique_clicks: 2, sales: 2, revenue: "130.50",
    commission: "15.05", other_cost: "0.00", cost: "15.05", new_customers: 2, epc: "5.02",
  });
  assert.deepEqual(rows[b.id], {
    partner_id: b.id, partner_name: b.name, clicks: 1, unique_clicks: 1, sales: 1, revenue: "200.00",
    commission: "20.00", other_cost: "0.00", cost: "20.00", new_customers: 1, epc: "20.00",
  });
  const bySegment = await api("GET", `/api/v1/reports/kpis?${RANGE}&group_by=segment&program_id=${program.id}&metrics=sales`);
  assert.deepEqual(bySegment.json.data, [{ segment: "agency", sales: 1 }, { segment: "blogger", sales: 2 }]);
});

test("active and selling partners are distinct counts, not sums of days", async () => {
  const { program } = await fixtureReady;
  const report = await api("GET", `/api/v1/reports/kpis?${RANGE}&group_by=program&program_id=${program.id}&metrics=sales,active_partners,selling_partners,avg_sales_per_partner`);
  assert.deepEqual(report.json.data, [{
    program_id: program.id, program_name: program.name, sales: 3, active_partners: 2, selling_partners: 2, avg_sales_per_partner: "165.25",
  }]);
});

test("a rollup run twice gives the same numbers, and a rejection changes them after the next run", async () => {
  const { program, b, saleB } = await fixtureReady;
  const path = `/api/v1/reports/kpis?${RANGE}&group_by=partner&program_id=${program.id}&metrics=sales,revenue,commission`;
  const before = (await api("GET", path)).json.data;
  await rollup();
  assert.deepEqual((await api("GET", path)).json.data, before);
  await api("PATCH", `/api/v1/conversions/${saleB.conversion_id}`, { status: "rejected" });
  await rollup();
  const after = (await api("GET", path)).json.data.find((r) => r.partner_id === b.id);
  assert.deepEqual(after, { partner_id: b.id, partner_name: b.name, sales: 0, revenue: "0.00", commission: "0.00" });
});

test("a day series has a row for every day, the same columns on every row, and CSV matches JSON", async () => {
  const { program } = await fixtureReady;
  const json = await api("GET", `/api/v1/reports/kpis?${RANGE}&program_id=${program.id}`);
  assert.deepEqual(json.json.data.map((r) => r.day), [day(-1), day(0), day(1)]);
  const keys = Object.keys(json.json.data[0]);
  assert.deepEqual(keys, json.json.meta.columns);
  for (const row of json.json.data) assert.deepEqual(Object.keys(row), keys);
  assert.equal(json.json.data[0].clicks, 0);
  assert.equal(json.json.data[0].epc, null);
  const csv = await fetch(`${BASE}/api/v1/reports/kpis?${RANGE}&program_id=${program.id}&format=csv`, {
    headers: { authorization: `Bearer ${process.env.ADMIN_API_KEY}` },
  });
  assert.match(csv.headers.get("content-type"), /text\/csv/);
  const lines = (await csv.text()).trim().split("\n");
  assert.equal(lines[0], keys.join(","));
  assert.equal(lines.length, 4);
  const empty = await api("GET", `/api/v1/reports/kpis?from=2001-01-01&to=2001-01-02&group_by=partner`);
  assert.deepEqual(empty.json.data, []);
  assert.deepEqual(empty.json.meta.columns.slice(0, 2), ["partner_id", "partner_name"]);
});

test("pages return every row exactly once with absolute next links", async () => {
  const { program } = await fixtureReady;
  const seen = [];
  let path = `/api/v1/reports/kpis?${RANGE}&group_by=day,partner&program_id=${program.id}&limit=1`;
  while (path) {
    const page = await api("GET", path);
    assert.equal(page.status, 200, page.text);
    assert.ok(page.json.data.length <= 1);
    seen.push(...page.json.data.map((r) => `${r.day}/${r.partner_id}`));
    if (page.json.next) assert.match(page.json.next, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/reports\/kpis\?/);
    path = page.json.next && page.json.next.slice(new URL(page.json.next).origin.length);
  }
  const all = await api("GET", `/api/v1/reports/kpis?${RANGE}&group_by=day,partner&program_id=${program.id}`);
  assert.deepEqual(seen, all.json.data.map((r) => `${r.day}/${r.partner_id}`));
  assert.equal(new Set(seen).size, seen.length);
});

test("every bad report parameter is a 400 that names it", async () => {
  for (const [query, field] of [
    ["to=2026-11-08", "from"],
    ["from=2026-11-01", "to"],
    ["from=2026-11-08&to=2026-11-01", "to"],
    ["from=2025-01-01&to=2026-06-01", "to"],
    ["from=2026-11-01&to=2026-11-08&group_by=hour", "group_by"],
    ["from=2026-11-01&to=2026-11-08&metrics=visits", "metrics"],
    ["from=2026-11-01&to=2026-11-08&timezone=Nowhere/City", "timezone"],
    ["from=2026-11-01&to=2026-11-08&timezone=Asia/Kolkata", "timezone"],
    ["from=2026-11-01&to=2026-11-08&format=parquet", "format"],
    ["from=2026-11-01&to=2026-11-08&limit=20000", "limit"],
    ["from=2026-11-01&to=2026-11-08&cursor=abc", "cursor"],
  ]) {
    const response = await api("GET", `/api/v1/reports/kpis?${query}`);
    assert.equal(response.status, 400, `${query}: ${response.text}`);
    assert.equal(response.json.error.field, field, query);
  }
  const run = await api("POST", "/api/v1/rollups/run?from=2026-11-01");
  assert.equal(run.status, 400);
  assert.equal(run.json.error.field, "to");
});
