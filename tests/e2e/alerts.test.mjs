// Alerts: a KPI rule on a program's last finished day (against an earlier day, a number,
// or the forecast) fires once per day through a real channel after the cron's rollup, is
// recorded as suppressed in its quiet period, and stays quiet when the rule holds; a flag
// alert reports the new flags of the nightly job; an at-risk alert names the partners the
// journey moved to at_risk; bad rules are refused with the field named.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { api, ndjson, unique, eventually, CHROME, BASE } from "./helpers.mjs";
import { fraudProgram, historyProgram } from "./programs.mjs";

const DAY_MS = 86_400_000;
const utcDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const CRON = "*/15 * * * *";

const received = [];
const server = createServer((request, response) => {
  let body = "";
  request.on("data", (chunk) => (body += chunk));
  request.on("end", () => {
    received.push({ path: request.url, headers: request.headers, body: JSON.parse(body) });
    response.writeHead(200).end("ok");
  });
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const hook = (path) => [{ type: "webhook", url: `http://127.0.0.1:${server.address().port}${path}` }];
after(() => server.close());

/** Fires the cron; alerts are judged at `ms` (default now). */
async function cron(ms = Date.now()) {
  const response = await fetch(`${BASE}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(CRON)}&time=${ms}`);
  assert.equal(response.status, 200, await response.text());
}

const eventsOf = async (alertId) => (await api("GET", `/api/v1/alert-events?alert_id=${alertId}`)).json.data;

test("a KPI rule fires once for the day that broke it, then keeps quiet", async () => {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Alerts"), currency: "EUR", model: "sales", timezone: "UTC" })).json;
  const partner = (await api("POST", "/api/v1/partners", { name: unique("Alert partner") })).json;
  const code = unique("alert");
  await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/", code });
  // The day before yesterday 10 sales, yesterday 2.
  const clicks = [];
  const sales = [];
  for (const [back, n] of [[2, 10], [1, 2]]) {
    for (let i = 0; i < n; i++) {
      const id = `${code}-${back}-${i}`;
      const ts = `${utcDay(Date.now() - back * DAY_MS)}T10:${String(i).padStart(2, "0")}:00Z`;
      clicks.push({ id, ts, link_code: code, ua: CHROME, ip: `203.0.113.${i + 1}` });
      sales.push({ click_id: id, event: "sale", order_id: `${id}-o`, amount: "25.00", status: "approved", ts });
    }
  }
  await ndjson("/api/v1/import/clicks", clicks);
  await ndjson("/api/v1/import/conversions", sales);

  const drop = await api("POST", "/api/v1/alerts", {
    name: "Sales halved", program_id: program.id, kind: "kpi", metric: "sales", operator: "below",
    threshold: "50", relative_to: "previous_day", quiet_hours: 48, recipients: hook("/drop"),
  });
  assert.equal(drop.status, 201, drop.text);
  assert.equal(drop.json.rule, "sales below 50 % of the day before");
  assert.equal(drop.json.quiet_hours, 48);
  assert.match(drop.json.recipients[0].signing_secret, /^whsec_/);
  const calm = await api("POST", "/api/v1/alerts", {
    name: "Revenue over 1000", program_id: program.id, kind: "kpi", metric: "revenue", operator: "above",
    threshold: "1000", recipients: hook("/calm"),
  });
  assert.equal(calm.status, 201, calm.text);

  await cron();
  await cron();
  const [event] = await eventually(async () => {
    const events = await eventsOf(drop.json.id);
    return events.length === 1 && events[0].status === "delivered" ? events : null;
  }, { what: "the alert to be delivered" });
  assert.equal(event.condition_key, `kpi:${utcDay(Date.now() - DAY_MS)}`);
  assert.deepEqual(event.deliveries.map((d) => [d.channel, d.status]), [["webhook", "delivered"]]);
  const sent = received.filter((r) => r.path === "/drop");
  assert.equal(sent.length, 1, "once for the day, however often the cron checks");
  assert.equal(sent[0].headers["x-partnerlens-event"], "alert.triggered");
  const data = sent[0].body.data;
  assert.deepEqual([data.metric, data.day, data.value, data.limit, data.reference], ["sales", utcDay(Date.now() - DAY_MS), 2, "5", "10"]);
  assert.deepEqual(await eventsOf(calm.json.id), [], "revenue 50.00 is not above 1000");
  assert.equal(received.filter((r) => r.path === "/calm").length, 0);

  // A day later the rule breaks again (0 sales against 2), inside the quiet period:
  // recorded, not sent.
  await cron(Date.now() + DAY_MS);
  const events = await eventsOf(drop.json.id);
  assert.deepEqual(events.map((e) => [e.condition_key, e.status]), [[`kpi:${utcDay(Date.now())}`, "suppressed"], [`kpi:${utcDay(Date.now() - DAY_MS)}`, "delivered"]]);
  assert.equal(received.filter((r) => r.path === "/drop").length, 1);
  assert.ok((await api("GET", `/api/v1/alerts/${drop.json.id}`)).json.last_sent_at);
});

test("a flag alert reports the nightly job's new flags, each once", async () => {
  let flagAlert;
  const fraud = await fraudProgram({
    beforeRun: async (program) => {
      flagAlert = await api("POST", "/api/v1/alerts", { name: "Fraud", program_id: program.id, kind: "new_flag", recipients: hook("/flags") });
      assert.equal(flagAlert.status, 201, flagAlert.text);
    },
  });
  await cron();
  await eventually(async () => received.some((r) => r.path === "/flags"), { what: "the flag alert" });
  const message = received.find((r) => r.path === "/flags").body.data;
  const fast = message.flags.filter((f) => f.partner_name === fraud.fast.partner.name);
  assert.ok(fast.some((f) => f.kind === "fast_conversions"), JSON.stringify(message.flags));
  const listed = (await api("GET", `/api/v1/insights/flags?program_id=${fraud.program.id}`)).json.data;
  assert.equal(message.flags.length, listed.length, "every new flag, once");
  await cron();
  assert.equal(received.filter((r) => r.path === "/flags").length, 1, "no flag twice");
  assert.equal((await eventsOf(flagAlert.json.id)).length, 1);
});

test("a forecast rule judges the day against the forecast made for it", async () => {
  const { program } = await historyProgram(70);
  const run = await api("POST", `/api/v1/insights/run?program_id=${program.id}`);
  assert.equal(run.status, 200, run.text);
  const alert = await api("POST", "/api/v1/alerts", {
    name: "Below forecast", program_id: program.id, kind: "kpi", metric: "sales", operator: "below",
    threshold: "50", relative_to: "forecast", quiet_hours: 0, recipients: hook("/forecast"),
  });
  assert.equal(alert.status, 201, alert.text);
  // Yesterday has no forecast (the job forecasts from today): nothing is judged. Today,
  // with no sale at all, is far below half its forecast.
  await cron();
  assert.deepEqual(await eventsOf(alert.json.id), []);
  await cron(Date.now() + DAY_MS);
  await eventually(async () => received.some((r) => r.path === "/forecast"), { what: "the forecast alert" });
  const judged = received.find((r) => r.path === "/forecast").body.data;
  assert.equal(judged.day, utcDay(Date.now()));
  assert.equal(judged.value, 0);
  const forecast = (await api("GET", `/api/v1/insights/forecast?program_id=${program.id}&metric=sales&horizon=7`)).json;
  const today = forecast.data.find((d) => d.day === utcDay(Date.now()));
  assert.ok(today, JSON.stringify(forecast).slice(0, 300));
  assert.equal(Number(judged.reference), today.value, "the forecast as the API shows it");
  assert.equal(Number(judged.limit), Number((today.value / 2).toFixed(3)));
});

test("an at-risk alert names the partners whose journey entered at_risk yesterday", async () => {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Churn watch"), currency: "EUR", model: "sales", timezone: "UTC" })).json;
  const quiet = (await api("POST", "/api/v1/partners", { name: unique("Gone quiet") })).json;
  const code = unique("risk");
  await api("POST", "/api/v1/links", { program_id: program.id, partner_id: quiet.id, destination: "https://shop.example/", code });
  // A sale 20 and 15 days ago, then nothing: 14 idle days make yesterday its first at-risk day.
  const clicks = [20, 15].map((back) => ({ id: `${code}-${back}`, ts: `${utcDay(Date.now() - back * DAY_MS)}T09:00:00Z`, link_code: code, ua: CHROME, ip: `198.51.100.${back}` }));
  await ndjson("/api/v1/import/clicks", clicks);
  await ndjson("/api/v1/import/conversions", clicks.map((c) => ({ click_id: c.id, event: "sale", order_id: `${c.id}-o`, amount: "40.00", status: "approved", ts: c.ts })));
  assert.equal((await api("POST", `/api/v1/rollups/run?from=${utcDay(Date.now() - 21 * DAY_MS)}&to=${utcDay(Date.now() + DAY_MS)}`)).status, 200);
  const stages = (await api("GET", `/api/v1/reports/partners?from=${utcDay(Date.now() - DAY_MS)}&to=${utcDay(Date.now())}&program_id=${program.id}&metrics=sales`)).json.data;
  assert.deepEqual(stages.map((r) => [r.stage, r.stage_since]), [["at_risk", utcDay(Date.now() - DAY_MS)]]);
  const watch = await api("POST", "/api/v1/alerts", { name: "Churn watch", program_id: program.id, kind: "partner_at_risk", recipients: hook("/risk") });
  assert.equal(watch.status, 201, watch.text);
  assert.equal(watch.json.rule, "a partner entered the at-risk stage");
  await cron();
  await cron();
  await eventually(async () => received.some((r) => r.path === "/risk"), { what: "the at-risk alert" });
  assert.equal(received.filter((r) => r.path === "/risk").length, 1);
  const data = received.find((r) => r.path === "/risk").body.data;
  assert.deepEqual([data.day, data.partners], [utcDay(Date.now() - DAY_MS), [{ partner_name: quiet.name, risk: "inactive" }]]);
});

test("bad alert rules are refused with the field named, and change nothing", async () => {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Alert rules"), currency: "EUR", model: "sales" })).json;
  const base = { name: "x", program_id: program.id, kind: "kpi", metric: "sales", operator: "below", threshold: "5", recipients: [{ type: "email", address: "a@shop.example" }] };
  const before = (await api("GET", `/api/v1/alerts?program_id=${program.id}`)).json.data.length;
  for (const [change, field] of [
    [{ program_id: "prg_nope" }, "program_id"],
    [{ kind: "weather" }, "kind"],
    [{ metric: "partners_total" }, "metric"],
    [{ operator: "under" }, "operator"],
    [{ threshold: "-1" }, "threshold"],
    [{ relative_to: "forecast", metric: "epc" }, "relative_to"],
    [{ quiet_hours: 500 }, "quiet_hours"],
    [{ recipients: [] }, "recipients"],
    [{ kind: "new_flag" }, "metric"],
    [{ kind: "partner_at_risk", metric: null, operator: null, threshold: null, min_severity: "high" }, "min_severity"],
  ]) {
    const refused = await api("POST", "/api/v1/alerts", { ...base, ...change });
    assert.equal(refused.status, 422, `${JSON.stringify(change)}: ${refused.text}`);
    assert.equal(refused.json.error.field, field, JSON.stringify(change));
  }
  assert.equal((await api("GET", `/api/v1/alerts?program_id=${program.id}`)).json.data.length, before);
  const made = await api("POST", "/api/v1/alerts", base);
  assert.equal(made.status, 201, made.text);
  const paused = await api("PATCH", `/api/v1/alerts/${made.json.id}`, { status: "paused", threshold: "7.5" });
  assert.equal(paused.status, 200, paused.text);
  assert.deepEqual([paused.json.status, paused.json.threshold, paused.json.rule], ["paused", "7.5", "sales below 7.5"]);
  assert.equal((await api("PATCH", `/api/v1/alerts/${made.json.id}`, { kind: "new_flag" })).json.error.field, "kind");
  assert.equal((await api("DELETE", `/api/v1/alerts/${made.json.id}`)).status, 200);
  assert.equal((await api("GET", `/api/v1/alerts/${made.json.id}`)).status, 404);
});
