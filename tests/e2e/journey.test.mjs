// The partner journey (kpis.md) walked day by day over imported history, the partners
// report that shows it, and the partner-network KPIs: partners_total, partner_conversion,
// partner_retention and response_time_hours_median.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, ndjson, unique, CHROME } from "./helpers.mjs";

const DAY = 86400000;
const today = Math.floor(Date.now() / DAY);
/** `YYYY-MM-DD` of the UTC day `offset` days from today; `at` adds a time of day. */
const day = (offset) => new Date((today + offset) * DAY).toISOString().slice(0, 10);
const at = (offset, time) => `${day(offset)}T${time}Z`;

async function setup() {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Journey"), currency: "EUR", model: "sales" })).json;
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  const steady = (await api("POST", "/api/v1/partners", { name: unique("Steady"), segment: "blogger" })).json;
  const code = unique("jr");
  await api("POST", "/api/v1/links", { program_id: program.id, partner_id: steady.id, destination: "https://shop.example/", code });
  const click = (name, offset, time, ip) => ({ id: `${code}-${name}`, ts: at(offset, time), link_code: code, ua: CHROME, ip });
  // A click 60 days ago, a click with a lead and its qualification 50 days ago (12.5 hours
  // apart), five clicks and a sale 40 days ago, then nothing.
  const clicks = [click("k1", -60, "10:00:00", "192.0.2.1"), click("k2", -50, "05:00:00", "192.0.2.2")];
  for (let i = 3; i <= 7; i++) clicks.push(click(`k${i}`, -40, "08:00:00", `192.0.2.${i}`));
  const imported = await ndjson("/api/v1/import/clicks", clicks);
  assert.equal(imported.accepted, 7, JSON.stringify(imported));
  const conversions = await ndjson("/api/v1/import/conversions", [
    { click_id: `${code}-k2`, event: "lead", ts: at(-50, "06:00:00") },
    { click_id: `${code}-k2`, event: "qualified", ts: at(-50, "18:30:00") },
    { click_id: `${code}-k3`, event: "sale", order_id: unique("J"), amount: "80", ts: at(-40, "09:00:00") },
  ]);
  assert.equal(conversions.accepted, 3, JSON.stringify(conversions));
  // A partner who has only applied, with a link but no traffic.
  const newcomer = (await api("POST", "/api/v1/partners", { name: unique("Newcomer"), status: "applied" })).json;
  await api("POST", "/api/v1/links", { program_id: program.id, partner_id: newcomer.id, destination: "https://shop.example/" });
  const run = await api("POST", `/api/v1/rollups/run?from=${day(-61)}&to=${day(1)}`);
  assert.equal(run.status, 200, run.text);
  assert.ok(run.json.partner_days >= 62, run.text);
  return { program, steady, newcomer };
}

const ready = setup();
const zeroDays = {
  days_applied: 0, days_approved: 0, days_first_click: 0, days_first_conversion: 0, days_active: 0, days_at_risk: 0, days_churned: 0,
};

async function partnersReport(query) {
  const report = await api("GET", `/api/v1/reports/partners?${query}`);
  assert.equal(report.status, 200, report.text);
  return report;
}

test("the partners report shows each partner's stage today and the days spent in every stage", async () => {
  const { program, steady, newcomer } = await ready;
  const report = await partnersReport(`from=${day(-61)}&to=${day(1)}&program_id=${program.id}&metrics=clicks,leads,qualified_leads,sales,revenue,commission`);
  const rows = Object.fromEntries(report.json.data.map((r) => [r.partner_id, r]));
  assert.deepEqual(Object.keys(rows).sort(), [steady.id, newcomer.id].sort());
  // 10 days first click, 10 first conversion, 14 active, 16 at risk (14–29 idle days), 11 churned.
  assert.deepEqual(rows[steady.id], {
    partner_id: steady.id, partner_name: steady.name, partner_status: "approved", segment: "blogger",
    stage: "churned", stage_since: day(-10), days_in_stage: 11, risk: "inactive",
    activity_last_14d: 0, activity_prev_14d: 0, days_since_activity: 40,
    ...zeroDays, days_first_click: 10, days_first_conversion: 10, days_active: 14, days_at_risk: 16, days_churned: 11,
    clicks: 7, leads: 1, qualified_leads: 1, sales: 1, revenue: "80.00", commission: "8.00",
  });
  assert.deepEqual(rows[newcomer.id], {
    partner_id: newcomer.id, partner_name: newcomer.name, partner_status: "applied", segment: "other",
    stage: "applied", stage_since: day(0), days_in_stage: 1, risk: null,
    activity_last_14d: 0, activity_prev_14d: 0, days_since_activity: null,
    ...zeroDays, days_applied: 1,
    clicks: 0, leads: 0, qualified_leads: 0, sales: 0, revenue: "0.00", commission: "0.00",
  });
  assert.deepEqual(report.json.meta.columns, Object.keys(rows[steady.id]));
  const csv = await api("GET", `/api/v1/reports/partners?from=${day(-61)}&to=${day(1)}&program_id=${program.id}&format=csv&metrics=clicks`);
  assert.equal(csv.text.split("\n")[0], [...report.json.meta.columns.slice(0, -6), "clicks"].join(","));
});

