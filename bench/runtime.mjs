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

export const queue = (name) => ({
  queueProducers: { CLICKS: { queueName: name } },
  queueConsumers: { [name]: { maxBatchSize: 100, maxBatchTimeout: 1, maxRetries: 10 } },
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

export async function migrate(mf, sqlTexts, binding = "DB") {
  const db = await mf.getD1Database(binding);
  for (const text of sqlTexts) {
    await db.batch(statements(text).map((s) => db.prepare(s)));
  }
  return db;
}

/**
 * Serves the worker build in `build` (by default the current one, `build/`), behind
 * Workers Static Assets as `wrangler.toml` configures them when its checkout has a
 * built `public/` (the Worker runs first), so the redirect is measured as deployed.
 * With `persist`, D1 lives in a SQLite file under that directory (bench/storage reads it).
 * With `shards`, as the test command runs it: a second event shard `EVENTS_1`
 * (`EVENT_SHARDS = "DB,EVENTS_1"`) and the event archive (its queue and R2 bucket);
 * `events` then maps each shard's binding to its database.
 */
export async function rustRuntime(build = join(root, "build"), { withAssets = true, split = false, persist, shards = false } = {}) {
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
  const mf = new Miniflare(convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: 0,
    // persist: D1 (and the rest) in files under this directory, not in memory.
    ...(persist ? { resourcePersistencePath: persist } : {}),
    workers: [{
      name: "partnerlens",
      modulesRoot: build,
      modules: [
        { type: "ESModule", path: join(build, "index.js") },
        { type: "CompiledWasm", path: join(build, "index_bg.wasm") },
      ],
      compatibilityDate: COMPAT,
      ...assets,
      d1Databases: shards ? { DB: "partnerlens", EVENTS_1: "partnerlens-events-1" } : { DB: "partnerlens" },
      kvNamespaces: { LINKS: "links" },
      ...(shards ? archived("partnerlens-clicks") : queue("partnerlens-clicks")),
      bindings: {
        ADMIN_API_KEY: ADMIN_KEY, POSTBACK_SECRET_KEY: "bench-postback-key", BENCH_ROUTES: "on", PUBLIC_BASE_URL: "",
        ...(shards ? { EVENT_SHARDS: "DB,EVENTS_1" } : {}),
      },
    }],
  }));
  const url = await mf.ready;
  const migrations = readdirSync(join(root, "migrations")).filter((f) => f.endsWith(".sql")).sort();
  const sql = migrations.map((f) => readFileSync(join(root, "migrations", f), "utf8"));
  const db = await migrate(mf, sql);
  const events = { DB: db };
  if (shards) events.EVENTS_1 = await migrate(mf, sql, "EVENTS_1");
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
    // split: every link but bench-8 runs a two-way split test (the redirect picks each
    // visitor's arm); bench-8 is the same runtime's link without one.
    if (split && i !== 8) {
      await admin("/api/v1/experiments", {
        kind: "link_split", link_id: link.id, variants: [
          { name: "control", destination: `https://shop.example/landing?item=${i}`, weight: 1 },
          { name: "b", destination: `https://shop.example/landing-b?item=${i}`, weight: 1 },
        ],
      });
    }
  }
  return { mf, url, db, events, program, admin };
}
