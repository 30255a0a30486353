// Promo codes: a partner's code attributes a sale that has no click (postback and import,
// under every alias, whatever the case), the program decides between a click and another
// partner's code, refunds and repeat customers follow, reports group by `attribution`
// and `source` equal to a hand computation, the partner sees its codes, and every bad
// input is refused without writing anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, ndjson, seed, hit, storedClick, clickIdOf, unique, BASE } from "./helpers.mjs";

const DAY_MS = 86_400_000;
const day = (offset) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
const RANGE = `from=${day(-1)}&to=${day(2)}`;

async function postback(params) {
  const response = await fetch(`${BASE}/postback?${new URLSearchParams(params)}`);
  return { status: response.status, json: await response.json() };
}

async function conversionsOf(programId) {
  const page = await api("GET", `/api/v1/conversions?program_id=${programId}&limit=500`);
  assert.equal(page.status, 200, page.text);
  return page.json.data;
}

async function codesOf(programId) {
  const page = await api("GET", `/api/v1/promo-codes?program_id=${programId}`);
  assert.equal(page.status, 200, page.text);
  return page.json.data;
}

async function newPartner(name) {
  const created = await api("POST", "/api/v1/partners", { name: unique(name), segment: "blogger" });
  assert.equal(created.status, 201, created.text);
  return created.json;
}

test("promo codes are created, unique per program whatever their case, listed, retired, and refused when bad", async () => {
  const { program, partner } = await seed();
  const other = (await seed()).program;
  const created = await api("POST", "/api/v1/promo-codes", { program_id: program.id, partner_id: partner.id, code: " Anna-10 " });
  assert.equal(created.status, 201, created.text);
  assert.match(created.json.id, /^pcd_/);
  assert.deepEqual(
    [created.json.code, created.json.status, created.json.retired_at, created.json.program_id, created.json.partner_id],
    ["Anna-10", "active", null, program.id, partner.id],
  );

  const taken = await api("POST", "/api/v1/promo-codes", { program_id: program.id, partner_id: (await newPartner("Rival")).id, code: "ANNA-10" });
  assert.equal(taken.status, 409, taken.text);
  assert.deepEqual([taken.json.error.code, taken.json.error.field], ["code_taken", "code"]);
  for (const [body, status, code, field] of [
    [{ program_id: program.id, partner_id: partner.id, code: "anna 10" }, 422, "invalid_code", "code"],
    [{ program_id: program.id, partner_id: partner.id, code: "x" }, 422, "invalid_code", "code"],
    [{ program_id: program.id, partner_id: partner.id, code: "x".repeat(41) }, 422, "invalid_code", "code"],
    [{ program_id: "prg_nope", partner_id: partner.id, code: "NEW1" }, 422, "unknown_reference", "program_id"],
    [{ program_id: program.id, partner_id: "ptn_nope", code: "NEW1" }, 422, "unknown_reference", "partner_id"],
  ]) {
    const refused = await api("POST", "/api/v1/promo-codes", body);
    assert.equal(refused.status, status, `${JSON.stringify(body)}: ${refused.text}`);
    assert.deepEqual([refused.json.error.code, refused.json.error.field], [code, field], JSON.stringify(body));
  }
  const missing = await api("POST", "/api/v1/promo-codes", { program_id: program.id, partner_id: partner.id });
  assert.ok([400, 422].includes(missing.status), missing.text);
  assert.deepEqual((await codesOf(program.id)).map((c) => c.code), ["Anna-10"], "nothing refused was written");

  const cyrillic = await api("POST", "/api/v1/promo-codes", { program_id: program.id, partner_id: partner.id, code: "АННА" });
  assert.equal(cyrillic.status, 201, cyrillic.text);
  const elsewhere = await api("POST", "/api/v1/promo-codes", { program_id: other.id, partner_id: partner.id, code: "anna-10" });
  assert.equal(elsewhere.status, 201, "another program may use the same code");

  const retired = await api("DELETE", `/api/v1/promo-codes/${created.json.id}`);
  assert.equal(retired.status, 200, retired.text);
  assert.equal(retired.json.status, "retired");
  assert.ok(retired.json.retired_at);
  assert.equal((await api("DELETE", `/api/v1/promo-codes/${created.json.id}`)).json.retired_at, retired.json.retired_at, "retiring twice changes nothing");
  const reused = await api("POST", "/api/v1/promo-codes", { program_id: program.id, partner_id: partner.id, code: "anna-10" });
  assert.equal(reused.status, 201, "a retired code is free again");
  assert.equal((await api("GET", `/api/v1/promo-codes/${reused.json.id}`)).json.code, "anna-10");
  assert.equal((await api("GET", "/api/v1/promo-codes/pcd_nope")).status, 404);
});

