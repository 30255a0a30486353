// The referral redirect and click capture, end to end through the local runtime.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  api, seed, hit, events, storedClick, clickIdOf, eventually, CHROME, IPHONE, GOOGLEBOT, unique,
} from "./helpers.mjs";

test("a redirect answers 302 to the destination with its query kept and a click id added", async () => {
  const { link } = await seed({ destination: "https://shop.example/landing?ref=1#reviews" });
  const response = await hit(`/r/${link.code}`);
  assert.equal(response.status, 302);
  const location = new URL(response.headers.get("location"));
  assert.equal(location.origin + location.pathname, "https://shop.example/landing");
  assert.equal(location.searchParams.get("ref"), "1");
  assert.equal(location.hash, "#reviews");
  assert.match(location.searchParams.get("click_id"), /^[A-Za-z0-9_-]{22}$/);
  assert.match(response.headers.get("cache-control"), /no-store/);
});

test("every redirect gets its own click id", async () => {
  const { link } = await seed();
  const ids = new Set();
  for (let i = 0; i < 5; i++) ids.add(clickIdOf(await hit(`/r/${link.code}`)));
  assert.equal(ids.size, 5);
});

test("the program's click id parameter name is used", async () => {
  const { link } = await seed({ clickIdParam: "aff_click" });
  const response = await hit(`/r/${link.code}`);
  const location = new URL(response.headers.get("location"));
  assert.ok(location.searchParams.get("aff_click"));
  assert.equal(location.searchParams.get("click_id"), null);
});

test("the stored click carries link, partner, program, device, sub-ids, UTM and referrer host", async () => {
  const { program, partner, link } = await seed();
  const response = await hit(
    `/r/${link.code}?sub1=post%2042&sub3=x&utm_source=newsletter&utm_medium=email&utm_campaign=bf`,
    { headers: { "user-agent": IPHONE, referer: "https://blog.example/post/1?email=a@b.c" } },
  );
  const click = await storedClick(link.id, clickIdOf(response));
  assert.equal(click.link_id, link.id);
  assert.equal(click.partner_id, partner.id);
  assert.equal(click.program_id, program.id);
  assert.equal(click.device, "mobile");
  assert.equal(click.os, "iPhone");
  assert.equal(click.browser, "Safari");
  assert.equal(click.sub1, "post 42");
  assert.equal(click.sub2, null);
  assert.equal(click.sub3, "x");
  assert.equal(click.utm_source, "newsletter");
  assert.equal(click.utm_medium, "email");
  assert.equal(click.utm_campaign, "bf");
  assert.equal(click.referrer_host, "blog.example");
  assert.equal(click.is_bot, false);
  assert.match(click.visitor_hash, /^[0-9a-f]{64}$/);
  assert.ok(typeof click.colo === "string" && click.colo.length > 0, "colo from request.cf");
  assert.ok(Math.abs(click.ts_ms - Date.now()) < 120000, "timestamp is now, in UTC ms");
});

test("a click's country comes from Cloudflare's cf-ipcountry and its data centre from cf-ray", async () => {
  // CLICK_LOCATION = "country" (wrangler.toml): request.cf is not read, so region and
  // city stay empty; "XX" (Cloudflare could not tell) is no country.
  const { link } = await seed();
  const located = await hit(`/r/${link.code}`, { headers: { "cf-ipcountry": "DE", "cf-ray": "8e5f0c1a2b3d4e5f-FRA" } });
  const click = await storedClick(link.id, clickIdOf(located));
  assert.deepEqual([click.country, click.region, click.city, click.colo], ["DE", null, null, "FRA"]);
  const unknown = await hit(`/r/${link.code}`, { headers: { "cf-ipcountry": "XX" } });
  const unlocated = await storedClick(link.id, clickIdOf(unknown));
  assert.deepEqual([unlocated.country, unlocated.region, unlocated.city, unlocated.colo], [null, null, null, null]);
});

