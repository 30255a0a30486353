// The auth sweep: every operation of openapi.yaml is called without credentials, with a
// wrong key, with a BI key and with a partner token; each must answer as its `security`
// says. Then a partner token is pointed at another partner's data, and its answers are
// checked for rows of anyone else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { api, hit, clickIdOf, storedClick, unique, BASE } from "./helpers.mjs";

const spec = JSON.parse(readFileSync(process.env.OPENAPI_JSON, "utf8"));
const METHODS = ["get", "post", "patch", "put", "delete"];
const today = new Date().toISOString().slice(0, 10);
const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);

function operations() {
  return Object.entries(spec.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => {
      const security = item[method].security ?? spec.security ?? [];
      return { path, method: method.toUpperCase(), schemes: new Set(security.flatMap((s) => Object.keys(s))) };
    }),
  );
}

async function call(method, path, key) {
  const headers = key ? { authorization: `Bearer ${key}` } : {};
  const response = await fetch(BASE + path, { method, headers });
  const text = await response.text();
  return { status: response.status, text };
}

async function setup() {
  const program = (await api("POST", "/api/v1/programs", { name: unique("Sweep"), currency: "EUR", model: "sales" })).json;
  const partner = async (name) => {
    const p = (await api("POST", "/api/v1/partners", { name: unique(name) })).json;
    const link = (await api("POST", "/api/v1/links", { program_id: program.id, partner_id: p.id, destination: "https://shop.example/" })).json;
    const clickId = clickIdOf(await hit(`/r/${link.code}`, { headers: { "cf-connecting-ip": `192.0.2.${Math.floor(Math.random() * 200) + 1}` } }));
    await storedClick(link.id, clickId);
    const sale = await fetch(`${BASE}/postback?${new URLSearchParams({ click_id: clickId, order_id: unique("S"), amount: "40", token: program.postback_secret })}`);
    const conversion = await sale.json();
    assert.equal(sale.status, 200, JSON.stringify(conversion));
    return { ...p, link, conversionId: conversion.conversion_id };
  };
  const a = await partner("Alice");
  const b = await partner("Bob");
  assert.equal((await api("POST", `/api/v1/rollups/run?from=${today}&to=${tomorrow}`)).status, 200);
  const bi = (await api("POST", "/api/v1/bi-keys", { name: "sweep BI" })).json.key;
  const token = await api("POST", "/api/v1/bi-keys", { name: "Alice's portal", partner_id: a.id });
  assert.equal(token.status, 201, token.text);
  assert.match(token.json.key, /^plpt_/);
  assert.equal(token.json.partner_id, a.id);
  return { program, a, b, bi, partnerToken: token.json.key, tokenId: token.json.id };
}

const ready = setup();

test("every operation answers 401, 403 or serves, exactly as its security in openapi.yaml says", async () => {
  const { a, bi, partnerToken } = await ready;
  const ops = operations().filter((op) => op.schemes.size > 0);
  assert.ok(ops.length >= 45, `${ops.length} authenticated operations`);
  for (const op of ops) {
    // Path parameters: the token's own partner where a partner is named, a dummy otherwise.
    const path = op.path.replace("{id}", op.path.startsWith("/api/v1/partners/") ? a.id : "x").replace(/\{[^}]+\}/g, "x");
    const label = `${op.method} ${op.path}`;
    assert.equal((await call(op.method, path)).status, 401, `${label} without credentials`);
    assert.equal((await call(op.method, path, "not-a-key")).status, 401, `${label} with a wrong key`);
    const asBi = await call(op.method, path, bi);
    if (op.schemes.has("biKey")) assert.ok(![401, 403].includes(asBi.status), `${label} with a BI key: ${asBi.status} ${asBi.text}`);
    else assert.equal(asBi.status, 403, `${label} with a BI key`);
    const asPartner = await call(op.method, path, partnerToken);
    if (op.schemes.has("partnerToken")) assert.ok(![401, 403].includes(asPartner.status), `${label} with a partner token: ${asPartner.status} ${asPartner.text}`);
    else assert.equal(asPartner.status, 403, `${label} with a partner token`);
  }
});

test("a partner token gets 403 on another partner's data", async () => {
  const { b, partnerToken } = await ready;
  for (const path of [
    `/api/v1/partners/${b.id}`,
    `/api/v1/conversions/${b.conversionId}`,
    `/api/v1/conversions?partner_id=${b.id}`,
    `/api/v1/clicks?partner_id=${b.id}`,
    `/api/v1/reports/kpis?from=${today}&to=${tomorrow}&partner_id=${b.id}`,
    `/api/v1/reports/partners?from=${today}&to=${tomorrow}&partner_id=${b.id}`,
  ]) {
    const answer = await call("GET", path, partnerToken);
    assert.equal(answer.status, 403, `${path}: ${answer.text}`);
    assert.equal(JSON.parse(answer.text).error.code, "forbidden");
  }
});

test("no answer to a partner token holds another partner's rows", async () => {
  const { program, a, b, partnerToken } = await ready;
  const get = async (path) => {
    const answer = await call("GET", path, partnerToken);
    assert.equal(answer.status, 200, `${path}: ${answer.text}`);
    assert.ok(!answer.text.includes(b.id), `${path} mentions the other partner`);
    return JSON.parse(answer.text);
  };
  const kpis = await get(`/api/v1/reports/kpis?from=${today}&to=${tomorrow}&group_by=partner,program`);
  assert.deepEqual(kpis.data.map((r) => [r.partner_id, r.program_id, r.clicks, r.sales]), [[a.id, program.id, 1, 1]]);
  const partners = await get(`/api/v1/reports/partners?from=${today}&to=${tomorrow}&metrics=sales`);
  assert.deepEqual(partners.data.map((r) => [r.partner_id, r.sales]), [[a.id, 1]]);
  const conversions = await get("/api/v1/conversions");
  assert.deepEqual(conversions.data.map((c) => c.id), [a.conversionId]);
  const clicks = await get("/api/v1/clicks");
  assert.ok(clicks.data.length >= 1 && clicks.data.every((c) => c.partner_id === a.id));
  const own = await get(`/api/v1/conversions/${a.conversionId}`);
  assert.equal(own.partner_id, a.id);
});

test("a revoked partner token is refused", async () => {
  const { partnerToken, tokenId } = await ready;
  assert.equal((await api("DELETE", `/api/v1/bi-keys/${tokenId}`)).status, 200);
  assert.equal((await call("GET", "/api/v1/conversions", partnerToken)).status, 401);
});
