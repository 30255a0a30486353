// The nightly insights job of every seeded program, one after another through
// POST /api/v1/insights/run (the queue consumer's code), timed from outside; then the
// flags it raised against the fraud bench/seed_insights.py injected.
// usage: node bench/insights.mjs BASE_URL ADMIN_KEY INJECTED_JSON
import { readFileSync } from "node:fs";

const [base, key, injectedFile] = process.argv.slice(2);
const injected = JSON.parse(readFileSync(injectedFile, "utf8"));
const headers = { authorization: `Bearer ${key}` };
const programs = Object.keys(injected).sort();

async function call(method, path) {
  const response = await fetch(base + path, { method, headers });
  const body = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

const times = [];
const totals = { series_forecast: 0, series_without_forecast: 0, flags: 0, partners_judged: 0 };
const started = performance.now();
for (const [i, program] of programs.entries()) {
  const t0 = performance.now();
  const run = await call("POST", `/api/v1/insights/run?program_id=${program}`);
  times.push(performance.now() - t0);
  for (const k of Object.keys(totals)) totals[k] += run[k];
  if ((i + 1) % 10 === 0 || i + 1 === programs.length) {
    console.log(`  ${i + 1}/${programs.length} programs, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}
const total = (performance.now() - started) / 1000;
times.sort((a, b) => a - b);
const ms = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(0);
console.log(`nightly job, ${programs.length} programs: ${total.toFixed(1)} s in all; per program median ${ms(0.5)} ms, p90 ${ms(0.9)} ms, max ${ms(1)} ms`);
console.log(`  ${totals.partners_judged} partners judged, ${totals.series_forecast} series forecast (${totals.series_without_forecast} without enough history), ${totals.flags} flags`);

// Flags against the injected fraud.
let right = 0; let onFraud = 0; let falseFlags = 0; let caught = 0; let fraudPartners = 0;
for (const program of programs) {
  const flags = [];
  let path = `/api/v1/insights/flags?program_id=${program}&limit=500`;
  while (path) {
    const page = await call("GET", path);
    flags.push(...page.data);
    path = page.next ? page.next.slice(new URL(page.next).origin.length) : null;
  }
  const planted = injected[program];
  fraudPartners += Object.keys(planted).length;
  const found = new Set();
  for (const f of flags) {
    if (planted[f.partner_id]) {
      onFraud += 1;
      if (planted[f.partner_id] === f.kind) { right += 1; found.add(f.partner_id); }
    } else falseFlags += 1;
  }
  caught += found.size;
}
const partners = totals.partners_judged;
console.log(`  flags: precision ${(onFraud / Math.max(1, onFraud + falseFlags)).toFixed(3)} (${onFraud} of ${onFraud + falseFlags} on a defrauding partner, ${right} of the injected kind); recall ${(caught / Math.max(1, fraudPartners)).toFixed(3)} (${caught}/${fraudPartners}); false flags ${(100 * falseFlags / Math.max(1, partners - fraudPartners)).toFixed(3)} per 100 clean partners`);
