// Node tier: real worker_threads, real SharedArrayBuffers, both directions.
// Run: node --test --expose-gc bridge-js/test/
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { BridgeWorker, DeadlockError, TimeoutError, ClosedError } from "../src/main.js";

const FIXTURE = new URL("./fixtures/worker.js", import.meta.url);

class TestClass {
  constructor(v) {
    this.value = v;
  }
}

function freshGlobals() {
  globalThis.testObj = {
    num: 1,
    str: "s",
    nested: { deep: { value: "v" } },
    toDelete: 1,
    list: [1, 2, 3],
    method(a, b) {
      return a * b;
    },
    getNum() {
      return this.num;
    },
  };
  globalThis.testDoc = { title: "T" };
  globalThis.TestClass = TestClass;
  globalThis.altProto = { alt: () => "alt" };
  globalThis.testTarget = new EventTarget();
}

function exposeMain(w) {
  w.sync.echoMain = (v) => v;
  w.sync.inc = (i) => i + 1;
  w.sync.nop = () => {};
  w.sync.readMain = (k) => globalThis.testObj[k];
  w.sync.hasMain = (k) => k in globalThis.testObj;
  w.sync.describeMain = (k) => Object.getOwnPropertyDescriptor(globalThis.testObj, k);
  w.sync.isMainTestObj = (o) => o === globalThis.testObj;
  w.sync.isMainGlobal = (g) => g === globalThis;
  const shared = { count: 1 };
  w.sync.getShared = () => shared;
}

// Values that must arrive equal (deepStrictEqual: -0, NaN, holes, types).
function valueCases() {
  const cyclic = { name: "c" };
  cyclic.self = cyclic;
  const cyclicArr = [1];
  cyclicArr.push(cyclicArr);
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  return {
    undefined: undefined,
    null: null,
    true: true,
    false: false,
    zero: 0,
    negZero: -0,
    int: -123456,
    bigInt32: 2 ** 31,
    float: 1.5,
    nan: NaN,
    inf: Infinity,
    negInf: -Infinity,
    maxSafe: Number.MAX_SAFE_INTEGER,
    bigint: 123456789012345678901234567890n,
    negBigint: -(2n ** 100n),
    zeroBigint: 0n,
    empty: "",
    ascii: "hello",
    unicode: "héllo ✓ 😀",
    loneHigh: "a\uD800b",
    loneLow: "\uDC00",
    bom: "\uFEFFx",
    array: [1, "two", [3]],
    sparse,
    object: { a: 1, b: { c: [true] }, "with space": null },
    protoKey: JSON.parse('{"__proto__": 5}'),
    map: new Map([[1, "a"], [{ k: 1 }, new Set([2])]]),
    set: new Set(["x", 1, null]),
    date: new Date(1700000000000),
    regexp: /a+b\/c/giu,
    arrayBuffer: new Uint8Array([1, 2, 3]).buffer,
    uint8: new Uint8Array([0, 255]),
    int16: new Int16Array([-1, 300]),
    float64: new Float64Array([Math.PI, -0, NaN]),
    bigint64: new BigInt64Array([-1n, 2n ** 62n]),
    clamped: new Uint8ClampedArray([7]),
    dataView: new DataView(new Uint8Array([9, 8, 7]).buffer),
    subarray: new Uint32Array([1, 2, 3, 4]).subarray(1, 3),
    cyclic,
    cyclicArr,
  };
}

