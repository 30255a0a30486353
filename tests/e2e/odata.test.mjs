// The OData v4 feed, read with a real OData client library and by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { OData, EdmV4 } from "@odata/client";
import { api, unique, CHROME, BASE } from "./helpers.mjs";

async function setup() {
  const program = (await api("POST", "/api/v1/programs", { name: unique("OData"), currency: "EUR", model: "services" })).json;
  const partners = [];
  for (const name of ["Ann", "Bob"]) {
    const partner = (await api("POST", "/api/v1/partners", { name: unique(name) })).json;
    const code = unique("od");
    await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/", code });
    partners.push({ partner, code });
  }
  const lines = [];
  for (const [i, { code }] of partners.entries()) {
    for (const day of ["2026-04-01", "2026-04-02", "2026-04-03"]) {
      for (let n = 0; n <= i; n++) {
        lines.push(JSON.stringify({ id: `${code}-${day}-${n}`, ts: `${day}T10:0${n}:00Z`, link_code: code, ua: CHROME, ip: `203.0.113.${n}` }));
      }
    }
  }
  const imported = await fetch(`${BASE}/api/v1/import/clicks`, {
    method: "POST",
    headers: { authorization: `Bearer ${process.env.ADMIN_API_KEY}` },
    body: lines.join("\n"),
  });
  assert.equal((await imported.json()).accepted, 9);
  assert.equal((await api("POST", "/api/v1/rollups/run?from=2026-04-01&to=2026-04-04")).status, 200);
  const key = (await api("POST", "/api/v1/bi-keys", { name: "odata" })).json.key;
  return { program, partners, key };
}

const ready = setup();

test("the OData client reads DailyKpis with a filter, select and count", async () => {
  const { program, key, partners } = await ready;
  const client = OData.New4({ serviceEndpoint: `${BASE}/odata/`, commonHeaders: { Authorization: `Bearer ${key}` } });
  const params = client
    .newParam()
    .filter(`day ge 2026-04-01 and day lt 2026-04-03 and program_id eq '${program.id}'`)
    .select("day,partner_id,clicks,revenue");
  const rows = await client.getEntitySet("DailyKpis").query(params);
  const got = rows.map((r) => [r.day, r.partner_id, r.clicks, r.revenue]).sort();
  assert.deepEqual(got, [
    ["2026-04-01", partners[0].partner.id, 1, 0],
    ["2026-04-01", partners[1].partner.id, 2, 0],
    ["2026-04-02", partners[0].partner.id, 1, 0],
    ["2026-04-02", partners[1].partner.id, 2, 0],
  ].sort());
  const partnersSet = await client.getEntitySet("Partners").query(client.newParam().filter(`id eq '${partners[1].partner.id}'`));
  assert.deepEqual(partnersSet.map((p) => p.name), [partners[1].partner.name]);
});

test("the service document, $metadata, paging, $count and unsupported options", async () => {
  const { program, key } = await ready;
  const get = (path) => fetch(`${BASE}/odata${path}`, { headers: { authorization: `Bearer ${key}` } });
  const service = await get("/");
  assert.equal(service.headers.get("odata-version"), "4.0");
  assert.deepEqual((await service.json()).value.map((s) => s.name), ["DailyKpis", "Partners"]);
  const metadata = await (await get("/$metadata")).text();
  assert.match(metadata, /<EntitySet Name="DailyKpis" EntityType="partnerlens.DailyKpi"\/>/);
  assert.match(metadata, /<Property Name="revenue" Type="Edm.Decimal" Precision="38" Scale="2"\/>/);

  const filter = encodeURIComponent(`day ge 2026-04-01 and day lt 2026-04-04 and program_id eq '${program.id}'`);
  const first = await (await get(`/DailyKpis?$filter=${filter}&$top=4&$count=true`)).json();
  assert.equal(first["@odata.count"], 6);
  assert.equal(first.value.length, 4);
  assert.equal(first["@odata.nextLink"], undefined, "$top=4 is all that was asked");
  const paged = await (await get(`/DailyKpis?$filter=${filter}&$skip=4`)).json();
  assert.equal(paged.value.length, 2);
  const ids = new Set([...first.value, ...paged.value].map((r) => r.id));
  assert.equal(ids.size, 6);

  for (const [option, feature] of [
    ["$expand=Partner", "$expand"],
    ["$apply=aggregate", "$apply"],
    ["$filter=" + encodeURIComponent("tolower(partner_name) eq 'ann'"), "tolower"],
    ["$filter=" + encodeURIComponent("clicks add 1 gt 2"), "add"],
  ]) {
    const response = await get(`/DailyKpis?${option}`);
    assert.equal(response.status, 501, option);
    assert.match((await response.json()).error.message, new RegExp(feature.replace("$", "\\$")), option);
  }
  for (const [option, token] of [
    ["$filter=" + encodeURIComponent("(day ge 2026-04-01"), "("],
    ["$filter=" + encodeURIComponent("day ge 2026-13-01"), "2026-13-01"],
    ["$filter=" + encodeURIComponent("nosuch eq 1"), "nosuch"],
    ["$filter=" + encodeURIComponent("clicks eq 'x'"), "clicks"],
    ["$orderby=" + encodeURIComponent("day sideways"), "sideways"],
  ]) {
    const response = await get(`/DailyKpis?${option}`);
    assert.equal(response.status, 400, option);
    const error = (await response.json()).error;
    assert.equal(error.code, "invalid_parameter", option);
    assert.ok(error.message.includes(token), `${option}: ${error.message}`);
  }
  assert.equal((await fetch(`${BASE}/odata/DailyKpis`)).status, 401);
});

