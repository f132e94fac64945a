// Rust closures and objects by reference (bridge_wasm::embed::{Callback,
// RustObject}) against bridge-js's real main side on node:worker_threads:
// identity, error paths, and closures passed to the main thread and dropped
// there coming back to zero on both sides after gc (the main side's
// FinalizationRegistry sends the releases). The DOM cases (click listeners)
// are in tests/e2e/rust/refs.test.mjs. Run with --expose-gc (the node tier does).
//
// Needs the `full` wasm package (`cargo xtask build`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { BridgeWorker } from "../src/main.js";

const FIXTURE = new URL("./fixtures/rust-refs-worker.js", import.meta.url);
const PKG_JS = new URL("../pkg/full/bridge_wasm.js", import.meta.url);
const N = 500;
const tick = () => new Promise((r) => setTimeout(r, 1));

test(`Rust Callbacks and RustObjects: identity, errors, ${N} closures dropped by main back to zero`, { timeout: 120_000 }, async () => {
  if (!existsSync(PKG_JS) || !readFileSync(PKG_JS, "utf8").includes("installRefsSelftest")) {
    throw new Error("bridge-js/pkg/full lacks installRefsSelftest: run `cargo xtask build`");
  }
  assert.equal(typeof globalThis.gc, "function", "run node with --expose-gc");
  const w = new BridgeWorker(FIXTURE, { type: "module" });
  try {
    let kept = null;
    let saved = null;
    let sawAdd = null;
    const message = async (p) => {
      try {
        await p;
        return "no error";
      } catch (e) {
        return `${e.name}: ${e.message}`;
      }
    };
    w.sync.same = (a, b) => typeof a === "function" && a === b;
    w.sync.keep = (f) => {
      kept = f;
      return typeof f === "function";
    };
    w.sync.isKept = (f) => f === kept;
    // The Described prefix (docs/protocol.md §3 "Folded into the reply"),
    // which only bridge-js's worker sends: sent here by hand, a Rust worker
    // answers a get with [value, null] and an apply with [value, null, null].
    let folded = null;
    w.sync.sameMethod = async (o) => {
      const add = await o.add;
      sawAdd = await add(5);
      const same = typeof add === "function" && add === (await o.add) && (await o.missing) === undefined;
      const ep = w._ep;
      const encode = ep.encodeRequest;
      ep.encodeRequest = (seq, nestedIn, target, op) => encode.call(ep, seq, nestedIn, target, op, true);
      try {
        const got = await o.add;
        const applied = await add(0);
        folded = { got: [got[0] === add, ...got.slice(1)], applied };
      } finally {
        ep.encodeRequest = encode;
      }
      return same;
    };
    w.sync.forget = () => {
      kept = null;
    };
    w.sync.reenter = async (f) => {
      saved = f;
      const r = await f();
      saved = null;
      return r;
    };
    w.sync.callAgain = async () => [await message(saved()), await message(new saved())];
    // A `this` and a unique symbol key that the Rust side never reads: they
    // are released all the same (main's exports back to base at the end);
    // the global object as `this` (id 0) is never counted, so it leaves no
    // import in Rust either.
    const self = new (class CallSite {})();
    const key = Symbol("not a method");
    w.sync.takeCallback = async (cb, i) => await Reflect.apply(cb, i % 2 === 0 ? self : globalThis, [i]);
    w.sync.takeObject = async (o, i) => {
      assert.equal(await o[key], undefined);
      await (await o.add)(i);
      return await (await o.get)();
    };
    await w.ready;
    const base = w.stats().imports;
    const baseExports = w.stats().exports;

    assert.deepEqual(await w.sync.identity(), [true, true, true, true]);
    assert.equal(sawAdd, 5);
    assert.deepEqual(folded, { got: [true, null], applied: [5, null, null] });
    const [encodeError, takenBack, [again, construct]] = await w.sync.errors();
    assert.equal(encodeError, true);
    assert.equal(takenBack, true);
    assert.match(again, /already running on the worker/);
    assert.match(construct, /^TypeError: .*supports only being called; not new \(construct\)$/);

    let sum = 0;
    for (let i = 0; i < N; i++) sum += 2 * i + (i % 10 === 0 ? i : 0);
    assert.equal(await w.sync.churn(N), sum);
    const during = await w.sync.refStats();
    assert.ok(during.live > 0 || during.dropped > 0, JSON.stringify(during));

    // identity: 2 guards, errors: 1, churn: N closures and N / 10 objects.
    const want = { live: 0, count: 0, dropped: 3 + N + N / 10, imports: 0 };
    let now;
    for (const deadline = Date.now() + 60_000; ;) {
      globalThis.gc();
      await tick();
      now = { rust: await w.sync.refStats(), main: w.stats().imports, mainExports: w.stats().exports };
      if (JSON.stringify(now) === JSON.stringify({ rust: want, main: base, mainExports: baseExports })) break;
      if (Date.now() > deadline) assert.fail(`not back to zero: ${JSON.stringify(now)}`);
    }
  } finally {
    w.terminate();
  }
});
