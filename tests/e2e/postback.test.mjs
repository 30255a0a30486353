// Postbacks: recorded once, attributed to the click, commission to the cent, refunds,
// status changes, and every bad input refused without writing anything.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { api, seed, hit, storedClick, clickIdOf, unique, BASE } from "./helpers.mjs";

async function postback(params, { method = "GET", body, contentType } = {}) {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`${BASE}/postback?${query}`, {
    method,
    body,
    headers: contentType ? { "content-type": contentType } : {},
  });
  return { status: response.status, json: await response.json() };
}

/** A program with a link, a click stored on it, and the program's rules created. */
async function clicked({ rules = [], sub1 = "post-1", partner } = {}) {
  const seeded = await seed();
  const ids = { ...seeded };
  for (const rule of rules) {
    const created = await api("POST", "/api/v1/commission-rules", { program_id: seeded.program.id, ...rule });
    assert.equal(created.status, 201, created.text);
  }
  const response = await hit(`/r/${seeded.link.code}?sub1=${sub1}`);
  const clickId = clickIdOf(response);
  await storedClick(seeded.link.id, clickId);
  return { ...ids, partner: partner ?? seeded.partner, clickId, token: seeded.program.postback_secret };
}

async function conversionsOf(programId) {
  const page = await api("GET", `/api/v1/conversions?program_id=${programId}&limit=500`);
  assert.equal(page.status, 200, page.text);
  return page.json.data;
}

test("a sale is recorded, attributed to the click, and earns its CPS commission", async () => {
  const { program, partner, link, clickId, token } = await clicked({
    rules: [{ event: "sale", kind: "percent", value: "10" }],
  });
  const answer = await postback({ click_id: clickId, order_id: "A-1", amount: "199.99", token });
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  assert.equal(answer.json.status, "recorded");
  assert.match(answer.json.conversion_id, /^cnv_/);
  assert.equal(answer.json.commission, "20.00");
  const [row] = await conversionsOf(program.id);
  assert.equal(row.id, answer.json.conversion_id);
  assert.equal(row.event, "sale");
  assert.equal(row.status, "pending");
  assert.equal(row.amount, "199.99");
  assert.equal(row.currency, "EUR");
  assert.equal(row.partner_id, partner.id);
  assert.equal(row.link_id, link.id);
  assert.equal(row.click_id, clickId);
  assert.equal(row.sub1, "post-1");
  assert.equal(row.device, "desktop");
});

test("fifty sequential replays are one conversion, each answered duplicate with the original id", async () => {
  const { program, clickId, token } = await clicked({ rules: [{ event: "sale", kind: "fixed", value: "7.50" }] });
  const first = await postback({ cid: clickId, txid: "R-1", sale_amount: "50", token });
  assert.equal(first.json.status, "recorded");
  for (let i = 0; i < 50; i++) {
    const again = await postback({ cid: clickId, txid: "R-1", sale_amount: "50", token });
    assert.equal(again.status, 200);
    assert.equal(again.json.status, "duplicate");
    assert.equal(again.json.conversion_id, first.json.conversion_id);
  }
  const rows = await conversionsOf(program.id);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].commission, "7.50");
});

test("fifty concurrent replays are one conversion and one commission", async () => {
  const { program, clickId, token } = await clicked({ rules: [{ event: "sale", kind: "percent", value: "5" }] });
  const answers = await Promise.all(
    Array.from({ length: 50 }, () => postback({ click_id: clickId, order_id: "C-1", amount: "80", token })),
  );
  assert.ok(answers.every((a) => a.status === 200), JSON.stringify(answers.find((a) => a.status !== 200)));
  assert.equal(answers.filter((a) => a.json.status === "recorded").length, 1);
  assert.equal(new Set(answers.map((a) => a.json.conversion_id)).size, 1);
  const rows = await conversionsOf(program.id);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].commission, "4.00");
});

test("a lead is one per click even without an order id; a qualified lead earns its bonus", async () => {
  const { program, clickId, token } = await clicked({
    rules: [{ event: "lead", kind: "fixed", value: "2" }, { event: "qualified", kind: "fixed", value: "15" }],
  });
  const lead = await postback({ click_id: clickId, event: "lead", token });
  assert.equal(lead.json.status, "recorded");
  assert.equal(lead.json.commission, "2.00");
  assert.equal(lead.json.conversion_status, "approved");
  assert.equal((await postback({ click_id: clickId, event: "lead", token })).json.status, "duplicate");
  const qualified = await postback({ click_id: clickId, et: "qualified", token });
  assert.equal(qualified.json.commission, "15.00");
  assert.equal((await conversionsOf(program.id)).length, 2);
});

