// Transport selection: COOP/COEP -> "atomics"; no isolation and no service
// worker -> "async" with a clear error; a strict Content-Security-Policy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, workerResult, assertClean, CSP, STRICT_CSP, E2E_TRANSPORT } from "./harness.mjs";

// WB_E2E_TRANSPORT=service-worker: the "isolated" server runs without COOP/COEP
// and the page passes the serviceWorker option (see harness.mjs).
const SW_RUN = E2E_TRANSPORT === "service-worker";

const h = e2e({ servers: ["isolated", "plain", "csp", "strict"] });

test("a cross-origin isolated page uses the atomics transport", async (t) => {
  const r = await h.run(t, { worker: "transport.js", case: "describe" });
  assert.deepEqual(workerResult(r), SW_RUN
    ? { transport: "service-worker", native: false, crossOriginIsolated: false, hasSAB: "undefined" }
    : { transport: "atomics", native: true, crossOriginIsolated: true, hasSAB: "function" });
  assertClean(r);
});

test("without COOP/COEP and without a service worker: async transport and a clear error", async (t) => {
  const r = await h.run(t, { worker: "transport.js", case: "asyncTouch", pull: true, server: "plain" });
  assert.equal(await r.page.evaluate(() => crossOriginIsolated), false);
  const o = workerResult(r); // fetched by a main -> worker call: that direction works
  assert.equal(o.transport, "async");
  assert.equal(o.native, false);
  assert.equal(o.crossOriginIsolated, false);
  assert.equal(o.windowThrew, true, "touching window must throw on the async transport");
  assert.equal(o.windowError.isError, true);
  const msg = o.windowError.message;
  assert.match(msg, /Cross-Origin-Opener-Policy/, `the error names the COOP header: ${msg}`);
  assert.match(msg, /Cross-Origin-Embedder-Policy/, `the error names the COEP header: ${msg}`);
  assert.match(msg, /serviceWorker/, `the error names the serviceWorker option: ${msg}`);
  // Calls into main cannot block here; they return a Promise of the result
  // (pages/run.js: sync.log returns how many parts it logged).
  assert.equal(o.syncError, undefined, `the call into main failed: ${JSON.stringify(o.syncError)}`);
  assert.equal(o.syncReturnedPromise, true);
  assert.equal(o.syncResult, 2);
  assert.ok(r.state.log.includes("[worker] a call on the async transport second part"), "main ran the call");
  assertClean(r);
});

// Both policies forbid eval; the strict one forbids compiling wasm too, so
// whatever the package loads (a wasm core, its wasm2js twin) must work there.
for (const [server, policy] of [["csp", CSP], ["strict", STRICT_CSP]]) {
  test(`the bridge works under Content-Security-Policy: ${policy}`, async (t) => {
    const r = await h.run(t, { worker: "proxy.js", case: "csp", server });
    assert.equal(r.response.headers()["content-security-policy"], policy);
    assert.deepEqual(workerResult(r), {
      transport: SW_RUN ? "service-worker" : "atomics",
      native: !SW_RUN,
      title: "worker-bridge e2e",
      paragraph: "written under CSP",
      parseInt: 17,
      syncCallResult: 2,
      // The policy is in force in the worker: no eval, and no wasm under the strict one.
      refused: { eval: true, wasm: server === "strict" },
    });
    assert.equal(await r.page.locator("#csp-paragraph").textContent(), "written under CSP");
    // The main thread's tracker: its .wasm where wasm may be compiled, its
    // wasm2js build (imported on demand) where the policy forbids it.
    const files = await r.page.evaluate(() => performance.getEntriesByType("resource").map((e) => new URL(e.name).pathname));
    assert.ok(files.some((f) => f.endsWith("/main-core.wasm")), files.join("\n"));
    assert.equal(files.some((f) => f.endsWith("/main-core-js.js")), server === "strict", files.join("\n"));
    assertClean(r); // the page's securitypolicyviolation events: none
  });
}
