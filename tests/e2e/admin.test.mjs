// The admin API: authentication, validation that writes nothing, pagination, conflicts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, seed, unique, hit } from "./helpers.mjs";

const ADMIN_ROUTES = [
  ["GET", "/api/v1/programs"],
  ["POST", "/api/v1/programs"],
  ["GET", "/api/v1/programs/prg_x"],
  ["PATCH", "/api/v1/programs/prg_x"],
  ["POST", "/api/v1/programs/prg_x/rotate-secret"],
  ["GET", "/api/v1/partners"],
  ["POST", "/api/v1/partners"],
  ["GET", "/api/v1/partners/ptn_x"],
  ["PATCH", "/api/v1/partners/ptn_x"],
  ["GET", "/api/v1/links"],
  ["POST", "/api/v1/links"],
  ["GET", "/api/v1/links/lnk_x"],
  ["PATCH", "/api/v1/links/lnk_x"],
  ["GET", "/api/v1/clicks"],
  ["POST", "/api/v1/import/clicks"],
  ["POST", "/api/v1/import/conversions"],
  ["POST", "/api/v1/bi-keys"],
  ["GET", "/api/v1/bi-keys"],
  ["DELETE", "/api/v1/bi-keys/bik_x"],
  ["GET", "/api/v1/reports/kpis?from=2026-11-01&to=2026-11-02"],
  ["POST", "/api/v1/rollups/run?from=2026-11-01&to=2026-11-02"],
  ["POST", "/api/v1/partner-postbacks"],
  ["GET", "/api/v1/partner-postbacks"],
  ["PATCH", "/api/v1/partner-postbacks/obp_x"],
  ["GET", "/api/v1/postback-deliveries"],
  ["POST", "/api/v1/amocrm-mappings"],
  ["GET", "/api/v1/amocrm-mappings/prg_x"],
  ["POST", "/api/v1/payouts"],
  ["GET", "/api/v1/payouts"],
  ["GET", "/api/v1/payouts/pay_x"],
  ["GET", "/api/v1/payouts/pay_x/statement.csv"],
  ["GET", "/api/v1/balances"],
  ["POST", "/api/v1/costs"],
  ["GET", "/api/v1/costs"],
  ["POST", "/api/v1/commission-rules"],
  ["GET", "/api/v1/commission-rules"],
  ["PATCH", "/api/v1/commission-rules/rul_x"],
  ["GET", "/api/v1/conversions"],
  ["GET", "/api/v1/conversions/cnv_x"],
  ["PATCH", "/api/v1/conversions/cnv_x"],
  ["GET", "/api/v1/impressions"],
  ["GET", "/api/v1/no-such-thing"],
];

test("every admin route answers 401 with a JSON error without the key or with a wrong one", async () => {
  for (const [method, path] of ADMIN_ROUTES) {
    for (const key of [null, "wrong-key"]) {
      const response = await api(method, path, method === "GET" ? undefined : {}, { key });
      assert.equal(response.status, 401, `${method} ${path} key=${key}`);
      assert.equal(response.json.error.code, "unauthorized");
      assert.equal(typeof response.json.error.message, "string");
    }
  }
  const basic = await fetch(process.env.BASE_URL + "/api/v1/programs", {
    headers: { authorization: "Basic " + Buffer.from(":" + process.env.ADMIN_API_KEY).toString("base64") },
  });
  assert.equal(basic.status, 401, "the admin key is accepted as a bearer token only");
});

async function count(path) {
  let total = 0;
  let next = `${path}${path.includes("?") ? "&" : "?"}limit=500`;
  while (next) {
    const page = await api("GET", next);
    assert.equal(page.status, 200, page.text);
    total += page.json.data.length;
    next = page.json.next && page.json.next.slice(new URL(page.json.next).origin.length);
  }
  return total;
}

