// The dashboard and the portal: pages served by the Worker with a strict CSP, sign-in
// for an HttpOnly SameSite=Strict session cookie, cookie writes checked against Origin,
// sign-out ending the session on the server, and a partner's portal API narrowed to it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, seed, unique, BASE, ADMIN_KEY } from "./helpers.mjs";

async function signIn(key) {
  const response = await fetch(`${BASE}/api/v1/sessions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ key }),
  });
  const body = await response.json();
  const cookie = response.headers.get("set-cookie");
  return { status: response.status, body, cookie, session: cookie?.split(";")[0] };
}

function withCookie(session, method, path, { body, origin } = {}) {
  const headers = { cookie: session };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (origin) headers.origin = origin;
  return fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

test("the pages are served by the Worker with a strict Content-Security-Policy", async () => {
  for (const path of ["/", "/portal"]) {
    const page = await fetch(BASE + path);
    assert.equal(page.status, 200, path);
    assert.match(page.headers.get("content-type"), /text\/html/);
    const csp = page.headers.get("content-security-policy");
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, "no inline script, no other origin");
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    const html = await page.text();
    assert.doesNotMatch(html, /<script>|<script [^>]*>[^<]+<\/script>|https?:\/\//, "no inline script, nothing from another origin");
    const script = /src="(\/assets\/[a-z]+\.js)"/.exec(html)[1];
    const js = await fetch(BASE + script);
    assert.equal(js.status, 200, script);
    assert.match(js.headers.get("content-type"), /javascript/);
  }
  const missing = await fetch(`${BASE}/assets/nothing-here.js`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, "not_found");
  const unknown = await api("GET", "/api/v1/no-such-thing");
  assert.equal(unknown.status, 404, "an unknown /api path is still a JSON 404");
  assert.equal(unknown.json.error.code, "not_found");
});

test("the admin key signs in for an HttpOnly, SameSite=Strict cookie; sign-out ends it on the server", async () => {
  const anonymous = await api("GET", "/api/v1/sessions/current", undefined, { key: null });
  assert.equal(anonymous.status, 200, "asking who is signed in is not an error");
  assert.equal(anonymous.json.signed_in, false);
  const wrong = await signIn("pl_wrong_key_for_the_test");
  assert.equal(wrong.status, 401);
  assert.equal(wrong.cookie, null);
  const { status, body, cookie, session } = await signIn(ADMIN_KEY);
  assert.equal(status, 201, JSON.stringify(body));
  assert.equal(body.kind, "admin");
  assert.match(cookie, /^pl_session=[A-Za-z0-9_-]{20,};/);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  assert.match(cookie, /Path=\//);
  assert.doesNotMatch(cookie, /Secure/, "plain http on 127.0.0.1 is local: no Secure there");
  assert.ok(!cookie.includes(ADMIN_KEY), "the key is not the cookie");

  const read = await withCookie(session, "GET", "/api/v1/programs");
  assert.equal(read.status, 200);
  const current = await (await withCookie(session, "GET", "/api/v1/sessions/current")).json();
  assert.equal(current.kind, "admin");

  const program = { name: unique("Cookie"), currency: "EUR", model: "sales" };
  const foreign = await withCookie(session, "POST", "/api/v1/programs", { body: program, origin: "https://evil.example" });
  assert.equal(foreign.status, 403);
  assert.equal((await foreign.json()).error.code, "cross_origin");
  const bare = await withCookie(session, "POST", "/api/v1/programs", { body: program });
  assert.equal(bare.status, 403, "a cookie write without Origin is refused");
  const own = await withCookie(session, "POST", "/api/v1/programs", { body: program, origin: BASE });
  assert.equal(own.status, 201);

  const out = await withCookie(session, "DELETE", "/api/v1/sessions/current", { origin: BASE });
  assert.equal(out.status, 200);
  assert.match(out.headers.get("set-cookie"), /Max-Age=0/);
  assert.equal((await withCookie(session, "GET", "/api/v1/programs")).status, 401, "the old cookie is dead");
});

test("a partner signs in with its token, sees only itself, and loses the session with the token", async () => {
  const { program, partner, link } = await seed();
  const other = await seed();
  const patched = await api("PATCH", `/api/v1/programs/${program.id}`, { partner_link_domains: ["shop.example"] });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.json.partner_link_domains, ["shop.example"]);
  await api("POST", "/api/v1/commission-rules", { program_id: program.id, event: "sale", kind: "percent", value: "10" });
  const token = await api("POST", "/api/v1/partner-tokens", { partner_id: partner.id });
  assert.equal(token.status, 201, token.text);
  const bi = await api("POST", "/api/v1/bi-keys", { name: "not for people" });
  assert.equal((await signIn(bi.json.key)).status, 403, "BI keys are for BI tools");

  const signedIn = await signIn(token.json.token);
  assert.equal(signedIn.status, 201);
  assert.deepEqual([signedIn.body.kind, signedIn.body.partner_id, signedIn.body.partner_name], ["partner", partner.id, partner.name]);
  const session = signedIn.session;
  const get = async (path) => {
    const response = await withCookie(session, "GET", path);
    const text = await response.text();
    assert.ok(!text.includes(other.partner.id) && !text.includes(other.link.id), `${path} mentions another partner`);
    return { status: response.status, json: JSON.parse(text) };
  };
  const terms = await get("/api/v1/partner-programs");
  assert.equal(terms.status, 200);
  assert.deepEqual(terms.json.data.map((p) => [p.id, p.partner_link_domains, p.rules.map((r) => r.applies_to)]), [[program.id, ["shop.example"], ["everyone"]]]);
  const links = await get("/api/v1/links");
  assert.deepEqual(links.json.data.map((l) => l.id), [link.id]);
  assert.equal((await get(`/api/v1/links?partner_id=${other.partner.id}`)).status, 403);
  assert.equal((await get("/api/v1/programs")).status, 403, "programs are the manager's");

  const create = (destination, programId = program.id) =>
    withCookie(session, "POST", "/api/v1/partner-links", { body: { program_id: programId, destination }, origin: BASE });
  const made = await create("https://www.shop.example/spring-sale");
  assert.equal(made.status, 201, await made.clone().text());
  const created = await made.json();
  assert.equal(created.partner_id, partner.id);
  const elsewhere = await create("https://evil.example/");
  assert.equal(elsewhere.status, 422);
  assert.equal((await elsewhere.json()).error.code, "domain_not_allowed");
  assert.equal((await create("https://shop.example/", other.program.id)).status, 422, "a program it is not in");
  assert.equal((await withCookie(session, "POST", "/api/v1/partner-links", { body: { program_id: program.id, destination: "https://shop.example/" } })).status, 403, "no Origin, no write");

  const renamed = await api("PATCH", `/api/v1/partner-tokens/${token.json.id}`, { name: "Newsletter" });
  assert.equal(renamed.status, 200, renamed.text);
  assert.deepEqual([renamed.json.name, renamed.json.partner_id, renamed.json.revoked_at], ["Newsletter", partner.id, null]);
  assert.equal((await api("PATCH", `/api/v1/partner-tokens/${token.json.id}`, { partner_id: other.partner.id })).status, 400, "a token stays its partner's");
  assert.equal((await api("PATCH", `/api/v1/partner-tokens/${bi.json.id}`, { name: "x" })).status, 404, "a BI key is not a partner token");
  assert.equal((await withCookie(session, "GET", "/api/v1/partner-programs")).status, 200, "renaming keeps its sessions");

  assert.equal((await api("DELETE", `/api/v1/partner-tokens/${token.json.id}`)).status, 200);
  assert.equal((await withCookie(session, "GET", "/api/v1/partner-programs")).status, 401, "revoking the token ends its sessions");
});
