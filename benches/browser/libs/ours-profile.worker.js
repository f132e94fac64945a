// worker-bridge with counters around its worker-side steps (run.mjs --profile).
import { bridge } from "/bridge-js/src/worker.js";
import { Endpoint, AtomicsTransport } from "/bridge-js/src/endpoint.js";
import { boot, domWithWindow } from "../common.worker.js";
import { hook, reset } from "./profile-hooks.js";
import { setupOurs } from "./ours-api.js";

const counters = {};
hook(Endpoint.prototype, "callBlocking", counters, "worker: whole blocking call");
hook(Endpoint.prototype, "encodeRequest", counters, "worker: encode request");
hook(Endpoint.prototype, "sendBytes", counters, "worker: write request + notify");
hook(AtomicsTransport.prototype, "recvBlocking", counters, "worker: wait for the reply (spin, then Atomics.wait)");

boot(async () => ({
  ...(await setupOurs(bridge, domWithWindow)),
  stats: () => JSON.parse(JSON.stringify(counters)),
  resetStats: () => reset(counters),
}));
