// Insights end to end: history with a known answer goes in through the import API, the
// nightly job runs (on demand, and from the cron through its queue), and the flags and
// forecasts come out: the injected fast conversions and bot farm flagged with the
// numbers that were injected, the clean partners not; a forecast with ordered intervals
// and its backtest; the hold of a flagged partner's new conversions; clear errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, unique, eventually, BASE, CHROME } from "./helpers.mjs";
import { program, partnerWithLink, importAll, fraudProgram, historyProgram } from "./programs.mjs";

const DAY_MS = 86_400_000;
const utcDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const yesterday = utcDay(Date.now() - DAY_MS);

const fraud = fraudProgram();

async function flagsOf(query) {
  const answer = await api("GET", `/api/v1/insights/flags?${new URLSearchParams(query)}`);
  assert.equal(answer.status, 200, answer.text);
  return answer.json.data;
}

test("the injected fraud is flagged with its numbers, and no clean partner is", async () => {
  const { program: p, clean, fast, bots, run } = await fraud;
  assert.equal(run.partners_judged, 14);
  const flags = await flagsOf({ program_id: p.id });
  const of = (who, kind) => flags.find((f) => f.partner_id === who.partner.id && f.kind === kind);

  const tooFast = of(fast, "fast_conversions");
  assert.ok(tooFast, `fast conversions flagged: ${JSON.stringify(flags)}`);
  assert.equal(tooFast.day, yesterday);
  assert.equal(tooFast.evidence.conversions, 30);
  assert.equal(tooFast.evidence.fast_conversions, 30);
  assert.equal(tooFast.evidence.share, 1);
  assert.equal(tooFast.evidence.threshold_seconds, 10);
  assert.ok(tooFast.q_value <= 0.05 && tooFast.p_value <= tooFast.q_value, `p ${tooFast.p_value} q ${tooFast.q_value}`);
  assert.equal(tooFast.severity, "high");
  assert.equal(tooFast.partner_name, fast.partner.name);
  assert.equal(tooFast.acknowledged, false);

  const farm = of(bots, "bot_share");
  assert.ok(farm, `bot farm flagged: ${JSON.stringify(flags)}`);
  assert.equal(farm.evidence.all_clicks, 300);
  assert.equal(farm.evidence.bot_clicks, 150);
  assert.equal(farm.evidence.share, 0.5);

  for (const who of clean) {
    assert.deepEqual(flags.filter((f) => f.partner_id === who.partner.id), [], `clean partner ${who.partner.name} is not flagged`);
  }
  assert.equal(run.flags, flags.length);

  // Filters and a second run: the same flags, not twice.
  assert.deepEqual((await flagsOf({ program_id: p.id, kind: "bot_share" })).map((f) => f.id), [farm.id]);
  assert.deepEqual(await flagsOf({ program_id: p.id, from: utcDay(Date.now()), to: utcDay(Date.now() + DAY_MS) }), []);
  const again = await api("POST", `/api/v1/insights/run?program_id=${p.id}&day=${yesterday}`);
  assert.equal(again.status, 200, again.text);
  const after = await flagsOf({ program_id: p.id });
  assert.deepEqual(after.map((f) => f.id).sort(), flags.map((f) => f.id).sort(), "a rerun keeps the flags and their ids");
});

test("a flagged partner's new conversions wait for a manager when the program says so", async () => {
  const { program: p, fast, clean } = await fraud;
  const sale = async (who, n, status) => {
    const clickId = `${who.code}-c${100 + n}`;
    const query = new URLSearchParams({ token: p.postback_secret, click_id: clickId, event: "sale", order_id: `${clickId}-hold-${n}`, amount: "15.00", ...(status && { status }) });
    const answer = await fetch(`${BASE}/postback?${query}`);
    assert.equal(answer.status, 200, await answer.text());
    const conversions = await api("GET", `/api/v1/conversions?program_id=${p.id}&partner_id=${who.partner.id}&limit=500`);
    return conversions.json.data.find((c) => c.order_id === `${clickId}-hold-${n}`);
  };
  // Without the setting, the advertiser's status stands.
  assert.equal((await sale(fast, 1, "approved")).status, "approved");
  const patched = await api("PATCH", `/api/v1/programs/${p.id}`, { hold_flagged: true });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.hold_flagged, true);
  assert.equal((await sale(fast, 2, "approved")).status, "pending", "held: the partner has an open flag");
  assert.equal((await sale(fast, 3, "rejected")).status, "rejected", "a rejection stays a rejection");
  assert.equal((await sale(clean[0], 4, "approved")).status, "approved", "clean partners are not held");

  // Acknowledged: no longer holding.
  const open = (await flagsOf({ program_id: p.id, partner_id: fast.partner.id, acknowledged: "false" }));
  assert.ok(open.length > 0);
  for (const flag of open) {
    const acknowledged = await api("PATCH", `/api/v1/insights/flags/${flag.id}`, { acknowledged: true });
    assert.equal(acknowledged.status, 200, acknowledged.text);
    assert.equal(acknowledged.json.acknowledged, true);
    assert.ok(acknowledged.json.acknowledged_at);
  }
  assert.deepEqual(await flagsOf({ program_id: p.id, partner_id: fast.partner.id, acknowledged: "false" }), []);
  assert.equal((await sale(fast, 5, "approved")).status, "approved");
  const reopened = await api("PATCH", `/api/v1/insights/flags/${open[0].id}`, { acknowledged: false });
  assert.equal(reopened.json.acknowledged, false);
  assert.equal(reopened.json.acknowledged_at, null);
});