test("a later postback with a new status updates the conversion", async () => {
  const { program, clickId, token } = await clicked();
  const sale = await postback({ click_id: clickId, order_id: "S-1", amount: "10", token });
  const approved = await postback({ order_id: "S-1", status: "approved", token });
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  assert.equal(approved.json.status, "updated");
  assert.equal(approved.json.conversion_id, sale.json.conversion_id);
  assert.equal(approved.json.conversion_status, "approved");
  assert.equal((await postback({ order_id: "S-1", status: "approved", token })).json.status, "duplicate");
  const [row] = await conversionsOf(program.id);
  assert.equal(row.status, "approved");
  const rejected = await api("PATCH", `/api/v1/conversions/${row.id}`, { status: "rejected" });
  assert.equal(rejected.json.status, "rejected");
});

test("POST with a form or JSON body works like GET", async () => {
  const { program, clickId, token } = await clicked();
  const form = await postback({ token }, {
    method: "POST",
    contentType: "application/x-www-form-urlencoded",
    body: new URLSearchParams({ click_id: clickId, order_id: "F-1", amount: "12.5" }).toString(),
  });
  assert.equal(form.json.status, "recorded", JSON.stringify(form.json));
  const json = await postback({}, {
    method: "POST",
    contentType: "application/json",
    body: JSON.stringify({ click_id: clickId, order_id: "J-1", amount: "3.10", token }),
  });
  assert.equal(json.json.status, "recorded", JSON.stringify(json.json));
  const amounts = (await conversionsOf(program.id)).map((c) => c.amount).sort();
  assert.deepEqual(amounts, ["12.50", "3.10"]);
});

test("refunds reverse the sale's commission, fully or in proportion, and never beyond the sale", async () => {
  const { program, clickId, token } = await clicked({ rules: [{ event: "sale", kind: "percent", value: "10" }] });
  await postback({ click_id: clickId, order_id: "O-1", amount: "99.99", token });
  const partial = await postback({ event: "refund", order_id: "O-1", refund_id: "RF-1", amount: "33.33", token });
  assert.equal(partial.json.status, "recorded", JSON.stringify(partial.json));
  assert.equal(partial.json.commission, "-3.33");
  assert.equal((await postback({ event: "refund", order_id: "O-1", refund_id: "RF-1", amount: "33.33", token })).json.status, "duplicate");
  const tooMuch = await postback({ event: "refund", order_id: "O-1", refund_id: "RF-2", amount: "66.67", token });
  assert.equal(tooMuch.status, 422);
  assert.equal(tooMuch.json.error.code, "refund_exceeds_sale");
  const rest = await postback({ event: "refund", order_id: "O-1", refund_id: "RF-3", amount: "66.66", token });
  assert.equal(rest.json.commission, "-6.67");
  const rows = await conversionsOf(program.id);
  const total = rows.reduce((sum, r) => sum + Math.round(Number(r.commission) * 100), 0);
  assert.equal(total, 0, "a sale refunded in full nets to zero commission");
  const unknown = await postback({ event: "refund", order_id: "nope", amount: "1", token });
  assert.equal(unknown.status, 422);
  assert.equal(unknown.json.error.code, "unknown_order");
});

test("a full refund reverses exactly", async () => {
  const { clickId, token } = await clicked({ rules: [{ event: "sale", kind: "percent", value: "7.5" }] });
  const sale = await postback({ click_id: clickId, order_id: "FULL", amount: "33.33", token });
  assert.equal(sale.json.commission, "2.50");
  const refund = await postback({ event: "refund", order_id: "FULL", amount: "33.33", token });
  assert.equal(refund.json.commission, "-2.50");
});

