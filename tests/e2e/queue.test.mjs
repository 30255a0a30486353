// The click queue under faults: every batch's first delivery fails halfway (after writing
// half of it) and is delivered again; every click is stored exactly once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { seed, hit, events, storedClick, clickIdOf, eventually, FAULT_BASE } from "./helpers.mjs";

test("a queue batch that fails halfway and is redelivered creates no second click and loses none", async () => {
  // FAULT_BASE runs a consumer that writes half of every batch, fails, and gets it again.
  const { link } = await seed({ base: FAULT_BASE });
  const sent = [];
  for (let i = 0; i < 12; i++) {
    const response = await hit(`/r/${link.code}`, {
      base: FAULT_BASE,
      headers: { "cf-connecting-ip": `198.51.100.${100 + (i % 3)}` },
    });
    sent.push(clickIdOf(response));
  }
  await storedClick(link.id, sent.at(-1), { base: FAULT_BASE });
  const clicks = await eventually(async () => {
    const rows = await events("clicks", link.id, { base: FAULT_BASE });
    return rows.length >= sent.length && rows;
  }, { what: "all clicks" });
  // Give the redeliveries time to land, then check again.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const after = await events("clicks", link.id, { base: FAULT_BASE });
  assert.deepEqual(after.map((c) => c.id).sort(), [...sent].sort());
  assert.equal(clicks.length, sent.length);
  assert.equal(after.filter((c) => c.is_unique).length, 3, "three visitors, one unique click each");
});

test("a burst of clicks, packed by the outbox into shared queue messages, is stored exactly once through a failed first delivery", async () => {
  // Forty redirects at once land in one isolate's outbox within its 20 ms and leave in
  // messages of many events each (one a line); the consumer must read every line, and
  // its half-written first delivery must neither lose nor repeat one.
  const { link } = await seed({ base: FAULT_BASE });
  const responses = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    hit(`/r/${link.code}`, { base: FAULT_BASE, headers: { "cf-connecting-ip": `198.51.100.${150 + (i % 4)}` } })));
  const sent = responses.map((response) => clickIdOf(response));
  assert.equal(new Set(sent).size, 40);
  await eventually(async () => {
    const rows = await events("clicks", link.id, { base: FAULT_BASE });
    return rows.length >= sent.length && rows;
  }, { what: "all forty clicks" });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const after = await events("clicks", link.id, { base: FAULT_BASE });
  assert.deepEqual(after.map((c) => c.id).sort(), [...sent].sort());
  assert.equal(after.filter((c) => c.is_unique).length, 4, "four visitors, one unique click each");
});
