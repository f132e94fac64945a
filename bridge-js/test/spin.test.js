// SpinPolicy (src/spin.js): full spins while they pay, short spins with a
// full probe every 8th wait while they do not, and back to full spins once
// the probes hit again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SpinPolicy } from "../src/spin.js";

const FULL = 50;
const SHORT = 2;

function waits(p, n, hit) {
  const lengths = [];
  for (let i = 0; i < n; i++) {
    const len = p.length(FULL, SHORT);
    lengths.push(len);
    p.record(len, FULL, hit(len, i));
  }
  return lengths;
}

test("a new policy spins fully, and keeps doing so while full spins hit", () => {
  const p = new SpinPolicy();
  assert.deepEqual(new Set(waits(p, 1000, () => true)), new Set([FULL]));
});

test("occasional misses do not stop full spins", () => {
  const p = new SpinPolicy();
  // One full spin in four misses: the idle page whose main thread is
  // sometimes busy for longer than the spin.
  assert.deepEqual(new Set(waits(p, 1000, (len, i) => i % 4 !== 0)), new Set([FULL]));
});

test("full spins that keep missing give way to short spins, probing every 8th wait", () => {
  const p = new SpinPolicy();
  const lengths = waits(p, 200, () => false);
  const firstShort = lengths.indexOf(SHORT);
  assert.ok(firstShort > 0 && firstShort < 40, `went short after ${firstShort} misses`);
  const tail = lengths.slice(100, 196); // any 96 consecutive waits hold 12 probes
  const full = tail.filter((l) => l === FULL).length;
  assert.equal(full, 12, "one probe in 8 waits");
  assert.equal(tail.length - full, tail.filter((l) => l === SHORT).length);
});

test("probes that hit again bring full spins back", () => {
  const p = new SpinPolicy();
  assert.ok(waits(p, 200, () => false).slice(-8).includes(SHORT));
  const lengths = waits(p, 200, () => true);
  assert.deepEqual(new Set(lengths.slice(-50)), new Set([FULL]));
});

test("short spins do not move the hit rate (only full spins tell whether spinning pays)", () => {
  const p = new SpinPolicy();
  waits(p, 200, () => false);
  const rate = p.rate;
  p.record(SHORT, FULL, true);
  p.record(SHORT, FULL, true);
  assert.equal(p.rate, rate);
});
