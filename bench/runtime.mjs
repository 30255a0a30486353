// The partnerlens worker served by workerd directly through Miniflare (no wrangler
// proxy), with in-memory D1, KV and queues, migrated and holding one program, one partner
// and 100 links `bench-0` … `bench-99`. Shared by bench/redirect and bench/load.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const COMPAT = "2026-10-01";
export const ADMIN_KEY = "bench-admin-key";

/**
 * The clicks queue, its consumer as wrangler.toml sets it up; `batchTimeout` (seconds,
 * 1 there) replaces its batch timeout (bench/redirect: 0, see there).
 */
export const queue = (name, { consumer = true, batchTimeout = 1 } = {}) => ({
  queueProducers: { CLICKS: { queueName: name } },
  queueConsumers: consumer ? { [name]: { maxBatchSize: 100, maxBatchTimeout: batchTimeout, maxRetries: 10 } } : {},
});

// The clicks queue with the event archive's queue and bucket beside it.
const archived = (name) => ({
  queueProducers: { CLICKS: { queueName: name }, ARCHIVE: { queueName: "partnerlens-archive" } },
  queueConsumers: {
    [name]: { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 10 },
    "partnerlens-archive": { maxBatchSize: 1, maxBatchTimeout: 1, maxRetries: 3 },
  },
  r2Buckets: { EVENT_ARCHIVE: "partnerlens-archive" },
});

function statements(sql) {
  return sql
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n")
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function migrate(mf, sqlTexts, binding = "DB", worker) {
  const db = await mf.getD1Database(binding, worker);
  for (const text of sqlTexts) {
    await db.batch(statements(text).map((s) => db.prepare(s)));
  }
  return db;
}

/**
 * A build's modules as wrangler loads them: the entry `main` names (worker/entry.mjs,
 * src/entry.mjs copied by scripts/build.sh) first, then worker-build's bundle and wasm.
 * A baseline build of a commit from before the entry existed starts at its index.js.
 */
function workerModules(build) {
  const entry = join(build, "worker", "entry.mjs");
  return [
    ...(existsSync(entry) ? [{ type: "ESModule", path: entry }] : []),
    { type: "ESModule", path: join(build, "index.js") },
    { type: "CompiledWasm", path: join(build, "index_bg.wasm") },
  ];
}

/**
 * Serves the worker build in `build` (by default the current one, `build/`), behind
 * Workers Static Assets as `wrangler.toml` configures them when its checkout has a
 * built `public/` (the Worker runs first), so the redirect is measured as deployed.
 * With `persist`, D1 lives in a SQLite file under that directory (bench/storage reads it).
 * With `shards`, as the test command runs it: a second event shard `EVENTS_1`
 * (`EVENT_SHARDS = "DB,EVENTS_1"`) and the event archive (its queue and R2 bucket);
 * `events` then maps each shard's binding to its database. With `links` (a build of the
 * links Worker, `build-edge/`), that Worker answers at the URL, as wrangler.links.toml
 * deploys it: /r/ and /i/ itself, everything else through its service binding to this one.
 * Both Workers get the variables their configs set that the bench needs (`CLICK_LOCATION`
 * as the configs set it); `vars` adds to or overrides them (tests/e2e/panic.test.mjs:
 * FAULT_INJECTION; tests/e2e/location.test.mjs: CLICK_LOCATION).
 * With `consumer: false` the clicks queue has no consumer here: Miniflare's local queue
 * then accepts each `sendBatch` and drops its messages unread (bench/redirect's (m): the
 * redirect without the local queue holding its clicks).
 */
export async function rustRuntime(build = join(root, "build"), { withAssets = true, split = false, persist, shards = false, links, inspectorPort, vars = {}, consumer = true, batchTimeout } = {}) {
  const pub = join(build, "..", "public");
  const assets = withAssets && existsSync(pub)
    ? {
        assets: {
          directory: pub,
          binding: "ASSETS",
          routerConfig: { invoke_user_worker_ahead_of_assets: true, has_user_worker: true },
          assetConfig: { html_handling: "none", not_found_handling: "none" },
        },
      }
    : {};
  const linksWorker = links
    ? [{
        name: "partnerlens-links",
        modulesRoot: links,
        modules: workerModules(links),
        compatibilityDate: COMPAT,
        d1Databases: { DB: "partnerlens" },
        kvNamespaces: { LINKS: "links" },
        queueProducers: { CLICKS: { queueName: "partnerlens-clicks" } },
        serviceBindings: { APP: "partnerlens" },
        bindings: { BENCH_ROUTES: "on", PUBLIC_BASE_URL: "", CLICK_LOCATION: "country", ...vars },
      }]
    : [];
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    // persist: D1 (and the rest) in files under this directory, not in memory.
    ...(persist ? { resourcePersistencePath: persist } : {}),
    // inspectorPort: workerd's inspector listens there (bench/redirect-dev attaches to it).
    ...(inspectorPort ? { inspectorPort } : {}),
    workers: [...linksWorker, {
      name: "partnerlens",
      modulesRoot: build,
      modules: workerModules(build),
      compatibilityDate: COMPAT,
      ...assets,
      d1Databases: shards ? { DB: "partnerlens", EVENTS_1: "partnerlens-events-1" } : { DB: "partnerlens" },
      kvNamespaces: { LINKS: "links" },
      ...(shards ? archived("partnerlens-clicks") : queue("partnerlens-clicks", { consumer, batchTimeout })),
      bindings: {
        ADMIN_API_KEY: ADMIN_KEY, POSTBACK_SECRET_KEY: "bench-postback-key", BENCH_ROUTES: "on", PUBLIC_BASE_URL: "",
        CLICK_LOCATION: "country",
        ...(shards ? { EVENT_SHARDS: "DB,EVENTS_1" } : {}),
        ...vars,
      },
    }],
  }));
  const url = await mf.ready;
  const migrations = readdirSync(join(root, "migrations")).filter((f) => f.endsWith(".sql")).sort();
  const sql = migrations.map((f) => readFileSync(join(root, "migrations", f), "utf8"));
  const db = await migrate(mf, sql, "DB", "partnerlens");
  const events = { DB: db };
  if (shards) events.EVENTS_1 = await migrate(mf, sql, "EVENTS_1", "partnerlens");
  const { program, admin } = await seedLinks(url, { split });
  return { mf, url, db, events, program, admin };
}

