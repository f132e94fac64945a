// Raw floor, main side: Atomics.waitAsync wakes main when a request lands;
// main drains requests synchronously (within an 8 ms slice) before it yields.
import * as L from "../floor.js";

const { OPS } = L;
const enc = new TextEncoder();
const dec = new TextDecoder();

export function start(url, api) {
  const w = new Worker(url, { type: "module" });
  const sab = new SharedArrayBuffer(L.DATA + L.DATA_BYTES);
  const i32 = new Int32Array(sab);
  const u8 = new Uint8Array(sab, L.DATA, L.DATA_BYTES);
  const f64 = new Float64Array(sab, L.DATA, L.DATA_BYTES / 8);
  w.postMessage({ sab });
  const handles = [];
  const str = (len) => dec.decode(u8.slice(0, len));
  // encodeInto refuses shared memory: encode into a private scratch, then copy.
  const scratch = new Uint8Array(L.DATA_BYTES);
  const put = (s) => {
    const n = enc.encodeInto(s, scratch).written;
    u8.set(scratch.subarray(0, n));
    return n;
  };
  let closed = false;

  const handle = () => {
    const op = i32[L.OP], a = i32[L.A], b = i32[L.B];
    switch (op) {
      case OPS.ADD: return api.add(a, b);
      case OPS.STR: return put(api.echoStr(str(a)));
      case OPS.F64: {
        const r = api.echoF64(f64.slice(0, a));
        f64.set(r);
        return r.length;
      }
      case OPS.TITLE: return put(document.title);
      case OPS.BOX: return handles.push(document.getElementById("box")) - 1;
      case OPS.CREATE: return handles.push(document.createElement(str(a))) - 1;
      case OPS.TEXT: handles[a].textContent = str(b); return 0;
      case OPS.STYLE: {
        const [k, v] = str(b).split("\u0000");
        handles[a].style[k] = v;
        return 0;
      }
      case OPS.APPEND: handles[a].appendChild(handles[b]); return 0;
      default: throw new Error(`floor: unknown op ${op}`);
    }
  };

  const reply = (s) => {
    try {
      i32[L.R] = handle();
    } catch (e) {
      console.error(e);
      i32[L.R] = L.FAILED;
    }
    Atomics.store(i32, L.RES, s);
    Atomics.notify(i32, L.RES);
  };
  // Drain: a worker calling back to back sends its next request within
  // microseconds of our reply, so poll briefly before parking in waitAsync.
  const poll = (last) => {
    let s;
    const until = performance.now() + L.MAIN_POLL_MS;
    while ((s = Atomics.load(i32, L.REQ)) === last && performance.now() < until);
    return s;
  };

  (async () => {
    let last = 0;
    let slice = performance.now();
    while (!closed) {
      // After a reply, poll first; park only when nothing came in.
      const polled = poll(last);
      if (polled !== last) {
        last = polled;
        reply(polled);
        if (performance.now() - slice > 8) {
          await new Promise((ok) => setTimeout(ok, 0));
          slice = performance.now();
        }
        continue;
      }
      const r = Atomics.waitAsync(i32, L.REQ, last);
      if (r.async) {
        await r.value;
        slice = performance.now();
      } else if (performance.now() - slice > 8) {
        await new Promise((ok) => setTimeout(ok, 0));
        slice = performance.now();
      }
      const s = Atomics.load(i32, L.REQ);
      if (s === last) continue;
      last = s;
      reply(s);
    }
  })();

  let mseq = 0;
  const mcall = async (op, a, b) => {
    i32[L.M_OP] = op;
    i32[L.M_A] = a;
    i32[L.M_B] = b;
    const s = ++mseq;
    Atomics.store(i32, L.M_REQ, s);
    Atomics.notify(i32, L.M_REQ);
    // A wake-up may be the notify of the previous answer, still on its way.
    for (;;) {
      const r = Atomics.waitAsync(i32, L.M_RES, s - 1);
      if (!r.async) return i32[L.M_R];
      await r.value;
    }
  };

  return {
    worker: w,
    m2wServe: true,
    callWorker: (a, b) => mcall(OPS.M_ADD, a, b),
    endM2W: () => mcall(OPS.M_QUIT, 0, 0),
    terminate() {
      closed = true;
      w.terminate();
    },
  };
}
