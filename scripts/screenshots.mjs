// Screenshots of the dashboard and the portal for the README, taken in Debian's chromium
// against a running partnerlens (`bash scripts/run.sh` prints the values):
//   BASE_URL=http://127.0.0.1:8787 ADMIN_API_KEY=… PORTAL_LINK='http://…/portal#token=…' \
//     node scripts/screenshots.mjs docs/screenshots
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launchOptions } from "../tests/e2e/browser.mjs";

const out = process.argv[2] ?? "docs/screenshots";
mkdirSync(out, { recursive: true });
const browser = await chromium.launch(launchOptions());
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 1000 }, deviceScaleFactor: 1 });
  page.on("console", (m) => m.type() === "error" && console.error("console:", m.text()));
  await page.goto(`${process.env.BASE_URL}/`);
  await page.fill("input[name=key]", process.env.ADMIN_API_KEY);
  await page.click("button[type=submit]");
  await page.waitForSelector(".card-value");
  await page.waitForSelector(".chart canvas");
  await page.waitForSelector("table");
  await page.screenshot({ path: join(out, "dashboard.png"), fullPage: true });
  await page.goto(`${process.env.BASE_URL}/?view=partners`);
  await page.waitForSelector(".funnel");
  await page.screenshot({ path: join(out, "funnel.png"), fullPage: true });
  await page.goto(`${process.env.BASE_URL}/?view=insights`);
  await page.waitForSelector("section[aria-labelledby=forecast-title] .chart canvas");
  await page.waitForSelector("section[aria-labelledby=goals-title] table");
  await page.screenshot({ path: join(out, "insights.png"), fullPage: true });
  const context = await browser.newContext({ viewport: { width: 1360, height: 1000 } });
  const portal = await context.newPage();
  await portal.goto(process.env.PORTAL_LINK);
  await portal.waitForSelector(".card-value");
  await portal.waitForSelector(".chart canvas");
  await portal.screenshot({ path: join(out, "portal.png"), fullPage: true });
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(`${process.env.BASE_URL}/portal?view=links`);
  await phone.waitForSelector(".generator img.qr");
  await phone.screenshot({ path: join(out, "portal-phone.png"), fullPage: false });
} finally {
  await browser.close();
}
