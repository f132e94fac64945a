// The page of tests/e2e/sw.test.mjs. Query:
//   sw=merged      the site's own service worker ./bridge-sw.js (imports worker-bridge/sw)
//   sw=standalone  /bridge-js/src/sw.js itself, scope this folder (Service-Worker-Allowed)
//   sw=none        no serviceWorker option (the async transport)
//   sw=noclaim     ./noclaim-sw.js: a service worker that does not claim the
//                  page, so the first load needs BridgeWorker's one reload
//   sw=noclaim-noreload  the same with { reload: false }
//   worker=URL     the worker script (default ./worker.js)
//   timeout=MS     BridgeWorker's timeout
// The spec drives it through window.__sw (start, call, ...).
import { BridgeWorker } from "/bridge-js/src/main.js";

const q = new URLSearchParams(location.search);
// Every load of this tab, kept across reloads (the reload-on-first-install test).
const loads = JSON.parse(sessionStorage.getItem("e2e-loads") ?? "[]");
loads.push({
  controlled: navigator.serviceWorker.controller !== null,
  navigation: performance.getEntriesByType("navigation")[0]?.type,
});
sessionStorage.setItem("e2e-loads", JSON.stringify(loads));

const state = (window.__sw = {
  loads,
  slowCalls: 0,
  controlledAtLoad: navigator.serviceWorker.controller !== null,
  reloaded: performance.getEntriesByType("navigation")[0]?.type === "reload",
  ready: false,
  error: null,
  log: [],
});

export function errorInfo(e) {
  if (e instanceof Error) {
    return { isError: true, name: e.name, message: e.message, ctor: e.constructor.name, code: e.code, cause: e.cause ? errorInfo(e.cause) : undefined };
  }
  return { isError: false, value: e };
}

function swOption() {
  const mode = q.get("sw") ?? "merged";
  if (mode === "merged") return "./bridge-sw.js";
  if (mode === "standalone") return { url: "/bridge-js/src/sw.js", scope: "./" };
  if (mode === "none") return undefined;
  if (mode === "noclaim") return "./noclaim-sw.js";
  if (mode === "noclaim-noreload") return { url: "./noclaim-sw.js", reload: false };
  throw new Error(`unknown sw mode ${mode}`);
}

const options = { type: "module" };
const sw = swOption();
if (sw !== undefined) options.serviceWorker = sw;
if (q.has("timeout")) options.timeout = Number(q.get("timeout"));
const w = new BridgeWorker(q.get("worker") ?? "./worker.js", options);
window.__worker = w;

// What the worker calls synchronously.
w.sync.add = (a, b) => a + b;
w.sync.inc = (i) => i + 1;
w.sync.tag = () => q.get("tag");
w.sync.bigBack = (bytes) => {
  // A 4 MiB answer derived from the 4 MiB argument: each byte + 1.
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = (bytes[i] + 1) & 255;
  return out;
};
w.sync.main_task = async () => {
  // The FAQ example: main awaits a worker function while that worker is
  // blocked in this very call; served re-entrantly.
  const fromWorker = await w.sync.worker_task();
  return `main_task got: ${fromWorker}`;
};
w.sync.fails = () => {
  const e = new TypeError("main says no");
  e.code = "E_MAIN";
  throw e;
};
w.sync.slow = (ms) => {
  state.slowCalls++; // the worker is blocked in this call from now on
  return new Promise((r) => setTimeout(() => r(`slept ${ms}`), ms));
};
w.sync.log = (...parts) => { state.log.push(parts.join(" ")); };

state.call = async (name, ...args) => {
  try {
    return { ok: true, value: await w.sync.run(name, ...args) };
  } catch (e) {
    return { ok: false, error: errorInfo(e) };
  }
};
state.callWorker = async (name, ...args) => {
  try {
    return { ok: true, value: await w.sync[name](...args) };
  } catch (e) {
    return { ok: false, error: errorInfo(e) };
  }
};

w.ready.then(
  () => {
    state.transport = w.transport;
    state.controlled = navigator.serviceWorker.controller !== null;
    state.ready = true;
  },
  (e) => {
    state.error = errorInfo(e);
    state.ready = true;
  },
);