test("without cf-ipcountry (IP geolocation off) the location comes from request.cf", async () => {
  const { link } = await seed();
  const click = await storedClick(link.id, clickIdOf(await hit(`/r/${link.code}`, { headers: { "cf-ray": "8e5f0c1a2b3d4e5f-FRA" } })));
  assert.ok(typeof click.country === "string" && click.country.length === 2, "country from request.cf");
  assert.ok(typeof click.colo === "string" && click.colo !== "FRA", "colo from request.cf, not the ray");
});

test("the raw IP is not stored, only the visitor hash", async () => {
  const { link } = await seed();
  const response = await hit(`/r/${link.code}`, { headers: { "cf-connecting-ip": "203.0.113.99" } });
  const click = await storedClick(link.id, clickIdOf(response));
  assert.ok(!JSON.stringify(click).includes("203.0.113.99"));
});

test("a bot is stored and flagged, never dropped, and is never unique", async () => {
  const { link } = await seed();
  const response = await hit(`/r/${link.code}`, { headers: { "user-agent": GOOGLEBOT } });
  assert.equal(response.status, 302);
  const click = await storedClick(link.id, clickIdOf(response));
  assert.equal(click.is_bot, true);
  assert.equal(click.device, "bot");
  assert.equal(click.is_unique, false);
});

test("a visitor's first click on a link in a day is unique, repeats are not, other visitors are", async () => {
  const { link } = await seed();
  const first = clickIdOf(await hit(`/r/${link.code}`, { headers: { "cf-connecting-ip": "198.51.100.20" } }));
  const repeat = clickIdOf(await hit(`/r/${link.code}`, { headers: { "cf-connecting-ip": "198.51.100.20" } }));
  const other = clickIdOf(await hit(`/r/${link.code}`, { headers: { "cf-connecting-ip": "198.51.100.21" } }));
  const otherAgent = clickIdOf(
    await hit(`/r/${link.code}`, { headers: { "cf-connecting-ip": "198.51.100.20", "user-agent": IPHONE } }),
  );
  await storedClick(link.id, otherAgent);
  const clicks = Object.fromEntries((await events("clicks", link.id)).map((c) => [c.id, c]));
  assert.equal(clicks[first].is_unique, true);
  assert.equal(clicks[repeat].is_unique, false);
  assert.equal(clicks[other].is_unique, true);
  assert.equal(clicks[otherAgent].is_unique, true);
  assert.equal(clicks[first].visitor_hash, clicks[repeat].visitor_hash);
  assert.notEqual(clicks[first].visitor_hash, clicks[other].visitor_hash);
});

test("the same visitor is unique again on another link", async () => {
  const a = await seed();
  const b = await seed();
  const headers = { "cf-connecting-ip": "198.51.100.30" };
  const onA = clickIdOf(await hit(`/r/${a.link.code}`, { headers }));
  const onB = clickIdOf(await hit(`/r/${b.link.code}`, { headers }));
  assert.equal((await storedClick(a.link.id, onA)).is_unique, true);
  assert.equal((await storedClick(b.link.id, onB)).is_unique, true);
});

test("HEAD answers like GET but records nothing", async () => {
  const { link } = await seed();
  const head = await hit(`/r/${link.code}`, { method: "HEAD" });
  assert.equal(head.status, 302);
  assert.match(head.headers.get("location"), /^https:\/\/shop\.example\/landing\?ref=1&click_id=/);
  // A later GET is the sentinel: once it is stored, anything queued before it would be too.
  const sentinel = clickIdOf(await hit(`/r/${link.code}`));
  await storedClick(link.id, sentinel);
  const clicks = await events("clicks", link.id);
  assert.deepEqual(clicks.map((c) => c.id), [sentinel]);
});

test("a browser prefetch is redirected but not counted, whichever header announces it", async () => {
  const { link } = await seed();
  // Chrome's Sec-Purpose, the older Purpose, and Firefox's X-Moz: each is its own field
  // of what the redirect reads from the request.
  for (const [name, value] of [["sec-purpose", "prefetch;prerender"], ["purpose", "prefetch"], ["x-moz", "prefetch"]]) {
    const prefetch = await hit(`/r/${link.code}`, { headers: { [name]: value } });
    assert.equal(prefetch.status, 302, name);
  }
  const sentinel = clickIdOf(await hit(`/r/${link.code}`));
  await storedClick(link.id, sentinel);
  assert.deepEqual((await events("clicks", link.id)).map((c) => c.id), [sentinel]);
});