describe("worker-bridge on node:worker_threads", () => {
  let w;
  before(async () => {
    freshGlobals();
    w = new BridgeWorker(FIXTURE, { type: "module" });
    exposeMain(w);
    await w.ready;
  });
  after(() => w.terminate());

  test("handshake: atomics transport, window proxy", async () => {
    assert.equal(w.transport, "atomics");
    assert.ok(w.worker, "the underlying Worker is exposed");
    assert.deepEqual(await w.sync.info(), { native: true, transport: "atomics", isWindow: true, isPlain: false });
  });

  test("every value kind survives main -> worker -> main by copy", async () => {
    for (const [name, v] of Object.entries(valueCases())) {
      const back = await w.sync.echo(v);
      assert.deepStrictEqual(back, v, name);
      if (v !== null && typeof v === "object") assert.notEqual(back, v, `${name} is a copy`);
    }
    const cyc = await w.sync.echo(valueCases().cyclic);
    assert.equal(cyc.self, cyc, "cycle kept");
    const s = { shared: true };
    const pair = await w.sync.echo([s, s]);
    assert.equal(pair[0], pair[1], "shared object stays shared");
    // An invalid Date (deepStrictEqual cannot compare two: NaN !== NaN).
    const bad = await w.sync.echo(new Date(NaN));
    assert.ok(bad instanceof Date && Number.isNaN(bad.getTime()));
    // A null-prototype object is a plain object; it arrives with Object.prototype.
    assert.deepStrictEqual(await w.sync.echo(Object.assign(Object.create(null), { k: 1 })), { k: 1 });
    const sub = await w.sync.echo(new Uint32Array([1, 2, 3, 4]).subarray(1, 3));
    assert.equal(sub.byteOffset, 0);
    assert.equal(sub.buffer.byteLength, 8, "only the view's bytes cross");
  });

  test("every value kind survives worker -> main -> worker by copy", async () => {
    for (const [name, v] of Object.entries(valueCases())) {
      assert.deepStrictEqual(await w.sync.viaMain(v), v, name);
    }
  });

  test("functions and class instances cross by reference and come home as themselves", async () => {
    const fn = () => 1;
    const inst = new TestClass(3);
    assert.equal(await w.sync.echo(fn), fn);
    assert.equal(await w.sync.echo(inst), inst);
    const mixed = await w.sync.echo({ fn, inst, n: 1 });
    assert.equal(mixed.fn, fn);
    assert.equal(mixed.inst, inst);
  });

  test("results are copies: mutating one in the worker leaves main's object alone", async () => {
    assert.equal(await w.sync.mutateCopy(), 1);
  });

  test("async worker functions are awaited for main's call", async () => {
    assert.equal(await w.sync.asyncAdd(20, 22), 42);
    assert.equal(await w.sync.add(1, 2), 3);
  });

  test("100k back-to-back sync calls return correct results", async () => {
    const n = 100_000;
    const t0 = performance.now();
    const r = await w.sync.loop(n);
    const us = ((performance.now() - t0) * 1000) / n;
    assert.equal(r.bad, -1, `call ${r.bad} returned ${r.got}`);
    assert.equal(r.sum, (n * (n + 1)) / 2);
    console.log(`# worker->main sync call round trip: ${us.toFixed(2)} us (100k calls)`);
  });

  test("8 MiB payloads both ways", async () => {
    const N = 8 << 20;
    w.sync.makeBig = () => {
      const b = new Uint8Array(N);
      for (let i = 0; i < N; i++) b[i] = (i * 7) & 0xff;
      return b;
    };
    const r = await w.sync.bigFromMain();
    let sum = 0;
    for (let i = 0; i < N; i += 4096) sum += (i * 7) & 0xff;
    assert.deepEqual(r, { length: N, sum, last: ((N - 1) * 7) & 0xff });
    const fromWorker = await w.sync.makeBig(N);
    assert.equal(fromWorker.length, N);
    for (const i of [0, 1, 255, 256, 1 << 20, N - 1]) assert.equal(fromWorker[i], i & 0xff);
    const bigString = "x".repeat(N - 3) + "\uD800yz";
    assert.equal(await w.sync.echo(bigString), bigString);
  });

  test("errors from the worker keep name, message, cause, own props and stack", async () => {
    const e = await w.sync.throwError().then(() => null, (x) => x);
    assert.ok(e instanceof RangeError);
    assert.equal(e.name, "RangeError");
    assert.equal(e.message, "worker says no");
    assert.ok(e.cause instanceof Error);
    assert.equal(e.cause.message, "root cause");
    assert.equal(e.code, "E_WORKER");
    assert.deepEqual(e.detail, { n: 1 });
    assert.match(e.stack, /throwError|worker\.js/);
  });

  test("thrown non-Errors arrive as thrown, both ways", async () => {
    await assert.rejects(w.sync.throwValue(42), (v) => v === 42);
    await assert.rejects(w.sync.throwValue({ a: [1] }), (v) => v.a[0] === 1 && !(v instanceof Error));
    await assert.rejects(w.sync.throwValue(undefined), (v) => v === undefined);
    w.sync.mainThrowsString = () => {
      throw "plain string";
    };
    const r = await w.sync.catchMain("mainThrowsString");
    assert.deepEqual(r, { threw: true, isError: false, isTypeError: false, name: undefined, message: undefined, cause: undefined, code: undefined, hasStack: false, value: "plain string" });
  });

  test("errors from main reach the worker's sync call with name, cause, props", async () => {
    w.sync.mainThrows = () => {
      const e = new TypeError("main says no", { cause: new Error("why") });
      e.code = 7;
      throw e;
    };
    const r = await w.sync.catchMain("mainThrows");
    assert.deepEqual(r, { threw: true, isError: true, isTypeError: true, name: "TypeError", message: "main says no", cause: "why", code: 7, hasStack: true, value: undefined });
    const missing = await w.sync.callMissing();
    assert.match(missing, /exposes no sync function "notExposedOnMain"/);
  });

  test("every proxy trap against main's globalThis", async () => {
    freshGlobals();
    const r = await w.sync.traps();
    assert.equal(r.getNumber, 1);
    assert.equal(r.getString, "s");
    assert.equal(r.nestedGet, "v");
    assert.equal(r.identity, true, "same object, same proxy");
    assert.equal(r.docIdentity, true, "window.testDoc === window.testDoc");
    assert.equal(r.setSeen, 42);
    assert.deepEqual(r.setObjSeen, { a: [1, 2] });
    assert.equal(r.hasYes, true);
    assert.equal(r.hasNo, false);
    assert.equal(r.deleted, true);
    assert.equal("toDelete" in globalThis.testObj, false);
    assert.deepEqual(r.ownKeys, ["getNum", "list", "method", "nested", "num", "setMe", "setObj", "str"]);
    assert.deepEqual(r.gopdNum, { value: 1, writable: true, enumerable: true, configurable: true });
    assert.equal(r.gopdNestedIsProxy, true);
    assert.equal(r.gopdMissing, true);
    assert.deepEqual(r.defineSeen, { value: 7, writable: false, enumerable: true, configurable: true });
    assert.equal(r.typeofFn, "function");
    assert.equal(r.typeofObj, "object");
    assert.equal(r.isArray, true);
    assert.equal(r.listLength, 3);
    assert.deepEqual(r.spread, [1, 2, 3]);
    assert.deepEqual(r.listKeys, ["0", "1", "2"]);
    assert.equal(r.callMethod, 6);
    assert.equal(r.callThis, 1);
    assert.equal(r.constructed, 5);
    assert.equal(r.instanceofRemote, true);
    assert.equal(r.instanceofOther, false);
    assert.equal(r.protoIsRemote, true);
    assert.equal(r.protoName, "TestClass");
    assert.equal(r.setProto, true);
    assert.equal(r.afterSetProto, "alt");
    assert.equal(r.dateIso, "1970-01-01T00:00:00.000Z");
    assert.equal(r.dateString, true);
    assert.equal(r.templateObj, "[object Object]");
    assert.equal(r.then, true);
    assert.equal(r.mapGet, 1);
    assert.deepEqual(r.mapIter, ["k"]);
    assert.equal(r.symbolIterator, "function");
    assert.equal(r.toStringTag, "[object Map]");
    assert.equal(r.json, '{"deep":{"value":"v"}}');
    assert.equal(r.localBack, true);
    assert.equal(r.windowBack, true);
    assert.equal(r.windowWindow, true, "main's globalThis is the one window proxy");
  });

  test("more proxy behaviour: iteration helpers, awaited call results, invariants, clear refusals", async () => {
    freshGlobals();
    globalThis.makePromise = async () => ({ x: 42 });
    const r = await w.sync.traps2();
    assert.deepEqual(r.forIn, ["deep"]);
    assert.deepEqual(r.arrayFrom, [1, 2, 3]);
    assert.deepEqual(r.concat, [0, 1, 2, 3]);
    assert.equal(r.mathMax, 5);
    assert.equal(r.jsonArgs, '{"a":[1,{"b":2}]}');
    assert.equal(r.promiseResult, 42);
    assert.deepEqual(r.lengthDesc, { value: 3, writable: true, enumerable: false, configurable: false });
    assert.deepEqual(r.fnOwnNames, ["length", "name", "prototype"]);
    assert.match(r.freeze, /^TypeError: .*cannot freeze, seal or preventExtensions window\.testObj\.nested/);
    assert.equal(r.callMissing, "TypeError|true");
    assert.equal(r.symbolValue, true);
    assert.equal(Object.isFrozen(globalThis.testObj.nested), false);
  });

  test("symbols cross: registered by key, unique by reference with identity, as keys and values", async () => {
    const unique = Symbol("mainUnique");
    let kept;
    globalThis[Symbol.for("polyscript.js_modules")] = { mod: 1 };
    globalThis.symbolHolder = {
      registered: Symbol.for("shared"),
      unique,
      [unique]: "by unique key",
      isUnique: (s) => s === unique,
      keep: (s) => { kept = s; },
      kept: () => kept,
    };
    try {
      const r = await w.sync.symbols();
      assert.deepEqual(r, {
        registeredKey: 1,
        registeredHas: true,
        missingKey: undefined,
        registeredValue: true,
        uniqueSame: true,
        uniqueHome: true,
        uniqueKey: "by unique key",
        wellKnownKey: "undefined",
        workerUniqueBack: true,
        workerKeyRead: "by worker key",
        workerKeyHas: true,
        deleted: true,
        workerKeyGone: true,
        descriptor: 5,
        ownKeysHasUnique: true,
        ownSymbols: ["mainUnique", "defined"],
      });
      assert.equal(globalThis[Symbol.for("fromWorker")], 7, "a registered key set from the worker");
      assert.equal(typeof kept, "symbol");
      assert.equal(kept.description, "workerUnique");
      // Values main -> worker -> main, and the worker's unique symbol here.
      assert.equal(await w.sync.echo(Symbol.for("x")), Symbol.for("x"));
      assert.equal(await w.sync.echo(unique), unique, "a unique symbol goes back as the original");
      assert.equal(await w.sync.echo(Symbol.iterator), Symbol.iterator);
      const s1 = await w.sync.workerSymbol();
      assert.equal(await w.sync.workerSymbol(), s1, "the same worker symbol twice is the same symbol");
      assert.equal(s1, kept, "the symbol the worker passed to keep() is that one too");
      assert.equal(await w.sync.isWorkerSymbol(s1), true);
      assert.deepEqual(await w.sync.echo({ list: [unique, s1, Symbol.for("y")] }), { list: [unique, s1, Symbol.for("y")] });
    } finally {
      delete globalThis[Symbol.for("polyscript.js_modules")];
      delete globalThis[Symbol.for("fromWorker")];
      delete globalThis.symbolHolder;
    }
  });

  test("shape probes: an instanceof walk is one round trip, answers stay right, changes on main are seen", async () => {
    class ProbeA {
      get kind() { return "A"; }
    }
    class ProbeB {
      get kind() { return "B"; }
      get extra() { return 1; }
    }
    globalThis.ProbeA = ProbeA;
    globalThis.ProbeB = ProbeB;
    globalThis.probeTarget = Object.assign(Object.create(ProbeB.prototype), { own: 7 });
    w.sync.served = () => w.stats().served;
    w.sync.swapProbeProto = () => { Object.setPrototypeOf(globalThis.probeTarget, ProbeA.prototype); };
    w.sync.addLateLater = () => { setTimeout(() => { globalThis.probeTarget.late = 1; }, 20); };
    try {
      const r = await w.sync.probes();
      // Without the snapshot 15 (3 getPrototypeOf for instanceof, 1 more,
      // 2 descriptors, 2 has, 2 gets, the tag, constructor, name, and the 2
      // reads of window.ProbeB.prototype); with it 4: a Describe, those 2
      // reads (each drops the snapshot: they are requests), a Describe.
      assert.equal(r.cost, 4, `the probes took ${r.cost} round trips`);
      delete r.cost;
      assert.deepEqual(r, {
        instanceofLocal: false,
        protoIsB: true,
        hasOwnKind: false,
        hasOwnOwn: true,
        inKind: true,
        inNope: false,
        nope: undefined,
        own: 7,
        tag: "[object Object]",
        ctorName: "ProbeB",
        protoAfterSwap: true,
        kindAfterSwap: "A",
        extraAfterSwap: false,
        lateSeen: true,
      });
    } finally {
      delete globalThis.ProbeA;
      delete globalThis.ProbeB;
      delete globalThis.probeTarget;
    }
  });

  test("folded snapshots: an object result and a method's receiver need no Describe; unused folding stops, a Describe restarts it", async () => {
    class FoldC {
      get kind() { return "C"; }
    }
    globalThis.foldTarget = { plain: 1 };
    globalThis.makeFolded = () => Object.assign(new FoldC(), { own: 7 });
    globalThis.foldHolder = new (class Holder { touch() { return undefined; } })();
    try {
      const r = await w.sync.foldProbes();
      // Requests counted on main. Without folding: 3 for `made` (the read,
      // the call, a Describe), 3 for the receiver (its instanceof walk a
      // Describe), and 2 and 1 would be 2 and 2.
      assert.deepEqual({ made: r.made, receiver: r.receiver, unfolded: r.unfolded, refolded: r.refolded },
        { made: 2, receiver: 2, unfolded: 2, refolded: 1 });
      assert.deepEqual(r, {
        made: 2, receiver: 2, unfolded: 2, refolded: 1,
        instanceofLocal: false,
        tag: "[object Object]",
        ctorName: "FoldC",
        hasOwnOwn: true,
        hasOwnKind: false,
        inKind: true,
        nope: undefined,
        own: 7,
        holderInstanceofLocal: false,
      });
    } finally {
      delete globalThis.foldTarget;
      delete globalThis.makeFolded;
      delete globalThis.foldHolder;
    }
  });

  test("await on a worker-side proxy resolves to the proxy (then reads undefined)", async () => {
    assert.equal(await w.sync.awaitProxy(), true);
  });

  test("addEventListener with a worker function delivers the event to the worker", async () => {
    freshGlobals();
    assert.equal(await w.sync.listen(), true);
    globalThis.testTarget.dispatchEvent(new CustomEvent("ping", { detail: 1 }));
    globalThis.testTarget.dispatchEvent(new CustomEvent("ping", { detail: 2 }));
    let seen = [];
    for (let i = 0; i < 200 && seen.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 5));
      seen = await w.sync.seenEvents();
    }
    assert.deepEqual(seen, ["ping:1", "ping:2"]);
  });

  test("an async worker listener called while the worker is blocked runs; no deadlock error", async () => {
    freshGlobals();
    assert.deepEqual(await w.sync.asyncListenerTest(), ["sync part 3", "dispatched true"]);
    // The continuation runs at the worker's next microtask checkpoint; the
    // worker may serve a request that arrives within its poll window in the
    // same task first, so poll for it (with a deadline) instead of expecting
    // it on the very next call.
    let log = await w.sync.getAsyncLog();
    for (let i = 0; i < 200 && log.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 5));
      log = await w.sync.getAsyncLog();
    }
    assert.deepEqual(log, ["sync part 3", "dispatched true", "after await"]);
  });

  test("worker functions returned to main are callable proxies (async), also nested", async () => {
    const counter = await w.sync.makeCounter();
    assert.equal(typeof counter.inc, "function");
    assert.equal(await counter.inc(), 1);
    assert.equal(await counter.inc(), 2);
    assert.equal(await counter.get(), 2);
    // Property reads give Promises; writes are sent in order without waiting.
    const box = await w.sync.makeBox();
    assert.equal(await box.x, 1);
    box.x = 5;
    assert.equal(await box.x, 5);
    assert.equal(box.then, undefined);
    assert.equal(JSON.stringify({ box }), '{"box":{}}');
    assert.match(`${box}`, /^\[worker-bridge proxy /);
    assert.equal(await w.sync.echo(box), box, "goes home as the worker's object and comes back as the same proxy");
    // Main calls a worker callback while the worker is blocked in the call.
    w.sync.useCallback = async (f) => (await f(21)) + 1;
    assert.equal(await w.sync.callbackCount(), 43);
  });

  test("main-side proxies: Symbol.dispose releases them and the worker's exports return to baseline", async () => {
    freshGlobals();
    assert.equal(await w.sync.mainObject(), globalThis.testObj);
    const wg = await w.sync.workerGlobal();
    assert.equal(await w.sync.workerGlobal(), wg, "the worker's globalThis is one proxy");
    assert.equal(await wg.workerMarker, "wm");
    const base = (await w.sync.stats()).exports;
    const boxes = [];
    for (let i = 0; i < 10; i++) boxes.push(await w.sync.makeBox());
    assert.equal((await w.sync.stats()).exports, base + 10);
    assert.equal(w.stats().imports >= 10, true);
    for (const b of boxes) b[Symbol.dispose]();
    await assert.rejects(boxes[0].x, /was released/);
    await w.sync.add(0, 0); // carries the releases to the worker
    assert.equal((await w.sync.stats()).exports, base);
  });

  test("nested call: main awaits a sync worker function while the worker is blocked (FAQ)", async () => {
    w.sync.main_task = async () => await w.sync.worker_task();
    assert.deepEqual(await w.sync.run_main_task(), { result: "ok" });
  });

  test("nested call to an async worker function: DeadlockError on both sides, at once", async () => {
    let mainSaw = null;
    w.sync.main_task_async = async () => {
      try {
        return await w.sync.worker_async_task();
      } catch (e) {
        mainSaw = e;
        throw e;
      }
    };
    const t0 = performance.now();
    const r = await w.sync.run_main_task("main_task_async");
    assert.ok(performance.now() - t0 < 2000, "fails fast");
    const msg = "Possible deadlock: proxy.worker_async_task() was awaited while the worker is blocked in proxy.main_task_async()";
    assert.ok(r.error.startsWith("DeadlockError|true|" + msg), r.error);
    assert.ok(mainSaw instanceof DeadlockError, "main's await rejected with DeadlockError");
    assert.equal(mainSaw.name, "DeadlockError");
    assert.ok(mainSaw.message.startsWith(msg));
    // The channel stays usable.
    assert.equal(await w.sync.add(2, 3), 5);
    assert.deepEqual(await w.sync.loop(100), { sum: 5050, bad: -1 });
  });

  test("release() and Symbol.dispose: counts return to baseline; released proxies say so", async () => {
    freshGlobals();
    await w.sync.add(0, 0);
    const ws0 = await w.sync.touch(1); // window.testObj stays imported: part of the baseline
    await w.sync.add(0, 0);
    const base = w.stats().exports;
    const ws = await w.sync.touch(100);
    assert.equal(ws.imports, ws0.imports, "worker imports back to baseline");
    await w.sync.add(0, 0); // carries the releases home
    await w.sync.add(0, 0);
    assert.equal(w.stats().exports, base, "main exports back to baseline");
    assert.match(await w.sync.useReleased(), /testObj\.nested was released .*fresh proxy/);
    assert.match(await w.sync.disposeWorks(), /testObj\.list was released/);
    await w.sync.add(0, 0);
    assert.equal(w.stats().exports, base);
  });

  test("FinalizationRegistry releases proxies that were dropped", { skip: typeof globalThis.gc !== "function" && "needs --expose-gc" }, async () => {
    freshGlobals();
    const leaked = await w.sync.leak(50);
    assert.ok(leaked.imports >= 3, "testObj, nested and deep are live before GC");
    assert.ok(w.stats().exports >= 3);
    // The worker holds no proxy strongly any more: all of them can go.
    let after;
    for (let i = 0; i < 20; i++) {
      after = await w.sync.gcNow();
      if (after.imports === 0) break;
    }
    assert.equal(after.imports, 0, "worker imports back to zero after GC");
    // Released alone after a short idle delay (no call needed to carry them).
    for (let i = 0; i < 100 && w.stats().exports !== 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(w.stats().exports, 0, "main exports back to zero");
  });
});

