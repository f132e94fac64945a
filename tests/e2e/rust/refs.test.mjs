// Rust closures and objects by reference in headless Chromium
// (bridge_wasm::embed::{Callback, RustObject}; docs/rust.md): Rust adds
// click listeners with window.addEventListener and
// document.body.addEventListener, a trusted click and dispatched clicks reach
// Rust (also while Rust is blocked in a call), removeEventListener with the
// same Callback stops them; then N closures and N / 10 objects passed to the
// page and dropped there come back to zero on both sides after gc on the
// page (the page's FinalizationRegistry releases them, Rust drops them).
// Cross-origin isolated (Atomics) and on a page without isolation on the
// service-worker transport, as tests/e2e/rust.test.mjs does it
// (WB_E2E_TRANSPORT=service-worker runs the first one on it as well).
//
// Needs bridge-js/pkg/full (`cargo xtask build`) and Debian's chromium.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { e2e, waitFor, assertClean, usesServiceWorker, E2E_TRANSPORT } from "../harness.mjs";

const PKG_JS = new URL("../../../bridge-js/pkg/full/bridge_wasm.js", import.meta.url);
const h = e2e({ servers: ["isolated", "sw"] });

for (const server of ["isolated", "sw"]) {
  // The transport run of the e2e-sw step covers the service worker with the
  // first one already.
  const skip = server === "sw" && E2E_TRANSPORT === "service-worker" ? "covered by the isolated run on this transport" : false;
  const sw = server === "sw" || usesServiceWorker(server);
  // Every call the page makes into Rust and back costs a few ms through the
  // service worker (a postMessage or a synchronous XMLHttpRequest each).
  const N = sw ? 300 : 2000;
  test(`Rust Callbacks as click listeners, and ${N} closures dropped by the page: both tables back to zero (${server})`, { timeout: 240_000, skip }, async (t) => {
    await run(t, server, sw, N);
  });
}

async function run(t, server, sw, N) {
  if (!existsSync(PKG_JS) || !readFileSync(PKG_JS, "utf8").includes("installRefsSelftest")) {
    throw new Error("bridge-js/pkg/full lacks installRefsSelftest: run `cargo xtask build` (it builds the `full` wasm package)");
  }
  const p = await h.open(t, { server });
  const response = await p.page.goto(p.url(`/tests/e2e/rust/refs.html?n=${N}${sw ? "&sw=1" : ""}`));
  assert.equal(response.status(), 200);
  await waitFor(p, "armed", 120_000);
  await p.page.click("#target");
  await waitFor(p, "done", 180_000);
  const state = await p.page.evaluate(() => window.__e2e);
  assert.equal(state.error, null, `the page failed: ${JSON.stringify(state.error)}\n${p.log.join("\n")}`);
  const r = state.results;
  assert.equal(r.transport, sw ? "service-worker" : "atomics");
  // Both listeners survived gc on the page while only the page held them:
  // two Rust exports, one receipt each; nothing dropped yet.
  assert.deepEqual(r.listening.rust, { live: 2, count: 2, dropped: 0, imports: 0 }, JSON.stringify(r.listening));
  assert.equal(r.listening.page, r.base + 2);
  assert.deepEqual(r.trustedClicks, ["body:click:target:trusted", "window:click:target:trusted"]);
  assert.deepEqual(r.whileBlocked, ["body:click:target:22"]);
  assert.deepEqual(r.afterUnlisten, []);
  assert.deepEqual(r.identity, [true, true, true, true]);
  assert.equal(r.methodResult, 5);
  const [encodeError, takenBack, [again, construct]] = r.errors;
  assert.equal(encodeError, true);
  assert.equal(takenBack, true, "a call whose arguments failed to serialize leaves no export behind");
  assert.match(again, /^Error: worker-bridge: the Rust Callback is already running on the worker/);
  assert.match(construct, /^TypeError: worker-bridge: a Callback of the Rust worker supports only being called; not new \(construct\)$/);
  let sum = 0;
  for (let i = 0; i < N; i++) sum += 2 * i + (i % 10 === 0 ? i : 0);
  assert.equal(r.churnSum, sum);
  assert.equal(r.calls, N);
  // Everything went: no export left in Rust, no import on the page, and
  // every closure and object (with what it captured) dropped in Rust.
  assert.deepEqual(r.final.rust, { live: 0, count: 0, dropped: r.expectDropped, imports: 0 }, JSON.stringify(r.final));
  assert.equal(r.final.page, r.base);
  assert.equal(r.expectDropped, 5 + N + N / 10);
  t.diagnostic(`settled after ${r.final.rounds} gc rounds; Rust exports right after the churn: ${JSON.stringify(r.peak)}`);
  assertClean({ errors: p.errors, state: null });
}
