// The serve loop of a Rust worker's JS bootstrap (docs/rust.md, step 5):
// the Rust embedding answers the page's calls in `servePending()`, and this
// loop calls it each time the to_worker mailbox's WRITTEN counter moves,
// waiting for that with Atomics.waitAsync so the worker's event loop stays
// free. It ends when `servePending` throws: quietly when the channel closed
// (terminate), through `onError` otherwise. On the service-worker transport
// nothing moves in shared memory: `serveOnDemand` serves when asked (a
// message arrived, or the Rust transport has some left after a wait).

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

/**
 * The service-worker transport's serve loop: returns `{ wake, done }`;
 * `wake()` serves soon (from a new task, never inside the caller: Rust calls
 * it while its channel is in use), `done` resolves when serving ended.
 */
export function serveOnDemand(servePending, { onError = (e) => console.error("worker-bridge:", e) } = {}) {
  let scheduled = false;
  let stopped = false;
  let end;
  const done = new Promise((resolve) => { end = resolve; });
  const run = async () => {
    scheduled = false;
    while (!stopped) {
      let served;
      try {
        served = servePending();
      } catch (e) {
        stopped = true;
        if (!/closed/.test(String(e && e.message))) onError(e);
        end();
        return;
      }
      if (served === 0) return;
      // An async Rust function started: let it run first (as above).
      await null;
    }
  };
  const wake = () => {
    if (scheduled || stopped) return;
    scheduled = true;
    setTimeout(run, 0);
  };
  return { wake, done };
}
