// BridgeWorker creates its Worker before it sets up the page's side (main.js):
// the worker fetches and runs its script meanwhile, so the page's set-up,
// slow on a page's first BridgeWorker (first compile and run of that code),
// is off the start-up's critical path (docs/benchmarks.md, "Start-up (stop 15)").
// A stand-in for the browser's Worker records when it is constructed, by
// taking an id from the page's wait-for tracker (ids only grow): the
// endpoint's own id must be the later one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BridgeWorker } from "../src/main.js";
import { waitFor } from "../src/main-core.js";

test("the Worker is created before the page-side endpoint is set up", () => {
  const made = [];
  class FakeWorker {
    constructor(url, options) {
      const id = waitFor.addWorker({});
      waitFor.removeWorker(id);
      made.push({ url: String(url), options, id });
      this.terminated = false;
    }
    postMessage() {}
    addEventListener() {}
    terminate() { this.terminated = true; }
  }
  const saved = globalThis.Worker;
  globalThis.Worker = FakeWorker;
  let w;
  try {
    w = new BridgeWorker("./nothing.js", { type: "module", name: "order" });
    assert.equal(made.length, 1, "one Worker");
    assert.deepEqual(made[0].options, { type: "module", name: "order" });
    assert.ok(w.worker instanceof FakeWorker, "the Worker made first is the one attached");
    assert.ok(w._ep.wid > made[0].id, `endpoint registered (id ${w._ep.wid}) after the Worker was made (id ${made[0].id})`);
  } finally {
    w?.terminate();
    globalThis.Worker = saved;
  }
  assert.equal(w.worker.terminated, true);
});

test("a BridgeWorker whose page-side set-up throws terminates the Worker it made first", () => {
  // Fault injection: no known input makes the endpoint's set-up throw (the
  // page-wide tracker's registration could, if its wasm memory could not
  // grow); the Worker made before it must not keep running unowned.
  const made = [];
  class FakeWorker {
    constructor() { this.terminated = false; made.push(this); }
    postMessage() {}
    addEventListener() {}
    terminate() { this.terminated = true; }
  }
  const saved = globalThis.Worker;
  const addWorker = waitFor.addWorker;
  globalThis.Worker = FakeWorker;
  waitFor.addWorker = () => { throw new RangeError("injected: the tracker could not grow"); };
  try {
    assert.throws(() => new BridgeWorker("./nothing.js", { type: "module" }), /injected/);
  } finally {
    waitFor.addWorker = addWorker;
    globalThis.Worker = saved;
  }
  assert.equal(made.length, 1, "one Worker");
  assert.equal(made[0].terminated, true, "the Worker made before the failure was terminated");
});
