// The Rust embedding (crates/bridge-wasm, feature `embed`) against the real
// main thread of bridge-js, on node:worker_threads: the worker's code is
// Rust (bridge_wasm::embed::selftest), its bootstrap is
// fixtures/rust-worker.js, and the main side is `BridgeWorker`.
//
// Needs the `full` wasm package:
//   cargo build -p bridge-wasm --target wasm32-unknown-unknown --profile release-wasm --features full
//   wasm-bindgen --target web --out-dir bridge-js/pkg/full target/wasm32-unknown-unknown/release-wasm/bridge_wasm.wasm
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { BridgeWorker } from "../src/main.js";

const FIXTURE = new URL("./fixtures/rust-worker.js", import.meta.url);
const PKG_JS = new URL("../pkg/full/bridge_wasm.js", import.meta.url);
const BUILD_HINT =
  "the wasm package bridge-js/pkg/full with the Rust embedding is missing: build it with " +
  "`cargo build -p bridge-wasm --target wasm32-unknown-unknown --profile release-wasm --features full` then " +
  "`wasm-bindgen --target web --out-dir bridge-js/pkg/full target/wasm32-unknown-unknown/release-wasm/bridge_wasm.wasm`";

function requirePkg() {
  if (!existsSync(PKG_JS) || !readFileSync(PKG_JS, "utf8").includes("installEmbedSelftest")) {
    throw new Error(BUILD_HINT);
  }
}

class Doc {
  constructor(title) {
    this.title = title;
  }
}

class TestClass {
  constructor(v) {
    this.value = v;
  }
}

function setGlobals() {
  globalThis.testDoc = { title: "T" };
  globalThis.testObj = {
    list: [1, 2, 3],
    method(a, b) {
      return a * b + (this === globalThis.testObj ? 0 : 1000);
    },
  };
  globalThis.TestClass = TestClass;
}

const EXPECTED_ORDER = {
  id: 18446744073709551615n, // u64::MAX: past 2^53, so a bigint
  items: [
    { name: "tea", qty: 2, price: 1.25 },
    { name: "cup", qty: 1, price: 4.5 },
  ],
  note: null,
  shipping: { Post: { days: 3 } },
  token: new Uint8Array([0, 1, 254, 255]),
  counts: { huge: -(2n ** 63n), small: -7 },
};

