// worker-bridge/coincident/main and /worker used directly, as polyscript
// does (docs/pyscript.md), and the bridge's own channel: user messages
// beside the bridge, both ways, with BridgeWorker / bridge() and with the
// compat Worker. Page: tests/e2e/coincident/page.html?case=compat|compat-import|compat-async|bridge.
// On the service-worker run (e2e-sw) the pages pass the service worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, E2E_TRANSPORT, usesServiceWorker } from "./harness.mjs";

const h = e2e({ servers: ["isolated", "csp", "plain"] });

async function run(t, kase, server = "isolated") {
  const p = await h.open(t, { server });
  const q = new URLSearchParams({ case: kase });
  if (usesServiceWorker(server)) q.set("sw", "1");
  await p.page.goto(p.url(`/tests/e2e/coincident/page.html?${q}`));
  await p.page.waitForFunction(() => window.__c && window.__c.done, null, { timeout: 60_000, polling: 50 });
  const c = await p.page.evaluate(() => window.__c);
  assert.equal(c.error, undefined, `the page failed: ${c.error}\n${p.log.join("\n")}`);
  assert.deepEqual(p.errors, []);
  return c;
}

test(`BridgeWorker / bridge(): user messages both ways never meet a bridge message (${E2E_TRANSPORT})`, async (t) => {
  const c = await run(t, "bridge");
  assert.equal(c.worker.add, 5);
  assert.deepEqual(c.worker.seen, [], "no bridge message reached the worker's own listener");
  assert.deepEqual(c.seen, ["echo:1", "echo:2"], "the page's Worker listener saw only the worker's user messages");
});

test(`coincident compat: a real Worker; proxy, transform both ways, ffi in one call each, window.import, user messages, terminate (${E2E_TRANSPORT})`, async (t) => {
  const c = await run(t, "compat");
  assert.equal(c.isWorker, true);
  const w = c.worker;
  assert.equal(w.sync, true);
  assert.equal(w.native, E2E_TRANSPORT === "atomics");
  assert.equal(w.isProxy, true);
  assert.equal(w.add, 5, "the worker's transform applied to the arguments it sent");
  assert.equal(w.pageResult, "unwrapped by the page's transform", "the page's transform applied to its result");
  assert.deepEqual(w.gather, ["coincident compat", "box"]);
  assert.equal(w.query, "/tests/e2e/coincident/page.html");
  assert.deepEqual(w.localGather, [2]);
  assert.equal(w.assigned, "yes");
  assert.equal(w.evaluate, 6 * 7 + "coincident compat".length, "ffi.evaluate ran on the page");
  assert.deepEqual(w.seen, []);
  assert.deepEqual(c.imported, ["imported on the page", "coincident compat"], "window.import() imported the module on the page");
  assert.deepEqual(c.seen, ["echo:1", "echo:2"]);
  assert.equal(c.terminated, "ClosedError");
});

test(`coincident compat: the Worker's import option serves window.import() (${E2E_TRANSPORT})`, async (t) => {
  const c = await run(t, "compat-import");
  assert.deepEqual(c.imported, ["the import option: ./module.js", "option"]);
});

test("coincident compat under a CSP without 'unsafe-eval': ffi.evaluate throws a clear EvalError, the rest works", { skip: E2E_TRANSPORT !== "atomics" && "the csp server is the Atomics run's" }, async (t) => {
  const c = await run(t, "compat", "csp");
  assert.equal(c.worker.add, 5);
  assert.match(c.worker.evaluate, /^EvalError: ffi\.evaluate\(\) compiles the function's source on the main thread with Function\(\), which this page's Content-Security-Policy forbids/);
});

test(`coincident compat: a set-up that throws after the Worker started leaves no Worker running (${E2E_TRANSPORT})`, async (t) => {
  const c = await run(t, "compat-throw");
  t.diagnostic(JSON.stringify(c));
  assert.match(c.timeoutError, /^TypeError: BridgeWorker: timeout must be a number of ms >= 0, got Symbol\(ms\)$/, "a timeout that is no number: the constructor throws a TypeError that names it");
  assert.match(c.timeoutStringError, /^TypeError: BridgeWorker: timeout must be a number of ms >= 0, got abc$/, "a string timeout is no time-out of 0");
  const bad = ["bad-timeout", "bad-timeout-string"];
  if (E2E_TRANSPORT === "atomics") {
    // (The service-worker transport allocates no shared memory.)
    assert.equal(c.allocError, "RangeError: Array buffer allocation failed", "the allocation's error, as it was thrown");
    bad.push("bad-alloc");
  }
  // A Worker that had started its script before it was terminated may have
  // beaten before the good one first did; none beats after that.
  for (const tag of bad) {
    assert.equal(c.beatsAtLast[tag] ?? 0, c.beatsAtFirst[tag] ?? 0, `${tag}: its Worker still runs`);
  }
  assert.ok(c.beatsAtLast.good >= 8);
});

test("coincident compat without COOP/COEP or a service worker: touching `window` throws an error that names the compat Worker's option", async (t) => {
  const c = await run(t, "compat-async", "plain");
  assert.equal(c.transport, "async");
  const msg = c.windowError;
  assert.match(msg, /^BridgeError: worker-bridge: unable to use `window`/);
  assert.match(msg, /Cross-Origin-Opener-Policy/);
  // The option is on the Worker this page made (coincident compat), which
  // has no BridgeWorker to name.
  assert.match(msg, /give the page's Worker the `serviceWorker` option/);
  assert.doesNotMatch(msg, /BridgeWorker/);
});

// The worker keeps its proxy of the page's `document` (docs/architecture.md):
// per worker, never shared or carried over to a worker made later, and
// not replaced by assigning `document` on either side.
test(`coincident compat: window.document from two workers at once and from a worker made after terminate(), with document globals assigned (${E2E_TRANSPORT})`, async (t) => {
  const c = await run(t, "documents");
  t.diagnostic(JSON.stringify(c));
  for (const [w, title] of [["a", "coincident compat"], ["b", "coincident compat"], ["c", "renamed after a terminated"]]) {
    const r = c[w];
    assert.equal(r.same, true, `${w}: window.document is one proxy while it lives`);
    assert.equal(r.isProxy, true, `${w}: a proxy of the page's document`);
    assert.equal(r.title, title, `${w}: the page's title when ${w} read it`);
    assert.equal(r.ownGlobal, title, `${w}: the worker's own global document, assigned from window.document`);
    assert.equal(r.assign, "TypeError", `${w}: the page's window.document is unforgeable: a strict-mode assignment throws, as on the page`);
    assert.equal(r.afterAssign, title, `${w}: window.document is still the page's after the assignment`);
    assert.equal(r.sameAfterAssign, true);
  }
  assert.equal(c.bAgain, "renamed after a terminated", "b reads the page's document as it is now");
  assert.deepEqual(c.dataset, { a: "coincident compat", b: "coincident compat", c: "renamed after a terminated" });
});
