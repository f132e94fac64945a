// `window` from a worker: every Proxy trap, identity, typeof/isArray/instanceof,
// remote iteration, `new window.Date()`, DOM manipulation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, workerResult, assertClean } from "./harness.mjs";

const h = e2e({ servers: ["isolated"] });

test("every Proxy trap of window works from a worker", async (t) => {
  const r = await h.run(t, { worker: "proxy.js", case: "traps" });
  const o = workerResult(r);
  // get
  assert.equal(o.getNumber, 1);
  assert.equal(o.getString, "two");
  assert.equal(o.getMissing, true);
  assert.equal(o.title, "worker-bridge e2e");
  // set
  assert.equal(o.setThenGet, 3);
  // has
  assert.equal(o.hasA, true);
  assert.equal(o.hasNope, false);
  assert.equal(o.hasDocument, true);
  // deleteProperty
  assert.equal(o.hasTmpBeforeDelete, true);
  assert.equal(o.deleteResult, true);
  assert.equal(o.hasTmpAfterDelete, false);
  // ownKeys
  assert.deepEqual(o.ownKeys, ["a", "b", "c"]);
  assert.deepEqual(o.arrayOwnKeys, ["0", "1", "2", "length"]);
  // getOwnPropertyDescriptor
  assert.deepEqual(o.descriptor, { value: 1, writable: true, enumerable: true, configurable: true });
  assert.equal(o.descriptorMissing, true);
  // defineProperty
  assert.equal(o.defineResult, true);
  assert.equal(o.hiddenValue, 42);
  assert.deepEqual(o.keysAfterDefine, ["a", "b", "c"]);
  assert.deepEqual(o.ownKeysAfterDefine, ["a", "b", "c", "hidden"]);
  // getPrototypeOf / setPrototypeOf
  assert.equal(o.protoIsObjectPrototype, true);
  assert.equal(o.bodyProtoIsHTMLBodyElement, true);
  assert.equal(o.setProtoResult, true);
  assert.equal(o.inherited, "from protoObj");
  assert.equal(o.protoAfterSet, true);
  // apply / construct
  assert.equal(o.applyParseInt, 42);
  assert.equal(o.applyMathMax, 7);
  assert.equal(o.applyMethodWithThis, "SPAN");
  assert.equal(o.applyCallWithRemoteThis, "1-2-3");
  assert.equal(o.constructDate, 0);
  assert.equal(o.constructURL, "1");
  assert.equal(o.constructMap, "v");

  // The main thread's own view of what the worker changed.
  const mainView = await r.page.evaluate(() => {
    const d = Object.getOwnPropertyDescriptor(window.sample, "hidden");
    return {
      fromWorker: window.fromWorker,
      c: window.sample.c,
      hasTmp: "tmp" in window.sample,
      hidden: { value: d?.value, writable: d?.writable, enumerable: d?.enumerable, configurable: d?.configurable },
      protoIsProtoObj: Object.getPrototypeOf(window.sample) === window.protoObj,
    };
  });
  assert.deepEqual(mainView, {
    fromWorker: "hello from the worker",
    c: 3,
    hasTmp: false,
    hidden: { value: 42, writable: false, enumerable: false, configurable: true },
    protoIsProtoObj: true,
  });
  assertClean(r);
});

test("symbols cross: Symbol.for keys and values, unique symbols with identity, both ways", async (t) => {
  const r = await h.run(t, { worker: "proxy.js", case: "symbols", main: "symbols.js" });
  assert.deepEqual(workerResult(r), {
    jsModules: "a js module", // window[Symbol.for(...)] set on main, read in the worker
    jsModulesIn: true,
    registeredValue: true,
    uniqueSame: true,
    uniqueGoesHome: true,
    uniqueKey: "by the main key",
    workerSymbolBack: true,
    workerKeyRead: "by the worker's key",
    workerKeyDeleted: true,
    descriptorValue: 5,
    ownSymbols: ["mainUnique", "defined"],
  });
  // Main -> worker, after the case: values out and back, the worker's unique symbol here.
  const mainView = await r.page.evaluate(async () => {
    const w = window.__worker.sync;
    const unique = window.mainUnique;
    const s1 = await w.workerSymbol();
    return {
      fromWorker: window[Symbol.for("fromWorker")],
      registeredEcho: (await w.echo(Symbol.for("x"))) === Symbol.for("x"),
      uniqueEcho: (await w.echo(unique)) === unique,
      wellKnownEcho: (await w.echo(Symbol.iterator)) === Symbol.iterator,
      workerSymbol: typeof s1 === "symbol" && s1.description === "workerUnique" && Symbol.keyFor(s1) === undefined,
      workerSymbolSame: (await w.workerSymbol()) === s1,
      workerSymbolIsKept: window.symbolHolder.kept() === s1,
      workerSymbolGoesHome: await w.isWorkerSymbol(s1),
    };
  });
  assert.deepEqual(mainView, {
    fromWorker: "set by the worker",
    registeredEcho: true,
    uniqueEcho: true,
    wellKnownEcho: true,
    workerSymbol: true,
    workerSymbolSame: true,
    workerSymbolIsKept: true,
    workerSymbolGoesHome: true,
  });
  await assertClean(r);
});