// In a worker of its own: after the awaits the worker still imports two
// proxies (two after one run or six: bounded, not looked into yet), which
// the FinalizationRegistry test above would count.
test("remoteThen: a main-thread Promise's proxy has one `then` at every read, and awaits", async () => {
  const w = new BridgeWorker(FIXTURE, { type: "module" });
  globalThis.testPromise = Promise.resolve(42);
  globalThis.otherPromise = Promise.resolve(0);
  globalThis.failingPromise = Promise.reject("a string reason");
  globalThis.failingPromise.catch(() => {});
  try {
    assert.deepEqual(await w.sync.remoteThen(), {
      isFunction: true,
      same: true,
      again: true,
      shared: true,
      value: 42,
      rejected: "a string reason",
    });
  } finally {
    delete globalThis.testPromise;
    delete globalThis.otherPromise;
    delete globalThis.failingPromise;
    w.terminate();
  }
});

test("time-out: the worker's call throws TimeoutError, then 1000 more calls work; main's call times out too", async () => {
  const w = new BridgeWorker(FIXTURE, { timeout: 300 });
  try {
    exposeMain(w);
    w.sync.slow = () => new Promise((r) => setTimeout(() => r("late"), 2000));
    // A time-out counts from the call, start-up included: start first.
    await w.ready;
    assert.equal(await w.sync.startTimeoutTest(1000), true);
    let r = null;
    for (let i = 0; i < 500 && r === null; i++) {
      await new Promise((res) => setTimeout(res, 10));
      // While the worker runs its 1000 calls this poll waits its turn and
      // may itself time out (300 ms): just ask again.
      r = await w.sync.timeoutResult().catch((e) => {
        if (e instanceof TimeoutError) return null;
        throw e;
      });
    }
    assert.match(r.first, /^TimeoutError\|true\|.*timed out after 300 ms/);
    assert.ok(r.waited >= 290 && r.waited < 1900, `waited ${r.waited} ms`);
    assert.equal(r.ok, 1000);
    const t0 = performance.now();
    await assert.rejects(w.sync.hang(), (e) => e instanceof TimeoutError && e.name === "TimeoutError");
    assert.ok(performance.now() - t0 >= 290);
    // The late reply of `slow` is dropped; the channel still works.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await w.sync.add(1, 1), 2);
  } finally {
    w.terminate();
  }
});

