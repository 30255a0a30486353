// bench/redirect: partnerlens's redirect against the runtime's ceiling, a Sink-style JS
// tracker, a JS worker built like partnerlens (the fair peer) and the floor of Rust in
// this runtime, all served by workerd directly through
// Miniflare (no wrangler proxy), loaded by wrk in interleaved rounds. Prints requests/s,
// p50/p99 latency, the ratios, and clicks stored versus redirects served.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { COMPAT, queue, migrate, rustRuntime, drainBacklog, partnerlensClick, sinkClick } from "./runtime.mjs";
import { wrk, median, UA, RAY } from "./wrk.mjs";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { cpus } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
// The local queues' batch timeout, in seconds (see `duringRuns`).
const BATCH_TIMEOUT = 0;

async function jsRuntime(script, name) {
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    workers: [{
      name,
      modules: true,
      scriptPath: join(root, "bench/workers", script),
      compatibilityDate: COMPAT,
      d1Databases: { DB: name },
      kvNamespaces: { LINKS: `${name}-links` },
      ...queue(`${name}-clicks`, { batchTimeout: BATCH_TIMEOUT }),
    }],
  }));
  const url = await mf.ready;
  const db = await migrate(mf, [
    "CREATE TABLE clicks (id TEXT PRIMARY KEY, code TEXT, ts INTEGER, ua TEXT, referer TEXT, country TEXT, sub1 TEXT, visitor TEXT)",
  ]);
  const kv = await mf.getKVNamespace("LINKS");
  for (let i = 0; i < 100; i++) {
    await kv.put(`link:bench-${i}`, JSON.stringify({ url: `https://shop.example/landing?item=${i}` }));
  }
  return { mf, url, db };
}

const run = (url, seconds, headers = []) => wrk(url, seconds, { threads: THREADS, connections: CONNECTIONS, headers });

