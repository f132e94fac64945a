// worker-bridge with counters around its worker-side steps (run.mjs --profile).
import { bridge } from "/bridge-js/src/worker.js";
import { Endpoint, AtomicsTransport } from "/bridge-js/src/endpoint.js";
import { boot, domWithWindow } from "../common.worker.js";
import { hook, reset } from "./profile-hooks.js";

const counters = {};
hook(Endpoint.prototype, "callBlocking", counters, "worker: whole blocking call");
hook(Endpoint.prototype, "encodeRequest", counters, "worker: encode request");
hook(Endpoint.prototype, "sendBytes", counters, "worker: write request + notify");
hook(AtomicsTransport.prototype, "recvBlocking", counters, "worker: wait for the reply (spin, then Atomics.wait)");

boot(async () => {
  const { sync, window } = await bridge();
  sync.wadd = (a, b) => a + b;
  return {
    kind: "sync",
    add: (a, b) => sync.add(a, b),
    echoStr: (s) => sync.echoStr(s),
    echoF64: (a) => sync.echoF64(a),
    title: () => window.document.title,
    dom: (n) => domWithWindow(window, n),
    stats: () => JSON.parse(JSON.stringify(counters)),
    resetStats: () => reset(counters),
  };
});
