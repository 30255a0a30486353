// Hold period approval by the cron, payouts with a minimum, statements, balances, costs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, hit, storedClick, clickIdOf, unique, BASE } from "./helpers.mjs";

async function program(fields) {
  const created = await api("POST", "/api/v1/programs", { name: unique("Money"), currency: "EUR", model: "sales", ...fields });
  assert.equal(created.status, 201, created.text);
  return created.json;
}

async function partnerWithLink(programId) {
  const partner = (await api("POST", "/api/v1/partners", { name: unique("Partner") })).json;
  const link = (await api("POST", "/api/v1/links", {
    program_id: programId, partner_id: partner.id, destination: "https://shop.example/",
  })).json;
  return { partner, link };
}

async function sale(prog, link, orderId, amount) {
  const clickId = clickIdOf(await hit(`/r/${link.code}`));
  await storedClick(link.id, clickId);
  const query = new URLSearchParams({ click_id: clickId, order_id: orderId, amount, token: prog.postback_secret });
  const answer = await (await fetch(`${BASE}/postback?${query}`)).json();
  assert.equal(answer.status, "recorded", JSON.stringify(answer));
  return answer;
}

async function cron() {
  const response = await fetch(`${BASE}/__scheduled?cron=${encodeURIComponent("*/15 * * * *")}`);
  assert.equal(response.status, 200, await response.text());
}

const statusOf = async (id) => (await api("GET", `/api/v1/conversions/${id}`)).json.status;

test("the cron approves pending sales once their program's hold period is over, and only then", async () => {
  const noHold = await program({ hold_days: 0 });
  const held = await program({ hold_days: 30 });
  const a = await partnerWithLink(noHold.id);
  const b = await partnerWithLink(held.id);
  const ready = await sale(noHold, a.link, "H-1", "10");
  const waiting = await sale(held, b.link, "H-2", "10");
  assert.equal(await statusOf(ready.conversion_id), "pending");
  await cron();
  assert.equal(await statusOf(ready.conversion_id), "approved");
  assert.equal(await statusOf(waiting.conversion_id), "pending");
  await cron();
  assert.equal(await statusOf(ready.conversion_id), "approved", "a second run changes nothing");
});

test("a payout pays partners above the minimum exactly once, with a CSV statement", async () => {
  const prog = await program({ hold_days: 0, min_payout: "50" });
  await api("POST", "/api/v1/commission-rules", { program_id: prog.id, event: "sale", kind: "percent", value: "10" });
  const big = await partnerWithLink(prog.id);
  const small = await partnerWithLink(prog.id);
  await sale(prog, big.link, "P-1", "300");
  await sale(prog, big.link, "P-2", "255.55");
  await sale(prog, small.link, "P-3", "100");
  await cron();
  const before = await api("GET", `/api/v1/balances?program_id=${prog.id}`);
  const balance = Object.fromEntries(before.json.data.map((b) => [b.partner_id, b]));
  assert.equal(balance[big.partner.id].balance, "55.56");
  assert.equal(balance[small.partner.id].balance, "10.00");
  assert.equal(before.json.min_payout, "50.00");

  const [first, second] = await Promise.all([
    api("POST", "/api/v1/payouts", { program_id: prog.id }),
    api("POST", "/api/v1/payouts", { program_id: prog.id }),
  ]);
  const statements = [...first.json.data, ...second.json.data];
  assert.equal(first.status, 201);
  assert.equal(statements.length, 1, "two concurrent runs pay once");
  const [payout] = statements;
  assert.equal(payout.partner_id, big.partner.id);
  assert.equal(payout.amount, "55.56");
  assert.equal(payout.conversions, 2);
  const third = await api("POST", "/api/v1/payouts", { program_id: prog.id });
  assert.deepEqual(third.json.data, []);

  const csv = await fetch(payout.statement_url, { headers: { authorization: `Bearer ${process.env.ADMIN_API_KEY}` } });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get("content-type"), /text\/csv/);
  const lines = (await csv.text()).trim().split("\n");
  assert.equal(lines[0], "payout_id,partner_id,conversion_id,event,order_id,ts,amount,commission,currency");
  assert.equal(lines.length, 3);
  const total = lines.slice(1).map((l) => l.split(",")[7]).reduce((s, c) => s + Math.round(Number(c) * 100), 0);
  assert.equal(total, 5556);

  const after = await api("GET", `/api/v1/balances?program_id=${prog.id}`);
  const now = Object.fromEntries(after.json.data.map((b) => [b.partner_id, b]));
  assert.equal(now[big.partner.id].balance, "0.00");
  assert.equal(now[big.partner.id].paid, "55.56");
  assert.equal(now[small.partner.id].balance, "10.00");
  const listed = await api("GET", `/api/v1/payouts?program_id=${prog.id}`);
  assert.deepEqual(listed.json.data.map((p) => p.id), [payout.id]);
});

test("costs are recorded per program and day, and bad ones are refused", async () => {
  const prog = await program({});
  const cost = await api("POST", "/api/v1/costs", { program_id: prog.id, date: "2026-11-01", category: "training", amount: "250.5" });
  assert.equal(cost.status, 201, cost.text);
  assert.equal(cost.json.amount, "250.50");
  for (const [body, field] of [
    [{ program_id: prog.id, date: "2026-02-30", category: "other", amount: "1" }, "date"],
    [{ program_id: prog.id, date: "2026-11-01", category: "coffee", amount: "1" }, "category"],
    [{ program_id: prog.id, date: "2026-11-01", category: "other", amount: "-1" }, "amount"],
    [{ program_id: "prg_nope", date: "2026-11-01", category: "other", amount: "1" }, "program_id"],
  ]) {
    const bad = await api("POST", "/api/v1/costs", body);
    assert.equal(bad.status, 422, JSON.stringify(body));
    assert.equal(bad.json.error.field, field);
  }
  const listed = await api("GET", `/api/v1/costs?program_id=${prog.id}`);
  assert.deepEqual(listed.json.data.map((c) => c.id), [cost.json.id]);
});