test("rule precedence: partner beats segment beats program, and the highest tier reached wins", async () => {
  const seeded = await seed();
  const { program, partner, link } = seeded;
  const token = program.postback_secret;
  const rule = (r) => api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", ...r });
  assert.equal((await rule({ kind: "percent", value: "10" })).status, 201);
  assert.equal((await rule({ kind: "percent", value: "12", from_monthly_sale: 3 })).status, 201);
  assert.equal((await rule({ kind: "percent", value: "30", segment: "agency" })).status, 201);
  const clickIds = [];
  for (let i = 0; i < 4; i++) clickIds.push(clickIdOf(await hit(`/r/${link.code}`)));
  await storedClick(link.id, clickIds.at(-1));
  const commissions = [];
  for (const [i, clickId] of clickIds.entries()) {
    if (i === 3) {
      assert.equal((await rule({ kind: "percent", value: "20", partner_id: partner.id })).status, 201);
    }
    const answer = await postback({ click_id: clickId, order_id: `T-${i}`, amount: "100", token });
    commissions.push(answer.json.commission);
  }
  // 1st and 2nd: program 10 %; 3rd: program tier 12 %; 4th: the partner's own 20 %.
  // The agency segment rule never applies to this blogger.
  assert.deepEqual(commissions, ["10.00", "10.00", "12.00", "20.00"]);
  const rows = await conversionsOf(program.id);
  assert.deepEqual(rows.map((r) => r.monthly_sale_number), [1, 2, 3, 4]);
});

test("a repeat sale by a known customer goes to the partner who brought them", async () => {
  const { program, partner, clickId, token } = await clicked({ rules: [{ event: "sale", kind: "fixed", value: "1" }] });
  await postback({ click_id: clickId, order_id: "L-1", amount: "10", customer_id: "cust-9", token });
  const repeat = await postback({ order_id: "L-2", amount: "20", customer_id: "cust-9", token });
  assert.equal(repeat.json.status, "recorded", JSON.stringify(repeat.json));
  const row = (await conversionsOf(program.id)).find((r) => r.order_id === "L-2");
  assert.equal(row.partner_id, partner.id);
  assert.equal(row.click_id, null);
  assert.equal(row.sub1, "post-1");
  const stranger = await postback({ order_id: "L-3", amount: "20", customer_id: "nobody", token });
  assert.equal(stranger.status, 422);
  assert.equal(stranger.json.error.code, "unknown_customer");
  const off = await api("PATCH", `/api/v1/programs/${program.id}`, { lifetime_attribution: false });
  assert.equal(off.json.lifetime_attribution, false);
  const notCredited = await postback({ order_id: "L-4", amount: "20", customer_id: "cust-9", token });
  assert.equal(notCredited.status, 422, "without lifetime attribution a repeat sale needs its click");
  assert.equal(notCredited.json.error.field, "click_id");
});

test("bad credentials are 401 and bad input is 422, and neither writes anything", async () => {
  const { program, clickId, token } = await clicked();
  const cases = [
    [{ click_id: clickId, order_id: "X", amount: "1" }, 401, "unauthorized"],
    [{ click_id: clickId, order_id: "X", amount: "1", token: "pbs_wrong" }, 401, "unauthorized"],
    [{ click_id: clickId, order_id: "X", amount: "-1", token }, 422, "invalid_amount"],
    [{ click_id: clickId, order_id: "X", amount: "1e3", token }, 422, "invalid_amount"],
    [{ click_id: clickId, order_id: "X", amount: "1", currency: "ZZZ", token }, 422, "unknown_currency"],
    [{ click_id: clickId, order_id: "X", amount: "1", currency: "USD", token }, 422, "currency_mismatch"],
    [{ click_id: "no-such-click", order_id: "X", amount: "1", token }, 422, "unknown_click"],
    [{ click_id: clickId, amount: "1", token }, 422, "missing_field"],
    [{ click_id: clickId, order_id: "X", amount: "1", event: "install", token }, 422, "invalid_value"],
    [{ click_id: clickId, order_id: "X", amount: "1", ts: "last tuesday", token }, 422, "invalid_timestamp"],
  ];
  for (const [params, status, code] of cases) {
    const answer = await postback(params);
    assert.equal(answer.status, status, `${JSON.stringify(params)} → ${JSON.stringify(answer.json)}`);
    assert.equal(answer.json.error.code, code, JSON.stringify(params));
  }
  assert.equal((await conversionsOf(program.id)).length, 0);
});

