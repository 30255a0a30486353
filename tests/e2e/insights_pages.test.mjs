// The Insights view as a manager uses it, in Debian's chromium: the forecast drawn
// after the actuals with its backtest in words, the open flags with their evidence and
// an Acknowledge button that closes them, a goal set through the form and shown with
// its pace and status as the API computes them; and the partner's portal shows none of it.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { api, ndjson, unique, CHROME, BASE, ADMIN_KEY } from "./helpers.mjs";
import { launchOptions } from "./browser.mjs";

const DAY_MS = 86_400_000;
const utcDay = (ms) => new Date(ms).toISOString().slice(0, 10);

async function setup() {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Insight Shop"), currency: "EUR", model: "sales", timezone: "UTC" })).json;
  const clicks = [];
  const sales = [];
  const partners = [];
  for (const [name, fast] of [["Steady A", false], ["Steady B", false], ["Steady C", false], ["Steady D", false], ["Quick", true]]) {
    const partner = (await api("POST", "/api/v1/partners", { name: unique(name) })).json;
    const code = unique("ip");
    await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/", code });
    partners.push(partner);
    for (let d = 63; d >= 1; d--) {
      const start = Date.parse(`${utcDay(Date.now() - d * DAY_MS)}T08:00:00Z`);
      // A weekly pattern with day-to-day noise (fixed, so every run sees the same).
      const n = (new Date(start).getUTCDay() % 6 === 0 ? 10 : 20) + ((d * 7 + name.length * 3) % 5) - 2;
      for (let i = 0; i < n; i++) {
        const id = `${code}-${d}-${i}`;
        clicks.push({ id, ts: new Date(start + i * 120_000).toISOString(), link_code: code, ua: CHROME, ip: `203.0.113.${i + 1}` });
        const selling = fast ? d <= 6 && i < 6 : i % 5 === 0;
        if (selling) {
          const delay = fast ? 1_500 : (10 + i) * 60_000;
          sales.push({ click_id: id, event: "sale", order_id: `${id}-o`, amount: "40.00", status: "approved", ts: new Date(start + i * 120_000 + delay).toISOString() });
        }
      }
    }
  }
  for (let i = 0; i < clicks.length; i += 1000) await ndjson("/api/v1/import/clicks", clicks.slice(i, i + 1000));
  for (let i = 0; i < sales.length; i += 1000) await ndjson("/api/v1/import/conversions", sales.slice(i, i + 1000));
  assert.equal((await api("POST", `/api/v1/rollups/run?from=${utcDay(Date.now() - 65 * DAY_MS)}&to=${utcDay(Date.now() + DAY_MS)}`)).status, 200);
  const run = await api("POST", `/api/v1/insights/run?program_id=${program.id}`);
  assert.equal(run.status, 200, run.text);
  const token = (await api("POST", "/api/v1/partner-tokens", { partner_id: partners[4].id })).json.token;
  return { program, partners, token };
}

const ready = setup();
const browser = await chromium.launch(launchOptions());
after(() => browser.close());

async function signedIn(path) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  const foreign = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith("data:") && new URL(url).origin !== new URL(BASE).origin) foreign.push(url);
  });
  await page.goto(`${BASE}${path}`);
  await page.fill("input[name=key]", ADMIN_KEY);
  await page.click("button[type=submit]");
  return { page, errors, foreign };
}

test("the forecast is drawn after the actuals, with its backtest in words", async () => {
  const { program } = await ready;
  const forecast = (await api("GET", `/api/v1/insights/forecast?program_id=${program.id}&metric=clicks&horizon=28`)).json;
  assert.ok(forecast.model, JSON.stringify(forecast.meta));
  const { page, errors, foreign } = await signedIn(`/?program=${program.id}&view=insights&fmetric=clicks`);
  await page.waitForSelector("section[aria-labelledby=forecast-title] .chart canvas");
  const accuracy = await page.textContent("[data-testid=forecast-accuracy]");
  assert.match(accuracy, /Backtest at 28 days ahead/);
  const mase = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 }).format(forecast.model.mase);
  assert.ok(accuracy.includes(`MASE ${mase}`), `${accuracy} shows MASE ${mase}`);
  await page.selectOption("select[aria-label='Days ahead']", "7");
  await page.waitForFunction(() => new URLSearchParams(location.search).get("horizon") === "7");
  await page.waitForFunction(() => document.querySelector("[data-testid=forecast-accuracy]")?.textContent.includes("Backtest at 7 days ahead"));
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
});

