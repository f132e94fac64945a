// Worker side of the main->worker floors (m2w-floor.main.js says the modes).
// Worker->main calls go over a plain postMessage (boot's first call only).
import { boot } from "../common.worker.js";
import * as L from "../floor.js";
import { WORKER_SPIN_MS } from "./m2w-floor.main.js";

const mode = new URL(self.location.href).searchParams.get("mode");

boot(async () => {
  const { sab } = await new Promise((resolve) =>
    addEventListener("message", (e) => resolve(e.data), { once: true }));
  const i32 = new Int32Array(sab);
  const pause = Atomics.pause ?? (() => {});
  // Serves request `s`; false when it was the last one.
  const answer = (s) => {
    const op = i32[L.M_OP];
    if (op === L.OPS.M_ADD) i32[L.M_R] = i32[L.M_A] + i32[L.M_B];
    Atomics.store(i32, L.M_RES, s);
    Atomics.notify(i32, L.M_RES);
    return op !== L.OPS.M_QUIT;
  };
  if (mode === "waitasync") {
    (async () => {
      let last = 0;
      for (;;) {
        const r = Atomics.waitAsync(i32, L.M_REQ, last);
        if (r.async) await r.value;
        last = Atomics.load(i32, L.M_REQ);
        if (!answer(last)) return;
      }
    })();
  }
  return {
    kind: "sync",
    add: (a, b) => a + b, // the start-up check's call; this floor times main->worker only
    serveMainCalls() {
      // M_RES is the last request served: main may have written the next
      // one before the "serve" control message got here.
      let last = Atomics.load(i32, L.M_RES);
      for (;;) {
        if (mode === "poll") {
          const until = performance.now() + WORKER_SPIN_MS;
          while (Atomics.load(i32, L.M_REQ) === last && performance.now() < until) pause();
        }
        while (Atomics.load(i32, L.M_REQ) === last) Atomics.wait(i32, L.M_REQ, last);
        last = Atomics.load(i32, L.M_REQ);
        if (!answer(last)) return;
      }
    },
  };
});
