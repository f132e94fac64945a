// worker-bridge with counters around its main-side steps (run.mjs --profile).
import { BridgeWorker } from "/bridge-js/src/main.js";
import { Endpoint } from "/bridge-js/src/endpoint.js";
import { Mailbox } from "/bridge-js/src/mailbox.js";
import { hook, reset } from "./profile-hooks.js";
import { startOurs } from "./ours-api.js";

const counters = {};
hook(Endpoint.prototype, "pump", counters, "main: pump (drain + poll), per wake-up");
hook(Endpoint.prototype, "decodeIncoming", counters, "main: decode request");
hook(Endpoint.prototype, "serve", counters, "main: serve (handler + encode + write reply)");
hook(Endpoint.prototype, "reply", counters, "main: encode + write reply");
hook(Endpoint.prototype, "armWait", counters, "main: park in Atomics.waitAsync");
hook(Endpoint.prototype, "encode", counters, "main: encode (wire.js)");
hook(Mailbox.prototype, "writeFrame", counters, "main: write frame + Atomics.notify");
// Atomics.notify alone: how long waking the parked worker takes on main.
const notify = Atomics.notify;
const woke = (counters["main: Atomics.notify that woke the parked worker"] = { calls: 0, ms: 0 });
const idle = (counters["main: Atomics.notify with nobody waiting"] = { calls: 0, ms: 0 });
Atomics.notify = function (...args) {
  const t = performance.now();
  const n = notify.apply(Atomics, args);
  const c = n > 0 ? woke : idle;
  c.calls++;
  c.ms += performance.now() - t;
  return n;
};

export function start(url, api) {
  return {
    ...startOurs(BridgeWorker, url, api),
    stats: () => JSON.parse(JSON.stringify(counters)),
    resetStats: () => reset(counters),
  };
}
