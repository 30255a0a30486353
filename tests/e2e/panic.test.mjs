// A panic fails its own request and no other. Rust aborts on a panic, which leaves the
// wasm instance unusable; the wasm-bindgen glue marks it terminated, the worker crate's
// abort handler asks for a re-initialisation, and the next call instantiates the module
// afresh. src/entry.mjs (wrangler's `main`) relies on that instead of worker-build's
// per-request Proxies, so this proves it through that entry: a runtime of its own (the
// panic resets the isolate's memory, which the fault runtime's once-only faults live in)
// whose app Worker panics on `GET /__fault/panic` (FAULT_INJECTION=panic_route).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { api as call, hit, unique, clickIdOf, eventually, BASE } from "./helpers.mjs";
import { rustRuntime, ADMIN_KEY } from "../../bench/runtime.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
let runtime;
let base;
before(async () => {
  runtime = await rustRuntime(join(root, "build"), { withAssets: false, vars: { FAULT_INJECTION: "panic_route" } });
  base = new URL(runtime.url).origin;
});
after(() => runtime?.mf.dispose());
const api = (method, path, body) => call(method, path, body, { base, key: ADMIN_KEY });

async function clicked(code) {
  const answer = await hit(`/r/${code}?sub1=panic`, { base });
  assert.equal(answer.status, 302, "the redirect answers");
  return clickIdOf(answer);
}

async function storedClicks(linkId) {
  const page = await api("GET", `/api/v1/clicks?link_id=${linkId}&limit=500`);
  assert.equal(page.status, 200, page.text);
  return page.json.data.map((click) => click.id).sort();
}

test("a panic fails its own request; the next ones are served by a fresh instance", async () => {
  const program = await api("POST", "/api/v1/programs", { name: unique("Panic"), currency: "EUR", model: "sales" });
  assert.equal(program.status, 201, program.text);
  const partner = await api("POST", "/api/v1/partners", { name: unique("Panic partner") });
  const link = await api("POST", "/api/v1/links", { program_id: program.json.id, partner_id: partner.json.id, destination: "https://shop.example/p" });
  assert.equal(link.status, 201, link.text);
  const before = await clicked(link.json.code);
  // Stored before the panic: a panic also drops what the isolate's outbox holds.
  await eventually(async () => (await storedClicks(link.json.id)).includes(before), { what: "the first click to be stored" });

  for (let i = 0; i < 2; i++) {
    const panicked = await fetch(`${base}/__fault/panic`);
    await panicked.arrayBuffer();
    assert.equal(panicked.status, 500, "the panicking request fails");
  }

  // The module was instantiated afresh: the redirect (its link no longer in memory, so
  // read from storage again), the queue, the consumer and the API all work.
  const health = await fetch(`${base}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok" });
  const after = await clicked(link.json.code);
  assert.notEqual(after, before);
  const stored = await eventually(async () => {
    const ids = await storedClicks(link.json.id);
    return ids.length === 2 && ids;
  }, { what: "both clicks to be stored" });
  assert.deepEqual(stored, [before, after].sort());
  const again = await api("GET", `/api/v1/programs/${program.json.id}`);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.name, program.json.name);
});

test("without the fault switched on, /__fault/panic is no endpoint", async () => {
  const response = await fetch(`${BASE}/__fault/panic`);
  assert.equal(response.status, 404);
  assert.equal((await response.json()).error.code, "not_found");
});
