// worker-bridge/rust (src/rust.js), the shipped bootstrap of a Rust worker:
// a main thread it cannot serve (no Atomics.waitAsync, so it asks for
// doorbell messages the Rust embedding does not send) fails `ready` with the
// bootstrap's message instead of hanging. The working path is
// embed.test.js, whose fixture starts through the same bootstrap.
// Own process (node --test), so deleting waitAsync affects only this file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";

const saved = Atomics.waitAsync;
delete Atomics.waitAsync;
const { BridgeWorker } = await import("../src/main.js");
Atomics.waitAsync = saved;

const FIXTURE = new URL("./fixtures/rust-worker.js", import.meta.url);

test("runRustWorker refuses a doorbell main thread with a clear error", { timeout: 30_000 }, async () => {
  assert.ok(existsSync(new URL("../pkg/full/bridge_wasm.js", import.meta.url)), "bridge-js/pkg/full is missing: cargo xtask build");
  const w = new BridgeWorker(FIXTURE);
  try {
    await assert.rejects(w.ready, /doorbell messages, which the Rust embedding does not send/);
  } finally {
    w.terminate();
  }
});
