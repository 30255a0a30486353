// bench/load: wrk drives redirects at saturation while this process interleaves clicks
// with sale postbacks; then sent versus stored, read from the runtime's D1.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { cpus } from "node:os";
import { rustRuntime } from "./runtime.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const { mf, url, db, program } = await rustRuntime();
const at = (path) => new URL(path, url).href;

// 1. Saturation: wrk on one link for the whole run.
const wrk = promisify(execFile)("wrk", [
  "-t2", `-c${CONNECTIONS}`, `-d${SECONDS}s`, "-H", "CF-Connecting-IP: 198.51.100.1", at("/r/bench-1?sub1=load"),
], { encoding: "utf8" });
let wrkDone = false;
wrk.finally(() => { wrkDone = true; });

// 2. Interleaved: a click on another link, then its sale, until wrk is done.
const clickIds = [];
const orders = new Set();
const sales = [];
let retries = 0;
let failedPostbacks = 0;
async function sale(clickId, order, twice) {
  const send = async () => {
    const response = await fetch(at(`/postback?${new URLSearchParams({ click_id: clickId, order_id: order, amount: "19.99", token: program.postback_secret })}`));
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
  const response = await fetch(at("/r/bench-2?sub1=interleaved"), { redirect: "manual", headers: { "cf-connecting-ip": `10.0.${i >> 8 & 255}.${i & 255}` } });
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
const count = async (sql, ...args) => (await db.prepare(sql).bind(...args).first()).n;
let last = -1;
for (let still = 0; still < 5; await sleep(1000)) {
  const n = await count("SELECT count(*) AS n FROM clicks");
  still = n === last ? still + 1 : 0;
  last = n;
}
const linkId = async (code) => (await db.prepare("SELECT id FROM links WHERE code = ?").bind(code).first()).id;
const storedSaturation = await count("SELECT count(*) AS n FROM clicks WHERE link_id = ?", await linkId("bench-1"));
const storedIds = new Set((await db.prepare("SELECT id FROM clicks WHERE link_id = ?").bind(await linkId("bench-2")).all()).results.map((r) => r.id));
const lostInterleaved = clickIds.filter((id) => !storedIds.has(id)).length;
const conversions = await count("SELECT count(*) AS n FROM conversions WHERE program_id = ?", program.id);
const distinctOrders = await count("SELECT count(DISTINCT order_id) AS n FROM conversions WHERE program_id = ?", program.id);

console.log(`bench/load — ${new Date().toISOString()} — ${cpus().length} cores — workerd via Miniflare, wrk -t2 -c${CONNECTIONS} for ${SECONDS} s`);
// wrk counts the responses it read before its deadline; the requests of its open
// connections at that instant were served and stored too, but not counted: at most one per
// connection. A click is keyed by the id its redirect gave it, so a redelivery cannot add one.
const inFlight = storedSaturation - served;
console.log(`redirects at saturation: ${served} counted by wrk (${rps} req/s), ${storedSaturation} clicks stored: lost ${Math.max(-inFlight, 0)}, ${Math.max(inFlight, 0)} in flight at wrk's deadline (≤ ${CONNECTIONS} connections)`);
console.log(`interleaved clicks:      ${clickIds.length} sent, ${storedIds.size} stored: lost ${lostInterleaved}, duplicated ${storedIds.size - clickIds.length + lostInterleaved}`);
console.log(`sale postbacks:          ${orders.size} sent (+${retries} retries, ${failedPostbacks} failed), ${conversions} conversions stored for ${distinctOrders} orders: lost ${orders.size - distinctOrders}, duplicated ${conversions - distinctOrders}`);
await mf.dispose();
if (inFlight < 0 || inFlight > CONNECTIONS || lostInterleaved || storedIds.size !== clickIds.length || failedPostbacks
  || distinctOrders !== orders.size || conversions !== distinctOrders) process.exit(1);
