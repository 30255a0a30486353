// Nothing is lost when storage fails mid-request: the fault runtime's D1 refuses the
// first write of every conversion whose order id starts with `fail-once-` (src/faults.rs).
// The sender gets a 503 it retries; the retry records exactly one conversion, and what
// was recorded before the failure comes back as a duplicate.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, seed, hit, storedClick, clickIdOf, unique, ndjson, FAULT_BASE } from "./helpers.mjs";

const on = { base: FAULT_BASE };
const CLICK_FIELD = "581225";

async function clicked() {
  const seeded = await seed(on);
  const clickId = clickIdOf(await hit(`/r/${seeded.link.code}`, on));
  await storedClick(seeded.link.id, clickId, on);
  return { ...seeded, clickId, token: seeded.program.postback_secret };
}

async function conversionsOf(programId) {
  const page = await api("GET", `/api/v1/conversions?program_id=${programId}&limit=500`, undefined, on);
  assert.equal(page.status, 200, page.text);
  return page.json.data;
}

function assertRetryable(response, body) {
  assert.equal(response.status, 503, JSON.stringify(body));
  assert.equal(body.error.code, "storage_unavailable");
  assert.ok(Number(response.headers.get("retry-after")) > 0, "Retry-After");
}

test("a postback that meets a storage failure is a 503, and its retry records it once", async () => {
  const { program, clickId, token } = await clicked();
  const params = new URLSearchParams({ click_id: clickId, order_id: unique("fail-once-sale"), amount: "40.00", token });
  const first = await fetch(`${FAULT_BASE}/postback?${params}`);
  assertRetryable(first, await first.json());
  assert.deepEqual(await conversionsOf(program.id), [], "nothing was written");

  const retry = await fetch(`${FAULT_BASE}/postback?${params}`);
  const recorded = await retry.json();
  assert.equal(retry.status, 200, JSON.stringify(recorded));
  assert.equal(recorded.status, "recorded");
  const again = await (await fetch(`${FAULT_BASE}/postback?${params}`)).json();
  assert.equal(again.status, "duplicate");
  const rows = await conversionsOf(program.id);
  assert.deepEqual(rows.map((r) => [r.id, r.amount]), [[recorded.conversion_id, "40.00"]]);
});

/** An AmoCRM webhook body with several leads in `leads[status]`. */
function leads(list) {
  const pairs = [];
  list.forEach(({ id, clickId }, i) => {
    const lead = `leads[status][${i}]`;
    pairs.push(
      [`${lead}[id]`, id],
      [`${lead}[status_id]`, "201"],
      [`${lead}[pipeline_id]`, "3157453"],
      [`${lead}[custom_fields][0][id]`, CLICK_FIELD],
      [`${lead}[custom_fields][0][values][0][value]`, clickId],
    );
  });
  return new URLSearchParams(pairs).toString();
}

test("an AmoCRM webhook that meets a storage failure is a 503, and AmoCRM's retry loses no lead", async () => {
  const { program, link, token, clickId: first } = await clicked();
  const mapping = await api(
    "POST",
    "/api/v1/amocrm-mappings",
    { program_id: program.id, pipeline_id: "3157453", click_id_field_id: CLICK_FIELD, statuses: { 201: "lead" } },
    on,
  );
  assert.equal(mapping.status, 201, mapping.text);
  const second = clickIdOf(await hit(`/r/${link.code}`, { ...on, headers: { "cf-connecting-ip": "198.51.100.99" } }));
  await storedClick(link.id, second, on);
  const body = leads([
    { id: unique("lead"), clickId: first },
    { id: unique("fail-once-lead"), clickId: second },
  ]);
  const send = () =>
    fetch(`${FAULT_BASE}/webhooks/amocrm?token=${encodeURIComponent(token)}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
  const failed = await send();
  assertRetryable(failed, await failed.json());
  assert.equal((await conversionsOf(program.id)).length, 1, "the lead before the failure is kept");

  const retried = await send();
  const answer = await retried.json();
  assert.equal(retried.status, 200, JSON.stringify(answer));
  assert.deepEqual(answer.processed.map((p) => p.status), ["duplicate", "recorded"]);
  const rows = await conversionsOf(program.id);
  assert.equal(rows.length, 2);
  assert.deepEqual(new Set(rows.map((r) => r.click_id)), new Set([first, second]));
});

test("an import that meets a storage failure is a 503, and its retry imports every line once", async () => {
  const { program, clickId } = await clicked();
  const line = (order) => ({ click_id: clickId, event: "sale", order_id: order, amount: "10.00", ts: new Date().toISOString() });
  const lines = [line(unique("imp")), line(unique("fail-once-imp")), line(unique("imp"))];
  const body = lines.map((l) => JSON.stringify(l)).join("\n");
  const failed = await fetch(`${FAULT_BASE}/api/v1/import/conversions`, {
    method: "POST",
    headers: { authorization: `Bearer ${process.env.ADMIN_API_KEY}`, "content-type": "application/x-ndjson" },
    body,
  });
  assertRetryable(failed, await failed.json());
  assert.equal((await conversionsOf(program.id)).length, 1);
  const retried = await ndjson("/api/v1/import/conversions", lines, on);
  assert.deepEqual(retried, { accepted: 2, duplicates: 1, rejected: [] });
  const rows = await conversionsOf(program.id);
  assert.deepEqual(rows.map((r) => r.order_id).sort(), lines.map((l) => l.order_id).sort());
});
