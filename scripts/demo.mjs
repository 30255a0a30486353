// Loads the demo data set through the admin API (once: a second run finds it and reuses
// it), then prints the admin key and a sample link that works.
const base = process.env.BASE_URL;
const key = process.env.ADMIN_API_KEY;

async function api(method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body && JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok && response.status !== 409) {
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  }
  return { status: response.status, json };
}

async function demoLinks() {
  const existing = await api("GET", "/api/v1/links?limit=10");
  if (existing.json.data.length > 0) return existing.json.data;
  const program = await api("POST", "/api/v1/programs", {
    name: "Demo Shop", currency: "EUR", model: "sales", hold_days: 14, min_payout: "50.00",
    timezone: "Europe/Berlin",
  });
  const partners = [
    { name: "Anna Travel Blog", segment: "blogger", tier: "gold", region: "DE" },
    { name: "Deals Webmaster", segment: "webmaster", region: "FR" },
    { name: "Growth Agency", segment: "agency", tier: "silver", region: "PL" },
  ];
  const links = [];
  for (const [i, partner] of partners.entries()) {
    const created = await api("POST", "/api/v1/partners", partner);
    const link = await api("POST", "/api/v1/links", {
      program_id: program.json.id,
      partner_id: created.json.id,
      destination: `https://shop.example/landing?campaign=demo${i + 1}`,
      code: `demo-${partner.segment}`,
    });
    links.push(link.json);
  }
  return links;
}

const links = await demoLinks();
const sample = links[0];
console.log(`
partnerlens is running at ${base}

  admin key:    ${key}
  sample link:  ${sample.short_url}?sub1=readme&utm_source=demo
  try it:       curl -i '${sample.short_url}?sub1=readme&utm_source=demo'
  admin API:    curl -H 'Authorization: Bearer ${key}' ${base}/api/v1/links
  clicks:       curl -H 'Authorization: Bearer ${key}' '${base}/api/v1/clicks?link_id=${sample.id}'
`);
