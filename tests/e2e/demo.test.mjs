// The demo page (demo/) keeps working: the worker drives the DOM and reports.
// On the service-worker run (WB_E2E_TRANSPORT=service-worker) the page is
// served without COOP/COEP and opened as /demo/?sw (its ./bridge-sw.js).
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, E2E_TRANSPORT } from "./harness.mjs";

const h = e2e({ servers: ["isolated"] });
const SW = E2E_TRANSPORT === "service-worker";
const PATH = SW ? "/demo/?sw" : "/demo/";
const CALLS = SW ? 1000 : 10000; // demo/worker.js: fewer calls on the slower transport

test(`the demo's worker drives the page and measures ${CALLS} sync calls (${E2E_TRANSPORT})`, async (t) => {
  const p = await h.open(t);
  await p.page.goto(p.url(PATH));
  await Promise.race([
    p.page.waitForFunction(() => window.__demo && window.__demo.done, null, { timeout: 90_000, polling: 50 }),
    p.firstError,
  ]);
  const state = await p.page.evaluate(() => window.__demo);
  assert.equal(state.error, null, `the demo failed: ${state.error}\n${p.log.join("\n")}`);
  assert.equal(state.ok, true);
  const r = state.result;
  assert.equal(r.transport, E2E_TRANSPORT);
  assert.equal(r.href, p.url(PATH));
  assert.equal(r.title, "worker-bridge demo");
  assert.equal(r.calls, CALLS);
  assert.ok(r.ms > 0 && r.callsPerSecond > 0, `a measured figure: ${r.ms} ms, ${r.callsPerSecond} calls/s`);
  assert.equal(await p.page.locator("#transport").textContent(), E2E_TRANSPORT);
  assert.deepEqual(await p.page.locator("#list li").allTextContents(), [
    "apple (appended by the worker)",
    "banana (appended by the worker)",
    "cherry (appended by the worker)",
    "damson (appended by the worker)",
  ]);
  assert.match(await p.page.locator("#rate").textContent(), /^[\d,]+ calls\/s \(/);
  assert.ok(state.log.includes(`worker: window.location.href = ${p.url(PATH)}`), state.log.join("\n"));
  assert.deepEqual(p.errors, []);
});
