// bench/storage: what a click and an impression cost in D1, and how many clicks a second
// the path redirect → queue → consumer → D1 sustains on this machine.
//
// partnerlens runs on workerd through Miniflare with D1 in a SQLite file. A client sends
// BENCH_CLICKS redirects (100 links, a new address and user agent for each, sub1 and UTM
// parameters as partners' links carry them) as fast as BENCH_CONNECTIONS concurrent
// requests allow, sampling the stored count every second until the queue has drained;
// then BENCH_IMPRESSIONS pixel hits; then a backlog of BENCH_BACKLOG clicks put on the
// queue directly (the messages the redirect would send), to time the consumer alone. The bytes are read from the SQLite file itself
// (`dbstat`: every page of each table and index), less what the same tables held before.
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { rustRuntime, drainBacklog, partnerlensClick, AGENTS } from "./runtime.mjs";

const CLICKS = Number(process.env.BENCH_CLICKS ?? 20_000);
const IMPRESSIONS = Number(process.env.BENCH_IMPRESSIONS ?? 20_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 50_000);
const GB10 = 10 * 1024 ** 3;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const persist = mkdtempSync(join(tmpdir(), "partnerlens-storage-"));
const { mf, url, db } = await rustRuntime(undefined, { persist });
const at = (path) => new URL(path, url).href;

function sqliteFile(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      const found = sqliteFile(path);
      if (found) return found;
    } else if (name.endsWith(".sqlite") && statSync(path).size > 0) {
      const tables = execFileSync("sqlite3", [path, "SELECT count(*) FROM sqlite_master WHERE name = 'clicks'"], { encoding: "utf8" });
      if (tables.trim() === "1") return path;
    }
  }
  return null;
}

/** Bytes of every page of the tables and their indexes, by table. */
function bytes(file, tables) {
  const sql = `SELECT m.tbl_name AS t, sum(d.pgsize) AS b FROM dbstat d JOIN sqlite_master m ON m.name = d.name
    WHERE m.tbl_name IN (${tables.map((t) => `'${t}'`).join(",")}) GROUP BY m.tbl_name`;
  const out = execFileSync("sqlite3", ["-readonly", "-separator", " ", file, sql], { encoding: "utf8" });
  return Object.fromEntries(out.trim().split("\n").filter(Boolean).map((l) => l.split(" ")).map(([t, b]) => [t, Number(b)]));
}

const count = async (table) => (await db.prepare(`SELECT count(*) AS n FROM ${table}`).first()).n;

async function drive(total, path, table) {
  const before = await count(table);
  let next = 0;
  const started = Date.now();
  const samples = [];
  let sending = true;
  const sampler = (async () => {
    let last = before;
    let still = 0;
    while (sending || still < 5) {
      await sleep(1000);
      const n = await count(table);
      samples.push({ t: (Date.now() - started) / 1000, stored: n - before });
      still = n === last ? still + 1 : 0;
      last = n;
      if (!sending && n - before >= total) break;
    }
  })();
  const worker = async () => {
    for (let i = next++; i < total; i = next++) {
      const response = await fetch(at(path(i)), {
        redirect: "manual",
        headers: { "cf-connecting-ip": `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, "user-agent": AGENTS[i % AGENTS.length] },
      });
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const sent = (Date.now() - started) / 1000;
  sending = false;
  await sampler;
  const stored = (await count(table)) - before;
  const done = samples.find((s) => s.stored >= total)?.t ?? samples.at(-1).t;
  // The steadiest stretch: from the first second anything was stored to the last sample
  // before all were, so the warm-up and the tail do not dilute the rate.
  const first = samples.find((s) => s.stored > 0);
  const last = [...samples].reverse().find((s) => s.stored < total) ?? samples.at(-1);
  const sustained = last && first && last.t > first.t ? (last.stored - first.stored) / (last.t - first.t) : stored / done;
  const backlog = Math.max(...samples.map((s) => Math.min(total, Math.round((s.t / sent) * total)) - s.stored));
  return { total, stored, sent, done, sustained, backlog };
}

const file = sqliteFile(persist);
if (!file) throw new Error(`no D1 SQLite file under ${persist}`);
const empty = bytes(file, ["clicks", "impressions"]);
const clicks = await drive(CLICKS, (i) => `/r/bench-${i % 100}?sub1=post-${i % 37}&utm_source=newsletter&utm_medium=email&utm_campaign=winter-${i % 5}`, "clicks");
const impressions = await drive(IMPRESSIONS, (i) => `/i/bench-${i % 100}`, "impressions");
const full = bytes(file, ["clicks", "impressions"]);

// The consumer alone: a backlog of clicks as the redirect queues them, sent straight to
// the queue in batches of 100, then drained.
const links = (await db.prepare("SELECT id, program_id, partner_id FROM links WHERE code LIKE 'bench-%'").all()).results;
const backlog = await drainBacklog(mf, db, BACKLOG, (j, startedAt) => partnerlensClick(j, links, startedAt));
const [queuedIn, drained, drainedIn] = [backlog.queuedIn, backlog.stored, backlog.seconds];
const perClick = (full.clicks - (empty.clicks ?? 0)) / clicks.stored;
const perImpression = (full.impressions - (empty.impressions ?? 0)) / impressions.stored;
const indexes = execFileSync("sqlite3", ["-readonly", file, "SELECT group_concat(name, ', ') FROM sqlite_master WHERE type = 'index' AND tbl_name = 'clicks'"], { encoding: "utf8" }).trim();

const f = (n, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
console.log(`bench/storage — ${new Date().toISOString()} — ${cpus().length} cores — workerd via Miniflare, D1 in a SQLite file, ${CONNECTIONS} concurrent requests`);
console.log("");
console.log(`clicks:      ${f(clicks.stored)} of ${f(clicks.total)} stored; ${f(perClick)} bytes each (table and its indexes: ${indexes}); ${f(GB10 / perClick / 1e6, 1)} million per 10 GB database`);
console.log(`impressions: ${f(impressions.stored)} of ${f(impressions.total)} stored; ${f(perImpression)} bytes each; ${f(GB10 / perImpression / 1e6, 1)} million per 10 GB database`);
console.log("");
console.log(`redirect → queue → consumer → D1: ${f(clicks.total)} redirects sent in ${f(clicks.sent, 1)} s (${f(clicks.total / clicks.sent)} req/s offered), all stored after ${f(clicks.done, 1)} s; sustained ${f(clicks.sustained)} clicks/s stored; largest backlog ≈ ${f(clicks.backlog)} clicks`);
console.log(`pixel → queue → consumer → D1: ${f(impressions.total)} hits sent in ${f(impressions.sent, 1)} s (${f(impressions.total / impressions.sent)} req/s offered), all stored after ${f(impressions.done, 1)} s; sustained ${f(impressions.sustained)} impressions/s stored`);
console.log(`queue → consumer → D1 alone: ${f(BACKLOG)} clicks queued in ${f(queuedIn, 1)} s, ${f(drained)} stored after ${f(drainedIn, 1)} s: ${f(drained / drainedIn)} clicks/s drained (one consumer at a time, batches of 100)`);
await mf.dispose();
if (clicks.stored !== clicks.total || impressions.stored !== impressions.total || drained !== BACKLOG) process.exit(1);
