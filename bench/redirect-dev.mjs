// bench/redirect-dev: the redirect the way users run it locally, through `wrangler dev`
// (its proxy, its inspector session, its dev middleware), beside the same builds in
// workerd directly, and workerd directly with an inspector session opened the way
// wrangler dev opens one (`Runtime.enable`): which of the three differences costs what.
// Prints requests/s (medians of interleaved rounds) and the ratios bench/redirect prints.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { rustRuntime, seedLinks, COMPAT, ADMIN_KEY } from "./runtime.mjs";
import { wrk, median } from "./wrk.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const work = mkdtempSync(join(tmpdir(), "partnerlens-redirect-dev-"));
const wrangler = join(root, "node_modules/.bin/wrangler");
const children = [];
const runtimes = [];

const freePort = () => new Promise((resolve) => {
  const server = createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    server.close(() => resolve(port));
  });
});
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function ready(url) {
  for (let i = 0; i < 240; i++) {
    try {
      const response = await fetch(url, { redirect: "manual" });
      if (response.status < 500) return;
    } catch {}
    await sleep(500);
  }
  throw new Error(`${url} did not answer`);
}

/** `wrangler dev` as the test command and scripts/run.sh start it; answers its URL. */
async function wranglerDev(name, configs, args = []) {
  const [port, inspector] = [await freePort(), await freePort()];
  const state = join(work, name);
  const child = spawn(wrangler, [
    "dev", ...configs.flatMap((c) => ["-c", c]), "--ip", "127.0.0.1", "--port", String(port),
    "--inspector-port", String(inspector), "--persist-to", state, "--show-interactive-dev-session=false",
    ...args,
  ], { cwd: root, detached: true, stdio: ["ignore", "ignore", "inherit"] });
  children.push(child);
  return `http://127.0.0.1:${port}`;
}

function cli(args) {
  execFileSync(wrangler, args, { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
}

let databases = 0;

/** A JS bench worker (bench/workers/) with its own config, D1 table and 100 links in KV. */
function jsConfig(name, script, { storage = true } = {}) {
  databases += 1;
  const config = join(work, `${name}.toml`);
  writeFileSync(config, [
    `name = "bench-${name}"`, `main = "${join(root, "bench/workers", script)}"`, `compatibility_date = "${COMPAT}"`,
    ...(storage ? [
      "[[kv_namespaces]]", 'binding = "LINKS"', `id = "${name}links"`,
      "[[d1_databases]]", 'binding = "DB"', `database_name = "${name}"`, `database_id = "00000000-0000-4000-8000-0000000001${String(databases).padStart(2, "0")}"`,
      "[[queues.producers]]", 'binding = "CLICKS"', `queue = "${name}-clicks"`,
      "[[queues.consumers]]", `queue = "${name}-clicks"`, "max_batch_size = 100", "max_batch_timeout = 1",
    ] : []),
  ].join("\n"));
  if (storage) {
    const state = join(work, name);
    cli(["d1", "execute", name, "--local", "--persist-to", state, "-c", config, "--command",
      "CREATE TABLE clicks (id TEXT PRIMARY KEY, code TEXT, ts INTEGER, ua TEXT, referer TEXT, country TEXT, sub1 TEXT, visitor TEXT)"]);
    const entries = join(work, `${name}-links.json`);
    writeFileSync(entries, JSON.stringify(Array.from({ length: 100 }, (_, i) => (
      { key: `link:bench-${i}`, value: JSON.stringify({ url: `https://shop.example/landing?item=${i}` }) }))));
    cli(["kv", "bulk", "put", entries, "--binding", "LINKS", "--local", "--persist-to", state, "-c", config]);
  }
  return config;
}

/** The migrations of wrangler.toml's databases, applied to a local state directory. */
function migrated(name) {
  const state = join(work, name);
  for (const database of ["partnerlens", "partnerlens-events-1"]) {
    cli(["d1", "migrations", "apply", database, "--local", "--persist-to", state]);
  }
}

/** A JS bench worker in workerd directly (Miniflare), optionally with an inspector port. */
async function jsDirect(script, inspectorPort) {
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: "127.0.0.1", port: 0, ...(inspectorPort ? { inspectorPort } : {}),
    workers: [{ name: "static", modules: true, scriptPath: join(root, "bench/workers", script), compatibilityDate: COMPAT }],
  }));
  runtimes.push(mf);
  return (await mf.ready).href;
}

/** Opens an inspector session on `worker` as wrangler dev's inspector proxy does. */
async function attach(port, worker) {
  // Node 22's own WebSocket client.
  const socket = new WebSocket(`ws://127.0.0.1:${port}/core:user:${worker}`);
  await new Promise((resolve, reject) => { socket.onopen = resolve; socket.onerror = reject; });
  socket.send(JSON.stringify({ id: 1, method: "Runtime.enable" }));
  await new Promise((resolve) => { socket.onmessage = resolve; });
  return socket;
}

