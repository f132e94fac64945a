// The Rust embedding in headless Chromium: a worker whose code is Rust
// (bridge_wasm::embed, the `full` wasm package) drives the real DOM and
// calls page functions synchronously; the page calls Rust. Served
// cross-origin isolated, with and without the strict CSP, and on a page
// without isolation on the service-worker transport: the same Rust code
// (WB_E2E_TRANSPORT=service-worker runs the first two on it as well).
//
// Needs bridge-js/pkg/full (see docs/rust.md) and Debian's chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { e2e, waitFor, assertClean, usesServiceWorker, E2E_TRANSPORT } from "./harness.mjs";

const PKG_JS = new URL("../../bridge-js/pkg/full/bridge_wasm.js", import.meta.url);
const h = e2e({ servers: ["isolated", "csp", "sw"] });

function requirePkg() {
  if (!existsSync(PKG_JS) || !readFileSync(PKG_JS, "utf8").includes("installEmbedSelftest")) {
    throw new Error(
      "bridge-js/pkg/full with the Rust embedding is missing: build it with " +
        "`cargo build -p bridge-wasm --target wasm32-unknown-unknown --profile release-wasm --features full` then " +
        "`wasm-bindgen --target web --out-dir bridge-js/pkg/full target/wasm32-unknown-unknown/release-wasm/bridge_wasm.wasm`",
    );
  }
}

for (const server of ["isolated", "csp", "sw"]) {
  // The transport run of the e2e-sw step covers the service worker with the
  // first two already.
  const skip = server === "sw" && E2E_TRANSPORT === "service-worker" ? "covered by the isolated and csp runs on this transport" : false;
  test(`Rust worker: typed calls, errors, DOM handles, exposed functions (${server})`, { timeout: 120_000, skip }, async (t) => {
    requirePkg();
    const sw = server === "sw" || usesServiceWorker(server);
    const p = await h.open(t, { server });
    const response = await p.page.goto(p.url(`/tests/e2e/rust/index.html${sw ? "?sw=1" : ""}`));
    assert.equal(response.status(), 200);
    await waitFor(p, "done", 90_000);
    const state = await p.page.evaluate(() => window.__e2e);
    assert.equal(state.error, null, `the page failed: ${JSON.stringify(state.error)}\n${p.log.join("\n")}`);
    const r = state.results;
    assert.equal(r.transport, sw ? "service-worker" : "atomics");
    assert.equal(r.crossOriginIsolated, !sw);
    assert.equal(r.seenId, "18446744073709551615");
    assert.deepEqual(r.seenToken, [0, 1, 254, 255]);
    assert.equal(r.seenTokenIsU8, true);
    assert.deepEqual(r.receipt.lines, ["2 x tea", "1 x cup"]);
    assert.equal(r.receipt.total, 7);
    assert.equal(r.receipt.order_id, "18446744073709551615");
    const [typeError, plain, missing, decode, thrownValue] = r.errors;
    assert.equal(typeError.name, "TypeError");
    assert.equal(typeError.message, "bad input: bad 1");
    assert.equal(plain.message, "plain failure");
    assert.match(missing.message, /noSuchFunction/);
    assert.match(decode, /expected u8/);
    assert.equal(thrownValue, 42);
    assert.equal(r.add, 5.5);
    assert.equal(r.reentry, 1030);
    assert.deepEqual(r.asyncCalls, { order: ["b passed", "a passed"], afterAwait: 41, inFlight: ["slow 200", "fast 200"], most: 2 });
    assert.deepEqual(r.dom, ["T", 3, 42, true, 5, true, true, 3]);
    assert.equal(r.testDocTitle, "T + Rust");
    assert.deepEqual(r.realDom, [true, "worker-bridge Rust embedding"]);
    assert.equal(r.paragraph, "hello from Rust");
    assert.deepEqual(r.importStats, [0, 0]);
    assert.equal(r.mainExports, 0);
    t.diagnostic(`200 page->Rust->page nested calls: ${r.msPer200Nested.toFixed(1)} ms`);
    assertClean({ errors: p.errors, state: null });
  });
}

for (const server of ["isolated", "sw"]) {
  const skip = server === "sw" && E2E_TRANSPORT === "service-worker" ? "covered by the isolated run on this transport" : false;
  test(`Rust worker: a panic or a JS exception thrown through Rust rejects every pending call with the reason, no hang (${server})`, { timeout: 90_000, skip }, async (t) => {
    requirePkg();
    const sw = server === "sw" || usesServiceWorker(server);
    const p = await h.open(t, { server });
    await p.page.goto(p.url(`/tests/e2e/rust/index.html?fail=1${sw ? "&sw=1" : ""}`));
    // The workers log why they stopped (console errors, checked below), so
    // the first one must not end the wait.
    await waitFor({ ...p, firstError: new Promise(() => {}) }, "done", 60_000);
    const state = await p.page.evaluate(() => window.__e2e);
    assert.equal(state.error, null, `the page failed: ${JSON.stringify(state.error)}\n${p.log.join("\n")}`);
    const f = state.results.failures;
    const why = {
      panics: /panicked at .*selftest panic: boom/s,
      panicsLater: /panicked at .*selftest async panic: later/s,
      throwsThrough: /Error: selftest throw: up/,
    };
    for (const [fn, re] of Object.entries(why)) {
      const r = f[fn];
      assert.equal(r.transport, sw ? "service-worker" : "atomics", fn);
      assert.equal(r.before, 5, fn);
      for (const part of ["call", "pending", "later"]) {
        assert.equal(r[part]?.name, "ClosedError", `${fn} ${part}: ${JSON.stringify(r[part])}`);
        assert.match(r[part].message, /the worker stopped serving/, `${fn} ${part}`);
        assert.match(r[part].message, re, `${fn} ${part}`);
      }
    }
    // The bootstrap logs why serving ended (its onError); nothing else.
    assertClean({ errors: p.errors, state: null }, { allow: [/rust-worker:|panicked at|selftest|unreachable|worker-bridge \(Rust worker\)/] });
  });
}

test("Rust worker on the service-worker transport, outside the service worker's scope: a clear error, no hang", { timeout: 60_000 }, async (t) => {
  requirePkg();
  const p = await h.open(t, { server: "sw" });
  // The page is controlled (scope /tests/e2e/); the worker script in
  // /bridge-js/ is not, so its wait reaches the server instead.
  await p.page.goto(p.url("/tests/e2e/rust/index.html?sw=1&scope=/tests/e2e/"));
  await waitFor(p, "done", 45_000);
  const state = await p.page.evaluate(() => window.__e2e);
  assert.equal(state.results.transport, "service-worker");
  assert.equal(state.results.receipt, undefined, "the first call (roundTrip) fails");
  assert.match(state.error?.message ?? "", /the worker-bridge service worker does not control this worker: .*__worker-bridge__\/wait answered with status 404/);
});
