// Destination split tests: a link's visitors are split by weight, each always to the
// same variant (cookie, else address and browser); the click and its conversions carry
// the variant; the results and the KPI report by variant equal a hand count; no winner is
// named before the sample size is reached; stopping restores the link; bad input is
// refused without writing anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, seed, hit, events, eventually, unique, BASE } from "./helpers.mjs";

const DAY_MS = 86_400_000;
const day = (offset) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
const RANGE = `from=${day(-1)}&to=${day(2)}`;
const VARIANTS = [
  { name: "control", destination: "https://shop.example/a", weight: 1 },
  { name: "new-page", destination: "https://shop.example/b?x=1", weight: 1 },
];

async function postback(params) {
  const response = await fetch(`${BASE}/postback?${new URLSearchParams(params)}`);
  return { status: response.status, json: await response.json() };
}

const visitor = (i) => `pl_vid=${i.toString(16).padStart(16, "0")}`;

test("split tests are refused with a reason when their input is bad, and nothing is written", async () => {
  const { link } = await seed();
  for (const [body, status, code, field] of [
    [{ kind: "link_split", link_id: link.id, variants: [VARIANTS[0]] }, 422, "invalid_variants", "variants"],
    [{ kind: "link_split", link_id: link.id, variants: [VARIANTS[0], { ...VARIANTS[1], name: "control" }] }, 422, "invalid_variants", "variants"],
    [{ kind: "link_split", link_id: link.id, variants: [VARIANTS[0], { ...VARIANTS[1], destination: "ftp://x.example/" }] }, 422, "invalid_variants", "variants"],
    [{ kind: "link_split", link_id: link.id, variants: [VARIANTS[0], { ...VARIANTS[1], weight: 0 }] }, 422, "invalid_variants", "variants"],
    [{ kind: "link_split", link_id: "lnk_nope", variants: VARIANTS }, 422, "unknown_reference", "link_id"],
    [{ kind: "link_split", link_id: link.id, variants: VARIANTS, alpha: 0.5 }, 422, "invalid_value", "alpha"],
    [{ kind: "holdout", link_id: link.id, variants: VARIANTS }, 422, "invalid_value", "kind"],
  ]) {
    const refused = await api("POST", "/api/v1/experiments", body);
    assert.equal(refused.status, status, `${JSON.stringify(body)}: ${refused.text}`);
    assert.deepEqual([refused.json.error.code, refused.json.error.field], [code, field], JSON.stringify(body));
  }
  const listed = await api("GET", `/api/v1/experiments?link_id=${link.id}`);
  assert.deepEqual(listed.json.data, []);
  const location = (await hit(`/r/${link.code}`)).headers.get("location");
  assert.ok(location.startsWith("https://shop.example/landing?ref=1&click_id="), location);
});