test("terminate() rejects every pending call with ClosedError", async () => {
  const w = new BridgeWorker(FIXTURE);
  exposeMain(w);
  await w.ready;
  const pending = [w.sync.hang(), w.sync.hang()];
  await new Promise((r) => setTimeout(r, 20));
  w.terminate();
  for (const p of pending) await assert.rejects(p, (e) => e instanceof ClosedError && /terminated/.test(e.message));
  await assert.rejects(w.sync.add(1, 2), ClosedError);
});

test("reentrant: false rejects a nested call at once with DeadlockError", async () => {
  const w = new BridgeWorker(FIXTURE, { reentrant: false });
  try {
    exposeMain(w);
    let mainSaw = null;
    let took = -1;
    w.sync.main_task = async () => {
      const t0 = performance.now();
      try {
        return await w.sync.worker_task();
      } catch (e) {
        took = performance.now() - t0;
        mainSaw = e;
        throw e;
      }
    };
    const r = await w.sync.run_main_task();
    assert.ok(mainSaw instanceof DeadlockError);
    assert.ok(took >= 0 && took < 250, `rejected after ${took} ms`);
    assert.ok(mainSaw.message.startsWith("Possible deadlock: proxy.worker_task() was awaited while the worker is blocked in proxy.main_task()"), mainSaw.message);
    assert.match(r.error, /^DeadlockError\|true\|Possible deadlock/);
    // Not nested: fine.
    assert.equal(await w.sync.worker_task(), "ok");
  } finally {
    w.terminate();
  }
});