describe("Rust embedding on node:worker_threads", () => {
  let w;
  const seen = {};
  before(async () => {
    requirePkg();
    setGlobals();
    w = new BridgeWorker(FIXTURE, { type: "module" });
    w.sync.checkout = (order, currency) => {
      seen.order = order;
      seen.currency = currency;
      const total = order.items.reduce((s, it) => s + it.qty * it.price, 0);
      return {
        order_id: order.id,
        total,
        lines: order.items.map((it) => `${it.qty} x ${it.name}`),
        echo: order,
        seen_note: `in ${currency}`,
      };
    };
    w.sync.report = (receipt) => {
      seen.report = receipt;
    };
    w.sync.failTypeError = (a, b) => {
      throw new TypeError(`bad input: ${a} ${b}`);
    };
    w.sync.failValue = () => {
      throw new Error("plain failure");
    };
    w.sync.giveString = () => "not a number";
    w.sync.throw42 = () => {
      throw 42; // eslint-disable-line no-throw-literal
    };
    w.sync.inc = (i) => i + 1;
    w.sync.isTestDoc = (d) => d === globalThis.testDoc;
    w.sync.giveHandle = () => ({ label: "a class instance", target: new Doc("from a handle") });
    // Calls back into the worker while the worker is blocked calling this.
    w.sync.callBack = async (name, x) => (await w.sync[name](x, 1)) + 1000;
    w.sync.slow = () => new Promise((r) => setTimeout(r, 400));
    await w.ready;
  });
  after(() => w && w.terminate());

  test("expose_async: many async Rust calls in flight, each answered when its future finishes", async () => {
    const a = w.sync.waitGate("a");
    const b = w.sync.waitGate("b");
    const order = [];
    a.then(() => order.push("a"));
    b.then(() => order.push("b"));
    // Both are waiting inside Rust, and the worker still serves other calls.
    assert.equal(await w.sync.add(1, 2), 3);
    assert.equal(await w.sync.openGate("b"), true);
    assert.equal(await b, "b passed");
    assert.deepEqual(order, ["b"], "a is still pending: its gate is closed");
    assert.equal(await w.sync.openGate("a"), true);
    assert.equal(await a, "a passed");
    assert.deepEqual(order, ["b", "a"]);
    assert.equal(await w.sync.openGate("a"), false, "each gate resolves once");
  });

  test("expose_async: after an await Rust calls the main thread; errors keep their name", async () => {
    w.sync.double = (x) => x * 2;
    const rs = await Promise.all([w.sync.sleepThenCallMain(5, 10), w.sync.sleepThenCallMain(0, 1)]);
    assert.deepEqual(rs, [21, 3]);
    await assert.rejects(w.sync.asyncFail(), (e) => e.name === "RangeError" && e.message === "async out of range");
    await assert.rejects(w.sync.waitGate(5), (e) => e.name === "TypeError" && /waitGate/.test(e.message));
  });

  test("call_async: two main-thread calls in flight, Promises awaited, errors and time-outs", async () => {
    let active = 0;
    let most = 0;
    w.sync.slowEcho = async (ms, v) => {
      active++;
      most = Math.max(most, active);
      await new Promise((r) => setTimeout(r, ms));
      // The worker is not blocked: a call into it meanwhile is served.
      assert.equal(await w.sync.add(ms, 1), ms + 1);
      active--;
      return v;
    };
    w.sync.neverSettles = () => new Promise(() => {});
    assert.deepEqual(await w.sync.twoInFlight(), ["slow", "fast"]);
    assert.equal(most, 2, "both calls were on the main thread at once");
    const [timedOut, thrown] = await w.sync.asyncCallErrors();
    assert.equal(timedOut, "true");
    assert.match(thrown, /TypeError: bad input: x 1/);
    assert.equal(await w.sync.add(1, 1), 2, "the channel still works");
  });

  test("expose_async nested into a blocked Rust call: DeadlockError for both, no hang", async () => {
    let nested = null;
    w.sync.callAsyncBack = async () => {
      try {
        return await w.sync.waitGate("never");
      } catch (e) {
        nested = e;
        throw e;
      }
    };
    const r = await w.sync.blockedCallsAsync();
    assert.equal(nested && nested.name, "DeadlockError");
    assert.match(nested.message, /async Rust function "waitGate".*blocked/);
    assert.match(r, /^failed: .*Possible deadlock/);
    // The channel still works.
    assert.equal(await w.sync.add(2, 2), 4);
  });

  test("a serde struct goes to a main function and its typed reply comes back", async () => {
    const receipt = await w.sync.roundTrip();
    // What the JS user saw: the documented mapping.
    assert.deepStrictEqual(seen.order, EXPECTED_ORDER);
    assert.equal(seen.currency, "EUR");
    // What Rust read back (deserialized, checked equal to what it sent,
    // serialized again to us as its result and through `report`).
    const expected = {
      order_id: 18446744073709551615n,
      total: 7,
      lines: ["2 x tea", "1 x cup"],
      echo: EXPECTED_ORDER,
      seen_note: "in EUR",
    };
    assert.deepStrictEqual(receipt, expected);
    assert.deepStrictEqual(seen.report, expected);
  });

  test("errors thrown on the main thread keep name and message", async () => {
    const [typeError, plain, missing, decode, thrownValue] = await w.sync.errors();
    assert.equal(typeError.name, "TypeError");
    assert.equal(typeError.message, "bad input: bad 1");
    assert.equal(typeError.display, "the main thread threw TypeError: bad input: bad 1");
    assert.equal(typeError.has_stack, true, "the stack crosses too");
    assert.equal(plain.name, "Error");
    assert.equal(plain.message, "plain failure");
    assert.equal(missing.name, "Error");
    assert.match(missing.message, /exposes no sync function "noSuchFunction"/);
    assert.match(decode, /does not fit the Rust type: .*invalid type: string "not a number", expected u8/);
    assert.equal(thrownValue, 42);
  });

  test("the main thread calls Rust functions", async () => {
    assert.equal(await w.sync.add(2, 3.5), 5.5);
    assert.equal(await w.sync.double(21), 42);
    assert.equal(await w.sync.describe(EXPECTED_ORDER), "order 18446744073709551615 with 2 items");
    // A Rust function that calls the main thread while it is being called.
    assert.equal(await w.sync.nested(4), 50);
  });

  test("main calls back into the blocked Rust worker: served nested, re-entrantly", async () => {
    // reentry -> main callBack -> (nested) Rust add -> reply -> reply.
    assert.equal(await w.sync.reentry("add", 5), 1006);
    // Three deep: reentry -> callBack -> (nested) Rust nested -> main inc.
    assert.equal(await w.sync.reentry("nested", 2), 1030);
    const st = w.stats();
    assert.equal(st.pendingCalls, 0, JSON.stringify(st));
  });

  test("a Rust error or a bad argument rejects the main thread's promise", async () => {
    await assert.rejects(w.sync.fail(), (e) => e.name === "RangeError" && e.message === "Rust says the value is out of range");
    await assert.rejects(w.sync.add("x", 1), (e) => {
      assert.equal(e.name, "TypeError");
      assert.match(e.message, /Rust function "add": .*at \[0\]: invalid type: string "x", expected f64/);
      return true;
    });
    await assert.rejects(w.sync.notExposed(), (e) => e.name === "TypeError" && /exposes no function "notExposed"/.test(e.message));
    // The channel still works.
    assert.equal(await w.sync.add(1, 1), 2);
  });

  test("DOM-style handles: get, set, methods, constructors, identity, release", async () => {
    const [before, len, product, same, v, isDoc, missing, liveInside] = await w.sync.dom();
    assert.equal(before, "T");
    assert.equal(globalThis.testDoc.title, "T + Rust", "set reached the real object");
    assert.equal(len, 3);
    assert.equal(product, 42, "the method ran with this = testObj");
    assert.equal(same, true, "the same object gets the same handle");
    assert.equal(v, 5, "new TestClass(5)");
    assert.equal(isDoc, true, "a handle passed back is the main thread's own object");
    assert.equal(missing, true);
    // Live inside the call: testDoc (one id for both handles), the list and
    // the constructed object; the temporary testObj handles were released.
    assert.equal(liveInside, 3);
    // Every handle dropped at the end of the Rust function; the releases
    // rode on its reply, so nothing stays exported on the main thread.
    assert.deepEqual(await w.sync.importStats(), [0, 0]);
    assert.equal(w.stats().exports, 0, JSON.stringify(w.stats()));
  });

  test("a main-thread object inside a typed result reads into a JsHandle", async () => {
    assert.deepEqual(await w.sync.handleInResult(), ["a class instance", "from a handle"]);
    assert.deepEqual(await w.sync.importStats(), [0, 0]);
    assert.equal(w.stats().exports, 0, JSON.stringify(w.stats()));
  });

  test("what Rust does not keep is released: unique symbols, refused arguments, thrown values", async () => {
    const base = w.stats().exports;
    const unique = Symbol("unique");
    // An argument Rust cannot read as i64, and a function Rust does not expose.
    await assert.rejects(w.sync.double(unique), (e) => e.name === "TypeError");
    await assert.rejects(w.sync.notExposed(unique, new Doc("an argument")), /exposes no function/);
    // What a main function returns or throws into Rust (nested(n) calls inc).
    try {
      w.sync.inc = () => Symbol("a result");
      await assert.rejects(w.sync.nested(1));
      w.sync.inc = () => {
        throw Symbol("thrown");
      };
      await assert.rejects(w.sync.nested(1));
      w.sync.inc = () => {
        throw new Doc("thrown by reference");
      };
      await assert.rejects(w.sync.nested(1));
    } finally {
      w.sync.inc = (i) => i + 1; // as before()
    }
    // The releases ride on the worker's messages; one more call brings the last.
    assert.equal(await w.sync.add(1, 1), 2);
    assert.equal(w.stats().exports, base, JSON.stringify(w.stats()));
  });

  test("a call that times out fails with Timeout and the channel stays usable", async () => {
    assert.deepEqual(await w.sync.timeout(50), [true, 2]);
    // Let the late reply arrive; it is dropped by seq.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await w.sync.nested(1), 20);
  });
});

