// The generic end-to-end page (see tests/e2e/harness.mjs for the query it reads).
// Everything the spec asserts on ends up in `window.__e2e`.
import { BridgeWorker } from "/bridge-js/src/main.js";
import { errorInfo } from "./describe.js";

const q = new URLSearchParams(location.search);
const state = (window.__e2e = {
  done: false,
  ready: false,
  armed: false,
  worker: null,
  main: null,
  error: null,
  violations: [],
  log: [],
});
const logEl = document.getElementById("log");
function log(...parts) {
  const line = parts.map((p) => (typeof p === "string" ? p : safeJson(p))).join(" ");
  state.log.push(line);
  logEl.textContent += line + "\n";
  console.log(line);
}
function safeJson(v) {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
document.addEventListener("securitypolicyviolation", (e) => {
  state.violations.push(`${e.violatedDirective} blocked ${e.blockedURI || "(inline)"}`);
});

// Fixtures the worker specs read and change through `window`.
window.sample = { a: 1, b: "two" };
window.sampleArray = [1, 2, 3];
window.sampleMap = new Map([["x", 1], ["y", 2]]);
window.protoObj = { inherited: "from protoObj" };
window.identityCheck = (node) => node === document.body;
// Requests the page has served its worker so far (the proxy case counts
// round trips with it).
window.servedCount = () => window.__worker.stats().served;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The async transport cannot make sync calls, so the page asks the worker.
async function pull(worker) {
  const deadline = performance.now() + 15_000;
  for (;;) {
    try {
      return await worker.sync.result();
    } catch (e) {
      if (performance.now() > deadline) throw e;
      await sleep(50);
    }
  }
}

// The service-worker transport run of the suite (harness: WB_E2E_TRANSPORT).
const SW_OPTION = q.has("sw") ? { url: "/bridge-js/src/sw.js", scope: "/tests/e2e/" } : null;
// Page modules start their own workers with ctx.BridgeWorker: on that run it
// adds the serviceWorker option (a module's own options win).
const PageBridgeWorker = SW_OPTION === null ? BridgeWorker : class extends BridgeWorker {
  constructor(url, options = {}) {
    super(url, { serviceWorker: SW_OPTION, ...options });
  }
};

async function main() {
  const mainMod = q.get("main") ? await import(q.get("main")) : null;
  const ctx = { BridgeWorker: PageBridgeWorker, transport: SW_OPTION === null ? null : "service-worker", log, state, worker: null, ready: null };
  let workerResult = null;
  if (q.get("worker")) {
    const worker = new PageBridgeWorker(q.get("worker"), { type: "module" });
    ctx.worker = window.__worker = worker;
    let resolveDone, resolveReady;
    workerResult = new Promise((r) => (resolveDone = r));
    ctx.ready = new Promise((r) => (resolveReady = r));
    worker.sync.done = (obs) => resolveDone(obs);
    worker.sync.ready = () => {
      state.ready = true;
      resolveReady();
    };
    worker.sync.armed = () => {
      state.armed = true;
    };
    worker.sync.log = (...parts) => {
      log("[worker]", ...parts);
      return parts.length;
    };
    if (q.has("pull")) workerResult = pull(worker);
  }
  // Register the main module's sync functions before the worker can call them.
  mainMod?.setup?.(ctx);
  const [w, m] = await Promise.all([workerResult, mainMod?.default ? mainMod.default(ctx) : null]);
  state.worker = w;
  state.main = m;
}

main()
  .catch((e) => {
    state.error = errorInfo(e);
    log("page failed:", String(e && e.stack ? e.stack : e));
  })
  .finally(() => {
    state.done = true;
  });
