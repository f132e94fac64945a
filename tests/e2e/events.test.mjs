// A DOM event delivered to a listener that lives in a worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, waitFor, workerResult, mainResult, assertClean, E2E_TRANSPORT } from "./harness.mjs";

const h = e2e({ servers: ["isolated"] });

test("a click on the page reaches a worker's window.addEventListener listener", async (t) => {
  const r = await h.run(t, {
    worker: "events.js",
    case: "click",
    beforeDone: async (p) => {
      await waitFor(p, "armed", 30_000);
      await p.page.click("#target");
    },
  });
  assert.deepEqual(workerResult(r), {
    type: "click",
    isTrusted: true,
    targetId: "target",
    button: 0,
    clientXType: "number",
    targetIsTheButton: true,
  });
  assertClean(r);
});

// Item 7 of issue 14: main dispatches the event to the worker listener
// synchronously and waits (eventWait ms, atomics transport) serving the
// worker's calls, so preventDefault()/stopPropagation() take effect.
test("a worker listener's preventDefault() and stopPropagation() take effect; past eventWait the event goes on", async (t) => {
  const r = await h.run(t, { main: "events.js?wait=10000" });
  const m = mainResult(r);
  if (E2E_TRANSPORT === "atomics") {
    assert.deepEqual(m.test, { notPrevented: false, defaultPrevented: true, bubbled: false, ranBeforeReturn: ["listener wb-test"] });
    // Prevented from inside the worker's own blocked dispatchEvent call.
    assert.deepEqual(m.nested, { notPrevented: false, defaultPrevented: true });
  } else {
    // The service-worker transport delivers the worker's messages to the page
    // as message events: main cannot wait for the listener (documented).
    assert.deepEqual(m.test, { notPrevented: true, defaultPrevented: false, bubbled: true, ranBeforeReturn: [] });
  }
  // The slow listener (busy 300 ms) is within this 10 s bound: main waited
  // for it (atomics); the next test has a bound it exceeds.
  if (E2E_TRANSPORT === "atomics") {
    assert.deepEqual(m.slow.ranBeforeReturn, ["slow listener wb-slow eventPhase=2"]);
  } else {
    assert.deepEqual(m.slowRanLater, ["slow listener wb-slow eventPhase=0"]);
  }
  assertClean(r);
});

test("eventWait bounds the wait: a slow worker listener runs after dispatchEvent returned", async (t) => {
  // The listener holds on until the page's dispatchEvent returned (it asks
  // the page): no time decides the outcome. Were main to wait for it past
  // eventWait, the listener would see over=false and eventPhase=2.
  const r = await h.run(t, { main: "events.js?wait=20&slow=wb-late" });
  const m = mainResult(r);
  assert.deepEqual(m.slow, { notPrevented: true, defaultPrevented: false, bubbled: true, ranBeforeReturn: [] });
  // The listener still ran; the event went on before it finished.
  assert.deepEqual(m.slowRanLater, ["late listener wb-late over=true eventPhase=0"]);
  assertClean(r);
});
