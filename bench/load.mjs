// bench/load: wrk drives redirects at saturation while this process interleaves clicks
// with sale postbacks on a program of the other event shard, and the event archive moves
// 20,000 old clicks to R2 meanwhile; then sent versus stored, read from each shard's D1,
// and archived versus imported, read from the objects.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cpus } from "node:os";
import { rustRuntime, ADMIN_KEY } from "./runtime.mjs";
import { RAY } from "./wrk.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const { mf, url, db, events, program, admin } = await rustRuntime(undefined, { shards: true });
const at = (path) => new URL(path, url).href;
const api = async (method, path, body, type = "application/json") => {
  const response = await fetch(at(path), {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": type },
    body,
  });
  const json = await response.json();
  if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
};

// A second program whose events go to the other shard, with its link `other-1`.
let other;
do {
  other = await admin("/api/v1/programs", { name: "Bench other shard", currency: "EUR", model: "sales" });
} while (other.events_shard === program.events_shard);
const otherPartner = await admin("/api/v1/partners", { name: "Bench other partner" });
await admin("/api/v1/links", { program_id: other.id, partner_id: otherPartner.id, destination: "https://shop.example/other", code: "other-1" });

// History for the archive: 20,000 clicks on two days 100 days ago, rolled up.
const HISTORY = Number(process.env.BENCH_HISTORY ?? 20000);
const old = Math.floor(Date.now() / 86_400_000) - 100;
const lines = Array.from({ length: HISTORY }, (_, i) => JSON.stringify({
  id: `hist-${i}`, ts: new Date((old + (i % 2)) * 86_400_000 + (i % 86_000) * 1000).toISOString(),
  link_code: "bench-3", ua: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", ip: `10.1.${i >> 8 & 255}.${i & 255}`,
}));
for (let i = 0; i < lines.length; i += 5000) {
  const answer = await api("POST", "/api/v1/import/clicks", lines.slice(i, i + 5000).join("\n"), "application/x-ndjson");
  if (answer.accepted !== Math.min(5000, lines.length - i)) throw new Error(`import: ${JSON.stringify(answer)}`);
}
const day = (d) => new Date(d * 86_400_000).toISOString().slice(0, 10);
await api("POST", `/api/v1/rollups/run?from=${day(old)}&to=${day(old + 2)}`);

// 1. Saturation: wrk on one link for the whole run.
const wrk = promisify(execFile)("wrk", [
  "-t2", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "-H", "CF-Connecting-IP: 198.51.100.1",
  "-H", "CF-IPCountry: DE", "-H", `CF-Ray: ${RAY}`, at("/r/bench-1?sub1=load"),
], { encoding: "utf8" });
let wrkDone = false;
wrk.finally(() => { wrkDone = true; });
// 1b. The archive, under the same load.
const archiveStarted = Date.now();
const queued = (await api("POST", "/api/v1/archive-runs")).queued.filter((t) => t.program_id === program.id);
if (queued.length === 0 && HISTORY > 0) throw new Error("the archive queued nothing");

// 2. Interleaved: a click on another link, then its sale, until wrk is done.
const clickIds = [];
const orders = new Set();
const sales = [];
let retries = 0;
let failedPostbacks = 0;
async function sale(clickId, order, twice) {
  const send = async () => {
    const response = await fetch(at(`/postback?${new URLSearchParams({ click_id: clickId, order_id: order, amount: "19.99", token: other.postback_secret })}`));
    await response.arrayBuffer();
    return response.status === 200;
  };
  // The click may still be in the queue: retried until recorded, as a sender would.
  for (let attempt = 0; attempt < 60; attempt++) {
    if (await send()) {
      orders.add(order);
      if (twice) {
        retries += 1;
        if (!(await send())) failedPostbacks += 1;
      }
      return;
    }
    await sleep(500);
  }
  failedPostbacks += 1;
}
for (let i = 1; !wrkDone; i++) {
  const response = await fetch(at("/r/other-1?sub1=interleaved"), { redirect: "manual", headers: { "cf-connecting-ip": `10.0.${i >> 8 & 255}.${i & 255}` } });
  await response.arrayBuffer();
  const clickId = new URL(response.headers.get("location")).searchParams.get("click_id");
  clickIds.push(clickId);
  sales.push(sale(clickId, `L-${i}`, i % 10 === 0));
  await sleep(20);
}
const { stdout } = await wrk;
await Promise.all(sales);
const served = Number(/(\d+) requests in/.exec(stdout)[1]) - Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)[1]);

