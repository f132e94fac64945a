// The serve loop of a Rust worker's JS bootstrap (docs/rust.md, step 5):
// the Rust embedding answers the page's calls in `servePending()`, and this
// loop calls it each time the to_worker mailbox's WRITTEN counter moves,
// waiting for that with Atomics.waitAsync so the worker's event loop stays
// free. It ends when `servePending` throws: quietly when the channel closed
// (terminate), through `onError` otherwise.

import { HEADER_BYTES } from "./mailbox.js";

/**
 * Serves the page's calls until the channel closes. `sab` and `capacity`
 * come from the page's start-up message (docs/protocol.md §7).
 */
export async function serveRustWorker(servePending, sab, capacity, { onError = (e) => console.error("worker-bridge:", e) } = {}) {
  const i32 = new Int32Array(sab);
  const written = (HEADER_BYTES + capacity) / 4; // the to_worker mailbox's WRITTEN slot
  for (;;) {
    const seen = Atomics.load(i32, written);
    let served;
    try {
      served = servePending();
    } catch (e) {
      if (!/closed/.test(String(e && e.message))) onError(e);
      return;
    }
    if (served > 0) {
      // It may have stopped early (it returns after starting an async Rust
      // function, `expose_async`): let that run (a microtask), then look
      // again before waiting, since what is left may be older than `seen`.
      await null;
      continue;
    }
    const w = Atomics.waitAsync(i32, written, seen);
    if (w.async) await w.value;
  }
}
