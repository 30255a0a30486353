// The Worker's entry module (wrangler.toml's and wrangler.links.toml's `main`; copied
// next to worker-build's output by scripts/build.sh): the handlers worker-build
// generates, exported as a plain object.
//
// worker-build 0.8.7 exports its entry class wrapped in a Proxy that, on every request,
// constructs the class, wraps the instance in a second Proxy and the handler in a third:
// a redirect spent 22 µs there, a tenth of its time (bench/profile). Those Proxies
// re-create stateful instances (Durable Objects) after a panic; this Worker has none,
// and its panic recovery does not depend on them: the wasm-bindgen glue marks the
// instance terminated when Rust aborts, the worker crate's abort handler schedules a
// re-initialisation, and the next call into wasm instantiates the module afresh
// (tests/e2e/panic.test.mjs proves it through this entry).
//
// Each generated handler is `function (arg) { return exports.<name>.call(this, arg,
// this.env, this.ctx) }`: it reads only `env` and `ctx` from `this`.
import Entrypoint from "../index.js";

const { fetch, queue, scheduled } = Entrypoint.prototype;

const handlers = {
  fetch(request, env, ctx) {
    return fetch.call({ env, ctx }, request);
  },
};
if (queue) {
  handlers.queue = (batch, env, ctx) => queue.call({ env, ctx }, batch);
}
if (scheduled) {
  handlers.scheduled = (event, env, ctx) => scheduled.call({ env, ctx }, event);
}

export default handlers;