/**
 * Through the admin API at `url`: a program, a partner and the 100 links `bench-0` …
 * `bench-99`; with `split`, every link but bench-8 runs a two-way split test (the
 * redirect picks each visitor's arm; bench-8 is the same runtime's link without one).
 */
export async function seedLinks(url, { split = false } = {}) {
  const admin = async (path, body) => {
    const response = await fetch(new URL(path, url), {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const program = await admin("/api/v1/programs", { name: "Bench", currency: "EUR", model: "sales" });
  const partner = await admin("/api/v1/partners", { name: "Bench partner" });
  for (let i = 0; i < 100; i++) {
    const link = await admin("/api/v1/links", {
      program_id: program.id, partner_id: partner.id,
      destination: `https://shop.example/landing?item=${i}`, code: `bench-${i}`,
    });
    if (split && i !== 8) {
      await admin("/api/v1/experiments", {
        kind: "link_split", link_id: link.id, variants: [
          { name: "control", destination: `https://shop.example/landing?item=${i}`, weight: 1 },
          { name: "b", destination: `https://shop.example/landing-b?item=${i}`, weight: 1 },
        ],
      });
    }
  }
  return { program, admin };
}

/** User agents the benchmarks' clicks carry, in turn. */
export const AGENTS = [
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
];

const hex = (i) => (i * 2654435761 % 4294967296).toString(16).padStart(8, "0").repeat(8);

/** Click `j` of a backlog as partnerlens's redirect queues it, on one of `links` (id, program_id, partner_id). */
export function partnerlensClick(j, links, startedAt) {
  const link = links[j % links.length];
  return {
    kind: "click", id: `backlog-${j}`, ts: startedAt + j, link_id: link.id, program_id: link.program_id,
    partner_id: link.partner_id, country: "DE", region: "BE", city: "Berlin", colo: "FRA",
    user_agent: AGENTS[j % AGENTS.length], referrer_host: "blog.example", visitor: hex(j),
    tracking: { sub: [`post-${j % 37}`, null, null, null, null], utm_source: "newsletter", utm_medium: "email", utm_campaign: `winter-${j % 5}`, utm_term: null, utm_content: null },
  };
}

/** Click `j` of a backlog as the Sink-style tracker (bench/workers/sink-tracker.mjs) queues it. */
export function sinkClick(j, startedAt) {
  return {
    id: `backlog-${j}`, code: `bench-${j % 100}`, ts: startedAt + j, ua: AGENTS[j % AGENTS.length],
    referer: "https://blog.example/post", country: "DE", sub1: `post-${j % 37}`,
  };
}

/**
 * The consumer alone: `total` clicks (`body(j, startedAt)`; JSON text when `json`, as
 * partnerlens's redirect sends them, `perMessage` a message one a line as its outbox
 * packs them, else the object itself, one a message, as the Sink-style tracker does)
 * sent straight to the queue of `mf`'s binding `CLICKS` in batches of 100 messages (or
 * 250,000 bytes, as the outbox sends them), eight
 * batches at a time, then drained into the `clicks` table of `db`. Answers the seconds
 * queueing took, the rows stored and the seconds from the first send to the last row.
 */
export async function drainBacklog(mf, db, total, body, { json = true, perMessage = 1 } = {}) {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const count = async () => (await db.prepare("SELECT count(*) AS n FROM clicks").first()).n;
  const queue = await mf.getQueueProducer("CLICKS");
  const before = await count();
  const startedAt = Date.now();
  const messages = [];
  for (let i = 0; i < total; i += perMessage) {
    const clicks = [];
    for (let j = i; j < Math.min(i + perMessage, total); j++) clicks.push(body(j, startedAt));
    messages.push({ body: json ? clicks.map((click) => JSON.stringify(click)).join("\n") : clicks[0] });
  }
  // At most 100 messages and 250,000 bytes a sendBatch, as the outbox sends them.
  const batches = [];
  let bytes = 0;
  for (const message of messages) {
    const size = typeof message.body === "string" ? message.body.length : JSON.stringify(message.body).length;
    const last = batches.at(-1);
    if (last && last.length < 100 && bytes + size <= 250_000) {
      last.push(message);
      bytes += size;
    } else {
      batches.push([message]);
      bytes = size;
    }
  }
  let next = 0;
  const sender = async () => {
    while (next < batches.length) await queue.sendBatch(batches[next++]);
  };
  await Promise.all(Array.from({ length: 8 }, sender));
  const queuedIn = (Date.now() - startedAt) / 1000;
  let stored = 0;
  let lastAt = Date.now();
  for (let still = 0; stored < total && still < 20; await sleep(250)) {
    const n = (await count()) - before;
    if (n === stored) still += 1;
    else [still, stored, lastAt] = [0, n, Date.now()];
  }
  return { queuedIn, stored, seconds: (lastAt - startedAt) / 1000 };
}
