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

  const revoked = await api("DELETE", `/api/v1/bi-keys/${id}`);
  assert.equal(revoked.status, 200);
  assert.ok(revoked.json.revoked_at);
  const after = await fetch(`${BASE}${REPORT}&api_key=${encodeURIComponent(key)}`);
  assert.equal(after.status, 401);
});