test("a split test sends each visitor to one variant, records it, and reports it to the cent", async () => {
  const { program, link } = await seed();
  const token = program.postback_secret;
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  const created = await api("POST", "/api/v1/experiments", { kind: "link_split", link_id: link.id, name: "Landing B", variants: VARIANTS });
  assert.equal(created.status, 201, created.text);
  const experiment = created.json;
  assert.deepEqual([experiment.status, experiment.alpha, experiment.minimum_detectable_effect, experiment.winner], ["running", 0.05, 0.2, null]);
  assert.equal((await api("POST", "/api/v1/experiments", { kind: "link_split", link_id: link.id, variants: VARIANTS })).status, 409);

  // A visitor without a cookie gets one, and keeps its variant with it.
  const first = await hit(`/r/${link.code}`);
  const cookie = first.headers.get("set-cookie");
  assert.match(cookie, /^pl_vid=[0-9a-f]{16}; Max-Age=31536000; Path=\/r\/; HttpOnly; Secure; SameSite=Lax$/);
  const path = (response) => new URL(response.headers.get("location")).pathname;
  const again = await hit(`/r/${link.code}`, { headers: { cookie: cookie.split(";")[0] } });
  assert.equal(path(again), path(first));
  assert.equal(again.headers.get("set-cookie"), null, "a known visitor gets no new cookie");

  // Forty more visitors, each from its own address, each twice.
  const sent = { control: 0, "new-page": 0 };
  const visitors = { control: 0, "new-page": 0 };
  const clickIds = { control: [], "new-page": [] };
  for (let i = 1; i <= 40; i++) {
    const paths = [];
    for (let visit = 0; visit < 2; visit++) {
      const response = await hit(`/r/${link.code}`, { headers: { cookie: visitor(i), "cf-connecting-ip": `198.51.100.${10 + i}` } });
      const location = new URL(response.headers.get("location"));
      const name = location.pathname === "/a" ? "control" : "new-page";
      if (name === "new-page") assert.equal(location.searchParams.get("x"), "1", "the variant's own query is kept");
      sent[name] += 1;
      clickIds[name].push(location.searchParams.get("click_id"));
      paths.push(location.pathname);
    }
    assert.equal(paths[0], paths[1], `visitor ${i} sees one variant`);
    visitors[paths[0] === "/a" ? "control" : "new-page"] += 1;
  }
  assert.ok(sent.control > 0 && sent["new-page"] > 0, JSON.stringify(sent));
  sent[path(first) === "/a" ? "control" : "new-page"] += 2;
  visitors[path(first) === "/a" ? "control" : "new-page"] += 1;

  const clicks = await eventually(async () => {
    const stored = await events("clicks", link.id);
    return stored.length === 82 && stored;
  }, { what: "82 clicks to be stored" });
  const stored = { control: 0, "new-page": 0 };
  for (const click of clicks) stored[click.variant] += 1;
  assert.deepEqual(stored, sent);

  // Sales on two control clicks and three new-page clicks, one refunded in part.
  const amounts = { control: ["100.00", "50.00"], "new-page": ["80.00", "20.00", "30.00"] };
  let order = 0;
  for (const [name, list] of Object.entries(amounts)) {
    for (const [i, amount] of list.entries()) {
      const answer = await postback({ click_id: clickIds[name][2 * i], order_id: `X${++order}`, amount, token });
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
    }
  }
  assert.equal((await postback({ event: "refund", order_id: "X3", amount: "40.00", token })).status, 200);
  const conversions = (await api("GET", `/api/v1/conversions?program_id=${program.id}`)).json.data;
  assert.deepEqual(conversions.filter((c) => c.order_id === "X3").map((c) => [c.event, c.variant]).sort(), [["refund", "new-page"], ["sale", "new-page"]]);

  // By hand: control 150.00 revenue, 15.00 commission; new-page 130 − 40 = 90.00 and 13 − 4 = 9.00.
  const results = await api("GET", `/api/v1/experiments/${experiment.id}/results`);
  assert.equal(results.status, 200, results.text);
  const [control, treatment] = results.json.variants;
  assert.deepEqual(
    [control.name, control.clicks, control.visitors, control.conversions, control.sales, control.revenue, control.commission, control.profit],
    ["control", sent.control, visitors.control, 2, 2, "150.00", "15.00", "135.00"],
  );
  assert.deepEqual(
    [treatment.name, treatment.clicks, treatment.visitors, treatment.conversions, treatment.sales, treatment.revenue, treatment.commission, treatment.profit],
    ["new-page", sent["new-page"], visitors["new-page"], 3, 3, "90.00", "9.00", "81.00"],
  );
  assert.equal(control.vs_control, null);
  const versus = treatment.vs_control;
  // The tests count visitors (each came twice), not clicks.
  assert.ok(Math.abs(versus.conversion_rate.difference - (3 / visitors["new-page"] - 2 / visitors.control)) < 1e-9);
  assert.equal(versus.conversion_rate.test, "fisher_exact");
  assert.ok(versus.conversion_rate.ci_low < versus.conversion_rate.difference && versus.conversion_rate.difference < versus.conversion_rate.ci_high);
  assert.ok(typeof versus.revenue_per_visitor.rank_p_value === "number");
  assert.equal(treatment.revenue_per_visitor, (90 / visitors["new-page"]).toFixed(2));
  assert.deepEqual([results.json.verdict, results.json.winner, results.json.sample_size.reached], ["collecting_data", null, false]);
  assert.ok(results.json.sample_size.needed_per_variant > 1000);

  const report = await api("GET", `/api/v1/reports/kpis?${RANGE}&group_by=variant&link_id=${link.id}&metrics=clicks,sales,revenue,commission`);
  assert.equal(report.status, 200, report.text);
  const byVariant = Object.fromEntries(report.json.data.map((r) => [r.variant, [r.clicks, r.sales, r.revenue, r.commission]]));
  assert.deepEqual(byVariant, { control: [sent.control, 2, "150.00", "15.00"], "new-page": [sent["new-page"], 3, "90.00", "9.00"] });

  // No winner to declare yet; stopping without one sends everyone to the link again.
  const early = await api("POST", `/api/v1/experiments/${experiment.id}/stop`, { winner: "new-page" });
  assert.deepEqual([early.status, early.json.error.code], [409, "no_winner_yet"]);
  assert.equal((await api("POST", `/api/v1/experiments/${experiment.id}/stop`, { winner: "nope" })).json.error?.code, "unknown_variant");
  const stopped = await api("POST", `/api/v1/experiments/${experiment.id}/stop`);
  assert.equal(stopped.status, 200, stopped.text);
  assert.deepEqual([stopped.json.status, stopped.json.winner], ["stopped", null]);
  assert.ok(stopped.json.stopped_at);
  assert.equal((await api("POST", `/api/v1/experiments/${experiment.id}/stop`)).status, 409);
  const after = await hit(`/r/${link.code}`, { headers: { cookie: visitor(1) } });
  assert.equal(path(after), "/landing");
  assert.equal(after.headers.get("set-cookie"), null);
  // The stopped test's results stay as they were.
  const frozen = await api("GET", `/api/v1/experiments/${experiment.id}/results`);
  assert.equal(frozen.json.variants[0].clicks + frozen.json.variants[1].clicks, 82);
  assert.equal(frozen.json.status, "stopped");
  const listed = await api("GET", `/api/v1/experiments?program_id=${program.id}`);
  assert.deepEqual(listed.json.data.map((e) => [e.id, e.status]), [[experiment.id, "stopped"]]);
  assert.equal((await api("GET", `/api/v1/experiments/${unique("exp")}`)).status, 404);
});