test("a conversion outside the attribution window is refused", async () => {
  const { program, clickId, token } = await clicked();
  const late = new Date(Date.now() + 31 * 86400000).toISOString();
  const answer = await postback({ click_id: clickId, order_id: "W-1", amount: "5", ts: late, token });
  assert.equal(answer.status, 422);
  assert.equal(answer.json.error.code, "attribution_window_expired");
  const inside = new Date(Date.now() + 29 * 86400000).toISOString();
  assert.equal((await postback({ click_id: clickId, order_id: "W-2", amount: "5", ts: inside, token })).json.status, "recorded");
  assert.equal((await conversionsOf(program.id)).length, 1);
});

test("a click of another program cannot be claimed with this program's token", async () => {
  const mine = await clicked();
  const other = await seed();
  const answer = await postback({ click_id: mine.clickId, order_id: unique("X"), amount: "1", token: other.program.postback_secret });
  assert.equal(answer.status, 422);
  assert.equal(answer.json.error.code, "unknown_click");
});

test("commission rules are validated, listed and archived", async () => {
  const { program } = await seed();
  const bad = await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "150" });
  assert.equal(bad.status, 422);
  assert.equal(bad.json.error.field, "value");
  const unknownProgram = await api("POST", "/api/v1/commission-rules", { program_id: "prg_nope", event: "sale", kind: "fixed", value: "1" });
  assert.equal(unknownProgram.json.error.field, "program_id");
  const rule = await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "lead", kind: "fixed", value: "3.5" });
  assert.equal(rule.status, 201);
  const listed = await api("GET", `/api/v1/commission-rules?program_id=${program.id}`);
  assert.deepEqual(listed.json.data.map((r) => r.id), [rule.json.id]);
  const archived = await api("PATCH", `/api/v1/commission-rules/${rule.json.id}`, { status: "archived" });
  assert.equal(archived.json.status, "archived");
});


const sign = (secret, message) => `sha256=${createHmac("sha256", secret).update(message).digest("hex")}`;

test("a postback signed with HMAC-SHA256 of its query or body is accepted; a wrong signature is 401", async () => {
  const { program, clickId, token } = await clicked({ rules: [{ event: "sale", kind: "fixed", value: "4" }] });
  const query = new URLSearchParams({ click_id: clickId, order_id: "SIG-1", amount: "40", program_id: program.id }).toString();
  const signedGet = await fetch(`${BASE}/postback?${query}`, { headers: { "x-partnerlens-signature": sign(token, query) } });
  const getAnswer = await signedGet.json();
  assert.equal(signedGet.status, 200, JSON.stringify(getAnswer));
  assert.equal(getAnswer.status, "recorded");

  const body = JSON.stringify({ click_id: clickId, order_id: "SIG-2", amount: "41" });
  const signedPost = await fetch(`${BASE}/postback`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "x-partnerlens-signature": sign(token, body) },
  });
  assert.equal((await signedPost.json()).status, "recorded", "the program comes from the click");

  const tampered = new URLSearchParams({ click_id: clickId, order_id: "SIG-3", amount: "9999", program_id: program.id }).toString();
  const forged = await fetch(`${BASE}/postback?${tampered}`, { headers: { "x-partnerlens-signature": sign(token, query) } });
  assert.equal(forged.status, 401);
  assert.equal((await forged.json()).error.code, "unauthorized");
  const wrongKey = await fetch(`${BASE}/postback?${query.replace("SIG-1", "SIG-4")}`, {
    headers: { "x-partnerlens-signature": sign("pbs_not_the_secret", query.replace("SIG-1", "SIG-4")) },
  });
  assert.equal(wrongKey.status, 401);
  assert.equal((await conversionsOf(program.id)).length, 2);
});

test("rotating a program's postback secret retires the old one at once", async () => {
  const { program, clickId, token } = await clicked();
  const rotated = await api("POST", `/api/v1/programs/${program.id}/rotate-secret`);
  assert.equal(rotated.status, 200, rotated.text);
  assert.match(rotated.json.postback_secret, /^pbs_/);
  assert.notEqual(rotated.json.postback_secret, token);
  const old = await postback({ click_id: clickId, order_id: "ROT-1", amount: "1", token });
  assert.equal(old.status, 401);
  const fresh = await postback({ click_id: clickId, order_id: "ROT-1", amount: "1", token: rotated.json.postback_secret });
  assert.equal(fresh.json.status, "recorded");
});
