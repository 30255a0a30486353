// Outbound postbacks: approved conversions reach the partner's own tracker, with retries,
// and every attempt is in the delivery log.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { api, seed, hit, storedClick, clickIdOf, eventually, BASE } from "./helpers.mjs";

const received = [];
let failuresLeft = 0;
const server = createServer((request, response) => {
  received.push(new URL(request.url, "http://partner.local"));
  if (failuresLeft > 0) {
    failuresLeft -= 1;
    response.writeHead(500).end("try later");
  } else {
    response.writeHead(200).end("ok");
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const partnerTracker = `http://127.0.0.1:${server.address().port}`;
after(() => server.close());

async function postback(params) {
  const response = await fetch(`${BASE}/postback?${new URLSearchParams(params)}`);
  return response.json();
}

test("an approved lead is posted to the partner's tracker, retried after a failure, and logged", async () => {
  const { program, partner, link } = await seed();
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "lead", kind: "fixed", value: "3" });
  const endpoint = await api("POST", "/api/v1/partner-postbacks", {
    partner_id: partner.id,
    url_template: `${partnerTracker}/pb?cid={click_id}&e={event}&c={commission}&s1={sub1}`,
    events: ["lead", "sale"],
  });
  assert.equal(endpoint.status, 201, endpoint.text);
  const clickId = clickIdOf(await hit(`/r/${link.code}?sub1=my%20post`));
  await storedClick(link.id, clickId);
  failuresLeft = 1;
  const before = received.length;
  const lead = await postback({ click_id: clickId, event: "lead", token: program.postback_secret });
  assert.equal(lead.status, "recorded");

  const delivery = await eventually(async () => {
    const log = await api("GET", `/api/v1/postback-deliveries?conversion_id=${lead.conversion_id}`);
    const [row] = log.json.data;
    return row?.state === "delivered" && row;
  }, { what: "the delivery to succeed", ms: 30000 });
  assert.equal(delivery.attempts, 2, "one failure, then success");
  assert.equal(delivery.last_status, 200);
  const calls = received.slice(before);
  assert.equal(calls.length, 2);
  for (const call of calls) {
    assert.equal(call.pathname, "/pb");
    assert.equal(call.searchParams.get("cid"), clickId);
    assert.equal(call.searchParams.get("e"), "lead");
    assert.equal(call.searchParams.get("c"), "3.00");
    assert.equal(call.searchParams.get("s1"), "my post");
  }
});

test("a pending sale is posted only once it is approved, and only once", async () => {
  const { program, partner, link } = await seed();
  await api("POST", "/api/v1/partner-postbacks", { partner_id: partner.id, url_template: `${partnerTracker}/sale?o={order_id}&a={amount}` });
  const clickId = clickIdOf(await hit(`/r/${link.code}`));
  await storedClick(link.id, clickId);
  const sale = await postback({ click_id: clickId, order_id: "OUT-1", amount: "42.5", token: program.postback_secret });
  assert.equal(sale.conversion_status, "pending");
  const pendingLog = await api("GET", `/api/v1/postback-deliveries?conversion_id=${sale.conversion_id}`);
  assert.deepEqual(pendingLog.json.data, []);
  const approved = await api("PATCH", `/api/v1/conversions/${sale.conversion_id}`, { status: "approved" });
  assert.equal(approved.status, 200);
  await eventually(async () => received.some((u) => u.pathname === "/sale" && u.searchParams.get("o") === "OUT-1"), { what: "the sale postback" });
  await postback({ order_id: "OUT-1", status: "approved", token: program.postback_secret });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(received.filter((u) => u.searchParams.get("o") === "OUT-1").length, 1);
  assert.equal(received.find((u) => u.searchParams.get("o") === "OUT-1").searchParams.get("a"), "42.50");
});

test("partner postback templates are validated", async () => {
  const { partner } = await seed();
  const bad = await api("POST", "/api/v1/partner-postbacks", { partner_id: partner.id, url_template: "javascript:alert({click_id})" });
  assert.equal(bad.status, 422);
  assert.equal(bad.json.error.field, "url_template");
  const unknown = await api("POST", "/api/v1/partner-postbacks", { partner_id: "ptn_nope", url_template: "https://p.example/" });
  assert.equal(unknown.json.error.field, "partner_id");
});
