// bench/profile: where a redirect's time goes. Runs the links Worker's bundle (or, with
// BENCH_PROFILE_TARGET=app, the app Worker with its assets router), loads `/r/{code}` with
// wrk while V8's sampling profiler runs in the Worker's isolate (workerd's inspector, as
// DevTools would open it), and prints the samples grouped: Rust compiled to wasm (by
// function), the JS glue wasm-bindgen and worker-build generate (by function), the
// runtime's own work outside JS ("(program)": HTTP, the event loop, bindings), the
// garbage collector, and idle. A JS worker of the same design (bench/workers/) is
// profiled beside it with BENCH_PROFILE_TARGET=peer, and the static 302 with `static`.
// BENCH_PROFILE_TARGET=consumer profiles the app Worker's isolate while its queue
// consumer drains a backlog of BENCH_PROFILE_CLICKS (default 30,000) clicks into D1,
// per click instead of per request.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { createServer } from "node:net";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { cpus } from "node:os";
import { rustRuntime, COMPAT, queue, drainBacklog, partnerlensClick } from "./runtime.mjs";
import { wrk } from "./wrk.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const TARGET = process.env.BENCH_PROFILE_TARGET ?? "links";
const PATH = process.env.BENCH_PROFILE_PATH ?? "/r/bench-7?sub1=bench";
const TOP = Number(process.env.BENCH_PROFILE_TOP ?? 25);
const CLICKS = Number(process.env.BENCH_PROFILE_CLICKS ?? 30000);

const freePort = () => new Promise((resolve) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});

/** A DevTools protocol session on one Worker's isolate. */
async function session(port, worker) {
  // Node 22's own WebSocket client.
  const socket = new WebSocket(`ws://127.0.0.1:${port}/core:user:${worker}`);
  await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
  let next = 0;
  const pending = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    if (message.id && pending.has(message.id)) {
      pending.get(message.id)(message);
      pending.delete(message.id);
    }
  });
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    next += 1;
    pending.set(next, (message) => (message.error ? reject(new Error(`${method}: ${message.error.message}`)) : resolve(message.result)));
    socket.send(JSON.stringify({ id: next, method, params }));
  });
  return { send, close: () => socket.close() };
}

async function jsWorker(script, inspectorPort) {
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: "127.0.0.1", port: 0, inspectorPort,
    workers: [{
      name: "js", modules: true, scriptPath: join(root, "bench/workers", script), compatibilityDate: COMPAT,
      d1Databases: { DB: "js" }, kvNamespaces: { LINKS: "js-links" }, ...queue("js-clicks"),
    }],
  }));
  const url = await mf.ready;
  const db = await mf.getD1Database("DB");
  await db.prepare("CREATE TABLE clicks (id TEXT PRIMARY KEY, code TEXT, ts INTEGER, ua TEXT, referer TEXT, country TEXT, sub1 TEXT, visitor TEXT)").run();
  const kv = await mf.getKVNamespace("LINKS");
  for (let i = 0; i < 100; i++) await kv.put(`link:bench-${i}`, JSON.stringify({ url: `https://shop.example/landing?item=${i}` }));
  return { mf, url, worker: "js" };
}

