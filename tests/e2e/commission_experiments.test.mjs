// Commission experiments: a new rule for a random, revenue-stratified share of a program's
// eligible partners for a fixed period; the commission engine applies it to the treatment
// only; the results per arm equal a hand count; no winner before the period is over and
// the sample is large enough; stopping with the winning treatment makes its rule the
// program's; bad input is refused without writing anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, seed, hit, storedClick, clickIdOf, unique, BASE } from "./helpers.mjs";

const DAY_MS = 86_400_000;
const day = (offset) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
const RULE = { event: "sale", kind: "percent", value: "2" };

async function postback(params) {
  const response = await fetch(`${BASE}/postback?${new URLSearchParams(params)}`);
  return { status: response.status, json: await response.json() };
}

async function partnerWithLink(program, extra = {}) {
  const partner = await api("POST", "/api/v1/partners", { name: unique("Partner"), segment: "webmaster", ...extra });
  assert.equal(partner.status, 201, partner.text);
  const link = await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.json.id, destination: "https://shop.example/p" });
  assert.equal(link.status, 201, link.text);
  return { partner: partner.json, link: link.json };
}

async function click(link) {
  const id = clickIdOf(await hit(`/r/${link.code}`));
  await storedClick(link.id, id);
  return id;
}

async function experimentsOf(programId) {
  return (await api("GET", `/api/v1/experiments?program_id=${programId}`)).json.data;
}

test("commission experiments are refused with a reason when their input is bad, and nothing is written", async () => {
  const { program, link } = await seed();
  const base = { kind: "commission", program_id: program.id, rule: RULE, treatment_share: 0.5 };
  const past = new Date(Date.now() - 60_000).toISOString();
  for (const [body, code, field] of [
    [{ ...base, rule: undefined }, "missing_field", "rule"],
    [{ ...base, rule: { ...RULE, value: "101" } }, "out_of_range", "rule"],
    [{ ...base, rule: { ...RULE, event: "refund" } }, "invalid_value", "rule"],
    [{ ...base, treatment_share: undefined }, "missing_field", "treatment_share"],
    [{ ...base, treatment_share: 1 }, "out_of_range", "treatment_share"],
    [{ ...base, duration_days: 0 }, "out_of_range", "duration_days"],
    [{ ...base, ends_at: past }, "out_of_range", "ends_at"],
    [{ ...base, ends_at: "tomorrow" }, "invalid_value", "ends_at"],
    [{ ...base, ends_at: new Date(Date.now() + DAY_MS).toISOString(), duration_days: 3 }, "conflicting_values", "ends_at"],
    [{ ...base, program_id: "prg_nope" }, "unknown_reference", "program_id"],
    [{ ...base, link_id: link.id }, "unexpected_field", "link_id"],
    [{ kind: "link_split", link_id: link.id, rule: RULE, variants: [] }, "unexpected_field", "rule"],
    // One partner cannot make two arms.
    [base, "too_few_partners", "treatment_share"],
  ]) {
    const refused = await api("POST", "/api/v1/experiments", body);
    assert.equal(refused.status, 422, `${JSON.stringify(body)}: ${refused.text}`);
    assert.deepEqual([refused.json.error.code, refused.json.error.field], [code, field], JSON.stringify(body));
  }
  assert.deepEqual(await experimentsOf(program.id), []);
});

