// Hand-written main->worker floors (the m2w case only; no library): the page
// writes a request into shared memory and wakes the worker, the worker answers
// the same way. The mode (page.js passes it from the row's name, m2w-<mode>):
//   waitasync  the worker idles in Atomics.waitAsync (its event loop), the page in Atomics.waitAsync
//   wait       the worker blocks in Atomics.wait, the page in Atomics.waitAsync
//   poll       both threads poll: the page spins synchronously up to PAGE_SPIN_MS for
//              the answer, the worker up to WORKER_SPIN_MS for the next request; each
//              parks (waitAsync / Atomics.wait) only when its spin runs out
// The bare postMessage ping-pong is the `postmessage` floor (postmessage.*.js).
import * as L from "../floor.js";

export const MODES = ["waitasync", "wait", "poll"];
// Spin limits of the `poll` mode (ms): long enough that a call answered by a
// running peer never parks, bounded so a descheduled peer costs a park.
export const PAGE_SPIN_MS = 0.2;
export const WORKER_SPIN_MS = 1;

export function start(url, _api, options) {
  const mode = options?.mode;
  if (!MODES.includes(mode)) throw new Error(`m2w floor: unknown mode ${mode}`);
  const w = new Worker(`${url}&mode=${mode}`, { type: "module" });
  const i32 = new Int32Array(new SharedArrayBuffer(L.DATA));
  w.postMessage({ sab: i32.buffer });
  const spin = mode === "poll";
  let seq = 0;
  const call = (op, a, b) => {
    i32[L.M_OP] = op;
    i32[L.M_A] = a;
    i32[L.M_B] = b;
    const s = ++seq;
    Atomics.store(i32, L.M_REQ, s);
    Atomics.notify(i32, L.M_REQ);
    if (spin) {
      const until = performance.now() + PAGE_SPIN_MS;
      do {
        for (let k = 0; k < 64; k++) if (Atomics.load(i32, L.M_RES) === s) return i32[L.M_R];
      } while (performance.now() < until);
    }
    return answer(s);
  };
  // The worker's notify of the previous answer may still be on its way
  // (this side saw the store and went on): a wake-up is not the answer.
  const answer = (s) => {
    const r = Atomics.waitAsync(i32, L.M_RES, s - 1);
    return r.async ? r.value.then(() => answer(s)) : i32[L.M_R];
  };
  return {
    worker: w,
    // waitasync: the worker's event loop answers, no blocking "serve" needed
    m2wServe: mode !== "waitasync",
    callWorker: (a, b) => call(L.OPS.M_ADD, a, b),
    endM2W: async () => call(L.OPS.M_QUIT, 0, 0),
    terminate: () => w.terminate(),
  };
}