/** Sends exactly `n` GETs, `concurrency` at a time; answers how many were redirects. */
async function exactly(url, n, concurrency) {
  let next = 0;
  let redirects = 0;
  const worker = async () => {
    while (next < n) {
      next += 1;
      const response = await fetch(url, {
        redirect: "manual",
        headers: { "user-agent": UA, "cf-connecting-ip": "198.51.100.2", "cf-ipcountry": "DE", "cf-ray": RAY },
      });
      await response.arrayBuffer();
      if (response.status === 302) redirects += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return redirects;
}

async function count(db) {
  return (await db.prepare("SELECT count(*) AS n FROM clicks").first()).n;
}

/**
 * Waits until `db`'s clicks stop growing for 1.5 s (longer than the consumer's 1 s batch
 * timeout): a target's queued clicks are stored before the next target is loaded, so its
 * consumer does not run on the machine's two cores while another target is measured.
 */
async function settled(db) {
  let last = -1;
  let stableSince = Date.now();
  const deadline = Date.now() + 120000;
  while (Date.now() - stableSince <= 1500 && Date.now() < deadline) {
    const n = await count(db);
    if (n !== last) [last, stableSince] = [n, Date.now()];
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function drained(db, expected) {
  let last = -1;
  let stableSince = Date.now();
  const deadline = Date.now() + 120000;
  for (;;) {
    const n = await count(db);
    if (n !== last) {
      last = n;
      stableSince = Date.now();
    }
    if (n >= expected && Date.now() - stableSince > 2000) return n;
    if (Date.now() - stableSince > 10000 || Date.now() > deadline) return n;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const runtimes = [];
try {
  const rust = await rustRuntime(undefined, { batchTimeout: BATCH_TIMEOUT });
  runtimes.push(rust.mf);
  const ceiling = await jsRuntime("static-302.mjs", "ceiling");
  runtimes.push(ceiling.mf);
  const sink = await jsRuntime("sink-tracker.mjs", "sink");
  runtimes.push(sink.mf);
  const peer = await jsRuntime("partnerlens-js.mjs", "peer");
  runtimes.push(peer.mf);
  const targets = [
    { key: "a", name: "partnerlens redirect (Rust)", url: new URL("/r/bench-7?sub1=bench", rust.url).href, db: rust.db },
    { key: "b", name: "JS static 302 (ceiling)", url: new URL("/r/bench-7", ceiling.url).href },
    { key: "c", name: "JS Sink-style tracker (peer)", url: new URL("/r/bench-7?sub1=bench", sink.url).href, db: sink.db },
    { key: "d", name: "Rust static 302 (floor)", url: new URL("/__bench/floor", rust.url).href },
    { key: "j", name: "JS built like partnerlens (fair)", url: new URL("/r/bench-7?sub1=bench", peer.url).href, db: peer.db },
  ];
  // The same build without static assets: what the assets router in front of every
  // request costs (the links Worker deploys its own bundle, (k) below).
  const bare = await rustRuntime(undefined, { withAssets: false, batchTimeout: BATCH_TIMEOUT });
  runtimes.push(bare.mf);
  targets.push({ key: "f", name: "partnerlens redirect, no assets", url: new URL("/r/bench-7?sub1=bench", bare.url).href, db: bare.db });
  // The links Worker's own small bundle (build-edge/, `--features edge`), as
  // wrangler.links.toml deploys it on the short-link hostname: the app behind its
  // service binding answers everything but /r/ and /i/.
  const edge = await rustRuntime(undefined, { withAssets: false, links: join(root, "build-edge"), batchTimeout: BATCH_TIMEOUT });
  runtimes.push(edge.mf);
  targets.push({ key: "k", name: "links Worker bundle (edge)", url: new URL("/r/bench-7?sub1=bench", edge.url).href, db: edge.db });
  // … and its floor: the same bundle answering a static 302, what workers-rs costs alone.
  targets.push({ key: "l", name: "links Worker floor (static 302)", url: new URL("/__bench/floor", edge.url).href });
  // … and the same bundle with no consumer on its clicks queue (Miniflare's local queue
  // then takes each sendBatch and drops it instead of holding it for a consumer): what
  // the local queue's holding a run's clicks costs (k). No consumer runs during a run,
  // (k)'s included (`duringRuns` below).
  const apart = await rustRuntime(undefined, { withAssets: false, links: join(root, "build-edge"), consumer: false });
  runtimes.push(apart.mf);
  targets.push({ key: "m", name: "links Worker, queue drops", url: new URL("/r/bench-7?sub1=bench", apart.url).href });
  // … and the same bundle recording region and city too (CLICK_LOCATION = "city"), which
  // reads request.cf on every click: what that setting costs (n/k).
  const city = await rustRuntime(undefined, { withAssets: false, links: join(root, "build-edge"), vars: { CLICK_LOCATION: "city" }, batchTimeout: BATCH_TIMEOUT });
  runtimes.push(city.mf);
  targets.push({ key: "n", name: "links Worker, location city", url: new URL("/r/bench-7?sub1=bench", city.url).href, db: city.db });
  // The same build where every link runs a split test: what choosing a visitor's arm
  // (and setting its cookie, as for a first visit: wrk sends none) costs.
  const split = await rustRuntime(undefined, { split: true, batchTimeout: BATCH_TIMEOUT });
  runtimes.push(split.mf);
  targets.push({ key: "g", name: "partnerlens redirect, split test", url: new URL("/r/bench-7?sub1=bench", split.url).href, db: split.db });
  // … its link without a split test, in the same runtime: the fair comparison for (g);
  targets.push({ key: "i", name: "same runtime, link without test", url: new URL("/r/bench-8?sub1=bench", split.url).href, settle: split.db });
  // … and for a returning visitor, whose cookie names its arm (no cookie to set).
  targets.push({ key: "h", name: "split test, returning visitor", url: new URL("/r/bench-7?sub1=bench", split.url).href, headers: ["Cookie: pl_vid=0123456789abcdef"], settle: split.db });
  // BENCH_BASELINE=<a build/ directory of an earlier commit>: its redirect as (e), so a
  // change is compared with what it replaces in the same run.
  if (process.env.BENCH_BASELINE) {
    const baseline = await rustRuntime(process.env.BENCH_BASELINE, { batchTimeout: BATCH_TIMEOUT });
    runtimes.push(baseline.mf);
    targets.push({ key: "e", name: "partnerlens redirect (baseline)", url: new URL("/r/bench-7?sub1=bench", baseline.url).href, db: baseline.db });
  }
  // BENCH_BASELINE_EDGE=<its build-edge/>: the baseline's links Worker bundle as (o), set
  // up as (k), so a change to the hot path is compared with what it replaces (k/o).
  if (process.env.BENCH_BASELINE_EDGE) {
    const baseline = await rustRuntime(undefined, { withAssets: false, links: process.env.BENCH_BASELINE_EDGE, batchTimeout: BATCH_TIMEOUT });
    runtimes.push(baseline.mf);
    targets.push({ key: "o", name: "links Worker bundle (baseline)", url: new URL("/r/bench-7?sub1=bench", baseline.url).href, db: baseline.db });
  }
  // BENCH_ONLY=b,k,m,j,l: only these targets are loaded (rounds are then short, so more
  // of them fit in the same time and a pair is measured closer together); the consumers
  // are compared only when both (a) and (c) are among them.
  const only = process.env.BENCH_ONLY?.split(",").map((key) => key.trim()).filter(Boolean);
  if (only) targets.splice(0, targets.length, ...targets.filter((t) => only.includes(t.key)));
  // Each round measures the pairs the targets are judged by back to back, so the
  // machine's drift within a round (a full round takes minutes) falls outside them: the
  // static 302, the links Worker and its baseline, then the rest.
  const ORDER = "bkomjlaecdfnigh";
  targets.sort((x, y) => ORDER.indexOf(x.key) - ORDER.indexOf(y.key));
  for (const t of targets) {
    run(t.url, 2, t.headers); // warm-up: caches filled, JIT warm; its clicks are counted below
    t.results = [];
    if (t.db ?? t.settle) await settled(t.db ?? t.settle);
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      // The database its clicks go to (`settle`: a link of another target's runtime, whose
      // clicks are not checked for loss apart).
      const db = t.db ?? t.settle;
      const before = db ? await count(db) : 0;
      const result = run(t.url, SECONDS, t.headers);
      // Counted at once: what its consumer stored meanwhile.
      if (db) t.storedDuring = (t.storedDuring ?? 0) + (await count(db)) - before;
      t.results.push(result);
      console.error(`round ${round} ${t.key}: ${result.rps.toFixed(0)} req/s`);
      // Its consumer's backlog stored before the next target runs (see `duringRuns`).
      if (db) await settled(db);
    }
  }
  const summary = Object.fromEntries(targets.map((t) => [t.key, {
    rps: median(t.results.map((r) => r.rps)),
    p50: median(t.results.map((r) => r.p50)),
    p99: median(t.results.map((r) => r.p99)),
    served: t.results.reduce((sum, r) => sum + r.served, 0),
    bad: t.results.reduce((sum, r) => sum + r.bad, 0),
    errors: t.results.map((r) => r.errors).filter(Boolean),
  }]));
  console.log(`bench/redirect — ${new Date().toISOString()} — ${cpus().length} cores (${cpus()[0].model})`);
  for (const [name, dir] of [["app Worker (build/)", join(root, "build")], ["links Worker (build-edge/)", join(root, "build-edge")]]) {
    const files = ["index_bg.wasm", "index.js"].map((f) => readFileSync(join(dir, f)));
    const raw = files.reduce((sum, f) => sum + f.length, 0);
    const gzip = files.reduce((sum, f) => sum + gzipSync(f, { level: 9 }).length, 0);
    console.log(`bundle of the ${name}: ${raw} bytes, ${gzip} gzip (wasm and JS)`);
  }
  console.log(`workerd via Miniflare (no wrangler proxy); wrk -t${THREADS} -c${CONNECTIONS}, ${ROUNDS} interleaved rounds of ${SECONDS}s, medians`);
  console.log("");
  console.log("target                               req/s    p50 ms   p99 ms");
  for (const t of targets) {
    const s = summary[t.key];
    console.log(`(${t.key}) ${t.name.padEnd(32)} ${s.rps.toFixed(0).padStart(6)} ${s.p50.toFixed(2).padStart(9)} ${s.p99.toFixed(2).padStart(8)}`);
  }
  const ratios = [
    ["a", "b"], ["a", "c"], ["a", "d"], ["a", "j", "against a JS worker of the same design"],
    ["a", "e", "this build against the baseline"],
    ["k", "o", "this links bundle against the baseline's"],
    ["f", "a", "without the assets router against with it"],
    ["k", "b"], ["k", "j"], ["k", "f", "the links Worker's bundle"],
    ["m", "b"], ["k", "m", "the local queue holding the run's clicks against dropping them"],
    ["n", "k", 'CLICK_LOCATION = "city" against "country"'],
    ["l", "b"], ["k", "l", "its floor against the JS static 302; the redirect against its floor"],
    ["g", "i", "a link running a split test against one that does not, same runtime"],
    ["h", "i", "a returning visitor's split test against the same link without one"],
  ].filter(([x, y]) => summary[x] && summary[y]);
  console.log("");
  console.log(ratios.map(([x, y, what]) =>
    `${x}/${y} = ${(summary[x].rps / summary[y].rps).toFixed(2)}${what ? ` (${what})` : ""}`).join("   "));
  // The same ratios round by round: each round measures every target within a minute,
  // so a pair's ratio in one round is spared the machine's drift between rounds.
  const byRound = (x, y) => summary[x] && summary[y]
    ? targets.find((t) => t.key === x).results.map((r, i) => r.rps / targets.find((t) => t.key === y).results[i].rps)
    : [];
  for (const [x, y] of [["k", "b"], ["k", "j"], ["m", "b"], ["n", "k"], ["a", "e"], ["k", "o"], ["o", "b"]]) {
    const ratios = byRound(x, y);
    if (ratios.length) console.log(`${x}/${y} by round: ${ratios.map((r) => r.toFixed(2)).join(", ")} (median ${median(ratios).toFixed(2)})`);
  }
  // Miniflare's local queue delivers a batch when it is full or its timeout has passed,
  // and after each awaits a log line written by this process; while wrk runs, this
  // process waits for it (execFileSync). So in a run the local queue delivers its first
  // batch (and, when that one went on the timeout, one full batch at once after it),
  // then holds everything until this process is free again. With wrangler.toml's 1 s
  // timeout, that first batch is a hundred clicks sent one a message, but thousands
  // packed (50 messages of 80 in a second, then 100 more), which a consumer then writes
  // during the run; with the timeout at 0 every local queue delivers the run's first
  // message at once and nothing more. So no consumer writes more than a message's clicks
  // while a redirect is measured, the rest is stored after the run (settled), and each
  // redirect is measured with its consumer apart, as in production; the consumers are
  // compared on their own below (the timeout only ends a backlog's last batch sooner).
  const duringRuns = targets.filter((t) => t.db ?? t.settle).map((t) =>
    `(${t.key}) ${t.storedDuring} of ${summary[t.key].served}`);
  if (duringRuns.length) {
    console.log(`clicks stored while the runs lasted (the local queue's first message each), of redirects measured: ${duringRuns.join(", ")}`);
  }
  console.log("");
  // wrk stops with requests in flight that it never counts, so clicks versus redirects is
  // checked on an exact load: LOSS_CHECK requests, 16 at a time, every answer counted.
  const total = Number(process.env.BENCH_LOSS_CHECK ?? 5000);
  for (const t of targets.filter((x) => x.db)) {
    const before = await drained(t.db, 0);
    const served = await exactly(t.url, total, CONNECTIONS);
    const stored = (await drained(t.db, before + served)) - before;
    console.log(
      `(${t.key}) ${total} requests: redirects served ${served}, clicks stored ${stored}, ` +
        `lost ${Math.max(0, served - stored)}, duplicated ${Math.max(0, stored - served)}`,
    );
  }
  // The consumer alone, partnerlens's (user agent parsed, visitor's uniqueness, the day
  // marked, four indexes) against the Sink-style one (one insert): BENCH_BACKLOG clicks put
  // straight on each queue, drained into D1, one consumer at a time, batches of 100.
  if (summary.a && summary.c) {
    const backlog = Number(process.env.BENCH_BACKLOG ?? 50_000);
    const benchLinks = (await rust.db.prepare("SELECT id, program_id, partner_id FROM links WHERE code LIKE 'bench-%'").all()).results;
    const drains = [
      ["a", "partnerlens consumer, a click a message", await drainBacklog(rust.mf, rust.db, backlog, (j, at) => partnerlensClick(j, benchLinks, at))],
      ["c", "Sink-style consumer", await drainBacklog(sink.mf, sink.db, backlog, sinkClick, { json: false })],
      // What a busy isolate's outbox packs: 20 ms of 4,000 clicks/s a message.
      ["a", "partnerlens consumer, 80 clicks a message", await drainBacklog(rust.mf, rust.db, backlog, (j, at) => partnerlensClick(j + backlog, benchLinks, at), { perMessage: 80 })],
    ];
    console.log("");
    for (const [key, name, d] of drains) {
      console.log(`(${key}) ${name}: ${d.stored} of ${backlog} clicks stored ${d.seconds.toFixed(1)} s after the first was queued (queueing took ${d.queuedIn.toFixed(1)} s): ${(d.stored / d.seconds).toFixed(0)} clicks/s`);
    }
    const rate = (d) => d.stored / d.seconds;
    console.log(`consumer a/c = ${(rate(drains[0][2]) / rate(drains[1][2])).toFixed(2)} (clicks/s drained from a backlog of ${backlog}, a click a message), ` +
      `${(rate(drains[2][2]) / rate(drains[1][2])).toFixed(2)} with 80 clicks a message`);
  }
} finally {
  for (const mf of runtimes) await mf.dispose();
}