test("a commission experiment pays the treatment its rule, reports each arm to the cent, and promotes the winning rule", async () => {
  const created0 = await api("POST", "/api/v1/programs", { name: unique("Program"), currency: "EUR", model: "sales" });
  assert.equal(created0.status, 201, created0.text);
  const program = created0.json;
  const token = program.postback_secret;
  assert.equal((await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" })).status, 201);
  // Eight eligible partners with prior sales of 100.00, 200.00, … 800.00.
  const members = [];
  for (let i = 0; i < 8; i++) members.push(await partnerWithLink(program));
  for (const [i, m] of members.entries()) {
    const answer = await postback({ click_id: await click(m.link), order_id: `P${i}`, amount: `${(i + 1) * 100}.00`, token });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
  }
  // Not eligible: a partner with its own sale rule, and one not yet approved.
  const negotiated = await partnerWithLink(program);
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "15", partner_id: negotiated.partner.id });
  const applicant = await partnerWithLink(program, { status: "applied" });

  const endsAt = Date.now() + 30_000;
  const created = await api("POST", "/api/v1/experiments", {
    kind: "commission",
    program_id: program.id,
    name: "Two percent",
    rule: RULE,
    treatment_share: 0.5,
    ends_at: new Date(endsAt).toISOString(),
    minimum_detectable_effect: 2,
  });
  assert.equal(created.status, 201, created.text);
  const experiment = created.json;
  assert.deepEqual(
    [experiment.kind, experiment.status, experiment.rule, experiment.treatment_share, experiment.link_id, experiment.variants],
    ["commission", "running", RULE, 0.5, null, []],
  );
  const again = await api("POST", "/api/v1/experiments", { kind: "commission", program_id: program.id, rule: RULE, treatment_share: 0.5 });
  assert.deepEqual([again.status, again.json.error.code], [409, "experiment_running"]);

  // The arms: the eight eligible partners, half each, with the revenue they were
  // stratified by (one stratum of ten holds all eight).
  const arms = (await api("GET", `/api/v1/experiments/${experiment.id}/partners`)).json.data;
  assert.equal(arms.length, 8);
  const ids = new Set(arms.map((a) => a.partner_id));
  assert.ok(!ids.has(negotiated.partner.id) && !ids.has(applicant.partner.id));
  assert.deepEqual(arms.map((a) => a.arm).sort(), ["control", "control", "control", "control", "treatment", "treatment", "treatment", "treatment"]);
  const armOf = Object.fromEntries(arms.map((a) => [a.partner_id, a.arm]));
  members.forEach((m, i) => assert.equal(arms.find((a) => a.partner_id === m.partner.id).prior_revenue, `${(i + 1) * 100}.00`));

  // While it runs: every member sells 200.00 once; one control partner also sells 10.00.
  const control = members.filter((m) => armOf[m.partner.id] === "control");
  const treatment = members.filter((m) => armOf[m.partner.id] === "treatment");
  const sold = [];
  for (const [i, m] of members.entries()) sold.push([m, await click(m.link), `S${i}`, "200.00"]);
  sold.push([control[0], await click(control[0].link), "S-extra", "10.00"]);
  for (const [, clickId, order, amount] of sold) {
    const answer = await postback({ click_id: clickId, order_id: order, amount, token });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
  }
  assert.ok(Date.now() < endsAt, "the sales must land inside the experiment's period");
  const conversions = (await api("GET", `/api/v1/conversions?program_id=${program.id}&limit=500`)).json.data;
  for (const [m, , order, amount] of sold) {
    const c = conversions.find((x) => x.order_id === order);
    const treated = armOf[m.partner.id] === "treatment";
    const expected = treated ? (Number(amount) * 0.02).toFixed(2) : (Number(amount) * 0.1).toFixed(2);
    assert.deepEqual([c.commission, c.variant], [expected, armOf[m.partner.id]], order);
    if (treated) assert.equal(c.rule_id, experiment.id);
  }

  // By hand: control 4 × 200.00 + 10.00 = 810.00, commission 81.00, profit 729.00 (182.25
  // a partner); treatment 800.00, 16.00, 784.00 (196.00 a partner).
  const early = (await api("GET", `/api/v1/experiments/${experiment.id}/results`)).json;
  const [c, t] = early.variants;
  assert.deepEqual(
    [c.name, c.partners, c.clicks, c.sales, c.revenue, c.commission, c.profit, c.profit_per_partner],
    ["control", 4, 5, 5, "810.00", "81.00", "729.00", "182.25"],
  );
  assert.deepEqual(
    [t.name, t.partners, t.clicks, t.sales, t.revenue, t.commission, t.profit, t.profit_per_partner],
    ["treatment", 4, 4, 4, "800.00", "16.00", "784.00", "196.00"],
  );
  const prior = (group) => (group.reduce((sum, m) => sum + (members.indexOf(m) + 1) * 100, 0) / 4).toFixed(2);
  assert.deepEqual([c.prior_revenue_per_partner, t.prior_revenue_per_partner], [prior(control), prior(treatment)]);
  assert.equal(c.conversion_rate, 1);
  assert.deepEqual([early.kind, early.period_over, early.verdict, early.winner], ["commission", false, "collecting_data", null]);
  const tooSoon = await api("POST", `/api/v1/experiments/${experiment.id}/stop`, { winner: "treatment" });
  assert.deepEqual([tooSoon.status, tooSoon.json.error.code], [409, "no_winner_yet"]);

  // The report by variant shows the arms (the prior sales have none).
  const report = await api("GET", `/api/v1/reports/kpis?from=${day(-1)}&to=${day(2)}&group_by=variant&program_id=${program.id}&metrics=sales,revenue,commission`);
  assert.equal(report.status, 200, report.text);
  const byArm = Object.fromEntries(report.json.data.filter((r) => r.variant).map((r) => [r.variant, [r.sales, r.revenue, r.commission]]));
  assert.deepEqual(byArm, { control: [5, "810.00", "81.00"], treatment: [4, "800.00", "16.00"] });

  // After the period: the sales after the end count for nothing, the verdict is in.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, endsAt - Date.now() + 500)));
  const late = await postback({ click_id: await click(treatment[0].link), order_id: "LATE", amount: "100.00", token });
  assert.equal(late.status, 200);
  const lateRow = (await api("GET", `/api/v1/conversions?program_id=${program.id}&limit=500`)).json.data.find((x) => x.order_id === "LATE");
  assert.deepEqual([lateRow.commission, lateRow.variant], ["10.00", null], "after the period the treatment earns by the program's rule again");
  const final = (await api("GET", `/api/v1/experiments/${experiment.id}/results`)).json;
  assert.equal(final.variants[1].revenue, "800.00", "a sale after the period is not the experiment's");
  // Profit per partner: control 180, 180, 180, 189 (sd 4.5), treatment 196 each:
  // Welch t = 13.75 / 2.25 = 6.11 on 3 degrees of freedom, p ≈ 0.009.
  const profit = final.variants[1].vs_control.profit_per_partner;
  assert.ok(Math.abs(profit.difference - 13.75) < 1e-9, JSON.stringify(profit));
  assert.ok(profit.p_value > 0.005 && profit.p_value < 0.012, JSON.stringify(profit));
  assert.deepEqual(
    [final.period_over, final.sample_size.needed_per_variant, final.sample_size.reached, final.verdict, final.winner],
    [true, 2, true, "treatment_better", "treatment"],
  );

  // Stopping with the control is refused; with the treatment its rule becomes the program's.
  const wrong = await api("POST", `/api/v1/experiments/${experiment.id}/stop`, { winner: "control" });
  assert.deepEqual([wrong.status, wrong.json.error.code], [409, "no_winner_yet"]);
  const stopped = await api("POST", `/api/v1/experiments/${experiment.id}/stop`, { winner: "treatment" });
  assert.equal(stopped.status, 200, stopped.text);
  assert.deepEqual([stopped.json.status, stopped.json.winner], ["stopped", "treatment"]);
  const rules = (await api("GET", `/api/v1/commission-rules?program_id=${program.id}`)).json.data;
  const promoted = rules.filter((r) => r.status === "active" && !r.partner_id && r.value === "2");
  assert.equal(promoted.length, 1, JSON.stringify(rules));
  const after = await postback({ click_id: await click(control[1].link), order_id: "AFTER", amount: "100.00", token });
  assert.equal(after.status, 200);
  const afterRow = (await api("GET", `/api/v1/conversions?program_id=${program.id}&limit=500`)).json.data.find((x) => x.order_id === "AFTER");
  assert.deepEqual([afterRow.commission, afterRow.rule_id, afterRow.variant], ["2.00", promoted[0].id, null]);
});