// A Rust function that cannot return (docs/rust.md, "When a Rust function
// fails"): a panic traps the wasm instance and a JS exception thrown through
// Rust leaves it mid-call, so serving is over. The page must not hang: the
// call in question and every other pending call reject with a ClosedError
// that says why, and so does every later call. (A Rust `Err` is an error
// reply and the worker goes on serving: "a Rust error or a bad argument"
// above.)
describe("a Rust function that cannot return", () => {
  async function failing(call, why) {
    requirePkg();
    const w = new BridgeWorker(FIXTURE, { type: "module" });
    try {
      await w.ready;
      assert.equal(await w.sync.add(2, 3), 5);
      // Another call in flight when it fails: it must not hang either.
      const other = w.sync.waitGate("never opened");
      const settled = Promise.allSettled([call(w), other]);
      const [failed, pending] = await settled;
      for (const r of [failed, pending]) {
        assert.equal(r.status, "rejected");
        assert.equal(r.reason.name, "ClosedError", String(r.reason && r.reason.stack));
        assert.match(r.reason.message, /the worker stopped serving/);
        assert.match(r.reason.message, why);
      }
      // Later calls fail at once, with the same reason.
      await assert.rejects(w.sync.add(1, 1), (e) => e.name === "ClosedError" && why.test(e.message));
    } finally {
      w.terminate();
    }
  }

  test("a panic in an exposed function: its call and the other pending call reject with the panic's message", { timeout: 30_000 }, async () => {
    await failing((w) => w.sync.panics("boom"), /panicked at .*selftest panic: boom/s);
  });

  test("a panic in an async Rust function after an await", { timeout: 30_000 }, async () => {
    await failing((w) => w.sync.panicsLater("later"), /panicked at .*selftest async panic: later/s);
  });

  test("a JS exception thrown through Rust (wasm_bindgen::throw_str)", { timeout: 30_000 }, async () => {
    await failing((w) => w.sync.throwsThrough("up"), /Error: selftest throw: up/);
  });
});
