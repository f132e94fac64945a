// The demo page (demo/) keeps working: the worker drives the DOM and reports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e } from "./harness.mjs";

const h = e2e({ servers: ["isolated"] });

test("the demo's worker drives the page and measures 10000 sync calls", async (t) => {
  const p = await h.open(t);
  await p.page.goto(p.url("/demo/"));
  await Promise.race([
    p.page.waitForFunction(() => window.__demo && window.__demo.done, null, { timeout: 60_000, polling: 50 }),
    p.firstError,
  ]);
  const state = await p.page.evaluate(() => window.__demo);
  assert.equal(state.error, null, `the demo failed: ${state.error}\n${p.log.join("\n")}`);
  assert.equal(state.ok, true);
  const r = state.result;
  assert.equal(r.transport, "atomics");
  assert.equal(r.href, p.url("/demo/"));
  assert.equal(r.title, "worker-bridge demo");
  assert.equal(r.calls, 10000);
  assert.ok(r.ms > 0 && r.callsPerSecond > 0, `a measured figure: ${r.ms} ms, ${r.callsPerSecond} calls/s`);
  assert.equal(await p.page.locator("#transport").textContent(), "atomics");
  assert.deepEqual(await p.page.locator("#list li").allTextContents(), [
    "apple (appended by the worker)",
    "banana (appended by the worker)",
    "cherry (appended by the worker)",
    "damson (appended by the worker)",
  ]);
  assert.match(await p.page.locator("#rate").textContent(), /^[\d,]+ calls\/s \(/);
  assert.ok(state.log.includes(`worker: window.location.href = ${p.url("/demo/")}`), state.log.join("\n"));
  assert.deepEqual(p.errors, []);
});