// 3. Drain: until the stored clicks stop changing for 5 s.
const shardOf = (p) => events[p.events_shard];
const count = async (database, sql, ...args) => (await database.prepare(sql).bind(...args).first()).n;
let last = -1;
for (let still = 0; still < 5; await sleep(1000)) {
  const n = await count(shardOf(program), "SELECT count(*) AS n FROM clicks") + await count(shardOf(other), "SELECT count(*) AS n FROM clicks");
  still = n === last ? still + 1 : 0;
  last = n;
}
const linkId = async (code) => (await db.prepare("SELECT id FROM links WHERE code = ?").bind(code).first()).id;
const storedSaturation = await count(shardOf(program), "SELECT count(*) AS n FROM clicks WHERE link_id = ?", await linkId("bench-1"));
const storedIds = new Set((await shardOf(other).prepare("SELECT id FROM clicks WHERE link_id = ?").bind(await linkId("other-1")).all()).results.map((r) => r.id));
const lostInterleaved = clickIds.filter((id) => !storedIds.has(id)).length;
const conversions = await count(db, "SELECT count(*) AS n FROM conversions WHERE program_id = ?", other.id);
const distinctOrders = await count(db, "SELECT count(DISTINCT order_id) AS n FROM conversions WHERE program_id = ?", other.id);
const misplaced = await count(shardOf(program), "SELECT count(*) AS n FROM clicks WHERE program_id = ?", other.id)
  + await count(shardOf(other), "SELECT count(*) AS n FROM clicks WHERE program_id = ?", program.id);

// 4. The archive: both days archived, every imported click in exactly one object line.
let archives = [];
for (const deadline = Date.now() + 300_000; Date.now() < deadline; await sleep(1000)) {
  archives = (await api("GET", `/api/v1/archives?program_id=${program.id}&kind=clicks`)).data;
  if (archives.length === 2 && archives.every((a) => a.status === "archived")) break;
}
const archiveSeconds = (Date.now() - archiveStarted) / 1000;
const archivedIds = [];
let objects = 0;
for (const a of archives) {
  for (const part of (await api("GET", `/api/v1/archives/${a.id}`)).objects) {
    objects += 1;
    const text = await (await fetch(part.download_url.replace(/^https?:\/\/[^/]+/, url.origin), { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
    archivedIds.push(...text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l).id));
  }
}
const archivedSet = new Set(archivedIds);
const leftInD1 = await count(shardOf(program), "SELECT count(*) AS n FROM clicks WHERE link_id = ?", await linkId("bench-3"));
const lostArchive = lines.length - archivedSet.size - leftInD1;
const duplicatedArchive = archivedIds.length - archivedSet.size;

console.log(`bench/load — ${new Date().toISOString()} — ${cpus().length} cores — workerd via Miniflare, wrk -t2 -c${CONNECTIONS} for ${SECONDS} s`);
// wrk counts the responses it read before its deadline; the requests of its open
// connections at that instant were served and stored too, but not counted: at most one per
// connection. A click is keyed by the id its redirect gave it, so a redelivery cannot add one.
const inFlight = storedSaturation - served;
console.log(`redirects at saturation: ${served} counted by wrk (${rps} req/s), ${storedSaturation} clicks stored: lost ${Math.max(-inFlight, 0)}, ${Math.max(inFlight, 0)} in flight at wrk's deadline (≤ ${CONNECTIONS} connections)`);
console.log(`interleaved clicks:      ${clickIds.length} sent, ${storedIds.size} stored: lost ${lostInterleaved}, duplicated ${storedIds.size - clickIds.length + lostInterleaved}`);
console.log(`shards:                  saturation on ${program.events_shard}, interleaved on ${other.events_shard}; ${misplaced} clicks in the other program's shard`);
console.log(`archive under load:      ${lines.length} clicks of 2 days imported, ${archivedSet.size} archived in ${objects} objects (${archives.map((a) => a.status).join(", ")}) within ${archiveSeconds.toFixed(1)} s, ${leftInD1} left in D1: lost ${lostArchive}, duplicated ${duplicatedArchive}`);
console.log(`sale postbacks:          ${orders.size} sent (+${retries} retries, ${failedPostbacks} failed), ${conversions} conversions stored for ${distinctOrders} orders: lost ${orders.size - distinctOrders}, duplicated ${conversions - distinctOrders}`);
await mf.dispose();
if (inFlight < 0 || inFlight > CONNECTIONS || lostInterleaved || storedIds.size !== clickIds.length || failedPostbacks
  || distinctOrders !== orders.size || conversions !== distinctOrders || misplaced
  || lostArchive || duplicatedArchive || leftInD1 || archives.some((a) => a.status !== "archived")) process.exit(1);
