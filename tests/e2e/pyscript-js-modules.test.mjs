// `from pyscript.js_modules import x` in a PyScript MicroPython worker:
// polyscript reads window[Symbol.for("polyscript.js_modules")] from the
// worker, which needs registered symbols as keys on the wire (issue 13,
// item 7; docs/protocol.md §2 "Symbols"). Without them the read is
// undefined and the import never completes ("Cannot read properties of
// undefined (reading 'get')"); stock PyScript passes it.
//
// Run alone: node --test tests/e2e/pyscript-js-modules.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, E2E_TRANSPORT, usesServiceWorker } from "./harness.mjs";

const h = e2e({ servers: ["isolated"] });

test(`from pyscript.js_modules import x in a MicroPython worker (${E2E_TRANSPORT})`, async (t) => {
  const p = await h.open(t, { server: "isolated" });
  const q = new URLSearchParams({ type: "mpy", src: "js_modules.py", config: "mpy-js.json" });
  if (usesServiceWorker("isolated")) q.set("sw", "1");
  await p.page.goto(p.url(`/tests/e2e/pyscript/page.html?${q}`));
  await p.page.waitForFunction(() => window.__py && window.__py.done, null, { timeout: 60_000, polling: 50 });
  assert.equal(await p.page.evaluate(() => window.__py.jsmod), "hello worker from a page module");
  assert.deepEqual(p.errors, []);
});