test("four workers at once", async () => {
  const ws = [0, 1, 2, 3].map(() => new BridgeWorker(FIXTURE));
  try {
    ws.forEach((w, k) => {
      exposeMain(w);
      w.sync.inc = (i) => i + 1;
      w.sync.who = () => k;
    });
    const n = 20_000;
    const rs = await Promise.all(ws.map((w) => w.sync.loop(n)));
    for (const r of rs) assert.deepEqual(r, { sum: (n * (n + 1)) / 2, bad: -1 });
    assert.deepEqual(await Promise.all(ws.map((w, k) => w.sync.add(k, 10))), [10, 11, 12, 13]);
  } finally {
    ws.forEach((w) => w.terminate());
  }
});

test("async transport: sync calls return Promises, window explains the fix", async () => {
  const w = new BridgeWorker(FIXTURE, { transport: "async" });
  try {
    exposeMain(w);
    assert.equal(w.transport, "async");
    assert.deepEqual(await w.sync.info(), { native: false, transport: "async", isWindow: true, isPlain: false });
    const r = await w.sync.asyncTransportCheck();
    assert.equal(r.isPromise, true);
    assert.equal(r.value, 2);
    assert.match(r.windowError, /Unable to use `window`/i);
    assert.match(r.windowError, /Cross-Origin-Opener-Policy: same-origin/);
    assert.match(r.windowError, /Cross-Origin-Embedder-Policy: require-corp/);
    assert.match(r.windowError, /serviceWorker/);
    for (const [name, v] of Object.entries(valueCases())) assert.deepStrictEqual(await w.sync.echo(v), v, name);
    await assert.rejects(w.sync.throwError(), (e) => e instanceof RangeError && e.cause.message === "root cause");
  } finally {
    w.terminate();
  }
});

