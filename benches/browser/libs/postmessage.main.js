// Raw floor, main side: answer each postMessage request with a postMessage.
import { OPS } from "../floor.js";

export function start(url, api) {
  const w = new Worker(url, { type: "module" });
  const ch = new MessageChannel();
  const mch = new MessageChannel();
  w.postMessage({ port: ch.port2, mport: mch.port2 }, [ch.port2, mch.port2]);
  const handles = [];
  const handle = (op, a, b, c) => {
    switch (op) {
      case OPS.ADD: return api.add(a, b);
      case OPS.STR: return api.echoStr(a);
      case OPS.F64: return api.echoF64(a);
      case OPS.TITLE: return document.title;
      case OPS.BOX: return handles.push(document.getElementById("box")) - 1;
      case OPS.CREATE: return handles.push(document.createElement(a)) - 1;
      case OPS.TEXT: handles[a].textContent = b; return 0;
      case OPS.STYLE: handles[a].style[b] = c; return 0;
      case OPS.APPEND: handles[a].appendChild(handles[b]); return 0;
      default: throw new Error(`floor: unknown op ${op}`);
    }
  };
  ch.port1.onmessage = ({ data }) => {
    ch.port1.postMessage([data[0], handle(data[1], data[2], data[3], data[4])]);
  };
  const pending = new Map();
  let seq = 0;
  mch.port1.onmessage = ({ data }) => {
    const p = pending.get(data[0]);
    pending.delete(data[0]);
    p(data[1]);
  };
  return {
    worker: w,
    callWorker: (a, b) => new Promise((resolve) => {
      const id = ++seq;
      pending.set(id, resolve);
      mch.port1.postMessage([id, a, b]);
    }),
    terminate: () => w.terminate(),
  };
}