test("a range in the past shows the stage on its last day, and stage filters rows", async () => {
  const { program, steady } = await ready;
  const report = await partnersReport(`from=${day(-45)}&to=${day(-35)}&program_id=${program.id}&stage=active&metrics=clicks,sales`);
  assert.deepEqual(report.json.data, [{
    partner_id: steady.id, partner_name: steady.name, partner_status: "approved", segment: "blogger",
    stage: "active", stage_since: day(-40), days_in_stage: 5, risk: null,
    // 14 days to day −36: the five clicks and the sale; the 14 before: one click, one click with two conversions.
    activity_last_14d: 6, activity_prev_14d: 4, days_since_activity: 4,
    ...zeroDays, days_first_click: 10, days_first_conversion: 10, days_active: 5,
    clicks: 5, sales: 1,
  }]);
  const bad = await api("GET", `/api/v1/reports/partners?from=${day(-45)}&to=${day(-35)}&stage=dormant`);
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.field, "stage");
  const grouped = await api("GET", `/api/v1/reports/partners?from=${day(-45)}&to=${day(-35)}&group_by=day`);
  assert.equal(grouped.status, 400);
  assert.equal(grouped.json.error.field, "group_by");
});

test("an approval moves an applied partner to approved on the day it happens", async () => {
  const { program, newcomer } = await ready;
  const patch = await api("PATCH", `/api/v1/partners/${newcomer.id}`, { status: "approved" });
  assert.equal(patch.status, 200, patch.text);
  assert.equal((await api("POST", "/api/v1/rollups/run")).status, 200);
  const report = await partnersReport(`from=${day(-1)}&to=${day(1)}&partner_id=${newcomer.id}&metrics=clicks`);
  const [row] = report.json.data;
  assert.deepEqual(
    [row.stage, row.partner_status, row.days_applied, row.days_approved, row.stage_since],
    ["approved", "approved", 0, 1, day(0)],
  );
  // Before today, the newcomer was not an approved partner yet.
  const past = await api("GET", `/api/v1/reports/kpis?from=${day(-45)}&to=${day(-35)}&group_by=program&program_id=${program.id}&metrics=partners_total`);
  assert.deepEqual(past.json.data.map((r) => r.partners_total), [1]);
  const now = await api("GET", `/api/v1/reports/kpis?from=${day(0)}&to=${day(1)}&program_id=${program.id}&metrics=partners_total`);
  assert.deepEqual(now.json.data.map((r) => r.partners_total), [2]);
});

test("partner conversion and retention compare selling and active partners with the right bases", async () => {
  const { program } = await ready;
  const metrics = "metrics=partners_total,active_partners,selling_partners,partner_conversion,partner_retention";
  const kpis = (from, to, extra = "group_by=program") =>
    api("GET", `/api/v1/reports/kpis?from=${day(from)}&to=${day(to)}&${extra}&program_id=${program.id}&${metrics}`);
  // Active 50 days ago (the 10 days before) and 40 days ago: retained.
  const kept = (await kpis(-45, -35)).json.data[0];
  assert.deepEqual(
    [kept.partners_total, kept.active_partners, kept.selling_partners, kept.partner_conversion, kept.partner_retention],
    [1, 1, 1, 1, 1],
  );
  // Active in the 10 days before, silent since: lost.
  const lost = (await kpis(-30, -20)).json.data[0];
  assert.deepEqual([lost.active_partners, lost.selling_partners, lost.partner_conversion, lost.partner_retention], [0, 0, 0, 0]);
  // A partner quiet in the range still has its row: approved, not selling, not retained.
  const perPartner = await api("GET", `/api/v1/reports/partners?from=${day(-30)}&to=${day(-20)}&program_id=${program.id}&${metrics}`);
  assert.deepEqual(
    perPartner.json.data.map((r) => [r.stage, r.partners_total, r.active_partners, r.partner_conversion, r.partner_retention]),
    [["at_risk", 1, 0, 0, 0]],
  );
  // Daily rows compare with the day before: nobody was active the day before day −40.
  const daily = (await kpis(-40, -39, "group_by=day")).json.data;
  assert.deepEqual(daily.map((r) => [r.day, r.active_partners, r.partner_retention]), [[day(-40), 1, null]]);
});

test("the median response time runs from a lead to the first later answer on its click", async () => {
  const { program } = await ready;
  const report = await api("GET", `/api/v1/reports/kpis?from=${day(-61)}&to=${day(1)}&group_by=program&program_id=${program.id}&metrics=leads,response_time_hours_median`);
  assert.deepEqual(report.json.data.map((r) => [r.leads, r.response_time_hours_median]), [[1, 12.5]]);
  const none = await api("GET", `/api/v1/reports/kpis?from=${day(-30)}&to=${day(-29)}&program_id=${program.id}&metrics=response_time_hours_median`);
  assert.deepEqual(none.json.data, [{ day: day(-30), response_time_hours_median: null }]);
});

test("rolling up empty days centuries ago walks no journey before anything happened", async () => {
  await ready;
  const started = Date.now();
  const run = await api("POST", "/api/v1/rollups/run?from=0001-01-01&to=0001-12-31");
  assert.equal(run.status, 200, run.text);
  assert.equal(run.json.days_rolled_up >= 365, true, run.text);
  // Walking every partner from year 1 to today took minutes.
  assert.ok(Date.now() - started < 20000, `${Date.now() - started} ms`);
});
