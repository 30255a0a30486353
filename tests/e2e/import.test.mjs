// History import: explicit timestamps through the live logic, exact reports over it,
// including a DST day in America/New_York, out-of-order arrival and late conversions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, ndjson, unique, GOOGLEBOT, CHROME } from "./helpers.mjs";

async function setup() {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Imported"), currency: "USD", model: "referral" })).json;
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  const partner = (await api("POST", "/api/v1/partners", { name: unique("Migrated") })).json;
  const code = unique("hist");
  const link = (await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/", code })).json;
  const id = (s) => `${code}-${s}`;
  const click = (name, ts, ip, ua = CHROME) => ({ id: id(name), ts, link_code: code, ua, ip, country: "US", sub1: "old" });
  // B arrives before A although A is earlier: A must end up the unique one.
  const first = await ndjson("/api/v1/import/clicks", [
    click("B", "2026-03-08T05:30:00Z", "203.0.113.1"),
    "{not json",
    { id: id("X"), ts: "2026-03-08T05:30:00Z", link_code: "no-such-link", ua: CHROME, ip: "203.0.113.9" },
  ]);
  assert.equal(first.accepted, 1);
  assert.deepEqual(first.rejected.map((r) => r.line), [2, 3]);
  const second = await ndjson("/api/v1/import/clicks", [
    click("A", "2026-03-08T04:30:00Z", "203.0.113.1"),
    click("C", "2026-03-09T03:30:00Z", "203.0.113.1"),
    click("D", "2026-03-09T04:30:00Z", "203.0.113.2", GOOGLEBOT),
    click("B", "2026-03-08T05:30:00Z", "203.0.113.1"),
  ]);
  assert.deepEqual([second.accepted, second.duplicates, second.rejected.length], [3, 1, 0]);
  const conversions = await ndjson("/api/v1/import/conversions", [
    { click_id: id("A"), event: "lead", ts: "2026-03-08T12:00:00Z" },
    { click_id: id("A"), event: "sale", order_id: "H-1", amount: "100", ts: "2026-03-20T15:00:00Z", customer_id: "h1" },
    { click_id: id("A"), event: "sale", order_id: "H-1", amount: "100", ts: "2026-03-20T15:00:00Z", customer_id: "h1" },
    { click_id: id("A"), event: "sale", order_id: "H-2", amount: "5", ts: "2026-05-20T15:00:00Z" },
    { click_id: "nope", event: "lead", ts: "2026-03-08T12:00:00Z" },
  ]);
  assert.deepEqual([conversions.accepted, conversions.duplicates], [2, 1]);
  assert.deepEqual(conversions.rejected.map((r) => r.line).sort(), [4, 5]);
  assert.match(conversions.rejected.find((r) => r.line === 4).error, /attribution window/);
  const run = await api("POST", "/api/v1/rollups/run?from=2026-03-06&to=2026-03-22");
  assert.equal(run.status, 200, run.text);
  return { program, id };
}

const ready = setup();
const metrics = "metrics=clicks,unique_clicks,bot_clicks,leads,sales,revenue,commission";

test("imported clicks keep their ids and are unique by the earliest click, whatever the arrival order", async () => {
  const { program, id } = await ready;
  const clicks = (await api("GET", `/api/v1/clicks?program_id=${program.id}`)).json.data;
  const byId = Object.fromEntries(clicks.map((c) => [c.id, c]));
  assert.deepEqual(Object.keys(byId).sort(), [id("A"), id("B"), id("C"), id("D")].sort());
  assert.equal(byId[id("A")].is_unique, true);
  assert.equal(byId[id("B")].is_unique, false);
  assert.equal(byId[id("C")].is_unique, true, "a new UTC day");
  assert.equal(byId[id("D")].is_bot, true);
  assert.equal(byId[id("A")].sub1, "old");
  assert.ok(!JSON.stringify(clicks).includes("203.0.113.1"));
});

test("a report in America/New_York splits the DST day at local midnights", async () => {
  const { program } = await ready;
  const report = await api("GET", `/api/v1/reports/kpis?from=2026-03-07&to=2026-03-10&timezone=America/New_York&program_id=${program.id}&${metrics}`);
  assert.equal(report.status, 200, report.text);
  assert.deepEqual(report.json.data, [
    { day: "2026-03-07", clicks: 1, unique_clicks: 1, bot_clicks: 0, leads: 0, sales: 0, revenue: "0.00", commission: "0.00" },
    { day: "2026-03-08", clicks: 2, unique_clicks: 1, bot_clicks: 0, leads: 1, sales: 0, revenue: "0.00", commission: "0.00" },
    { day: "2026-03-09", clicks: 0, unique_clicks: 0, bot_clicks: 1, leads: 0, sales: 0, revenue: "0.00", commission: "0.00" },
  ]);
  const utc = await api("GET", `/api/v1/reports/kpis?from=2026-03-07&to=2026-03-10&program_id=${program.id}&metrics=clicks,unique_clicks,bot_clicks`);
  assert.deepEqual(utc.json.data.map((r) => [r.day, r.clicks, r.unique_clicks, r.bot_clicks]), [
    ["2026-03-07", 0, 0, 0],
    ["2026-03-08", 2, 1, 0],
    ["2026-03-09", 1, 1, 1],
  ]);
});

test("a late conversion counts on its own day, not its click's", async () => {
  const { program } = await ready;
  const weeks = await api("GET", `/api/v1/reports/kpis?from=2026-03-02&to=2026-03-23&group_by=week&program_id=${program.id}&${metrics}`);
  assert.deepEqual(weeks.json.data.map((r) => [r.week, r.clicks, r.sales, r.revenue, r.commission]), [
    ["2026-03-02", 2, 0, "0.00", "0.00"],
    ["2026-03-09", 1, 0, "0.00", "0.00"],
    ["2026-03-16", 0, 1, "100.00", "10.00"],
  ]);
  const month = await api("GET", `/api/v1/reports/kpis?from=2026-03-01&to=2026-04-01&group_by=month&program_id=${program.id}&metrics=clicks,sales,new_customers,ltv`);
  assert.deepEqual(month.json.data, [{ month: "2026-03", clicks: 3, sales: 1, new_customers: 1, ltv: "90.00" }]);
});
