// Node tier: a decode that runs user code. The decoder assigns an object's
// keys, so a setter on Object.prototype runs in the middle of a decode, and
// a sync call it makes has its reply decoded inside the outer one (so can a
// getter or a Proxy trap the codec reaches). The outer message's bookkeeping
// must survive that: the proxies it brings stay held until it is delivered
// (docs/references.md, queued requests) and are named after the call that
// brought them. The same for an encode: a getter of a value being sent may
// make a sync call, and the releases riding on the outer message must still
// go. Real node:worker_threads on both sides.
//
// Run: node --test --expose-gc bridge-js/test/reentrant.test.js
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { BridgeWorker } from "../src/main.js";

const FIXTURE = new URL("./fixtures/reentrant-worker.js", import.meta.url);

class Shared {
  constructor(value) {
    this.value = value;
  }
}

// Main's export table goes back to `want` once the worker's releases came.
async function exportsSettle(w, want) {
  const deadline = Date.now() + 30_000;
  while (w.stats().exports !== want) {
    if (Date.now() > deadline) assert.equal(w.stats().exports, want, "main's exports after the worker released everything");
    await w.sync.stats(); // a round trip: releases ride on it or follow it
    await new Promise((r) => setTimeout(r, 30));
  }
}

describe("a sync call made by code the decoder runs, in the middle of a message", () => {
  let w;
  let nops = 0;
  let nopCalled = null;
  before(async () => {
    globalThis.reShared = new Shared(40);
    globalThis.reShared2 = new Shared(2);
    w = new BridgeWorker(FIXTURE, { type: "module" });
    w.sync.reNop = () => {
      nops++;
      nopCalled?.();
      return new Shared(1);
    };
    await w.ready;
  });
  after(() => w.terminate());

  test("an outer frame's early reply keeps the proxies it brings usable, before and after the nested call", async () => {
    let inner = null;
    w.sync.reOuter = () => {
      // Nested into the worker's blocked call, sent before this reply.
      inner = w.sync.inner();
      return { p: globalThis.reShared, zzNest: 1, q: globalThis.reShared2 };
    };
    const r = await w.sync.stashed();
    assert.equal(await inner, 42, "the nested call read both objects and released them");
    assert.equal(r.nested, 1, "the setter made its call while the reply was decoded");
    assert.equal(r.same, true, "one proxy per id");
    assert.equal(r.p, 40, "the proxy decoded before the nested call");
    assert.equal(r.q, 2, "the proxy decoded after the nested call");
    assert.match(r.nestedGot, /^worker-bridge: sync\.reNop was released/, "the nested call's result, released before the reply was delivered, is not brought back by it");
    await exportsSettle(w, 0);
  });

  test("a proxy decoded after the nested call is named after the call that brought it", async () => {
    w.sync.reMake = () => ({ zzNest: 1, q: new Shared(7) });
    const r = await w.sync.named();
    assert.equal(r.nested, 1);
    assert.match(r.message, /^worker-bridge: sync\.reMake was released/);
    await exportsSettle(w, 0);
  });

  test("a getter the encoder runs makes a sync call: the releases riding on the outer request or reply still arrive", async () => {
    w.sync.reTake = (o) => o.x;
    assert.equal(await w.sync.getterInRequest(), 41);
    await exportsSettle(w, 0);
    assert.deepEqual(await w.sync.getterInReply(), { v: 40, o: { x: 1 } });
    await exportsSettle(w, 0);
  });

  test("a reply that cannot be sent after a getter's call made main call back in: the caller gets the error, not a hang", async () => {
    w.sync.reBack = async () => await w.sync.reInner();
    await assert.rejects(w.withTimeout(20_000, () => w.sync.getterThenTooDeep()), (e) => {
      assert.match(e.message, /cannot be sent to the other side: .*nested deeper than 512/);
      return true;
    });
  });

  test("a request or a reply that fails to encode after a getter's sync call takes back what it counted and took before it", async () => {
    w.sync.reTake = () => "never called";
    const r = await w.sync.requestFailsAfterGetter();
    assert.match(r.error, /nested deeper than 512/);
    assert.equal(r.exports, 0, "the worker's export of the function the failed request carried was taken back");
    await exportsSettle(w, 0); // the worker's release of reShared was queued again and went
    const before = (await w.sync.stats()).exports;
    await assert.rejects(w.sync.replyFailsAfterGetter(), /cannot be sent to the other side: .*nested deeper than 512/);
    assert.equal((await w.sync.stats()).exports, before, "the worker's export of the function the failed reply carried was taken back");
    await exportsSettle(w, 0);
  });

  test("a getter's sync call in a request that moves a buffer: the buffer goes with that request, no hang", async () => {
    w.sync.reAsk = () => "asked";
    w.sync.reTake = (b, o) => `${new Uint8Array(b).join(",")} ${o.x}`;
    assert.deepEqual(await w.withTimeout(20_000, () => w.sync.moveWithGetter()), ["1,2,3 asked", 0], "moved (detached in the worker)");
  });

  test("a queued request keeps the proxies it brings usable, before and after the nested call", async () => {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    w.worker.postMessage({ reFlag: flag.buffer });
    for (const deadline = Date.now() + 10_000; !(await w.sync.hasFlag());) {
      assert.ok(Date.now() < deadline, "the worker never got the flag");
    }
    // Main answers reHold once the setter's call came: the queued request
    // has been decoded by then.
    const nopSeen = new Promise((r) => { nopCalled = r; });
    w.sync.reHold = async () => {
      await nopSeen;
      return "held";
    };
    await w.sync.fetch();
    const nops0 = nops;
    const blocked = w.sync.blockThenRelease();
    // Synchronously, so main cannot learn that the worker is blocked: the
    // call below is not nested; the worker queues it.
    for (const deadline = Date.now() + 10_000; Atomics.load(flag, 0) !== 1;) {
      if (Date.now() > deadline) throw new Error("the worker did not block");
    }
    const queued = w.sync.useQueued(globalThis.reShared, { zzNest: 1 }, globalThis.reShared2);
    assert.deepEqual(await blocked, { r: "held", nested: 1 });
    assert.equal(nops - nops0, 1);
    assert.deepEqual(await queued, { p: 40, q: 2 }, "the queued request ran with usable proxies");
    nopCalled = null;
    await exportsSettle(w, 0);
  });
});

test("a transform that makes a sync call while the call it converts is made: that call still goes out as made", async () => {
  const w = new BridgeWorker(new URL("./fixtures/reentrant-transform-worker.js", import.meta.url), { type: "module" });
  try {
    w.sync.reAsk = () => "main's answer";
    w.sync.reTake = (a, b) => `${a}, ${b}`;
    assert.equal(await w.sync.callThroughTransform(), "main's answer, 2");
  } finally {
    w.terminate();
  }
});