/** Self time of every sample, grouped by kind and by function. */
function summarise(profile) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byNode = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    byNode.set(profile.samples[i], (byNode.get(profile.samples[i]) ?? 0) + us);
  }
  const total = [...byNode.values()].reduce((a, b) => a + b, 0);
  const kinds = new Map();
  const functions = new Map();
  for (const [id, us] of byNode) {
    const { functionName, url, lineNumber, columnNumber } = nodes.get(id).callFrame;
    // An anonymous function is named by where it is (its file, line and column).
    const name = functionName ||
      (url ? `(anonymous) ${url.split("/").pop()}:${lineNumber + 1}:${columnNumber + 1}` : "(anonymous)");
    const kind = name === "(anonymous)" || !name.startsWith("(anonymous)") && name.startsWith("(")
      ? name
      : url.startsWith("wasm://") || /\.wasm/.test(url) ? "Rust (wasm)"
        : /shim\.mjs|index\.js|entry\.mjs/.test(url) ? "wasm-bindgen and shim JS"
          : url ? "JS" : "runtime builtins";
    kinds.set(kind, (kinds.get(kind) ?? 0) + us);
    const key = `${kind === "Rust (wasm)" ? "wasm" : kind === "wasm-bindgen and shim JS" ? "glue" : "    "}  ${name}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  // Inclusive time of our Rust functions (`partnerlens::`): a sample counts once for
  // every distinct one of them on its stack, so a function's figure holds its callees.
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const inclusive = new Map();
  for (const [id, us] of byNode) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parents.get(at)) {
      const name = nodes.get(at).callFrame.functionName;
      if (name.startsWith("partnerlens::") && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
  }
  return { total, kinds, functions, inclusive };
}

const runtimes = [];
try {
  const inspectorPort = await freePort();
  let url;
  let worker;
  let rust;
  if (TARGET === "consumer") {
    rust = await rustRuntime(undefined, { withAssets: false, inspectorPort });
    runtimes.push(rust.mf);
    [url, worker] = [rust.url, "partnerlens"];
  } else if (TARGET === "links" || TARGET === "app") {
    const links = TARGET === "links";
    const rust = await rustRuntime(undefined, { withAssets: !links, inspectorPort, ...(links ? { links: join(root, "build-edge") } : {}) });
    runtimes.push(rust.mf);
    [url, worker] = [rust.url, links ? "partnerlens-links" : "partnerlens"];
  } else {
    const js = await jsWorker(TARGET === "peer" ? "partnerlens-js.mjs" : "static-302.mjs", inspectorPort);
    runtimes.push(js.mf);
    [url, worker] = [js.url, js.worker];
  }
  const target = new URL(PATH, url).href;
  const consumer = TARGET === "consumer";
  const links = consumer
    ? (await rust.db.prepare("SELECT id, program_id, partner_id FROM links WHERE code LIKE 'bench-%'").all()).results
    : [];
  // Warm-up: the redirect's JIT, or the consumer's on a first, smaller backlog.
  if (consumer) await drainBacklog(rust.mf, rust.db, 5000, (j, at) => partnerlensClick(j + CLICKS, links, at));
  else wrk(target, 2);
  const devtools = await session(inspectorPort, worker);
  await devtools.send("Profiler.enable");
  await devtools.send("Profiler.setSamplingInterval", { interval: 50 });
  await devtools.send("Profiler.start");
  const load = consumer
    ? await drainBacklog(rust.mf, rust.db, CLICKS, (j, at) => partnerlensClick(j, links, at))
    : wrk(target, SECONDS);
  const { profile } = await devtools.send("Profiler.stop");
  devtools.close();
  const { total, kinds, functions, inclusive } = summarise(profile);
  const requests = consumer ? load.stored : load.rps * SECONDS;
  const perRequest = (us) => (us / requests).toFixed(1);
  const unit = consumer ? "click" : "request";
  console.log(`bench/profile — ${new Date().toISOString()} — ${cpus().length} cores (${cpus()[0].model})`);
  if (consumer) {
    console.log(`consumer: ${load.stored} of ${CLICKS} clicks drained in ${load.seconds.toFixed(1)} s (${(load.stored / load.seconds).toFixed(0)} clicks/s); V8 sampling profiler (50 µs) in the app Worker's isolate`);
  } else {
    console.log(`${TARGET}: ${target}, wrk -t2 -c16 ${SECONDS}s: ${load.rps.toFixed(0)} req/s; V8 sampling profiler (50 µs) in the isolate`);
  }
  console.log("");
  console.log(`where the isolate's thread spent its time       share   µs per ${unit}`);
  for (const [kind, us] of [...kinds].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${kind.padEnd(44)} ${(100 * us / total).toFixed(1).padStart(5)} %  ${perRequest(us).padStart(8)}`);
  }
  console.log(`  ${"total".padEnd(44)} 100.0 %  ${perRequest(total).padStart(8)}`);
  console.log("");
  console.log(`the ${TOP} functions with the most self time`);
  for (const [name, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    console.log(`  ${(100 * us / total).toFixed(1).padStart(5)} %  ${perRequest(us).padStart(7)} µs  ${name.slice(0, 110)}`);
  }
  console.log("");
  console.log(`the ${TOP} functions of this crate with the most time, their callees' included`);
  for (const [name, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
    console.log(`  ${(100 * us / total).toFixed(1).padStart(5)} %  ${perRequest(us).padStart(7)} µs  ${name.replace(/::h[0-9a-f]{16}$/, "").slice(0, 110)}`);
  }
} finally {
  for (const mf of runtimes) await mf.dispose();
}