const targets = [];
const vars = ["--var", `ADMIN_API_KEY:${ADMIN_KEY}`, "--var", "POSTBACK_SECRET_KEY:bench-postback-secret-key-0123456789", "--var", "BENCH_ROUTES:on"];
try {
  // Through wrangler dev.
  migrated("app");
  const app = await wranglerDev("app", ["wrangler.toml"], vars);
  const staticDev = await wranglerDev("static", [jsConfig("static", "static-302.mjs", { storage: false })]);
  const sinkDev = await wranglerDev("sink", [jsConfig("sink", "sink-tracker.mjs")]);
  const peerDev = await wranglerDev("peer", [jsConfig("peer", "partnerlens-js.mjs")]);
  for (const url of [app, staticDev, sinkDev, peerDev]) await ready(`${url}/r/bench-0`);
  await seedLinks(app);
  targets.push(
    { key: "a", name: "wrangler dev: partnerlens redirect", url: `${app}/r/bench-7?sub1=bench` },
    { key: "d", name: "wrangler dev: Rust static 302 (floor)", url: `${app}/__bench/floor` },
    { key: "b", name: "wrangler dev: JS static 302", url: `${staticDev}/r/bench-7` },
    { key: "c", name: "wrangler dev: JS Sink-style tracker", url: `${sinkDev}/r/bench-7?sub1=bench` },
    { key: "j", name: "wrangler dev: JS built like partnerlens", url: `${peerDev}/r/bench-7?sub1=bench` },
  );
  // In workerd directly, without and with an inspector session (Runtime.enable).
  const direct = await rustRuntime(undefined, { withAssets: true });
  runtimes.push(direct.mf);
  const directStatic = await jsDirect("static-302.mjs");
  const inspector = await freePort();
  const inspected = await rustRuntime(undefined, { withAssets: true, inspectorPort: inspector });
  runtimes.push(inspected.mf);
  const staticInspector = await freePort();
  const inspectedStatic = await jsDirect("static-302.mjs", staticInspector);
  const sessions = [await attach(inspector, "partnerlens"), await attach(staticInspector, "static")];
  targets.push(
    { key: "a°", name: "workerd: partnerlens redirect", url: new URL("/r/bench-7?sub1=bench", direct.url).href },
    { key: "d°", name: "workerd: Rust static 302 (floor)", url: new URL("/__bench/floor", direct.url).href },
    { key: "b°", name: "workerd: JS static 302", url: new URL("/r/bench-7", directStatic).href },
    { key: "a*", name: "workerd+inspector: partnerlens", url: new URL("/r/bench-7?sub1=bench", inspected.url).href },
    { key: "d*", name: "workerd+inspector: Rust floor", url: new URL("/__bench/floor", inspected.url).href },
    { key: "b*", name: "workerd+inspector: JS static 302", url: new URL("/r/bench-7", inspectedStatic).href },
  );
  for (const t of targets) {
    wrk(t.url, 2);
    t.rps = [];
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      const result = wrk(t.url, SECONDS);
      if (result.bad) throw new Error(`${t.key}: ${result.bad} answers were not redirects`);
      t.rps.push(result.rps);
      console.error(`round ${round} ${t.key}: ${result.rps.toFixed(0)} req/s`);
    }
  }
  for (const socket of sessions) socket.close();
  const rps = Object.fromEntries(targets.map((t) => [t.key, median(t.rps)]));
  const ratio = (x, y) => (rps[x] / rps[y]).toFixed(2);
  console.log(`bench/redirect-dev — ${new Date().toISOString()} — ${cpus().length} cores (${cpus()[0].model})`);
  console.log(`wrk -t2 -c16, ${ROUNDS} interleaved rounds of ${SECONDS}s, medians`);
  console.log("");
  for (const t of targets) console.log(`(${t.key}) ${t.name.padEnd(40)} ${rps[t.key].toFixed(0).padStart(6)} req/s`);
  console.log("");
  console.log(`wrangler dev:       a/b = ${ratio("a", "b")}   a/c = ${ratio("a", "c")}   a/j = ${ratio("a", "j")}   d/b = ${ratio("d", "b")} (Rust floor against JS static)`);
  console.log(`workerd directly:   a/b = ${ratio("a°", "b°")}   d/b = ${ratio("d°", "b°")}`);
  console.log(`with an inspector:  a/b = ${ratio("a*", "b*")}   d/b = ${ratio("d*", "b*")}   a*/a° = ${ratio("a*", "a°")}   d*/d° = ${ratio("d*", "d°")}   b*/b° = ${ratio("b*", "b°")}`);
  console.log(`wrangler dev against workerd directly: a/a° = ${ratio("a", "a°")}   d/d° = ${ratio("d", "d°")}   b/b° = ${ratio("b", "b°")}`);
} finally {
  for (const mf of runtimes) await mf.dispose().catch(() => {});
  for (const child of children) {
    try { process.kill(-child.pid, "SIGTERM"); } catch {}
  }
}
