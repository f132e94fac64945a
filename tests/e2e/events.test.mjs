// A DOM event delivered to a listener that lives in a worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { e2e, waitFor, workerResult, assertClean } from "./harness.mjs";

const h = e2e({ servers: ["isolated"] });

test("a click on the page reaches a worker's window.addEventListener listener", async (t) => {
  const r = await h.run(t, {
    worker: "events.js",
    case: "click",
    beforeDone: async (p) => {
      await waitFor(p, "armed", 30_000);
      await p.page.click("#target");
    },
  });
  assert.deepEqual(workerResult(r), {
    type: "click",
    isTrusted: true,
    targetId: "target",
    button: 0,
    clientXType: "number",
    targetIsTheButton: true,
  });
  assertClean(r);
});
