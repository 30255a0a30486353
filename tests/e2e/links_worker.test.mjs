// The links Worker as production splits it: the small `--features edge` bundle
// (build-edge/, wrangler.links.toml) in front, the app Worker (build/, wrangler.toml)
// behind its service binding APP, both in one workerd (through Miniflare, as
// bench/runtime.mjs starts them, with the bindings the two configs name) sharing one D1,
// KV namespace and click queue. The links Worker serves /r/{code} and /i/{code} itself and
// hands every other request to the app unchanged, so the whole product answers on the
// short-link hostname. Its bundle stays under 500 KB gzipped and holds none of the app's
// analytics.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { api as call, hit, unique, clickIdOf, eventually } from "./helpers.mjs";
import { rustRuntime, ADMIN_KEY } from "../../bench/runtime.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DAY = 86_400_000;
const date = (offset) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);
let runtime;
let base;
before(async () => {
  runtime = await rustRuntime(join(root, "build"), { withAssets: true, links: join(root, "build-edge") });
  base = new URL(runtime.url).origin;
});
after(() => runtime?.mf.dispose());
const api = (method, path, body, options = {}) => call(method, path, body, { base, key: ADMIN_KEY, ...options });
const events = async (kind, linkId) => (await api("GET", `/api/v1/${kind}?link_id=${linkId}&limit=500`)).json.data;

test("wrangler.links.toml binds what the links Worker reads, and names the app Worker", () => {
  const links = readFileSync(join(root, "wrangler.links.toml"), "utf8");
  const app = readFileSync(join(root, "wrangler.toml"), "utf8");
  const appName = /^name = "(.+)"$/m.exec(app)[1];
  assert.match(links, /^main = "build-edge\/worker\/entry\.mjs"$/m);
  assert.match(links, /^command = "bash scripts\/build\.sh edge"$/m);
  assert.match(links, new RegExp(`\\[\\[services\\]\\]\\s+binding = "APP"\\s+service = "${appName}"`));
  for (const binding of ["DB", "LINKS", "CLICKS"]) assert.match(links, new RegExp(`binding = "${binding}"`));
  assert.doesNotMatch(links, /^\[assets\]/m, "the links Worker has no static assets in front of it");
  const location = (config) => /^CLICK_LOCATION = "(.*)"$/m.exec(config)?.[1];
  assert.equal(location(links), location(app), "both Workers record the same location detail");
  assert.equal(location(app), "country");
});

test("the links Worker redirects, counts the pixel, and passes the rest to the app", async () => {
  // The API, through the service binding.
  const program = await api("POST", "/api/v1/programs", { name: unique("Links worker"), currency: "EUR", model: "sales" });
  assert.equal(program.status, 201, program.text);
  const partner = (await api("POST", "/api/v1/partners", { name: unique("Links partner") })).json;
  const rule = await api("POST", "/api/v1/commission-rules", { program_id: program.json.id, event: "sale", kind: "percent", value: "10" });
  assert.equal(rule.status, 201, rule.text);
  const link = (await api("POST", "/api/v1/links", { program_id: program.json.id, partner_id: partner.id, destination: "https://shop.example/coats?ref=1" })).json;

  // The redirect and the pixel, served by the links Worker's own bundle.
  const answer = await hit(`/r/${link.code}?sub1=winter&utm_source=blog`, { base, headers: { "cf-connecting-ip": "198.51.100.61" } });
  assert.equal(answer.status, 302);
  const location = new URL(answer.headers.get("location"));
  assert.equal(location.origin + location.pathname, "https://shop.example/coats");
  assert.equal(location.searchParams.get("ref"), "1");
  const clickId = clickIdOf(answer);
  assert.match(answer.headers.get("cache-control"), /no-store/);
  const head = await hit(`/r/${link.code}`, { base, method: "HEAD" });
  assert.equal(head.status, 302, "HEAD answers without counting a click");
  const pixel = await hit(`/i/${link.code}`, { base });
  assert.equal(pixel.status, 200);
  assert.equal(pixel.headers.get("content-type"), "image/gif");
  assert.equal((await pixel.arrayBuffer()).byteLength, 43);
  const unknown = await hit("/r/no-such-link", { base });
  assert.equal(unknown.status, 404);
  assert.match(await unknown.text(), /Link not found/);

  // The app's consumer stores what the links Worker queued: one click, one impression.
  await eventually(async () => (await events("clicks", link.id)).length === 1 && (await events("impressions", link.id)).length === 1, {
    what: "the click and the impression stored",
  });
  const [click] = await events("clicks", link.id);
  assert.equal(click.id, clickId);
  assert.equal(click.sub1, "winter");
  assert.equal(click.utm_source, "blog");

  // A postback on the short-link hostname reaches the app and is attributed.
  const sale = await fetch(`${base}/postback?${new URLSearchParams({ click_id: clickId, order_id: unique("LW"), amount: "80.00", token: program.json.postback_secret })}`);
  assert.equal(sale.status, 200, await sale.text());
  const report = await api("GET", `/api/v1/reports/kpis?from=${date(-1)}&to=${date(1)}&program_id=${program.json.id}&metrics=clicks,impressions,sales,revenue,commission&group_by=program`);
  assert.equal(report.status, 200, report.text);
  const [row] = report.json.data;
  assert.deepEqual([row.clicks, row.impressions, row.sales, row.revenue, row.commission], [1, 1, 1, "80.00", "8.00"]);

  // Everything else is the app's answer, unchanged: pages, errors, methods.
  const dashboard = await fetch(`${base}/`);
  assert.equal(dashboard.status, 200);
  assert.match(dashboard.headers.get("content-type"), /text\/html/);
  assert.match(await dashboard.text(), /partnerlens/);
  const nested = await hit("/r/a/b", { base });
  assert.equal(nested.status, 404);
  assert.equal((await nested.json()).error.code, "not_found");
  const post = await fetch(`${base}/r/${link.code}`, { method: "POST" });
  assert.equal(post.status, 405, "a method the redirect does not serve is refused as the app refuses it");
  const refused = await api("GET", "/api/v1/programs", undefined, { key: "wrong-key" });
  assert.equal(refused.status, 401);
});

test("the links Worker's bundle is small and holds only the hot paths", () => {
  const dir = join(root, "build-edge");
  const files = ["index_bg.wasm", "index.js"].map((f) => readFileSync(join(dir, f)));
  const gzip = files.reduce((sum, f) => sum + gzipSync(f, { level: 9 }).length, 0);
  assert.ok(gzip < 500_000, `the links Worker's bundle is ${gzip} bytes gzipped; keep it under 500 KB`);
  const app = ["index_bg.wasm", "index.js"].map((f) => readFileSync(join(root, "build", f)));
  const appGzip = app.reduce((sum, f) => sum + gzipSync(f, { level: 9 }).length, 0);
  assert.ok(gzip * 4 < appGzip, `links ${gzip} B against the app's ${appGzip} B gzipped`);
  // The redirect is in it (its code in the wasm, its not-found page in the JS it
  // answers with); the report engine's and the exports' texts are not.
  const wasm = files[0].toString("latin1");
  assert.ok(wasm.includes("daily salt unavailable"));
  assert.ok(files[1].toString("latin1").includes("Link not found"));
  for (const text of ["is not a metric of kpis.md", "rollup_hourly", "docProps/app.xml"]) {
    assert.ok(!wasm.includes(text), `the links Worker's bundle holds ${text}`);
  }
});
