// Raw floor, worker side: a hand-written Atomics ping-pong. The worker writes
// the request into shared memory, notifies, spins (Atomics.pause) and then
// parks in Atomics.wait until main writes the reply.
import { boot } from "../common.worker.js";
import * as L from "../floor.js";

const { OPS } = L;

boot(async () => {
  const { sab } = await new Promise((resolve) =>
    addEventListener("message", (e) => resolve(e.data), { once: true }));
  const i32 = new Int32Array(sab);
  const u8 = new Uint8Array(sab, L.DATA, L.DATA_BYTES);
  const f64 = new Float64Array(sab, L.DATA, L.DATA_BYTES / 8);
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const pause = Atomics.pause ?? (() => {});
  let seq = 0;

  const result = () => {
    const r = i32[L.R];
    if (r === L.FAILED) throw new Error("floor: the main-thread handler threw (see the page console)");
    return r;
  };
  const call = (op, a = 0, b = 0) => {
    i32[L.OP] = op;
    i32[L.A] = a;
    i32[L.B] = b;
    const s = ++seq;
    Atomics.store(i32, L.REQ, s);
    Atomics.notify(i32, L.REQ);
    const until = performance.now() + L.SPIN_MS;
    do {
      for (let k = 0; k < 64; k++) {
        if (Atomics.load(i32, L.RES) === s) return result();
        pause();
      }
    } while (performance.now() < until);
    while (Atomics.load(i32, L.RES) !== s) Atomics.wait(i32, L.RES, s - 1);
    return result();
  };
  // encodeInto refuses shared memory: encode into a private scratch, then copy.
  const scratch = new Uint8Array(L.DATA_BYTES);
  const put = (s) => {
    const n = enc.encodeInto(s, scratch).written;
    u8.set(scratch.subarray(0, n));
    return n;
  };
  const get = (len) => dec.decode(u8.slice(0, len));

  return {
    kind: "sync",
    add: (a, b) => call(OPS.ADD, a, b),
    echoStr: (s) => get(call(OPS.STR, put(s))),
    echoF64(a) {
      f64.set(a);
      return f64.slice(0, call(OPS.F64, a.length));
    },
    title: () => get(call(OPS.TITLE)),
    dom(n) {
      const box = call(OPS.BOX);
      for (let i = 0; i < n; i++) {
        const el = call(OPS.CREATE, put("div"));
        call(OPS.TEXT, el, put("item " + i));
        call(OPS.STYLE, el, put("color\u0000red"));
        call(OPS.APPEND, box, el);
      }
      return n;
    },
    serveMainCalls() {
      // M_RES is the last request served: main may have written the next
      // one before the "serve" control message got here.
      let last = Atomics.load(i32, L.M_RES);
      for (;;) {
        const until = performance.now() + L.SPIN_MS;
        while (Atomics.load(i32, L.M_REQ) === last) {
          if (performance.now() < until) pause();
          else Atomics.wait(i32, L.M_REQ, last);
        }
        last = Atomics.load(i32, L.M_REQ);
        const op = i32[L.M_OP];
        if (op === OPS.M_ADD) i32[L.M_R] = i32[L.M_A] + i32[L.M_B];
        Atomics.store(i32, L.M_RES, last);
        Atomics.notify(i32, L.M_RES);
        if (op === OPS.M_QUIT) return;
      }
    },
  };
});
