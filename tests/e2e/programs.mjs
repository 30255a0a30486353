// Programs with a known answer for the insights (used by the insights and alerts tests):
// one with clean partners, one whose sales all come seconds after their click and one with
// a crawler's extra clicks; one with a long, steady history to forecast.
import assert from "node:assert/strict";
import { api, ndjson, unique, CHROME, GOOGLEBOT } from "./helpers.mjs";

const DAY_MS = 86_400_000;
const utcDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const yesterday = utcDay(Date.now() - DAY_MS);

export async function program(extra = {}) {
  const created = await api("POST", "/api/v1/programs", { name: unique("Insights"), currency: "EUR", model: "sales", timezone: "UTC", ...extra });
  assert.equal(created.status, 201, created.text);
  return created.json;
}

export async function partnerWithLink(programId, name) {
  const partner = (await api("POST", "/api/v1/partners", { name: unique(name) })).json;
  const code = unique("ins");
  const link = await api("POST", "/api/v1/links", { program_id: programId, partner_id: partner.id, destination: "https://shop.example/", code });
  assert.equal(link.status, 201, link.text);
  return { partner, code };
}

export async function importAll(path, rows) {
  for (let i = 0; i < rows.length; i += 500) {
    const answer = await ndjson(path, rows.slice(i, i + 500));
    assert.equal(answer.rejected?.length ?? answer.errors?.length ?? 0, 0, JSON.stringify(answer));
  }
}

/**
 * A program whose last six days hold 12 clean partners (150 clicks and 8 sales each,
 * 5 to 120 minutes after the click), one whose 30 sales all came 2 s after their click,
 * and one with 150 extra clicks from a crawler; rolled up, then judged by the nightly job
 * (`beforeRun(program)` first, when given).
 */
export async function fraudProgram({ beforeRun } = {}) {
  const p = await program();
  const clean = [];
  for (let i = 0; i < 12; i++) clean.push(await partnerWithLink(p.id, `Clean ${i}`));
  const fast = await partnerWithLink(p.id, "Fast");
  const bots = await partnerWithLink(p.id, "Bots");
  const clicks = [];
  const sales = [];
  const start = Date.parse(`${yesterday}T00:00:00Z`) - 5 * DAY_MS;
  const traffic = (who, { sales: n, delay, crawler = 0 }) => {
    for (let c = 0; c < 150; c++) {
      const id = `${who.code}-c${c}`;
      const ts = start + (c % 6) * DAY_MS + 3_600_000 + c * 60_000;
      clicks.push({ id, ts: new Date(ts).toISOString(), link_code: who.code, ua: CHROME, ip: `203.0.113.${(c % 250) + 1}` });
      if (c < n) {
        sales.push({ click_id: id, event: "sale", order_id: `${id}-o`, amount: "20.00", status: "approved", ts: new Date(ts + delay(c)).toISOString() });
      }
    }
    for (let c = 0; c < crawler; c++) {
      const ts = start + (c % 6) * DAY_MS + 7_200_000 + c * 30_000;
      clicks.push({ id: `${who.code}-b${c}`, ts: new Date(ts).toISOString(), link_code: who.code, ua: GOOGLEBOT, ip: `198.51.100.${(c % 250) + 1}` });
    }
  };
  clean.forEach((who) => traffic(who, { sales: 8, delay: (c) => (5 + ((c * 13) % 115)) * 60_000 }));
  traffic(fast, { sales: 30, delay: () => 2_000 });
  traffic(bots, { sales: 8, delay: (c) => (7 + c) * 60_000, crawler: 150 });
  await importAll("/api/v1/import/clicks", clicks);
  await importAll("/api/v1/import/conversions", sales);
  const rolled = await api("POST", `/api/v1/rollups/run?from=${utcDay(start)}&to=${utcDay(Date.now() + DAY_MS)}`);
  assert.equal(rolled.status, 200, rolled.text);
  if (beforeRun) await beforeRun(p);
  const run = await api("POST", `/api/v1/insights/run?program_id=${p.id}`);
  assert.equal(run.status, 200, run.text);
  assert.deepEqual(run.json.days, [yesterday]);
  return { program: p, clean, fast, bots, run: run.json };
}

/** A program with `days` days of sales and clicks, a weekly pattern and a trend. */
export async function historyProgram(days) {
  const p = await program();
  const who = await partnerWithLink(p.id, "Steady");
  const clicks = [];
  const sales = [];
  for (let d = days; d >= 1; d--) {
    const dayStart = Date.parse(`${utcDay(Date.now() - d * DAY_MS)}T00:00:00Z`);
    const weekday = new Date(dayStart).getUTCDay();
    const n = 4 + (weekday === 0 || weekday === 6 ? 0 : 3) + Math.floor((days - d) / 20);
    for (let i = 0; i < n; i++) {
      const id = `${who.code}-${d}-${i}`;
      const ts = dayStart + 3_600_000 + i * 600_000;
      clicks.push({ id, ts: new Date(ts).toISOString(), link_code: who.code, ua: CHROME, ip: `203.0.113.${i + 1}` });
      sales.push({ click_id: id, event: "sale", order_id: `${id}-o`, amount: "12.50", status: "approved", ts: new Date(ts + 900_000).toISOString() });
    }
  }
  await importAll("/api/v1/import/clicks", clicks);
  await importAll("/api/v1/import/conversions", sales);
  const rolled = await api("POST", `/api/v1/rollups/run?from=${utcDay(Date.now() - (days + 1) * DAY_MS)}&to=${utcDay(Date.now() + DAY_MS)}`);
  assert.equal(rolled.status, 200, rolled.text);
  return { program: p, partner: who.partner };
}
