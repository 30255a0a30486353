// bench/request-facts: what reading a click's facts from its request costs any Worker in
// this runtime, before it does anything with them. Six JS Workers answer the same static
// 302 as bench/redirect's ceiling (b); the others first read what a click tracker
// reads: `request.cf`'s country (the runtime parses and freezes the whole `cf` object on
// the first access), its country, region, city and colo, the six headers partnerlens
// reads (`edge_io::requestFacts`) as one JSON string, both (what partnerlens's redirect
// reads with `CLICK_LOCATION = "city"`), or the six headers with Cloudflare's
// `cf-ipcountry` and `cf-ray` (what it reads by default, `"country"`). All of them are
// served by one workerd (through Miniflare, as bench/redirect) and loaded by wrk in
// interleaved rounds (which sends the headers Cloudflare adds); the ratios to the bare
// 302 are the share of the ceiling a tracker gives up to the request alone. Two more
// answer as partnerlens's redirect does, with its `Cache-Control: private, no-cache,
// no-store …` beside the `Location` (a click must reach the tracker every time, so no
// browser or proxy may keep the redirect), the second after reading what it reads by
// default: the ceiling of a tracker that records a click and forbids caching its answer.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { cpus } from "node:os";
import { COMPAT } from "./runtime.mjs";
import { wrk, median } from "./wrk.mjs";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);

const HEADERS = `const h = request.headers;
  const headers = { ip: h.get("cf-connecting-ip"), user_agent: h.get("user-agent"),
    referer: h.get("referer"), sec_purpose: h.get("sec-purpose"), purpose: h.get("purpose"),
    x_moz: h.get("x-moz") };`;
const LOCATION = `const cf = request.cf;
  const location = { country: cf?.country ?? null, region: cf?.region ?? null,
    city: cf?.city ?? null, colo: cf?.colo ?? null };`;

const COUNTRY = `${HEADERS}\n  globalThis.read = JSON.stringify({ ...headers, ip_country: h.get("cf-ipcountry"), ray: h.get("cf-ray") });`;
// The header partnerlens's redirect answers beside `Location` (edge_io::redirectResponse).
const NO_STORE = `"cache-control": "private, no-cache, no-store, must-revalidate, max-age=0",`;

const variants = [
  ["static 302 (b)", `globalThis.read = null;`],
  ["+ request.cf.country", `globalThis.read = request.cf?.country ?? null;`],
  ["+ cf country, region, city, colo", `${LOCATION}\n  globalThis.read = JSON.stringify(location);`],
  ["+ six headers", `${HEADERS}\n  globalThis.read = JSON.stringify(headers);`],
  ["+ both (partnerlens, city)", `${HEADERS}\n  ${LOCATION}\n  globalThis.read = JSON.stringify({ ...headers, ...location });`],
  ["+ headers, cf-ipcountry, cf-ray (partnerlens, country)", COUNTRY],
  ["302 with partnerlens's Cache-Control", `globalThis.read = null;`, NO_STORE],
  ["+ headers, cf-ipcountry, cf-ray, and its Cache-Control", COUNTRY, NO_STORE],
];

const mf = new Miniflare(convertV4MiniflareOptions({
  host: "127.0.0.1",
  port: 0,
  workers: variants.map(([, body, extraHeader = ""], i) => ({
    name: `facts-${i}`,
    modules: true,
    compatibilityDate: COMPAT,
    routes: [`facts-${i}.bench/*`],
    script: `export default {
  fetch(request) {
  ${body}
    return new Response(null, {
      status: 302,
      headers: { location: "https://shop.example/landing?click_id=static", ${extraHeader} },
    });
  },
};`,
  })),
}));

try {
  const url = await mf.ready;
  const rps = variants.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    variants.forEach(([name], i) => {
      const run = wrk(`${url}r/bench`, SECONDS, { headers: [`Host: facts-${i}.bench`] });
      if (run.bad > 0 || run.served === 0) {
        throw new Error(`${name}: ${run.bad} answers were not 302 (${run.errors ?? "no socket errors"})`);
      }
      rps[i].push(run.rps);
      console.log(`round ${round} ${name}: ${Math.round(run.rps)} req/s`);
    });
  }
  console.log(`\nbench/request-facts — ${new Date().toISOString()} — ${cpus().length} cores (${cpus()[0].model})`);
  console.log(`workerd via Miniflare, wrk -t2 -c16, ${ROUNDS} interleaved rounds of ${SECONDS}s, medians\n`);
  const base = median(rps[0]);
  console.log(`${"target".padEnd(56)}${"req/s".padStart(8)}${"of (b)".padStart(9)}   of (b) by round`);
  variants.forEach(([name], i) => {
    const ratios = rps[i].map((value, round) => value / rps[0][round]);
    const byRound = `${ratios.map((r) => r.toFixed(2)).join(", ")} (median ${median(ratios).toFixed(2)})`;
    const share = (median(rps[i]) / base).toFixed(2);
    console.log(`${name.padEnd(56)}${String(Math.round(median(rps[i]))).padStart(8)}${share.padStart(9)}   ${byRound}`);
  });
} finally {
  await mf.dispose();
}