test("the partner sees its own codes in its portal and nobody else's", async () => {
  const { program, partner } = await seed();
  const blogger = await newPartner("Blogger without a link");
  await api("POST", "/api/v1/promo-codes", { program_id: program.id, partner_id: partner.id, code: "LINKED5" });
  await api("POST", "/api/v1/promo-codes", { program_id: program.id, partner_id: blogger.id, code: "BLOG15" });
  const token = (await api("POST", "/api/v1/partner-tokens", { partner_id: blogger.id })).json.token;
  const terms = await api("GET", "/api/v1/partner-programs", undefined, { key: token });
  assert.equal(terms.status, 200, terms.text);
  const mine = terms.json.data.find((p) => p.id === program.id);
  assert.ok(mine, "a partner with only a code is in the program");
  assert.deepEqual(mine.promo_codes, ["BLOG15"]);
  const listed = await api("GET", `/api/v1/promo-codes?program_id=${program.id}`, undefined, { key: token });
  assert.equal(listed.status, 200, listed.text);
  assert.deepEqual(listed.json.data.map((c) => c.code), ["BLOG15"]);
  assert.equal((await api("POST", "/api/v1/promo-codes", { program_id: program.id, partner_id: blogger.id, code: "MINE2" }, { key: token })).status, 403);
});