// Imported history counts: a series starts at its first active day, whatever the
// program's creation date.
test("a forecast comes with ordered intervals and its backtest, never computed on request", async () => {
  const { program: p, partner } = await historyProgram(70);
  const before = await api("GET", `/api/v1/insights/forecast?program_id=${p.id}&metric=sales`);
  assert.equal(before.status, 200, before.text);
  assert.equal(before.json.model, null, "nothing is fitted on the request path");
  assert.match(before.json.meta.reason, /^not_fitted_yet/);

  const run = await api("POST", `/api/v1/insights/run?program_id=${p.id}`);
  assert.equal(run.status, 200, run.text);
  const answer = await api("GET", `/api/v1/insights/forecast?program_id=${p.id}&metric=sales&horizon=28`);
  assert.equal(answer.status, 200, answer.text);
  const { data, model } = answer.json;
  assert.ok(model, JSON.stringify(answer.json.meta));
  assert.ok(["mstl_ets", "seasonal_naive", "drift"].includes(model.name));
  assert.equal(model.trained_through, yesterday);
  assert.equal(data.length, 28);
  assert.equal(data[0].day, utcDay(Date.now()));
  for (const d of data) {
    assert.ok(d.lower_95 <= d.lower_80 && d.lower_80 <= d.value && d.value <= d.upper_80 && d.upper_80 <= d.upper_95, JSON.stringify(d));
    assert.ok(d.lower_95 >= 0);
  }
  assert.equal(model.backtest_horizon, 28);
  for (const key of ["mase", "smape", "bias", "coverage_80", "coverage_95", "mase_seasonal_naive"]) {
    assert.equal(typeof model[key], "number", `${key} is measured`);
  }
  assert.ok(model.coverage_80 >= 0 && model.coverage_80 <= 1);
  assert.deepEqual(model.backtest.map((h) => h.horizon), [7, 28]);
  assert.equal(model.candidates.length, 3);
  assert.equal((await api("GET", `/api/v1/insights/forecast?program_id=${p.id}&metric=sales&horizon=7`)).json.data.length, 7);

  // The steady partner has a forecast of its own; revenue is money.
  const own = await api("GET", `/api/v1/insights/forecast?program_id=${p.id}&metric=clicks&partner_id=${partner.id}`);
  assert.ok(own.json.model, JSON.stringify(own.json.meta));
  const revenue = await api("GET", `/api/v1/insights/forecast?program_id=${p.id}&metric=revenue&horizon=90`);
  assert.equal(revenue.json.data.length, 90);
  assert.equal(revenue.json.meta.money, true);
});

test("too little history is said, not guessed", async () => {
  const { program: p } = await historyProgram(10);
  assert.equal((await api("POST", `/api/v1/insights/run?program_id=${p.id}`)).status, 200);
  const answer = await api("GET", `/api/v1/insights/forecast?program_id=${p.id}&metric=clicks`);
  assert.equal(answer.json.model, null);
  assert.deepEqual(answer.json.data, []);
  assert.match(answer.json.meta.reason, /^not_enough_history/);
});

test("bad insight requests are refused with the parameter named", async () => {
  const { program: p } = await fraud;
  for (const [path, status, field] of [
    [`/api/v1/insights/forecast?program_id=${p.id}&metric=refunds`, 400, "metric"],
    [`/api/v1/insights/forecast?program_id=${p.id}&metric=sales&horizon=91`, 400, "horizon"],
    [`/api/v1/insights/forecast?metric=sales`, 400, "program_id"],
    [`/api/v1/insights/forecast?program_id=prg_nope&metric=sales`, 422, "program_id"],
    [`/api/v1/insights/flags?kind=fraud`, 400, "kind"],
    [`/api/v1/insights/flags?from=yesterday`, 400, "from"],
    [`/api/v1/insights/flags?acknowledged=maybe`, 400, "acknowledged"],
  ]) {
    const answer = await api("GET", path);
    assert.equal(answer.status, status, `${path}: ${answer.text}`);
    assert.equal(answer.json.error.field, field, path);
  }
  const future = await api("POST", `/api/v1/insights/run?program_id=${p.id}&day=${utcDay(Date.now() + DAY_MS)}`);
  assert.equal(future.status, 409, future.text);
  assert.equal(future.json.error.code, "day_not_finished");
  assert.equal((await api("PATCH", "/api/v1/insights/flags/flg_nope", { acknowledged: true })).status, 404);
  const bad = await api("PATCH", "/api/v1/insights/flags/flg_nope", { acknowledged: "yes" });
  assert.ok(bad.status === 400 || bad.status === 422, bad.text);
});

test("the cron queues each program's nightly job, and the queue runs it", async () => {
  const { program: p } = await historyProgram(35);
  const scheduled = await fetch(`${BASE}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
  assert.equal(scheduled.status, 200);
  const answer = await eventually(async () => {
    const forecast = await api("GET", `/api/v1/insights/forecast?program_id=${p.id}&metric=sales&horizon=7`);
    return forecast.json.model ? forecast : null;
  }, { ms: 90_000, what: "the queued job to fit the forecast" });
  assert.equal(answer.json.model.trained_through, yesterday);
  assert.equal(answer.json.data.length, 7);
});
