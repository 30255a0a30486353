// wrk, driven from the benchmarks: one run against a URL, its requests/s, latency
// percentiles and answers counted; and the median the benchmarks report.
import { execFileSync } from "node:child_process";

export const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

function toMs(text) {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text.trim());
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
}

/** A `cf-ray` as Cloudflare sends it: an id, then the data centre (Frankfurt). */
export const RAY = "8e5f0c1a2b3d4e5f-FRA";

/**
 * `wrk -t{threads} -c{connections} -d{seconds}s --latency url` with a browser's user
 * agent and the headers Cloudflare adds (the client's address, its country, the ray).
 */
export function wrk(url, seconds, { threads = 2, connections = 16, headers = [] } = {}) {
  const out = execFileSync(
    "wrk",
    [
      `-t${threads}`, `-c${connections}`, `-d${seconds}s`, "--latency",
      "-H", `User-Agent: ${UA}`, "-H", "CF-Connecting-IP: 198.51.100.1",
      "-H", "CF-IPCountry: DE", "-H", `CF-Ray: ${RAY}`,
      ...headers.flatMap((h) => ["-H", h]),
      url,
    ],
    { encoding: "utf8" },
  );
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const bad = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = /Socket errors: (.*)/.exec(out)?.[1] ?? null;
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50: toMs(/ 50%\s+(\S+)/.exec(out)?.[1] ?? ""),
    p99: toMs(/ 99%\s+(\S+)/.exec(out)?.[1] ?? ""),
    served: requests - bad,
    bad,
    errors,
  };
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