test("an unknown code answers 404 and records nothing", async () => {
  const response = await hit(`/r/${unique("nope")}`);
  assert.equal(response.status, 404);
  assert.equal(response.headers.get("location"), null);
  assert.match(await response.text(), /Link not found/);
});

test("a disabled link answers 404 at once, and redirects again when re-enabled", async () => {
  const { link } = await seed();
  assert.equal((await hit(`/r/${link.code}`)).status, 302);
  const disabled = await api("PATCH", `/api/v1/links/${link.id}`, { status: "disabled" });
  assert.equal(disabled.status, 200, disabled.text);
  assert.equal(disabled.json.status, "disabled");
  const gone = await hit(`/r/${link.code}`);
  assert.equal(gone.status, 404);
  assert.equal((await hit(`/r/${link.code}`, { method: "HEAD" })).status, 404);
  const enabled = await api("PATCH", `/api/v1/links/${link.id}`, { status: "active" });
  assert.equal(enabled.status, 200);
  const back = await hit(`/r/${link.code}`);
  assert.equal(back.status, 302);
  const sentinel = clickIdOf(back);
  await storedClick(link.id, sentinel);
  // Only the two redirects that answered 302 with GET were recorded.
  assert.equal((await events("clicks", link.id)).length, 2);
});

test("a new destination is served as soon as the link is updated", async () => {
  const { link } = await seed();
  await hit(`/r/${link.code}`);
  const updated = await api("PATCH", `/api/v1/links/${link.id}`, { destination: "https://other.example/new" });
  assert.equal(updated.status, 200, updated.text);
  const response = await hit(`/r/${link.code}`);
  assert.match(response.headers.get("location"), /^https:\/\/other\.example\/new\?click_id=/);
});

test("a custom code redirects like a generated one", async () => {
  const code = unique("Spring_Sale");
  const { link } = await seed({ code });
  assert.equal(link.code, code);
  assert.ok(link.short_url.endsWith(`/r/${code}`));
  assert.equal((await hit(`/r/${code}`)).status, 302);
});

test("the impression pixel answers a no-cache 1x1 GIF and records an impression", async () => {
  const { link, partner } = await seed();
  const response = await hit(`/i/${link.code}`, { headers: { "user-agent": CHROME, "cf-ipcountry": "PL", "cf-ray": "8e5f0c1a2b3d4e5f-WAW" } });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "image/gif");
  assert.match(response.headers.get("cache-control"), /no-cache/);
  const body = Buffer.from(await response.arrayBuffer());
  assert.equal(body.subarray(0, 6).toString(), "GIF89a");
  assert.equal(body.readUInt16LE(6), 1);
  assert.equal(body.readUInt16LE(8), 1);
  const head = await hit(`/i/${link.code}`, { method: "HEAD" });
  assert.equal(head.status, 200);
  const impressions = await eventually(async () => {
    const rows = await events("impressions", link.id);
    return rows.length > 0 && rows;
  }, { what: "the impression" });
  assert.equal(impressions[0].partner_id, partner.id);
  assert.equal(impressions[0].is_bot, false);
  assert.equal(impressions[0].device, "desktop");
  assert.deepEqual([impressions[0].country, impressions[0].city, impressions[0].colo], ["PL", null, "WAW"]);
  // The pixel is not a click.
  assert.equal((await events("clicks", link.id)).length, 0);
  assert.equal((await hit(`/i/${unique("nope")}`)).status, 404);
});

test("redirects and pixels refuse other methods", async () => {
  const { link } = await seed();
  const post = await hit(`/r/${link.code}`, { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal((await post.json()).error.code, "method_not_allowed");
});