test("sales with a code are attributed to its partner, and the reports split them by attribution to the cent", async () => {
  const { program, partner: linked, link } = await seed();
  const token = program.postback_secret;
  const rule = await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  assert.equal(rule.status, 201, rule.text);
  const blogger = await newPartner("Blogger");
  const code = await api("POST", "/api/v1/promo-codes", { program_id: program.id, partner_id: blogger.id, code: "BLOG-B" });
  assert.equal(code.status, 201, code.text);
  const clickId = clickIdOf(await hit(`/r/${link.code}?utm_source=newsletter`));
  await storedClick(link.id, clickId);

  // O1: a code (in lower case) and no click: the blogger's.
  const o1 = await postback({ coupon: "blog-b", order_id: "O1", amount: "100.00", customer_id: "K1", token });
  assert.equal(o1.status, 200, JSON.stringify(o1.json));
  assert.deepEqual([o1.json.status, o1.json.attribution, o1.json.commission], ["recorded", "promo_code", "10.00"]);
  assert.equal((await postback({ promo_code: "BLOG-B", order_id: "O1", amount: "100.00", token })).json.status, "duplicate");
  // O2: a click of the linked partner and the blogger's code: the click wins by default.
  const o2 = await postback({ click_id: clickId, coupon_code: "BLOG-B", order_id: "O2", amount: "50.00", token });
  assert.deepEqual([o2.status, o2.json.attribution, o2.json.commission], [200, "click", "5.00"]);
  // O3: the program now lets the code win.
  const patched = await api("PATCH", `/api/v1/programs/${program.id}`, { attribution_priority: "promo_code" });
  assert.equal(patched.json.attribution_priority, "promo_code", patched.text);
  const o3 = await postback({ click_id: clickId, coupon: "Blog-B", order_id: "O3", amount: "80.00", token });
  assert.deepEqual([o3.status, o3.json.attribution, o3.json.commission], [200, "promo_code", "8.00"]);
  // I1: an imported sale with a code and the program named.
  const imported = await ndjson("/api/v1/import/conversions", [
    { program_id: program.id, coupon: "BLOG-B", event: "sale", order_id: "I1", amount: "20.00", status: "approved", ts: new Date().toISOString() },
  ]);
  assert.deepEqual([imported.accepted, imported.rejected.length], [1, 0], JSON.stringify(imported));
  // A partial refund of O1, and a repeat sale of its customer with neither click nor code.
  const refund = await postback({ event: "refund", order_id: "O1", amount: "40.00", token });
  assert.deepEqual([refund.status, refund.json.attribution, refund.json.commission], [200, "promo_code", "-4.00"]);
  const o4 = await postback({ customer_id: "K1", order_id: "O4", amount: "30.00", token });
  assert.deepEqual([o4.status, o4.json.attribution, o4.json.commission], [200, "customer", "3.00"]);

  // Refused, and nothing written: an unknown code, a lead with a code and no order id.
  const before = (await conversionsOf(program.id)).length;
  const unknown = await postback({ coupon: "NOPE", order_id: "X1", amount: "10.00", token });
  assert.deepEqual([unknown.status, unknown.json.error.code, unknown.json.error.field], [422, "unknown_promo_code", "coupon"]);
  const lead = await postback({ event: "lead", coupon: "BLOG-B", token });
  assert.deepEqual([lead.status, lead.json.error.code, lead.json.error.field], [422, "missing_field", "order_id"]);
  assert.equal((await conversionsOf(program.id)).length, before);

  const rows = await conversionsOf(program.id);
  const byOrder = Object.fromEntries(rows.filter((r) => r.event === "sale").map((r) => [r.order_id, r]));
  assert.deepEqual(
    ["O1", "O2", "O3", "I1", "O4"].map((o) => [o, byOrder[o].partner_id, byOrder[o].attribution, byOrder[o].promo_code]),
    [
      ["O1", blogger.id, "promo_code", "BLOG-B"],
      ["O2", linked.id, "click", "BLOG-B"],
      ["O3", blogger.id, "promo_code", "BLOG-B"],
      ["I1", blogger.id, "promo_code", "BLOG-B"],
      ["O4", blogger.id, "customer", "BLOG-B"],
    ],
  );
  assert.deepEqual([byOrder.O1.link_id, byOrder.O1.click_id, byOrder.O1.country, byOrder.O1.sub1], [null, null, null, null], "a code brings no click dimensions");
  assert.equal(byOrder.O2.link_id, link.id);

  // By hand: promo_code = O1 100 + O3 80 + I1 20 − refund 40 = 160.00, commission
  // 10 + 8 + 2 − 4 = 16.00; click = O2 50.00 / 5.00 and the click; customer = O4 30.00 / 3.00.
  const metrics = "clicks,sales,refunds,revenue,commission";
  const byAttribution = await api("GET", `/api/v1/reports/kpis?${RANGE}&group_by=attribution&program_id=${program.id}&metrics=${metrics}`);
  assert.equal(byAttribution.status, 200, byAttribution.text);
  const sorted = byAttribution.json.data.sort((a, b) => a.attribution.localeCompare(b.attribution));
  assert.deepEqual(sorted, [
    { attribution: "click", clicks: 1, sales: 1, refunds: 0, revenue: "50.00", commission: "5.00" },
    { attribution: "customer", clicks: 0, sales: 1, refunds: 0, revenue: "30.00", commission: "3.00" },
    { attribution: "promo_code", clicks: 0, sales: 3, refunds: 1, revenue: "160.00", commission: "16.00" },
  ]);
  const bySource = await api("GET", `/api/v1/reports/kpis?${RANGE}&group_by=source&program_id=${program.id}&metrics=sales,revenue`);
  const sources = Object.fromEntries(bySource.json.data.map((r) => [r.source, [r.sales, r.revenue]]));
  assert.deepEqual(sources, { newsletter: [1, "50.00"], promo_code: [4, "190.00"] });
  const onlyCodes = await api("GET", `/api/v1/reports/kpis?${RANGE}&group_by=partner&attribution=promo_code&program_id=${program.id}&metrics=sales,commission`);
  // Every partner of the program has a row; only the blogger sold through a code.
  assert.deepEqual(
    Object.fromEntries(onlyCodes.json.data.map((r) => [r.partner_id, [r.sales, r.commission]])),
    { [blogger.id]: [3, "16.00"], [linked.id]: [0, "0.00"] },
  );

  // A retired code attributes nothing new.
  await api("DELETE", `/api/v1/promo-codes/${code.json.id}`);
  const late = await postback({ coupon: "BLOG-B", order_id: "O5", amount: "10.00", token });
  assert.deepEqual([late.status, late.json.error?.code], [422, "unknown_promo_code"]);
});
