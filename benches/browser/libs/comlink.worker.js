// comlink 4.4.2, worker side. comlink has no synchronous calls: every
// worker->main call is awaited. `window.document.title` goes through a
// comlink proxy of main's globalThis (one round trip per await).
import * as Comlink from "/node_modules/comlink/dist/esm/comlink.mjs";
import { boot } from "../common.worker.js";

boot(async () => {
  const { api, win, wapi } = await new Promise((resolve) =>
    addEventListener("message", (e) => resolve(e.data), { once: true }));
  const main = Comlink.wrap(api);
  const window = Comlink.wrap(win);
  Comlink.expose({ wadd: (a, b) => a + b }, wapi);
  return {
    kind: "async",
    add: (a, b) => main.add(a, b),
    echoStr: (s) => main.echoStr(s),
    echoF64: (a) => main.echoF64(a),
    title: () => window.document.title,
    dom: null, // DOM nodes are not cloneable; comlink needs hand-written proxies here
  };
});
