// (j) The fair peer: a JS worker built like partnerlens's redirect. The link comes from
// isolate memory (KV with cacheTtl behind it), the click gets a random id, the visitor a
// SHA-256 of the day's salt (memory, KV behind it), address and user agent, sub1…sub5 and
// the UTM parameters are read from the query, the location from Cloudflare's cf-ipcountry
// and cf-ray headers (request.cf only where they are missing), and after the response the click waits in
// the isolate's outbox for 20 ms and goes to the queue with its neighbours, packed one
// a line into messages of up to 60,000 bytes, in one sendBatch; the consumer writes each
// queue batch's clicks into D1 in batches of 500.
const LINK_TTL_MS = 60_000;
const GATHER_MS = 20;
const MESSAGE_BYTES = 60_000;
const WRITE_CLICKS = 500;
const links = new Map();
const salts = new Map();
let outbox = [];

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
const base64url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

async function link(env, code, now) {
  const cached = links.get(code);
  if (cached && cached.until > now) return cached.link;
  const stored = await env.LINKS.get(`link:${code}`, { type: "json", cacheTtl: 60 });
  links.set(code, { link: stored, until: now + LINK_TTL_MS });
  return stored;
}

async function salt(env, day) {
  let value = salts.get(day);
  if (value) return value;
  value = await env.LINKS.get(`salt:${day}`);
  if (!value) {
    value = base64url(crypto.getRandomValues(new Uint8Array(32)));
    await env.LINKS.put(`salt:${day}`, value);
  }
  salts.set(day, value);
  return value;
}

async function push(env, body) {
  outbox.push(body);
  if (outbox.length > 1) return;
  await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
  const bodies = outbox;
  outbox = [];
  const messages = [];
  let message = "";
  for (const body of bodies) {
    if (message && message.length + 1 + body.length > MESSAGE_BYTES) {
      messages.push(message);
      message = body;
    } else {
      message = message ? `${message}\n${body}` : body;
    }
  }
  if (message) messages.push(message);
  for (let i = 0; i < messages.length; i += 4) {
    await env.CLICKS.sendBatch(messages.slice(i, i + 4).map((body) => ({ body, contentType: "text" })));
  }
}

/** Country and data centre: from Cloudflare's headers, or from request.cf without them. */
function location(request) {
  const country = request.headers.get("cf-ipcountry");
  if (country === null) return { country: request.cf?.country ?? null, colo: request.cf?.colo ?? null };
  const colo = /-([A-Za-z]{3,4})$/.exec(request.headers.get("cf-ray") ?? "")?.[1] ?? null;
  return { country: country === "XX" ? null : country, colo };
}

export default {
  async fetch(request, env, ctx) {
    const now = Date.now();
    const url = new URL(request.url);
    const code = url.pathname.slice(3);
    const target = await link(env, code, now);
    if (!target) return new Response("Not found", { status: 404 });
    const id = base64url(crypto.getRandomValues(new Uint8Array(16)));
    const destination = new URL(target.url);
    destination.searchParams.set("click_id", id);
    const query = url.searchParams;
    const event = {
      kind: "click", id, ts: now, code,
      ...location(request),
      user_agent: request.headers.get("user-agent") ?? "",
      referer: request.headers.get("referer"),
      sub: [1, 2, 3, 4, 5].map((n) => query.get(`sub${n}`)),
      utm: ["source", "medium", "campaign", "term", "content"].map((n) => query.get(`utm_${n}`)),
    };
    const ip = request.headers.get("cf-connecting-ip") ?? "";
    ctx.waitUntil((async () => {
      const day = new Date(now).toISOString().slice(0, 10);
      const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${await salt(env, day)}${ip}${event.user_agent}`));
      event.visitor = hex(digest);
      await push(env, JSON.stringify(event));
    })());
    return new Response(null, {
      status: 302,
      headers: { location: destination.toString(), "cache-control": "private, no-cache, no-store, must-revalidate, max-age=0" },
    });
  },
  async queue(batch, env) {
    const insert = env.DB.prepare(
      "INSERT INTO clicks (id, code, ts, ua, referer, country, sub1, visitor) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    );
    const clicks = batch.messages.flatMap(({ body }) => body.split("\n").map((line) => JSON.parse(line)));
    for (let i = 0; i < clicks.length; i += WRITE_CLICKS) {
      await env.DB.batch(
        clicks.slice(i, i + WRITE_CLICKS).map((c) =>
          insert.bind(c.id, c.code, c.ts, c.user_agent, c.referer, c.country, c.sub[0], c.visitor)),
      );
    }
    batch.ackAll();
  },
};
