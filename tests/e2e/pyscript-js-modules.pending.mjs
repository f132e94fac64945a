// PENDING until the symbols branch (issue 13, item 7: registered symbols as
// keys and values on the wire) is merged: then rename this file to
// tests/e2e/pyscript-js-modules.test.mjs (the e2e tier runs every
// *.test.mjs of tests/e2e) and add it to the e2e-sw file list in
// xtask/src/main.rs. Without item 7 polyscript's
// window[Symbol.for("polyscript.js_modules")] reads as undefined in the
// worker and the import never completes ("Cannot read properties of
// undefined (reading 'get')"); stock PyScript passes it.
//
// Run alone: node --test tests/e2e/pyscript-js-modules.pending.mjs
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
