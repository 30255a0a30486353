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

test("a payout's transfer is recorded (paid, when, the reference) and its statement stays as the run fixed it", async () => {
  const prog = await program({ hold_days: 0, min_payout: "1" });
  await api("POST", "/api/v1/commission-rules", { program_id: prog.id, event: "sale", kind: "percent", value: "10" });
  const { partner, link } = await partnerWithLink(prog.id);
  await sale(prog, link, "T-1", "123.45");
  await cron();
  const [payout] = (await api("POST", "/api/v1/payouts", { program_id: prog.id })).json.data;
  assert.equal(payout.status, "pending");
  assert.equal(payout.paid_at, null);
  assert.equal(payout.reference, null);
  const path = `/api/v1/payouts/${payout.id}`;
  const balances = async () => (await api("GET", `/api/v1/balances?program_id=${prog.id}`)).json.data;
  const balancesBefore = await balances();

  // Refused, and nothing changes: a field a run fixes, a time in the future or before
  // the payout, a time on a pending payout, an unknown status.
  const tomorrow = new Date(Date.now() + 86400000).toISOString();
  for (const [body, status, field] of [
    [{ amount: "1.00" }, 400, null],
    [{ status: "paid", paid_at: tomorrow }, 422, "paid_at"],
    [{ status: "paid", paid_at: "2020-01-01T00:00:00Z" }, 422, "paid_at"],
    [{ paid_at: new Date().toISOString() }, 422, "paid_at"],
    [{ status: "sent" }, 422, "status"],
    [{ status: "paid", paid_at: "yesterday" }, 422, "paid_at"],
  ]) {
    const refused = await api("PATCH", path, body);
    assert.equal(refused.status, status, `${JSON.stringify(body)}: ${refused.text}`);
    if (field) assert.equal(refused.json.error.field, field);
  }
  assert.deepEqual((await api("GET", path)).json, payout, "refused changes change nothing");

  const before = Date.now();
  const paid = await api("PATCH", path, { status: "paid", reference: "  SEPA-2026-0042 " });
  assert.equal(paid.status, 200, paid.text);
  assert.equal(paid.json.status, "paid");
  assert.equal(paid.json.reference, "SEPA-2026-0042");
  const paidAt = Date.parse(paid.json.paid_at);
  assert.ok(paidAt >= before - 1000 && paidAt <= Date.now() + 1000, paid.json.paid_at);
  assert.equal(paid.json.amount, "12.35");
  assert.equal(paid.json.conversions, 1);

  // A retried PATCH keeps the first time; a partner's token reads the transfer too.
  const again = await api("PATCH", path, { status: "paid" });
  assert.equal(again.json.paid_at, paid.json.paid_at);
  const token = (await api("POST", "/api/v1/partner-tokens", { partner_id: partner.id })).json.token;
  const seen = await (await fetch(`${BASE}${path}`, { headers: { authorization: `Bearer ${token}` } })).json();
  assert.equal(seen.status, "paid");
  assert.equal(seen.reference, "SEPA-2026-0042");
  assert.equal((await fetch(`${BASE}${path}`, {
    method: "PATCH", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}",
  })).status, 403, "a partner cannot mark its own payout paid");

  // A given time between the payout and now; back to pending clears it.
  const at = new Date(Date.parse(payout.created_at) + 1).toISOString();
  assert.equal((await api("PATCH", path, { paid_at: at })).json.paid_at, at);
  const undone = await api("PATCH", path, { status: "pending", reference: "" });
  assert.equal(undone.status, 200, undone.text);
  assert.deepEqual([undone.json.status, undone.json.paid_at, undone.json.reference], ["pending", null, null]);
  assert.deepEqual(await balances(), balancesBefore, "the transfer moves no balance");
  const csv = await fetch(`${BASE}${path}/statement.csv`, { headers: { authorization: `Bearer ${process.env.ADMIN_API_KEY}` } });
  assert.equal((await csv.text()).trim().split("\n").length, 2);
  assert.equal((await api("PATCH", "/api/v1/payouts/pay_nope", { status: "paid" })).status, 404);
});

test("a cost is corrected or deleted by id, and the program's KPIs follow at once", async () => {
  const prog = await program({});
  const day = new Date().toISOString().slice(0, 10);
  const next = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  const kpis = async () => {
    const report = await api("GET", `/api/v1/reports/kpis?from=${day}&to=${next}&group_by=program&program_id=${prog.id}&metrics=other_cost,cost`);
    assert.equal(report.status, 200, report.text);
    return report.json.data.map((row) => [row.other_cost, row.cost]);
  };
  const cost = (await api("POST", "/api/v1/costs", { program_id: prog.id, date: day, category: "marketing", amount: "100" })).json;
  const other = (await api("POST", "/api/v1/costs", { program_id: prog.id, date: day, category: "support", amount: "0.10" })).json;
  assert.deepEqual(await kpis(), [["100.10", "100.10"]]);
  const path = `/api/v1/costs/${cost.id}`;
  assert.deepEqual((await api("GET", path)).json, cost);

  for (const [body, status, field] of [
    [{ amount: "-5" }, 422, "amount"],
    [{ date: "2026-02-30" }, 422, "date"],
    [{ category: "coffee" }, 422, "category"],
    [{ program_id: "prg_other" }, 400, null],
  ]) {
    const refused = await api("PATCH", path, body);
    assert.equal(refused.status, status, `${JSON.stringify(body)}: ${refused.text}`);
    if (field) assert.equal(refused.json.error.field, field);
  }
  assert.deepEqual((await api("GET", path)).json, cost, "refused corrections change nothing");

  const corrected = await api("PATCH", path, { amount: "99.99", category: "training" });
  assert.equal(corrected.status, 200, corrected.text);
  assert.deepEqual(
    [corrected.json.amount, corrected.json.category, corrected.json.date, corrected.json.program_id],
    ["99.99", "training", day, prog.id],
  );
  assert.deepEqual(await kpis(), [["100.09", "100.09"]]);

  // Moved to another day, the cost leaves this day's KPIs; deleted, it is gone.
  assert.equal((await api("PATCH", path, { date: "2026-01-15" })).json.date, "2026-01-15");
  assert.deepEqual(await kpis(), [["0.10", "0.10"]]);
  const deleted = await api("DELETE", `/api/v1/costs/${other.id}`);
  assert.equal(deleted.status, 200, deleted.text);
  assert.equal(deleted.json.id, other.id);
  assert.equal((await api("GET", `/api/v1/costs/${other.id}`)).status, 404);
  assert.equal((await api("DELETE", `/api/v1/costs/${other.id}`)).status, 404);
  assert.deepEqual((await api("GET", `/api/v1/costs?program_id=${prog.id}`)).json.data.map((c) => c.id), [cost.id]);
  const rows = await kpis();
  assert.ok(rows.length === 0 || (rows[0][0] === "0.00" && rows[0][1] === "0.00"), JSON.stringify(rows));
});
