// bench/cpu: where the machine's CPU goes while bench/redirect's targets are loaded, and
// what bounds their requests/s. For the static JS 302 (b), the links Worker (k) and the
// same with a local queue that drops its clicks (m), set up as in bench/redirect (workerd through Miniflare, wrk -t2 -c16 with Cloudflare's
// headers), it reads every thread's CPU time from /proc before and after each run and
// prints, per request, the time of workerd's busiest thread, of its other threads, of
// this process (Node, Miniflare's host) and of wrk. When the busiest thread was on CPU
// for nearly the whole run, requests/s is one over its time per request, and a ratio of
// two targets' requests/s is the inverse ratio of their times on that thread.
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { COMPAT, rustRuntime } from "./runtime.mjs";
import { wrk } from "./wrk.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const TICK = 100; // clock ticks a second (USER_HZ on Linux)

/** CPU ticks of every thread of every process, by "pid/tid", with their names. */
function threads() {
  const all = new Map();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let tids;
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // gone meanwhile
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const close = stat.lastIndexOf(")");
        const fields = stat.slice(close + 2).split(" ");
        const process = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
        all.set(`${pid}/${tid}`, { process, ticks: Number(fields[11]) + Number(fields[12]) });
      } catch {
        // gone meanwhile
      }
    }
  }
  return all;
}

/** CPU ticks of this process's waited-for children (wrk, run by execFileSync). */
function childTicks() {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[13]) + Number(fields[14]);
}

function measure(url) {
  const before = threads();
  const children = childTicks();
  const result = wrk(url, SECONDS);
  const after = threads();
  const used = [...after].map(([key, t]) => ({ ...t, key, ticks: t.ticks - (before.get(key)?.ticks ?? 0) }));
  const workerd = used.filter((t) => t.process === "workerd").sort((x, y) => y.ticks - x.ticks);
  const sum = (list) => list.reduce((total, t) => total + t.ticks, 0);
  return {
    rps: result.rps,
    busiest: workerd[0]?.ticks ?? 0,
    workerdOther: sum(workerd.slice(1)),
    node: sum(used.filter((t) => t.key.startsWith(`${process.pid}/`))),
    wrk: childTicks() - children,
  };
}

const ceiling = new Miniflare(convertV4MiniflareOptions({
  host: "127.0.0.1",
  port: 0,
  workers: [{ name: "ceiling", modules: true, scriptPath: join(root, "bench/workers/static-302.mjs"), compatibilityDate: COMPAT }],
}));
const runtimes = [ceiling];
try {
  const targets = [{ key: "b", name: "JS static 302 (ceiling)", url: new URL("/r/bench-7", await ceiling.ready).href }];
  const edge = await rustRuntime(undefined, { withAssets: false, links: join(root, "build-edge") });
  runtimes.push(edge.mf);
  targets.push({ key: "k", name: "links Worker bundle (edge)", url: new URL("/r/bench-7?sub1=bench", edge.url).href });
  const apart = await rustRuntime(undefined, { withAssets: false, links: join(root, "build-edge"), consumer: false });
  runtimes.push(apart.mf);
  targets.push({ key: "m", name: "links Worker, queue drops", url: new URL("/r/bench-7?sub1=bench", apart.url).href });
  for (const t of targets) {
    wrk(t.url, 2); // warm-up
    t.runs = [];
  }
  for (let round = 1; round <= ROUNDS; round++) {
    for (const t of targets) {
      t.runs.push(measure(t.url));
      // The links Worker's clicks, held by the local queue while wrk ran, stored now.
      await new Promise((resolve) => setTimeout(resolve, 8000));
    }
  }
  console.log(`bench/cpu — ${new Date().toISOString()} — ${cpus().length} cores (${cpus()[0].model})`);
  console.log(`workerd via Miniflare, wrk -t2 -c16, ${ROUNDS} interleaved rounds of ${SECONDS}s; CPU µs per request, each run\n`);
  console.log("target                          req/s   busiest workerd thread   other workerd threads    node    wrk");
  const us = (ticks, run) => ((ticks / TICK) / (run.rps * SECONDS)) * 1e6;
  for (const t of targets) {
    for (const run of t.runs) {
      const share = (run.busiest / TICK / SECONDS) * 100;
      const busiest = `${us(run.busiest, run).toFixed(0)} (${share.toFixed(0)} % of the run)`;
      console.log(
        `(${t.key}) ${t.name.padEnd(27)} ${run.rps.toFixed(0).padStart(5)}   ${busiest.padStart(22)}` +
          `${us(run.workerdOther, run).toFixed(1).padStart(24)}${us(run.node, run).toFixed(1).padStart(8)}${us(run.wrk, run).toFixed(1).padStart(7)}`,
      );
    }
  }
} finally {
  for (const mf of runtimes) await mf.dispose();
}
