// SMART goals: created, listed, changed and deleted through the API, each answered with
// its standing: the actual equals the report engine's number for the same scope and
// days, a change target is the baseline made to the goal's length, past goals are
// achieved or missed, and nonsense is refused with the field named.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, ndjson, unique, CHROME } from "./helpers.mjs";

const DAY_MS = 86_400_000;
const day = (offset) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);

async function setup() {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Goals"), currency: "EUR", model: "sales", timezone: "UTC" })).json;
  const partner = (await api("POST", "/api/v1/partners", { name: unique("Goal partner") })).json;
  const code = unique("goal");
  await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/", code });
  const clicks = [];
  const sales = [];
  for (let d = 1; d <= 60; d++) {
    const n = new Date(Date.now() - d * DAY_MS).getUTCDay() % 6 === 0 ? 1 : 3; // fewer at weekends
    for (let i = 0; i < n; i++) {
      const id = `${code}-${d}-${i}`;
      const ts = new Date(Date.now() - d * DAY_MS + i * 60_000).toISOString();
      clicks.push({ id, ts, link_code: code, ua: CHROME, ip: `203.0.113.${i + 1}` });
      sales.push({ click_id: id, event: "sale", order_id: `${id}-o`, amount: "10.00", status: "approved", ts });
    }
  }
  await ndjson("/api/v1/import/clicks", clicks);
  await ndjson("/api/v1/import/conversions", sales);
  assert.equal((await api("POST", `/api/v1/rollups/run?from=${day(-62)}&to=${day(1)}`)).status, 200);
  return { program, partner };
}

const ready = setup();

async function reported(programId, from, to, metric) {
  const report = await api("GET", `/api/v1/reports/kpis?from=${from}&to=${to}&group_by=program&program_id=${programId}&metrics=${metric}`);
  assert.equal(report.status, 200, report.text);
  return report.json.data[0][metric];
}

test("a goal answers with its actual, pace, projection, odds and status", async () => {
  const { program } = await ready;
  const created = await api("POST", "/api/v1/goals", { program_id: program.id, metric: "sales", target: "200", start: day(-20), deadline: day(9) });
  assert.equal(created.status, 201, created.text);
  const { progress } = created.json;
  assert.equal(progress.actual, await reported(program.id, day(-20), day(1), "sales"), "the actual is the engine's");
  assert.ok(progress.expected_to_date > 0 && progress.expected_to_date < 200);
  assert.ok(progress.projected > progress.actual, "the days left add to the projection");
  assert.ok(progress.probability >= 0 && progress.probability <= 1);
  assert.ok(["on_track", "at_risk", "off_track"].includes(progress.status));
  assert.equal(progress.target_value, 200);

  const revenue = await api("POST", "/api/v1/goals", { program_id: program.id, metric: "revenue", target: "1.00", start: day(-30), deadline: day(-2) });
  assert.equal(revenue.json.progress.status, "achieved");
  assert.equal(revenue.json.progress.actual, await reported(program.id, day(-30), day(-1), "revenue"), "money as the API writes it");
  const missed = await api("POST", "/api/v1/goals", { program_id: program.id, metric: "sales", target: "100000", start: day(-30), deadline: day(-2) });
  assert.equal(missed.json.progress.status, "missed");
  assert.equal(missed.json.progress.probability, 0);

  const listed = await api("GET", `/api/v1/goals?program_id=${program.id}`);
  assert.deepEqual(new Set(listed.json.data.map((g) => g.id)), new Set([created.json.id, revenue.json.id, missed.json.id]));
  const patched = await api("PATCH", `/api/v1/goals/${created.json.id}`, { target: "5" });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.progress.status, "achieved");
  assert.equal((await api("DELETE", `/api/v1/goals/${missed.json.id}`)).status, 200);
  assert.equal((await api("GET", `/api/v1/goals/${missed.json.id}`)).status, 404);
});

test("a change target is the baseline made to the goal's length", async () => {
  const { program } = await ready;
  const baseline = await reported(program.id, day(-40), day(-30), "sales"); // 10 days
  const goal = await api("POST", "/api/v1/goals", {
    program_id: program.id, metric: "sales", target_change_percent: "50",
    baseline_from: day(-40), baseline_to: day(-31), start: day(-9), deadline: day(10),
  });
  assert.equal(goal.status, 201, goal.text);
  assert.equal(goal.json.progress.target_value, Math.round(baseline * 2 * 1.5 * 100) / 100, "20 goal days from 10 baseline days, +50 %");
  const cr = await api("POST", "/api/v1/goals", { program_id: program.id, metric: "cr_click_to_sale", target: "0.5", start: day(-10), deadline: day(10) });
  assert.equal(cr.status, 201);
  assert.equal(cr.json.progress.status, "on_track", "every click sold: CR 1.0 ≥ 0.5");
  assert.equal(cr.json.progress.probability, null);
});

test("nonsense goals are refused with the field named, and nothing is stored", async () => {
  const { program, partner } = await ready;
  const before = (await api("GET", `/api/v1/goals?program_id=${program.id}`)).json.data.length;
  for (const [body, field] of [
    [{ program_id: program.id, metric: "hits", target: "1", start: day(0), deadline: day(5) }, "metric"],
    [{ program_id: program.id, metric: "sales", start: day(0), deadline: day(5) }, "target"],
    [{ program_id: program.id, metric: "sales", target: "1", target_change_percent: "5", start: day(0), deadline: day(5) }, "target_change_percent"],
    [{ program_id: program.id, metric: "sales", target_change_percent: "5", start: day(0), deadline: day(5) }, "baseline_from"],
    [{ program_id: program.id, metric: "sales", target: "1", start: day(5), deadline: day(0) }, "deadline"],
    [{ program_id: program.id, metric: "sales", target: "1", start: day(0), deadline: day(5), partner_id: partner.id, segment: "blogger" }, "segment"],
    [{ program_id: "prg_nope", metric: "sales", target: "1", start: day(0), deadline: day(5) }, "program_id"],
  ]) {
    const answer = await api("POST", "/api/v1/goals", body);
    assert.equal(answer.status, 422, `${field}: ${answer.text}`);
    assert.equal(answer.json.error.field, field);
  }
  assert.equal((await api("GET", `/api/v1/goals?program_id=${program.id}`)).json.data.length, before);
});
