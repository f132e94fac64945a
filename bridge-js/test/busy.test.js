// The benchmarks' `--busy N` load (benches/busy.mjs): started and stopped
// many times in one run (bundle-variants.mjs --alternate starts it once per
// repetition and case), it must leave no process listeners behind, or Node
// warns MaxListenersExceededWarning after ten.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startBusy } from "../../benches/busy.mjs";

test("startBusy/stop leaves no exit or signal listeners behind", async () => {
  const events = ["exit", "SIGINT", "SIGTERM"];
  const count = () => events.map((e) => process.listenerCount(e));
  const before = count();
  const warnings = [];
  const onWarning = (w) => warnings.push(w.name);
  process.on("warning", onWarning);
  try {
    for (let i = 0; i < 12; i++) {
      const stop = startBusy(1);
      assert.deepEqual(count(), before.map((n) => n + 1), "one listener per event while it runs");
      stop();
      stop(); // twice is harmless
      assert.deepEqual(count(), before, `after stop #${i + 1}`);
    }
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.filter((n) => n === "MaxListenersExceededWarning"), []);
  } finally {
    process.off("warning", onWarning);
  }
});
