// Shared by the end-to-end tests: talks to the local runtime that scripts/test.sh started
// (BASE_URL, ADMIN_API_KEY) and creates the programs, partners and links each test owns.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";

export const BASE = process.env.BASE_URL;
export const FAULT_BASE = process.env.FAULT_BASE_URL;
export const ADMIN_KEY = process.env.ADMIN_API_KEY;
assert.ok(BASE && ADMIN_KEY, "run through scripts/test.sh: BASE_URL and ADMIN_API_KEY are needed");

export const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";
export const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
export const GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

export const unique = (prefix) => `${prefix}-${randomBytes(6).toString("hex")}`;

/** Calls the admin API; `key: null` sends no credentials. */
export async function api(method, path, body, { key = ADMIN_KEY, base = BASE, raw } = {}) {
  const headers = { "content-type": "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(base + path, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, json, text, headers: response.headers };
}

/** Posts NDJSON `rows` (objects or raw lines) to an import endpoint; answers its JSON. */
export async function ndjson(path, rows, { base = BASE } = {}) {
  const body = rows.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n");
  const response = await fetch(base + path, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/x-ndjson" },
    body,
  });
  const json = await response.json();
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Creates a program, a partner and a link on `base`; answers their objects. */
/** With `shard` ("DB" or "EVENTS_1"), the program is one the runtime placed on that event shard. */
export async function seed({ base = BASE, destination = "https://shop.example/landing?ref=1", code, clickIdParam, shard } = {}) {
  let program;
  for (let i = 0; i < 32; i++) {
    program = await api(
      "POST",
      "/api/v1/programs",
      { name: unique("Program"), currency: "EUR", model: "sales", ...(clickIdParam && { click_id_param: clickIdParam }) },
      { base },
    );
    assert.equal(program.status, 201, program.text);
    if (!shard || program.json.events_shard === shard) break;
  }
  if (shard) assert.equal(program.json.events_shard, shard, `a program placed on ${shard}`);
  const partner = await api("POST", "/api/v1/partners", { name: unique("Partner"), segment: "blogger" }, { base });
  assert.equal(partner.status, 201, partner.text);
  const link = await api(
    "POST",
    "/api/v1/links",
    { program_id: program.json.id, partner_id: partner.json.id, destination, ...(code && { code }) },
    { base },
  );
  assert.equal(link.status, 201, link.text);
  return { program: program.json, partner: partner.json, link: link.json };
}

/** Follows nothing: answers the raw redirect response. */
export function hit(path, { method = "GET", headers = {}, base = BASE } = {}) {
  return fetch(base + path, {
    method,
    redirect: "manual",
    headers: { "user-agent": CHROME, "cf-connecting-ip": "198.51.100.7", ...headers },
  });
}

/** Every stored event of a link, all pages. */
export async function events(kind, linkId, { base = BASE } = {}) {
  const rows = [];
  let path = `/api/v1/${kind}?link_id=${encodeURIComponent(linkId)}&limit=500`;
  while (path) {
    const page = await api("GET", path, undefined, { base });
    assert.equal(page.status, 200, page.text);
    rows.push(...page.json.data);
    path = page.json.next ? page.json.next.slice(new URL(page.json.next).origin.length) : null;
  }
  return rows;
}

/** Polls `probe` until it answers something truthy, or fails after `ms`. */
export async function eventually(probe, { ms = 20000, what = "condition" } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Waits until the click with `clickId` is stored (the queue has drained up to it). */
export async function storedClick(linkId, clickId, options = {}) {
  return eventually(
    async () => (await events("clicks", linkId, options)).find((click) => click.id === clickId),
    { what: `click ${clickId} to be stored` },
  );
}

/** The click id a redirect response carries in its Location. */
export function clickIdOf(response, param = "click_id") {
  const location = response.headers.get("location");
  assert.ok(location, "redirect has a Location");
  return new URL(location).searchParams.get(param);
}
