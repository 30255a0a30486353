// (c) The peer to beat: what a Sink-style JS tracker does per click. The link comes from
// KV with cacheTtl, the click goes to a queue after the response, and the consumer
// batches each queue batch into D1.
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const code = url.pathname.slice(3);
    const link = await env.LINKS.get(`link:${code}`, { type: "json", cacheTtl: 60 });
    if (!link) return new Response("Not found", { status: 404 });
    const id = crypto.randomUUID();
    const destination = new URL(link.url);
    destination.searchParams.set("click_id", id);
    ctx.waitUntil(
      env.CLICKS.send({
        id,
        code,
        ts: Date.now(),
        ua: request.headers.get("user-agent"),
        referer: request.headers.get("referer"),
        country: request.cf?.country ?? null,
        sub1: url.searchParams.get("sub1"),
      }),
    );
    return Response.redirect(destination.toString(), 302);
  },
  async queue(batch, env) {
    const insert = env.DB.prepare(
      "INSERT INTO clicks (id, code, ts, ua, referer, country, sub1) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    );
    await env.DB.batch(
      batch.messages.map(({ body: c }) =>
        insert.bind(c.id, c.code, c.ts, c.ua, c.referer, c.country, c.sub1),
      ),
    );
    batch.ackAll();
  },
};
