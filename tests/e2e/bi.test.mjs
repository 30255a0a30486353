// BI keys: read-only, accepted as bearer, ?api_key= or Basic password, revocable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, BASE } from "./helpers.mjs";

const REPORT = "/api/v1/reports/kpis?from=2026-01-01&to=2026-01-03";

test("a BI key reads reports three ways, touches nothing else, and stops at revocation", async () => {
  const created = await api("POST", "/api/v1/bi-keys", { name: "Power BI" });
  assert.equal(created.status, 201, created.text);
  const { id, key } = created.json;
  assert.match(key, /^plbi_/);
  const listed = await api("GET", "/api/v1/bi-keys?limit=500");
  assert.ok(listed.json.data.some((k) => k.id === id));
  assert.ok(!listed.text.includes(key), "the key is shown only once");

  const bearer = await fetch(BASE + REPORT, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(bearer.status, 200);
  const query = await fetch(`${BASE}${REPORT}&api_key=${encodeURIComponent(key)}`);
  assert.equal(query.status, 200);
  assert.deepEqual((await query.json()).data.map((r) => r.day), ["2026-01-01", "2026-01-02"]);
  const basic = await fetch(BASE + REPORT, {
    headers: { authorization: "Basic " + Buffer.from(`powerbi:${key}`).toString("base64") },
  });
  assert.equal(basic.status, 200);

  for (const [method, path] of [["GET", "/api/v1/programs"], ["POST", "/api/v1/bi-keys"], ["POST", "/api/v1/rollups/run?from=2026-01-01&to=2026-01-02"]]) {
    const forbidden = await api(method, path, method === "POST" ? { name: "x" } : undefined, { key });
    assert.equal(forbidden.status, 403, `${method} ${path}`);
    assert.equal(forbidden.json.error.code, "forbidden");
  }

  // Renamed, a key keeps working; its secret, its partner and its time stay.
  const path = `/api/v1/bi-keys/${id}`;
  const shown = await api("GET", path);
  assert.equal(shown.status, 200, shown.text);
  assert.equal(shown.json.name, "Power BI");
  assert.ok(!shown.text.includes(key), "never the key itself");
  for (const [body, status] of [[{ partner_id: "ptn_x" }, 400], [{ key: "plbi_new" }, 400], [{ name: " " }, 422]]) {
    assert.equal((await api("PATCH", path, body)).status, status, JSON.stringify(body));
  }
  const renamed = await api("PATCH", path, { name: "  Finance dashboard " });
  assert.equal(renamed.status, 200, renamed.text);
  assert.deepEqual(renamed.json, { ...shown.json, name: "Finance dashboard" });
  assert.equal((await fetch(BASE + REPORT, { headers: { authorization: `Bearer ${key}` } })).status, 200);
  assert.equal((await api("PATCH", "/api/v1/bi-keys/bik_nope", { name: "x" })).status, 404);
  assert.equal((await api("GET", "/api/v1/bi-keys/bik_nope")).status, 404);

  const revoked = await api("DELETE", `/api/v1/bi-keys/${id}`);
  assert.equal(revoked.status, 200);
  assert.ok(revoked.json.revoked_at);
  const after = await fetch(`${BASE}${REPORT}&api_key=${encodeURIComponent(key)}`);
  assert.equal(after.status, 401);
});
