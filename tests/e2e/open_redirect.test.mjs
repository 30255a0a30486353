// Nobody can make a partnerlens link send a visitor anywhere but a stored destination.
import { test } from "node:test";
import assert from "node:assert/strict";
import { seed, hit, BASE } from "./helpers.mjs";

test("query parameters cannot override the destination", async () => {
  const { link } = await seed({ destination: "https://shop.example/p" });
  for (const attempt of [
    "?url=https://evil.example",
    "?destination=https://evil.example",
    "?redirect=//evil.example",
    "?next=https%3A%2F%2Fevil.example",
    "?click_id=https://evil.example",
  ]) {
    const response = await hit(`/r/${link.code}${attempt}`);
    assert.equal(response.status, 302, attempt);
    const location = new URL(response.headers.get("location"));
    assert.equal(location.host, "shop.example", attempt);
    assert.equal(location.pathname, "/p", attempt);
  }
});

test("paths that smuggle another host or a URL never redirect", async () => {
  const { link } = await seed();
  for (const path of [
    "/r//evil.example",
    "/r/%2F%2Fevil.example",
    "/r/%2f%2fevil.example",
    "/r/https://evil.example",
    "/r/https:%2F%2Fevil.example",
    "/r/evil.example",
    `/r/${link.code}/..%2F..%2Fevil.example`,
    `/r/${link.code}%2F%2Fevil.example`,
    `/r/${link.code}/extra`,
    "/r/%5C%5Cevil.example",
    "/r/",
    "/r",
  ]) {
    const response = await fetch(BASE + path, { redirect: "manual" });
    assert.notEqual(response.status, 302, path);
    assert.notEqual(response.status, 301, path);
    assert.equal(response.headers.get("location"), null, path);
  }
});

test("a code that looks like a URL cannot be created, so it can never redirect", async () => {
  for (const code of ["https://evil.example", "//evil.example", "evil.example", "a/b", "a%2Fb"]) {
    const { status, json } = await (async () => {
      const { api } = await import("./helpers.mjs");
      const seeded = await seed();
      return api("POST", "/api/v1/links", {
        program_id: seeded.program.id,
        partner_id: seeded.partner.id,
        destination: "https://shop.example/",
        code,
      });
    })();
    assert.equal(status, 422, code);
    assert.equal(json.error.field, "code");
  }
});