test("a call that reaches a blocked worker un-nested waits until the blocking call returns", async () => {
  const w = new BridgeWorker(FIXTURE);
  try {
    exposeMain(w);
    let recorded = null;
    const sent = new Promise((resolve) => {
      w.sync.started = () => {
        // Not nested: sent after this reply, while the worker busy-waits.
        setTimeout(() => resolve((recorded = w.sync.record("x"))), 10);
      };
    });
    assert.equal(await w.sync.orderTest(300), true);
    await sent;
    assert.equal(await recorded, 3, "served third: after start and the blocking call");
    assert.deepEqual(await w.sync.getOrder(), ["start", "call:done", "x"]);
  } finally {
    w.terminate();
  }
});

test("maxMessage: too-large messages fail clearly in every direction, the channel goes on", async () => {
  const w = new BridgeWorker(FIXTURE, { capacity: 64 * 1024, maxMessage: 1 << 20 });
  try {
    exposeMain(w);
    const big = new Uint8Array(2 << 20);
    await assert.rejects(w.sync.echo(big), (e) => e.name === "BridgeError" && /exceeds maxMessage/.test(e.message));
    await assert.rejects(w.sync.makeBig(2 << 20), (e) => e.name === "BridgeError" && /exceeds maxMessage/.test(e.message));
    w.sync.makeBig = () => big;
    await assert.rejects(w.sync.bigFromMain(), (e) => e.name === "BridgeError" && /exceeds maxMessage/.test(e.message));
    // Multi-frame messages under the limit still work (64 KiB frames).
    const ok = new Uint8Array(900 * 1024).fill(5);
    assert.deepStrictEqual(await w.sync.echo(ok), ok);
    assert.equal(await w.sync.add(1, 2), 3);
  } finally {
    w.terminate();
  }
});

test("sparse arrays cross both ways at the cost of their elements; a lying array-like fails at once", async () => {
  const w = new BridgeWorker(FIXTURE, { maxMessage: 1 << 20 });
  try {
    exposeMain(w);
    // Before: 1e8 Hole tags, 8.7 s inside the call, and over this maxMessage.
    const a = [];
    a[99_999_999] = "last";
    a[3] = { x: 1 };
    const back = await w.sync.echo(a);
    assert.equal(back.length, 100_000_000);
    assert.deepEqual(Object.keys(back), ["3", "99999999"]);
    assert.deepEqual(back[3], { x: 1 });
    const top = [];
    top[4294967294] = 1;
    assert.equal((await w.sync.echo(top)).length, 4294967295);
    // A Proxy with Array.prototype whose elements pass maxMessage: refused
    // before its elements are read (it used to encode for over 30 s).
    let reads = 0;
    const keys = Array.from({ length: 600_000 }, (_, i) => String(i));
    const liar = new Proxy({}, {
      getPrototypeOf: () => Array.prototype,
      get: (t, k) => (k === "length" ? 2 ** 32 - 1 : (reads++, 1)),
      ownKeys: () => keys,
      getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true }),
    });
    await assert.rejects(w.sync.echo(liar), (e) => e.name === "BridgeError" && /exceeds maxMessage/.test(e.message));
    assert.equal(reads, 0);
    assert.equal(await w.sync.add(1, 2), 3);
  } finally {
    w.terminate();
  }
});

test("a call to a worker function assigned later waits for it", async () => {
  const w = new BridgeWorker(new URL("./fixtures/late-worker.js", import.meta.url));
  try {
    assert.equal(await w.sync.late(), "late ok");
  } finally {
    w.terminate();
  }
});

test("a worker that crashes rejects its pending calls with ClosedError", async () => {
  const w = new BridgeWorker(new URL("./fixtures/late-worker.js", import.meta.url));
  await assert.rejects(w.sync.crash(), (e) => e instanceof ClosedError && /boom/.test(e.message));
  await assert.rejects(w.sync.late(), ClosedError);
  w.terminate();
});

test("a worker script that cannot load rejects ready and every call", async () => {
  const w = new BridgeWorker(new URL("./fixtures/no-such-worker.js", import.meta.url));
  await assert.rejects(w.ready, ClosedError);
  await assert.rejects(w.sync.anything(), ClosedError);
  w.terminate();
});

