// Values of every kind through sync calls in both directions, references that
// go home, and errors both ways.
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, workerResult, mainResult, assertClean } from "./harness.mjs";

const h = e2e({ servers: ["isolated"] });

const units = (s) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));
// Spot checks that the descriptions themselves tell the values apart.
function spotCheck(byName, key) {
  assert.deepEqual(byName["-0"][key], { t: "number", v: "-0" });
  assert.deepEqual(byName["NaN"][key], { t: "number", v: "NaN" });
  assert.deepEqual(byName["bigint"][key], { t: "bigint", v: "123456789012345678901234567890" });
  assert.deepEqual(byName["lone high surrogate"][key], { t: "string", v: [0x61, 0xd800, 0x62] });
  assert.deepEqual(byName["reversed pair"][key], { t: "string", v: [0xdc00, 0xd800] });
  assert.deepEqual(byName["unicode"][key], { t: "string", v: units("héllo €𝄞") });
  assert.equal(byName["map"][key].t, "Map");
  assert.equal(byName["set"][key].t, "Set");
  assert.deepEqual(byName["date"][key], { t: "Date", i: 0, v: String(Date.UTC(2024, 1, 29, 12, 0, 0, 123)) });
  assert.deepEqual(byName["invalid date"][key], { t: "Date", i: 0, v: "NaN" });
  assert.equal(byName["regexp"][key].flags, "giu");
  assert.equal(byName["sticky regexp"][key].flags, "y");
  assert.deepEqual(byName["subarray"][key], { t: "Uint8Array", i: 0, length: 3, bytes: [2, 250, 255] });
  assert.deepEqual(byName["DataView"][key], { t: "DataView", i: 0, length: 3, bytes: [1, 2, 250] });
  assert.deepEqual(byName["cycle"][key].entries[1], [units("self"), { t: "ref", i: 0 }]);
  assert.deepEqual(byName["shared references"][key].items[1], { t: "ref", i: 1 });
  assert.deepEqual(byName["sparse array"][key].items[1], { t: "hole" });
  const err = byName["error with cause and props"][key];
  assert.equal(err.name, "TypeError");
  assert.deepEqual(err.message, units("typed failure"));
  assert.deepEqual(err.cause.message, units("the cause"));
  assert.deepEqual(err.props.map(([k]) => k), ["code", "extra"]);
  assert.deepEqual(byName["null-prototype object"][key], { t: "Object", i: 0, entries: [[[0x78], { t: "number", v: "1" }]] });
}

function checkRoundTrips(rows, receivedKey, direction) {
  assert.ok(rows.length >= 40, `expected the whole value table, got ${rows.length} rows`);
  for (const row of rows) {
    assert.equal(row.error, null, `${direction} "${row.name}" threw: ${JSON.stringify(row.error)}`);
    assert.deepEqual(row[receivedKey], row.sent, `${direction} "${row.name}": what arrived differs from what was sent`);
    assert.deepEqual(row.back, row.sent, `${direction} "${row.name}": the echo differs from what was sent`);
  }
  spotCheck(Object.fromEntries(rows.map((r) => [r.name, r])), receivedKey);
}

test("values of every kind, worker -> main -> worker", async (t) => {
  const r = await h.run(t, { worker: "values.js", case: "toMain", main: "values.js" });
  const rows = workerResult(r);
  const seen = Object.fromEntries(r.state.seenOnMain.map((s) => [s.name, s.got]));
  for (const row of rows) row.seenOnMain = seen[row.name] ?? null;
  checkRoundTrips(rows, "seenOnMain", "worker->main");
  assertClean(r);
});

test("values of every kind, main -> worker -> main", async (t) => {
  const r = await h.run(t, { worker: "values.js", case: "toWorker", main: "values.js" });
  workerResult(r);
  checkRoundTrips(mainResult(r), "seenByWorker", "main->worker");
  assertClean(r);
});

test("a function and a DOM proxy passed by value come home as themselves", async (t) => {
  const r = await h.run(t, { worker: "values.js", case: "homecoming", main: "values.js" });
  assert.deepEqual(workerResult(r), { functionCameHome: true, proxyCameHome: true, mainSawRealBody: true });
  assertClean(r);
});

test("errors thrown on the main thread reach the worker's sync call", async (t) => {
  const r = await h.run(t, { worker: "values.js", case: "errorsFromMain", main: "values.js" });
  const o = workerResult(r);
  const te = o.typeError;
  assert.equal(te.threw, true);
  assert.equal(te.info.isError, true, "an Error arrives as an Error");
  assert.equal(te.info.name, "TypeError");
  assert.equal(te.info.message, "main says no");
  assert.match(te.info.stack, /mainThrower/, "the stack of the main thread's throw is kept");
  assert.equal(te.described.cause.name, "RangeError");
  assert.deepEqual(te.described.cause.message, units("deep cause"));
  assert.deepEqual(te.described.props, [["code", { t: "string", v: units("E_MAIN") }]]);
  assert.deepEqual(o.number, { threw: true, described: { t: "number", v: "42" }, info: { thrown: { t: "number", v: "42" } } });
  assert.deepEqual(o.string.described, { t: "string", v: units("a string") });
  assert.deepEqual(o.object.described, { t: "Object", i: 0, entries: [[units("plain"), { t: "boolean", v: true }]] });
  assert.deepEqual(o.undefinedThrown, { threw: true, described: { t: "undefined" }, info: { thrown: { t: "undefined" } } });
  assert.equal(o.domException.threw, true);
  assert.equal(o.domException.info.name, "SyntaxError");
  assert.match(o.domException.info.message, /not a valid selector/);
  assert.equal(o.jsonSyntax.threw, true);
  assert.equal(o.jsonSyntax.info.name, "SyntaxError");
  assert.equal(o.afterwards, "still fine");
  assertClean(r);
});

test("errors thrown in the worker reject the main thread's call", async (t) => {
  const r = await h.run(t, { worker: "values.js", case: "errorsFromMain", main: "values.js" });
  workerResult(r);
  const m = mainResult(r);
  assert.equal(m.rangeError.threw, true);
  assert.equal(m.rangeError.info.isError, true);
  assert.equal(m.rangeError.info.name, "RangeError");
  assert.equal(m.rangeError.info.message, "worker says no");
  assert.match(m.rangeError.info.stack, /workerThrower/, "the worker's stack is kept");
  assert.deepEqual(m.rangeError.described.cause.message, units("worker inner cause"));
  assert.deepEqual(m.rangeError.described.props, [["code", { t: "number", v: "7" }]]);
  assert.deepEqual(m.nullThrown.described, { t: "null" });
  assert.deepEqual(m.stringThrown.described, { t: "string", v: units("worker string") });
  assert.equal(m.afterwards, "fine");
  assertClean(r);
});
