// The dashboard and the partner portal as a person uses them, in Debian's chromium:
// signing in, the cards against the API for the same range, a preset changing the URL
// and the numbers, the CSV download, a deep link, partner A seeing nothing of partner B,
// no request leaving the origin, no console error, and a phone's width.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";
import { api, ndjson, unique, CHROME, BASE, ADMIN_KEY } from "./helpers.mjs";
import { launchOptions } from "./browser.mjs";

const DAY_MS = 86_400_000;
const day = (offset) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);

async function setup() {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Browser Shop"), currency: "EUR", model: "sales", timezone: "UTC" })).json;
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  const make = async (name, perDay) => {
    const partner = (await api("POST", "/api/v1/partners", { name: unique(name), segment: "blogger" })).json;
    const code = unique("pg");
    const link = (await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/", code })).json;
    const clicks = [];
    const sales = [];
    for (let d = 1; d <= 20; d++) {
      for (let i = 0; i < perDay; i++) {
        const id = `${code}-${d}-${i}`;
        const ts = new Date(Date.now() - d * DAY_MS + i * 60_000).toISOString();
        clicks.push({ id, ts, link_code: code, ua: CHROME, ip: `203.0.113.${i + 1}`, country: "DE" });
        if (i === 0 && d % 3 === 0) sales.push({ click_id: id, event: "sale", order_id: `${id}-o`, amount: "80.00", status: "approved", ts });
      }
    }
    await ndjson("/api/v1/import/clicks", clicks);
    await ndjson("/api/v1/import/conversions", sales);
    return { partner, link };
  };
  const a = await make("Alice", 3);
  const b = await make("Bob", 2);
  // Imported history spans 20 days: roll it up at once (a report refreshes a few days only).
  const rolled = await api("POST", `/api/v1/rollups/run?from=${day(-21)}&to=${day(1)}`);
  assert.equal(rolled.status, 200, rolled.text);
  const token = (await api("POST", "/api/v1/partner-tokens", { partner_id: a.partner.id })).json.token;
  return { program, a, b, token };
}

const ready = setup();
const browser = await chromium.launch(launchOptions());
after(() => browser.close());

/** A page that records console errors and every request's origin. */
async function watched(options = {}) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  const errors = [];
  const foreign = [];
  const bodies = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith("data:") && new URL(url).origin !== new URL(BASE).origin) foreign.push(url);
  });
  page.on("response", async (r) => {
    if (r.url().includes("/api/")) bodies.push(await r.text().catch(() => ""));
  });
  return { context, page, errors, foreign, bodies };
}

async function cardValues(page) {
  return page.$$eval(".card", (cards) => Object.fromEntries(cards.map((c) => [c.dataset.metric, c.querySelector(".card-value").dataset.value])));
}

async function apiCards(programId, from, to, key = ADMIN_KEY) {
  const metrics = "clicks,unique_clicks,leads,sales,revenue,commission,cost,epc,cr_click_to_sale,roi";
  const report = await api("GET", `/api/v1/reports/kpis?from=${from}&to=${to}&timezone=UTC&group_by=program&program_id=${programId}&metrics=${metrics}`, undefined, { key });
  assert.equal(report.status, 200, report.text);
  return Object.fromEntries(Object.entries(report.json.data[0]).filter(([k]) => metrics.split(",").includes(k)).map(([k, v]) => [k, v === null ? "" : String(v)]));
}

