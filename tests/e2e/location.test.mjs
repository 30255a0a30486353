// CLICK_LOCATION = "city": every click and impression records country, region, city and
// data centre from request.cf, whatever Cloudflare's headers say, on the links Worker's
// bundle (build-edge/) and on the app's own /r/ alike. The default ("country", which
// reads cf-ipcountry and cf-ray) is tested through wrangler dev in redirect.test.mjs.
// Its own runtime (through Miniflare, as bench/runtime.mjs starts it), as in
// links_worker.test.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { api as call, hit, unique, clickIdOf, eventually } from "./helpers.mjs";
import { rustRuntime, ADMIN_KEY } from "../../bench/runtime.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
let runtime;
let base;
before(async () => {
  runtime = await rustRuntime(join(root, "build"), {
    withAssets: false,
    links: join(root, "build-edge"),
    vars: { CLICK_LOCATION: "city" },
  });
  base = new URL(runtime.url).origin;
});
after(() => runtime?.mf.dispose());
const api = (method, path, body) => call(method, path, body, { base, key: ADMIN_KEY });

test("with CLICK_LOCATION = city a click records region and city from request.cf, not the headers", async () => {
  const program = (await api("POST", "/api/v1/programs", { name: unique("City detail"), currency: "EUR", model: "sales" })).json;
  const partner = (await api("POST", "/api/v1/partners", { name: unique("City partner") })).json;
  const link = (await api("POST", "/api/v1/links", { program_id: program.id, partner_id: partner.id, destination: "https://shop.example/" })).json;
  const headers = { "cf-ipcountry": "DE", "cf-ray": "8e5f0c1a2b3d4e5f-FRA" };
  const answer = await hit(`/r/${link.code}`, { base, headers });
  assert.equal(answer.status, 302);
  assert.equal((await hit(`/i/${link.code}`, { base, headers })).status, 200);
  const stored = async (kind) => (await api("GET", `/api/v1/${kind}?link_id=${link.id}&limit=10`)).json.data;
  const [click] = await eventually(async () => {
    const rows = await stored("clicks");
    return rows.length === 1 && (await stored("impressions")).length === 1 && rows;
  }, { what: "the click and the impression stored" });
  assert.equal(click.id, clickIdOf(answer));
  const [impression] = await stored("impressions");
  for (const event of [click, impression]) {
    // Miniflare's request.cf: a fixed location, not the headers' DE/FRA.
    assert.ok(typeof event.region === "string" && event.region.length > 0, "region from request.cf");
    assert.ok(typeof event.city === "string" && event.city.length > 0, "city from request.cf");
    assert.notEqual(event.colo, "FRA", "colo from request.cf, not from cf-ray");
    assert.ok(typeof event.country === "string" && event.country.length === 2, "country from request.cf");
  }
});
