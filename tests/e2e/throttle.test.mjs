// Failed postback and webhook credentials are rate-limited per source address.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, seed, BASE } from "./helpers.mjs";

const LIMIT = 20; // src/http/throttle.rs FAILURES_PER_MINUTE
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const postback = (params, ip) =>
  fetch(`${BASE}/postback?${new URLSearchParams(params)}`, { headers: { "cf-connecting-ip": ip } });

test("after too many bad tokens from one address it gets 429 until the minute is over", async () => {
  const { program } = await seed();
  const token = program.postback_secret;
  // The limit counts per minute: start early in one so the burst stays inside it.
  const second = new Date().getUTCSeconds();
  if (second > 40) await sleep((61 - second) * 1000);
  const attacker = "203.0.113.250";
  for (let i = 0; i < LIMIT; i++) {
    const response = await postback({ event: "lead", click_id: "x", token: `pbs_guess_${i}` }, attacker);
    assert.equal(response.status, 401, `attempt ${i + 1}`);
  }
  const blocked = await postback({ event: "lead", click_id: "x", token: "pbs_guess_last" }, attacker);
  assert.equal(blocked.status, 429);
  const retryAfter = Number(blocked.headers.get("retry-after"));
  assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
  assert.equal((await blocked.json()).error.code, "too_many_requests");
  // Even the right token waits: the address is blocked, not the guess.
  const right = await postback({ event: "lead", click_id: "x", token }, attacker);
  assert.equal(right.status, 429);
  const webhook = await fetch(`${BASE}/webhooks/amocrm?token=${token}`, {
    method: "POST",
    headers: { "cf-connecting-ip": attacker, "content-type": "application/x-www-form-urlencoded" },
    body: "leads[status][0][id]=1",
  });
  assert.equal(webhook.status, 429);
  // Another address is unaffected.
  const other = await postback({ event: "lead", click_id: "x", token: "pbs_guess" }, "203.0.113.251");
  assert.equal(other.status, 401);
  // An IPv6 host counts as its /64: rotating the last 64 bits does not reset the count.
  for (let i = 0; i < LIMIT; i++) {
    const response = await postback({ event: "lead", click_id: "x", token: `pbs_v6_${i}` }, `2001:db8:5:7::${(i + 1).toString(16)}`);
    assert.equal(response.status, 401, `IPv6 attempt ${i + 1}`);
  }
  assert.equal((await postback({ event: "lead", click_id: "x", token: "pbs_v6" }, "2001:db8:5:7:ffff::1")).status, 429);
  assert.equal((await postback({ event: "lead", click_id: "x", token: "pbs_v6" }, "2001:db8:5:8::1")).status, 401);
  // Nothing was recorded for the program.
  const conversions = await api("GET", `/api/v1/conversions?program_id=${program.id}`);
  assert.deepEqual(conversions.json.data, []);
});
