// The bridge's own channel and the `transform` hook, on node:worker_threads.
// Bridge messages travel on a MessageChannel handed over at start-up, so the
// user's `message` listeners on both sides only see what user code posts.
// Run: node --test bridge-js/test/channel.test.js
import { test } from "node:test";
import assert from "node:assert/strict";
import { BridgeWorker } from "../src/main.js";

const FIXTURE = new URL("./fixtures/channel-worker.js", import.meta.url);

test("user postMessage beside the bridge, both ways: no user listener sees a bridge message", async () => {
  const w = new BridgeWorker(FIXTURE, { type: "module", transform: (v) => (v && v.wrapped !== undefined ? v.wrapped : v) });
  const seenByMain = [];
  const hello = new Promise((resolve) => {
    const onWorker = () => {
      w.worker.on("message", (d) => {
        seenByMain.push(d);
        if (d && d.hello) resolve();
      });
    };
    if (w.worker) onWorker();
    else w.ready.then(onWorker);
  });
  w.sync.mainAdd = (a, b) => a + b;
  await w.ready;
  // Bridge traffic both ways while user messages flow.
  for (let i = 0; i < 20; i++) assert.equal(await w.sync.callMain(i), i + 2, "the worker's transform unwrapped its arguments");
  assert.equal(await w.sync.wrappedResult(), "unwrapped by the worker's transform");
  w.worker.postMessage({ echo: 1 });
  w.worker.postMessage({ echo: 2 });
  await hello;
  while (seenByMain.filter((d) => d && d.echoed).length < 2) await new Promise((r) => setTimeout(r, 5));
  // Node's parentPort is an EventEmitter: the start-up message (which hands
  // over the channel) cannot be hidden from a listener installed before it
  // arrives; every other bridge message travels on the channel. (Browsers
  // stop it: tests/e2e/pyscript.test.mjs checks that strictly.)
  const seen = await w.sync.seen();
  assert.equal(seen.length, 3, "the start-up message and the two user messages");
  assert.equal(seen[0]["worker-bridge"], 1, "the start-up message");
  assert.deepEqual(seen.slice(1), [{ echo: 1 }, { echo: 2 }], "no other bridge message reached the worker's listener");
  assert.deepEqual(seenByMain, [{ hello: "from the worker" }, { echoed: 1 }, { echoed: 2 }], "main's listener saw only the worker's own messages");
  w.terminate();
});

test("transform on main: every argument of a main -> worker call and every result main sends", async () => {
  const w = new BridgeWorker(FIXTURE, { type: "module", transform: (v) => (typeof v === "string" ? v.toUpperCase() : v) });
  w.sync.mainAdd = (a, b) => `${a}${b}`; // its result "12"... strings are upper-cased on the way out
  w.sync.shout = () => "quiet";
  await w.ready;
  // callMain sends { wrapped: x } and { wrapped: 2 }: the worker's transform
  // unwraps them; main's result passes main's transform.
  assert.equal(await w.sync.callMain("a"), "A2");
  w.terminate();
});