test("the manager signs in; cards equal the API; a preset, the CSV and a deep link work", async () => {
  const { program } = await ready;
  const { page, errors, foreign } = await watched();
  await page.goto(`${BASE}/?program=${program.id}`);
  await page.fill("input[name=key]", ADMIN_KEY);
  await page.click("button[type=submit]");
  await page.waitForSelector(".card[data-metric=clicks] .card-value");
  const thirty = await apiCards(program.id, day(-29), day(1));
  assert.ok(Number(thirty.clicks) > 0);
  assert.deepEqual(await cardValues(page), thirty, "the cards show the engine's numbers for 30 days");

  await page.click("button.chip:has-text('7 days')");
  await page.waitForFunction(() => new URLSearchParams(location.search).get("preset") === "7d");
  const seven = await apiCards(program.id, day(-6), day(1));
  assert.notEqual(seven.clicks, thirty.clicks);
  await page.waitForFunction((clicks) => document.querySelector(".card[data-metric=clicks] .card-value")?.dataset.value === clicks, seven.clicks);
  assert.deepEqual(await cardValues(page), seven);

  const breakdown = "section[aria-labelledby=breakdown-title] table tbody tr";
  const rows = await page.$$eval(breakdown, (trs) => trs.length);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("a:has-text('Download CSV')")]);
  const csv = readFileSync(await download.path(), "utf8").trim().split("\n");
  assert.equal(csv.length - 1, rows, "the CSV holds the rows on screen");
  assert.match(csv[0], /^partner_id,partner_name,clicks,/);

  await page.reload();
  await page.waitForSelector(".card[data-metric=clicks] .card-value");
  await page.waitForFunction((clicks) => document.querySelector(".card[data-metric=clicks] .card-value")?.dataset.value === clicks, seven.clicks);
  assert.equal(new URL(page.url()).searchParams.get("preset"), "7d", "a deep link reloads into the same view");
  await page.goto(`${BASE}/?program=${program.id}&view=partners&preset=30d`);
  await page.waitForSelector(".funnel li[data-stage=active]");
  assert.deepEqual(errors, [], "no console error");
  assert.deepEqual(foreign, [], "no request leaves the origin");
});

test("partner A's portal shows A's numbers and nothing of partner B", async () => {
  const { program, a, b, token } = await ready;
  const { page, errors, foreign, bodies } = await watched();
  await page.goto(`${BASE}/portal#token=${encodeURIComponent(token)}`);
  await page.waitForSelector(".card[data-metric=clicks] .card-value");
  assert.ok(!page.url().includes("token"), "the token leaves the address bar");
  const cookies = await page.context().cookies();
  assert.deepEqual(cookies.map((c) => [c.name, c.httpOnly, c.sameSite]), [["pl_session", true, "Strict"]]);
  const expected = await apiCards(program.id, day(-29), day(1), token);
  const shown = await cardValues(page);
  assert.equal(shown.clicks, expected.clicks);
  assert.equal(shown.commission, expected.commission);
  for (const view of ["links", "ledger", "money", "terms"]) {
    await page.click(`nav a:has-text('${{ links: "Links", ledger: "Commissions", money: "Payouts", terms: "Terms" }[view]}')`);
    await page.waitForFunction((v) => new URLSearchParams(location.search).get("view") === v, view);
    await page.waitForSelector("main .panel, main .empty");
  }
  await page.click("nav a:has-text('Links')");
  await page.waitForSelector(".generator input.copy");
  assert.match(await page.inputValue(".generator input.copy"), new RegExp(`/r/${a.link.code}`));
  const content = await page.content();
  for (const other of [b.partner.id, b.partner.name, b.link.code]) {
    assert.ok(!content.includes(other), `the page shows ${other}`);
    assert.ok(!bodies.some((body) => body.includes(other)), `a response holds ${other}`);
  }
  assert.deepEqual(errors, []);
  assert.deepEqual(foreign, []);
});

test("the pages work at a phone's width", async () => {
  const { program, token } = await ready;
  const { page, errors } = await watched({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto(`${BASE}/portal#token=${encodeURIComponent(token)}`);
  await page.waitForSelector(".card[data-metric=clicks] .card-value");
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok((await overflow()) <= 1, "no sideways scrolling in the portal");
  await page.context().clearCookies();
  await page.goto(`${BASE}/?program=${program.id}`);
  await page.fill("input[name=key]", ADMIN_KEY);
  await page.click("button[type=submit]");
  await page.waitForSelector(".card[data-metric=clicks] .card-value");
  assert.ok((await overflow()) <= 1, "no sideways scrolling on the dashboard");
  assert.deepEqual(errors, []);
});