test("the filter shapes OData clients and Power BI fold are served, with $orderby", async () => {
  const { program, key, partners } = await ready;
  const [ann, bob] = partners.map((p) => p.partner);
  const client = OData.New4({ serviceEndpoint: `${BASE}/odata/`, commonHeaders: { Authorization: `Bearer ${key}` } });
  // The client's filter builder wraps clauses in parentheses.
  const built = client
    .newFilter()
    .field("day").ge(new EdmV4.Date("2026-04-01"))
    .field("day").lt(new EdmV4.Date("2026-04-04"))
    .field("program_id").eq(program.id);
  assert.match(built.build(), /^\(day ge 2026-04-01 and day lt 2026-04-04\) and program_id eq/);
  const rows = await client.getEntitySet("DailyKpis").query(client.newParam().filter(built).orderby("day", "desc").select(["day", "partner_id", "clicks"]));
  assert.deepEqual(rows.map((r) => r.day), ["2026-04-03", "2026-04-03", "2026-04-02", "2026-04-02", "2026-04-01", "2026-04-01"]);

  const get = async (query) => {
    const response = await fetch(`${BASE}/odata/DailyKpis?${query}`, { headers: { authorization: `Bearer ${key}` } });
    const body = await response.json();
    assert.equal(response.status, 200, `${query}: ${JSON.stringify(body)}`);
    return body.value;
  };
  const inProgram = `program_id eq '${program.id}'`;
  const days = (rows) => rows.map((r) => [r.day, r.partner_id, r.clicks]);
  for (const [filter, expected] of [
    // Power BI's folding: each clause in parentheses, date literals unquoted.
    [`((day ge 2026-04-02) and (day lt 2026-04-03)) and (${inProgram})`, [["2026-04-02", ann.id, 1], ["2026-04-02", bob.id, 2]]],
    [`year(day) eq 2026 and month(day) eq 4 and day(day) eq 3 and ${inProgram}`, [["2026-04-03", ann.id, 1], ["2026-04-03", bob.id, 2]]],
    [`day eq 2026-04-01 and (partner_id eq '${bob.id}' or clicks gt 5) and ${inProgram}`, [["2026-04-01", bob.id, 2]]],
    [`day ge 2026-04-01 and day le 2026-04-01 and partner_id in ('${ann.id}','nobody') and ${inProgram}`, [["2026-04-01", ann.id, 1]]],
    [`day ge 2026-04-01 and day lt 2026-04-02 and not (clicks lt 2) and ${inProgram}`, [["2026-04-01", bob.id, 2]]],
    [`day ge 2026-04-01 and day lt 2026-04-02 and startswith(partner_name, '${bob.name.slice(0, 4)}') and ${inProgram}`, [["2026-04-01", bob.id, 2]]],
    [`day ge 2026-04-01 and day lt 2026-04-02 and revenue eq 0.00 and clicks ne 1 and ${inProgram}`, [["2026-04-01", bob.id, 2]]],
  ]) {
    const got = await get(`$filter=${encodeURIComponent(filter)}&$orderby=${encodeURIComponent("day,partner_id")}`);
    const want = expected.map((row) => row.slice()).sort();
    assert.deepEqual(days(got).sort(), want, filter);
  }
  const ordered = await get(`$filter=${encodeURIComponent(`day eq 2026-04-02 and ${inProgram}`)}&$orderby=${encodeURIComponent("clicks desc")}`);
  assert.deepEqual(ordered.map((r) => r.clicks), [2, 1]);
  const created = await fetch(`${BASE}/odata/Partners?$filter=${encodeURIComponent(`created_at ge 2026-01-01T00:00:00Z and contains(name, '${ann.name.slice(-6)}')`)}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(created.status, 200);
  assert.deepEqual((await created.json()).value.map((p) => p.id), [ann.id]);
});