test("bad input gets a 400 or 422 JSON error naming the problem, and writes nothing", async () => {
  const { program, partner } = await seed();
  const base = { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/" };
  const cases = [
    ["POST", "/api/v1/programs", "{not json", 400, "invalid_json", null],
    ["POST", "/api/v1/programs", JSON.stringify({ name: "x", currency: "EUR", model: "sales", colour: "red" }), 400, "unknown_field", "colour"],
    ["POST", "/api/v1/programs", JSON.stringify({ currency: "EUR", model: "sales" }), 422, "missing_field", "name"],
    ["POST", "/api/v1/programs", JSON.stringify({ name: "x", currency: "EURO", model: "sales" }), 422, "unknown_currency", "currency"],
    ["POST", "/api/v1/programs", JSON.stringify({ name: "x", currency: "EUR", model: "sales", attribution_window_days: "30" }), 422, "invalid_field", "attribution_window_days"],
    ["POST", "/api/v1/programs", JSON.stringify({ name: "x", currency: "EUR", model: "sales", timezone: "Mars/Base" }), 422, "unknown_timezone", "timezone"],
    ["POST", "/api/v1/partners", JSON.stringify({ name: "x", segment: "vip" }), 422, "invalid_value", "segment"],
    ["POST", "/api/v1/partners", JSON.stringify({ name: "x", email: "not-an-email" }), 422, "invalid_email", "email"],
    ["POST", "/api/v1/partners", "[]", 422, "invalid_field", null],
    // A body is an object, also when its fields could be read from an array in order.
    ["POST", "/api/v1/programs", JSON.stringify(["x", "EUR", "sales", null, null, null, null, null, null]), 422, "invalid_field", null],
    ["POST", "/api/v1/programs", JSON.stringify({ name: "x", currency: "EUR", model: "sales", min_payout: "1000000000000" }), 422, "invalid_amount", "min_payout"],
    ["POST", "/api/v1/links", JSON.stringify({ ...base, destination: "javascript:alert(1)" }), 422, "invalid_destination", "destination"],
    ["POST", "/api/v1/links", JSON.stringify({ ...base, destination: "/relative/path" }), 422, "invalid_destination", "destination"],
    ["POST", "/api/v1/links", JSON.stringify({ ...base, destination: "ftp://files.example/x" }), 422, "invalid_destination", "destination"],
    ["POST", "/api/v1/links", JSON.stringify({ ...base, code: "a".repeat(65) }), 422, "invalid_code", "code"],
    ["POST", "/api/v1/links", JSON.stringify({ ...base, code: "ab" }), 422, "invalid_code", "code"],
    ["POST", "/api/v1/links", JSON.stringify({ ...base, program_id: "prg_missing" }), 422, "unknown_reference", "program_id"],
    ["POST", "/api/v1/links", JSON.stringify({ ...base, partner_id: "ptn_missing" }), 422, "unknown_reference", "partner_id"],
    ["POST", "/api/v1/links", JSON.stringify({ ...base, extra: 1 }), 400, "unknown_field", "extra"],
  ];
  const before = {
    programs: await count("/api/v1/programs"),
    partners: await count("/api/v1/partners"),
    links: await count("/api/v1/links"),
  };
  for (const [method, path, raw, status, code, field] of cases) {
    const response = await api(method, path, undefined, { raw });
    assert.equal(response.status, status, `${path} ${raw}: ${response.text}`);
    assert.equal(response.json.error.code, code, `${path} ${raw}`);
    assert.equal(response.json.error.field, field, `${path} ${raw}`);
    assert.ok(response.json.error.message.length > 0);
  }
  assert.deepEqual(
    {
      programs: await count("/api/v1/programs"),
      partners: await count("/api/v1/partners"),
      links: await count("/api/v1/links"),
    },
    before,
  );
});

test("a bad PATCH changes nothing", async () => {
  const { link } = await seed({ destination: "https://shop.example/keep" });
  const response = await api("PATCH", `/api/v1/links/${link.id}`, { destination: "notaurl", status: "disabled" });
  assert.equal(response.status, 422);
  const after = await api("GET", `/api/v1/links/${link.id}`);
  assert.equal(after.json.destination, "https://shop.example/keep");
  assert.equal(after.json.status, "active");
  assert.equal((await hit(`/r/${link.code}`)).status, 302);
});

test("a PATCH body is an object: an array of nulls changes nothing", async () => {
  const { link } = await seed({ destination: "https://shop.example/keep" });
  const response = await api("PATCH", `/api/v1/links/${link.id}`, undefined, { raw: "[null, null]" });
  assert.equal(response.status, 422, response.text);
  assert.equal(response.json.error.code, "invalid_field");
});

test("a taken custom code is a 409 and the first link keeps it", async () => {
  const code = unique("taken");
  const first = await seed({ code });
  const response = await api("POST", "/api/v1/links", {
    program_id: first.program.id,
    partner_id: first.partner.id,
    destination: "https://elsewhere.example/",
    code,
  });
  assert.equal(response.status, 409);
  assert.equal(response.json.error.code, "code_taken");
  const redirect = await hit(`/r/${code}`);
  assert.match(redirect.headers.get("location"), /^https:\/\/shop\.example\//);
});

test("creating a program shows its postback secret once, never again", async () => {
  const created = await api("POST", "/api/v1/programs", { name: unique("P"), currency: "usd", model: "referral" });
  assert.equal(created.status, 201);
  assert.match(created.json.postback_secret, /^pbs_/);
  assert.equal(created.json.currency, "USD");
  assert.equal(created.json.attribution_window_days, 30);
  assert.equal(created.json.click_id_param, "click_id");
  const fetched = await api("GET", `/api/v1/programs/${created.json.id}`);
  assert.equal(fetched.status, 200);
  assert.equal(fetched.json.postback_secret, undefined);
  const listed = await api("GET", "/api/v1/programs?limit=500");
  assert.ok(!listed.text.includes(created.json.postback_secret));
});

test("programs and partners can be read back and patched", async () => {
  const { program, partner } = await seed();
  // JSON has one kind of number: 14.0 is the whole number 14.
  const patched = await api("PATCH", `/api/v1/programs/${program.id}`, undefined, {
    raw: '{"hold_days": 14.0, "min_payout": "50.5"}',
  });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.hold_days, 14);
  assert.equal(patched.json.min_payout, "50.50");
  assert.equal(patched.json.currency, "EUR");
  const partnerPatch = await api("PATCH", `/api/v1/partners/${partner.id}`, { status: "suspended", tier: "gold" });
  assert.equal(partnerPatch.json.status, "suspended");
  assert.equal(partnerPatch.json.tier, "gold");
  assert.equal(partnerPatch.json.segment, "blogger");
  assert.equal((await api("GET", "/api/v1/partners/ptn_nope")).status, 404);
  assert.equal((await api("GET", "/api/v1/partners/ptn_nope")).json.error.code, "not_found");
});

test("cursor pagination returns every link exactly once", async () => {
  const { program, partner } = await seed();
  const made = [];
  for (let i = 0; i < 7; i++) {
    const link = await api("POST", "/api/v1/links", {
      program_id: program.id, partner_id: partner.id, destination: `https://shop.example/${i}`,
    });
    made.push(link.json.id);
  }
  const seen = [];
  let path = `/api/v1/links?program_id=${program.id}&limit=3`;
  let pages = 0;
  while (path) {
    const page = await api("GET", path);
    assert.equal(page.status, 200);
    assert.ok(page.json.data.length <= 3);
    seen.push(...page.json.data.map((l) => l.id));
    if (page.json.next) assert.match(page.json.next, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/links\?/);
    path = page.json.next && page.json.next.slice(new URL(page.json.next).origin.length);
    pages += 1;
  }
  assert.equal(pages, 3);
  assert.deepEqual(seen.sort(), [...made, (await api("GET", `/api/v1/links?program_id=${program.id}&limit=500`)).json.data.find((l) => !made.includes(l.id)).id].sort());
  const bad = await api("GET", "/api/v1/links?cursor=garbage");
  assert.equal(bad.status, 422);
  assert.equal(bad.json.error.field, "cursor");
  const badLimit = await api("GET", "/api/v1/links?limit=0");
  assert.equal(badLimit.json.error.field, "limit");
});

test("during a key rotation the next admin key works too, and only it", async () => {
  // scripts/test.sh sets ADMIN_API_KEY_NEXT, as docs/operations.md says to rotate.
  const next = process.env.ADMIN_API_KEY_NEXT;
  assert.ok(next);
  assert.equal((await api("GET", "/api/v1/programs", undefined, { key: next })).status, 200);
  assert.equal((await api("GET", "/api/v1/programs", undefined, { key: `${next}x` })).status, 401);
});