test("identity: the same remote object is the same proxy", async (t) => {
  const r = await h.run(t, { worker: "proxy.js", case: "identity" });
  assert.deepEqual(workerResult(r), {
    documentSame: true,
    bodySame: true,
    parentIsDocumentElement: true,
    windowWindowIsWindow: true,
    sentHomeIsTheRealNode: true,
    differentObjectsDiffer: true,
  });
  assertClean(r);
});

test("window.document is asked once while its proxy lives; a released one is asked again", async (t) => {
  const r = await h.run(t, { worker: "proxy.js", case: "documentKept" });
  assert.deepEqual(workerResult(r), {
    reads: 1,
    title: "worker-bridge e2e",
    titleAgain: "worker-bridge e2e",
    freshAfterRelease: true,
  });
  assertClean(r);
});

test("typeof, Array.isArray and instanceof answer as on the main thread", async (t) => {
  const r = await h.run(t, { worker: "proxy.js", case: "types" });
  assert.deepEqual(workerResult(r), {
    typeofAlert: "function",
    typeofDateConstructor: "function",
    typeofDocument: "object",
    typeofTitle: "string",
    typeofSampleArray: "object",
    isArraySampleArray: true,
    isArraySample: false,
    isArrayChildren: false,
    bodyInstanceofHTMLElement: true,
    documentInstanceofNode: true,
    sampleArrayInstanceofArray: true,
    bodyInstanceofArray: false,
    // the prototype chain is the main thread's (getPrototypeOf trap), so the
    // worker's own Object is not on it
    bodyInstanceofLocalObject: false,
  });
  assertClean(r);
});

test("remote iteration: for-of, spread, Map entries, for-in, Object.entries", async (t) => {
  const r = await h.run(t, { worker: "proxy.js", case: "iteration" });
  assert.deepEqual(workerResult(r), {
    forOf: [1, 2, 3],
    mapEntries: [["x", 1], ["y", 2]],
    forIn: ["a", "b"],
    arrayFrom: [1, 2, 3],
    spreadNodeList: ["one", "two", "three"],
    objectEntries: [["a", 1], ["b", "two"]],
    destructured: [1, 3],
  });
  assertClean(r);
});

test("new window.Date() constructs on the main thread", async (t) => {
  const r = await h.run(t, { worker: "proxy.js", case: "date" });
  const o = workerResult(r);
  assert.equal(o.typeofDate, "object");
  assert.equal(o.instanceofRemoteDate, true);
  assert.ok(o.time >= o.before - 1000 && o.time <= o.after + 1000, `now: ${o.time} not within [${o.before}, ${o.after}]`);
  assert.equal(o.iso, "2020-01-02T00:00:00.000Z");
  assert.equal(o.fullYear, 2020);
  assert.equal(o.fromNumber, 5);
  assert.equal(o.parsed, Date.parse("2001-02-03T04:05:06.007Z"));
  assertClean(r);
});

test("DOM manipulation from a worker: create, append, style, title", async (t) => {
  const r = await h.run(t, { worker: "proxy.js", case: "dom" });
  const o = workerResult(r);
  assert.deepEqual(o, {
    titleBefore: "worker-bridge e2e",
    titleAfter: "changed by worker",
    childCount: 3,
    text: "alphabetagamma",
    className: "x y",
    lastItem: "gamma",
    computedColor: "rgb(255, 0, 0)",
    computedBorder: "2px",
    bodyContainsList: true,
  });
  // What the page itself shows.
  assert.equal(await r.page.title(), "changed by worker");
  const items = r.page.locator("#made-by-worker li");
  assert.deepEqual(await items.allTextContents(), ["alpha", "beta", "gamma"]);
  const colors = await items.evaluateAll((els) => els.map((e) => getComputedStyle(e).color));
  assert.deepEqual(colors, ["rgb(255, 0, 0)", "rgb(255, 0, 0)", "rgb(255, 0, 0)"]);
  assert.equal(await r.page.locator("#made-by-worker").getAttribute("class"), "x y");
  assertClean(r);
});
