// The ffi helpers of worker-bridge/coincident/* (src/coincident/ffi.js): each
// of assign / gather / query / evaluate is ONE call into the main thread,
// and the main side answers it as reflected-ffi does. (The entries
// themselves need browser Workers: tests/e2e/coincident.test.mjs.)
// Run: node --test bridge-js/test/coincident.test.js
import { test } from "node:test";
import assert from "node:assert/strict";
import { ffiHelpers, ffiMain, query } from "../src/coincident/ffi.js";
import { asError } from "../src/errors.js";

// A "main thread" in this process: every call is counted.
function fakeBridge() {
  const calls = [];
  const remote = new WeakSet();
  const call = (op, target, arg, args) => {
    calls.push(op);
    return structuredClone(ffiMain(op, target, arg, args));
  };
  const proxy = (o) => (remote.add(o), o);
  return { calls, proxy, ffi: ffiHelpers(call, (x) => remote.has(x)) };
}

test("each helper is one call, whatever the number of keys", () => {
  const { calls, proxy, ffi } = fakeBridge();
  const doc = proxy({ title: "t", body: { first: { id: "h" } }, list: [{ x: 1 }] });
  assert.deepEqual(ffi.gather(doc, "title", "body.first.id", 'list[0]["x"]'), ["t", "h", 1]);
  assert.equal(ffi.query(doc, "body.first.id"), "h");
  const target = proxy({});
  assert.equal(ffi.assign(target, { a: 1 }, { b: 2 }), target);
  assert.deepEqual(target, { a: 1, b: 2 });
  assert.equal(ffi.evaluate((a, b) => a * b, 6, 7), 42);
  assert.deepEqual(calls, ["gather", "query", "assign", "evaluate"]);
});

test("local targets never leave the worker", () => {
  const { calls, ffi } = fakeBridge();
  assert.deepEqual(ffi.gather({ a: 1, b: 2 }, "b", "a"), [2, 1]);
  assert.equal(ffi.query({ a: { b: [5] } }, "a.b[0]"), 5);
  assert.deepEqual(ffi.assign({ a: 1 }, { b: 2 }), { a: 1, b: 2 });
  assert.equal(ffi.direct(calls), calls);
  assert.deepEqual(calls, []);
});

test("evaluate takes method shorthand and async functions; unknown ops are refused", async () => {
  const { ffi } = fakeBridge();
  const o = { twice(x) { return 2 * x; } };
  assert.equal(ffi.evaluate(o.twice, 21), 42);
  assert.throws(() => ffiMain("nope", null), /unknown ffi operation nope/);
  assert.equal(query(undefined, "a.b"), undefined);
});

test("asError: what interpreters raise for a rejection reason (name, message, stack)", () => {
  const withStack = new TypeError("kept");
  assert.equal(asError(withStack), withStack, "an Error with a stack is returned as it is");
  const dom = new DOMException("no device", "NotFoundError");
  delete dom.stack;
  const e = asError(dom);
  assert.equal(e, dom, "an Error without a stack keeps its identity");
  assert.equal(typeof e.stack, "string");
  assert.match(e.stack, /^NotFoundError: no device/);
  const s = asError("a string");
  assert.ok(s instanceof Error);
  assert.equal(s.name, "Error");
  assert.equal(s.message, "a string");
  assert.equal(s.cause, "a string");
  const reason = { name: "CustomReason", message: "plain" };
  const o = asError(reason);
  assert.deepEqual([o.name, o.message, o.cause, typeof o.stack], ["CustomReason", "plain", reason, "string"]);
  assert.equal(asError({ code: 3 }).message, "[object Object]");
  assert.equal(asError(undefined).message, "undefined");
});