test("an outer call's reply that arrives while an inner call is blocked waits for its frame", async () => {
  const w = new BridgeWorker(FIXTURE);
  try {
    exposeMain(w);
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    let inner = null;
    w.sync.mainA = async () => {
      inner = w.sync.callMainB(); // nested into runA's blocked call; blocks the worker in mainB
      await sleep(20);
      return "A"; // replied while the worker is still blocked in mainB
    };
    w.sync.mainB = async () => {
      await sleep(150);
      return "B";
    };
    assert.deepEqual(await w.sync.runA(), { a: "A", after: 2 });
    assert.equal(await inner, "B");
  } finally {
    w.terminate();
  }
});

test("main->worker calls park at once by default; callSpin makes the page poll for the reply", async () => {
  // Polling for the reply (and the worker's idle loop polling for the next
  // call) measured slower than parking at once on every load tried
  // (docs/benchmarks.md, "Main->worker calls"), so it is opt-in.
  for (const [options, polls] of [[{}, false], [{ callSpin: 0.05 }, true]]) {
    const w = new BridgeWorker(FIXTURE, options);
    try {
      let spins = 0;
      const ep = w._ep;
      const spinForReply = ep.spinForReply.bind(ep);
      ep.spinForReply = (...a) => {
        spins++;
        spinForReply(...a);
      };
      for (let i = 0; i < 50; i++) assert.equal(await w.sync.add(i, 1), i + 1);
      if (polls) assert.equal(spins, 50, "callSpin: one poll for the reply per call");
      else assert.equal(spins, 0, "no poll for the reply by default");
    } finally {
      w.terminate();
    }
  }
});

test("a main->worker call looks once for its reply in a microtask: a reply in by then comes without a bell", async () => {
  // The page says it polls (STATE) from the send to that look, so the
  // worker skips the notify and its bell, and the page the wake-up task
  // (docs/benchmarks.md, "Main->worker calls (stop 16)").
  const { STATE, POLLING } = await import("../src/mailbox.js");
  const { SLOT } = await import("../src/protocol.js");
  const w = new BridgeWorker(FIXTURE);
  let bells = 0;
  const bell = w._ep.bell.bind(w._ep);
  w._ep.bell = (poll) => {
    bells++;
    bell(poll);
  };
  try {
    assert.equal(await w.sync.add(0, 1), 1);
    await new Promise((r) => setTimeout(r, 20));
    const box = w._ep.box;
    assert.equal(box.hdr[STATE] & POLLING, 0, "parked: the worker would ring");
    bells = 0;
    const p = w.sync.add(1, 2);
    assert.notEqual(box.hdr[STATE] & POLLING, 0, "polling from the send to the look");
    // Hold this thread until the reply is in, as when the worker answers
    // before the page's microtasks run.
    const until = Date.now() + 10_000;
    while (Atomics.load(box.hdr, SLOT.WRITTEN) === box.read) {
      if (Date.now() > until) throw new Error("no reply within 10 s");
    }
    assert.equal(await p, 3);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(bells, 0, "the reply came without a bell");
    assert.equal(box.hdr[STATE] & POLLING, 0, "parked again after the look");
    assert.equal(await w.sync.add(2, 3), 5);
  } finally {
    w.terminate();
  }
});

test("the worker wakes an idle page by a bell, not through waitAsync; replies to the page's calls come through waitAsync", async () => {
  // A waitAsync wake-up of the page by another thread cost it a scheduler
  // slice (3.2-3.6 ms, off its core) once in its first few idle wake-ups
  // in Chromium; a message wake-up does not (docs/benchmarks.md, "Wake-ups
  // (stop 18)"). So the worker rings after each frame but a reply's written
  // while the page's STATE does not say it polls, and the page waits in
  // waitAsync only while a call of its own is pending (protocol.md §7,
  // `bells`), so main->worker calls keep their notify.
  const { STATE, POLLING } = await import("../src/mailbox.js");
  const { waitAsync } = Atomics;
  let armed = 0;
  Atomics.waitAsync = (...a) => {
    const r = waitAsync.apply(Atomics, a);
    if (r.async) armed++;
    return r;
  };
  let w;
  try {
    w = new BridgeWorker(FIXTURE);
    const N = 6;
    let seen = 0;
    let done;
    const all = new Promise((r) => (done = r));
    w.sync.echoMain = (v) => {
      if (++seen === N) done();
      return v;
    };
    let bells = 0;
    const bell = w._ep.bell.bind(w._ep);
    w._ep.bell = (poll) => {
      bells++;
      bell(poll);
    };
    await w.ready;
    // One main->worker call: its reply may come through waitAsync.
    assert.equal(await w.sync.callMainLater(N, 5), true);
    const armedBefore = armed;
    bells = 0;
    await all;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(w._ep.box.hdr[STATE] & POLLING, 0, "idle: the page says it does not poll");
    assert.equal(bells, N, "each call of the worker's that found the page idle came with a bell");
    assert.equal(armed, armedBefore, "the idle page waited in waitAsync for none of them");
    // main->worker calls after idle: the page waits in waitAsync for replies the look missed
    for (let i = 0; i < 20; i++) assert.equal(await w.sync.add(i, 1), i + 1);
    assert.equal(w._ep.pending.size, 0);
  } finally {
    Atomics.waitAsync = waitAsync;
    w?.terminate();
  }
});