test("open flags show their evidence and close when acknowledged", async () => {
  const { program, partners } = await ready;
  const quick = partners[4];
  const open = (await api("GET", `/api/v1/insights/flags?program_id=${program.id}&acknowledged=false`)).json.data;
  const flag = open.find((f) => f.partner_id === quick.id && f.kind === "fast_conversions");
  assert.ok(flag, JSON.stringify(open));
  const { page, errors } = await signedIn(`/?program=${program.id}&view=insights`);
  const row = page.locator("section[aria-labelledby=flags-title] tbody tr", { hasText: quick.name });
  await row.waitFor();
  assert.match(await row.textContent(), /Conversions too fast after the click/);
  assert.match(await row.textContent(), /fast conversions 36/);
  await row.locator("button:has-text('Acknowledge')").click();
  await row.waitFor({ state: "detached" });
  const after = (await api("GET", `/api/v1/insights/flags/${flag.id}`)).json;
  assert.equal(after.acknowledged, true);
  assert.deepEqual(errors, []);
});

test("a goal set in the form shows its pace and the API's status", async () => {
  const { program } = await ready;
  const { page, errors } = await signedIn(`/?program=${program.id}&view=insights`);
  const form = page.locator("form[aria-label='Set goal']");
  await form.waitFor();
  await form.locator("select[name=metric]").selectOption("sales");
  await form.locator("input[name=target]").fill("150");
  const start = utcDay(Date.now() - 10 * DAY_MS);
  await form.locator("input[name=start]").fill(start);
  await form.locator("input[name=deadline]").fill(utcDay(Date.now() + 20 * DAY_MS));
  await form.locator("button[type=submit]").click();
  await form.locator(".notice").waitFor();
  const goals = (await api("GET", `/api/v1/goals?program_id=${program.id}`)).json.data;
  assert.equal(goals.length, 1);
  const goal = goals[0];
  assert.equal(goal.start, start);
  const row = page.locator("section[aria-labelledby=goals-title] tbody tr").first();
  await row.waitFor();
  const label = { on_track: "On track", at_risk: "At risk", off_track: "Off track", achieved: "Achieved", missed: "Missed" }[goal.progress.status];
  assert.match(await row.textContent(), new RegExp(label));
  assert.equal(await row.locator(".pace-expected").count(), 1, "the pace marker is drawn");
  assert.deepEqual(errors, []);
});

test("the partner's portal knows nothing of flags or forecasts", async () => {
  const { token } = await ready;
  for (const path of ["/api/v1/insights/flags", "/api/v1/insights/forecast?program_id=x&metric=sales", "/api/v1/goals"]) {
    assert.equal((await api("GET", path, undefined, { key: token })).status, 403, path);
  }
  const context = await browser.newContext();
  const page = await context.newPage();
  const bodies = [];
  page.on("response", async (r) => r.url().includes("/api/") && bodies.push(await r.text().catch(() => "")));
  await page.goto(`${BASE}/portal#token=${encodeURIComponent(token)}`);
  await page.waitForSelector(".card[data-metric=clicks] .card-value");
  const content = await page.content();
  for (const word of ["fast_conversions", "Flags", "Forecast", "q-value"]) {
    assert.ok(!content.includes(word), `the portal shows ${word}`);
    assert.ok(!bodies.some((b) => b.includes(word)), `a portal response holds ${word}`);
  }
});
