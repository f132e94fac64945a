// Raw floor, worker side: a plain postMessage round trip over a MessageChannel,
// awaited (no blocking: this is what an async-only bridge costs).
import { boot } from "../common.worker.js";
import { OPS } from "../floor.js";

boot(async () => {
  const { port, mport } = await new Promise((resolve) =>
    addEventListener("message", (e) => resolve(e.data), { once: true }));
  const pending = new Map();
  let seq = 0;
  port.onmessage = ({ data }) => {
    const p = pending.get(data[0]);
    pending.delete(data[0]);
    p(data[1]);
  };
  const call = (op, a, b, c) => new Promise((resolve) => {
    const id = ++seq;
    pending.set(id, resolve);
    port.postMessage([id, op, a, b, c]);
  });
  // main->worker calls
  mport.onmessage = ({ data }) => mport.postMessage([data[0], data[1] + data[2]]);

  return {
    kind: "async",
    add: (a, b) => call(OPS.ADD, a, b),
    echoStr: (s) => call(OPS.STR, s),
    echoF64: (a) => call(OPS.F64, a),
    title: () => call(OPS.TITLE),
    async dom(n) {
      const box = await call(OPS.BOX);
      for (let i = 0; i < n; i++) {
        const el = await call(OPS.CREATE, "div");
        await call(OPS.TEXT, el, "item " + i);
        await call(OPS.STYLE, el, "color", "red");
        await call(OPS.APPEND, box, el);
      }
      return n;
    },
  };
});