test("the worker parks in Atomics.wait for main's next call after serving one (callPark), and its event loop still runs", async () => {
  // A parked thread takes no core, and main's notify wakes it without the
  // event-loop task a waitAsync wake-up costs (docs/benchmarks.md,
  // "Main->worker calls (stop 15)"). callPark: 0 goes back to the event loop.
  const N = 50;
  for (const [options, parks] of [[{}, true], [{ callPark: 0 }, false]]) {
    const w = new BridgeWorker(new URL("./fixtures/park-worker.js", import.meta.url), options);
    try {
      await w.sync.counts();
      for (let i = 0; i < N; i++) {
        assert.equal(await w.sync.add(i, 1), i + 1);
        // A page that does some work between calls (0.5 ms, within
        // callPark): the next call is not there when the worker has
        // answered, so it waits for it (one that comes at once is read
        // before the worker parks; the page's look for the reply makes that
        // common in Node).
        for (const t = performance.now(); performance.now() - t < 0.5;);
      }
      const c = await w.sync.counts();
      if (parks) {
        // Not one park per call: a next call that is already there when
        // the worker has answered is read at once; a main thread that
        // stalls past 2 ms sends the worker back to its event loop, which
        // a loaded machine does often enough that how often is no check.
        assert.ok(c.wait > 0, `parks: ${JSON.stringify(c)}`);
      } else {
        assert.equal(c.wait, 0, `callPark 0: ${JSON.stringify(c)}`);
      }
      // A lone call (none within callPark ms before it) does not park: a
      // page calling now and then never holds up the worker's event loop.
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      await sleep(10);
      await w.sync.counts();
      for (let i = 0; i < 3; i++) {
        await sleep(10);
        assert.equal(await w.sync.add(i, 1), i + 1);
      }
      await sleep(10);
      assert.equal((await w.sync.counts()).wait, 0, "a lone call parked the worker");
      // A reply that waits for a promise needs the worker's event loop: no park then.
      for (let i = 0; i < 10; i++) assert.equal(await w.sync.later(i), i);
      // (one park at most: the one after serving counts() above)
      assert.ok((await w.sync.counts()).wait <= 1, "no park while a reply waits for a promise");
      // Calls back to back do not starve the worker's timers.
      await w.sync.arm();
      let calls = 0;
      while (!(await w.sync.fired())) {
        calls++;
        assert.ok(calls < 1e6, "the worker's timer never fired while main called it");
      }
    } finally {
      w.terminate();
    }
  }
});

test("callPark must be a number of ms >= 0", () => {
  assert.throws(() => new BridgeWorker(FIXTURE, { callPark: -1 }), /callPark must be a number of ms >= 0/);
});

// Every numeric option of BridgeWorker, bad values and the error that names
// the option (the constructor throws it, whatever the transport).
const MS = /must be a number of ms >= 0, got /;
const BAD_OPTIONS = [
  // `10n >= 0` and `"10" >= 0` hold: a range check alone let these through,
  // and a call's deadline then failed with a BigInt TypeError or became a
  // string; spin and callSpin were not checked at all.
  ...["timeout", "spin", "callSpin", "callPark", "eventWait"].flatMap((name) =>
    [10n, "10", Symbol("ms"), null, -1, NaN].map((bad) => [name, bad, TypeError, MS])),
  // Was `Math.max(0, maxNesting | 0)`: a BigInt threw a TypeError that did
  // not name it, "abc" and 2 ** 32 became 0 (every nested call a
  // DeadlockError), 1.5 became 1.
  ...[10n, "10", "abc", 1.5, -1, 2 ** 32, Infinity, null].map((bad) =>
    ["maxNesting", bad, TypeError, /must be an integer in 0\.\.4294967295, got /]),
  // Checked by the mailbox, which only the atomics transport had.
  ...[10n, "1024", 12, 0, -8].map((bad) => ["capacity", bad, RangeError, /^mailbox capacity must be a positive multiple of 8 bytes, got /]),
  ...[10n, "1024", -1, 1.5, 2 ** 31].map((bad) => ["maxMessage", bad, RangeError, /^maxMessage must be an integer in 0\.\.2147483647, got /]),
];

test("every numeric option refuses, at the constructor, what is not a number in its range, with the option's name", () => {
  for (const transport of [undefined, "async"]) {
    for (const [name, bad, type, message] of BAD_OPTIONS) {
      let made = null;
      try {
        assert.throws(() => { made = new BridgeWorker(FIXTURE, { transport, [name]: bad }); },
          (e) => e instanceof type && (type === RangeError || e.message.startsWith(`BridgeWorker: ${name} `)) && message.test(e.message),
          `${name}: ${String(bad)} (${transport ?? "atomics"})`);
      } finally {
        made?.terminate(); // (only if the check let it through)
      }
    }
  }
});

test("a transform that is no function fails at the constructor, not at the first call", () => {
  for (const bad of ["x", {}, 1]) {
    let made = null;
    try {
      assert.throws(() => { made = new BridgeWorker(FIXTURE, { transform: bad }); },
        (e) => e instanceof TypeError && e.message === "BridgeWorker: transform must be a function", String(bad));
    } finally {
      made?.terminate();
    }
  }
});

test("MPWorker and PyWorker pass their numeric options to BridgeWorker's check", async () => {
  const { MPWorker, PyWorker } = await import("../src/python.js");
  for (const Python of [MPWorker, PyWorker]) {
    for (const [name, bad, type, message] of BAD_OPTIONS) {
      let made = null;
      try {
        assert.throws(() => { made = new Python("file:///nowhere/main.py", { [name]: bad }); },
          (e) => e instanceof type && message.test(e.message), `${Python.name} ${name}: ${String(bad)}`);
      } finally {
        made?.terminate();
      }
    }
  }
});

test("a main thread that is no Window: every window.document read goes to it (the worker keeps no proxy)", async () => {
  // On a Window `document` is unforgeable and the worker keeps its proxy
  // (docs/architecture.md; tests/e2e/proxy.test.mjs counts the reads); here
  // it is an ordinary property that main may replace.
  const saved = Object.getOwnPropertyDescriptor(globalThis, "document");
  globalThis.document = { v: 1 };
  const w = new BridgeWorker(FIXTURE, { type: "module" });
  try {
    assert.equal(await w.sync.docValue(), 1);
    globalThis.document = { v: 2 };
    assert.equal(await w.sync.docValue(), 2);
  } finally {
    w.terminate();
    if (saved) Object.defineProperty(globalThis, "document", saved);
    else delete globalThis.document;
  }
});
