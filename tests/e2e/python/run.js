// The page of tests/e2e/python.test.mjs. Query: `script` (a .py file in this
// directory), `kind` ("mpy" or "py"). It starts the worker, records what the
// worker printed and reported, and the lifecycle, in `window.__py`.
const q = new URLSearchParams(location.search);
// `dist`: the built package (bridge-js/dist, what `exports` points at)
// instead of the sources.
const { MPWorker, PyWorker, PythonError } = await import(q.has("dist") ? "/bridge-js/dist/python.js" : "/bridge-js/src/python.js");
const kind = q.get("kind") === "py" ? "py" : "mpy";
const script = q.get("script");
const state = {
  out: [],
  err: [],
  events: [],
  reports: {},
  ready: false,
  done: false,
  error: null,
  transport: null,
};
window.__py = state;
state.violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  state.violations.push(`${e.violatedDirective} ${e.blockedURI}`);
});

// PyScript's FAQ listens on `document`; the events bubble on to `window`.
for (const type of [`${kind}:ready`, `${kind}:done`, `${kind}:error`, "py:all-done"]) {
  document.addEventListener(type, (e) => {
    const d = e.detail;
    state.events.push(type === "py:all-done"
      ? { type, detail: d ?? null }
      : { type, worker: d.worker, wrapIsWorker: d.wrap === worker, script: d.script, error: d.error?.name ?? null });
  });
}
state.windowEvents = [];
window.addEventListener(`${kind}:done`, (e) => state.windowEvents.push(e.type));

const Ctor = kind === "py" ? PyWorker : MPWorker;
// `sw`: the service-worker run of the suite (harness: WB_E2E_TRANSPORT). Scope
// /, so that the bridge's own /bridge-js/src/python-worker.js is controlled.
const sw = q.has("sw") ? { serviceWorker: { url: "/bridge-js/src/sw.js", scope: "/" } } : {};
const worker = new Ctor(`./${script}`, {
  ...sw,
  // `eventWait`: BridgeWorker's option (how long a DOM event waits for a worker listener).
  ...(q.has("eventWait") ? { eventWait: Number(q.get("eventWait")) } : {}),
  onStdout: (line) => state.out.push(line),
  onStderr: (line) => state.err.push(line),
  config: {
    // probe_cost.py: the counting probes.py shares with pyscript/probes.py.
    files: { "./data.txt": "/data/data.txt", "./probe_cost.py": "./probe_cost.py" },
    // `packages`: config.packages, comma-separated (packages.py).
    ...(q.has("packages") ? { packages: q.get("packages").split(",") } : {}),
    // `jsmods`: config.js_modules (js_modules.py).
    ...(q.has("jsmods") ? {
      js_modules: {
        main: { "./mod_main.js": "main_mod", "./mod_style.css": "style" },
        worker: { "./mod_worker.js": "worker_mod" },
      },
    } : {}),
  },
});
window.__worker = worker;
state.transport = worker.transport;

// `busyStart`: from the bridge's handshake on (the worker's script runs),
// the page's main thread stays busy until the worker has begun fetching the
// interpreter's module, or for 20 s. The test answers the synchronous
// requests to /__interpreter_requested from the requests it saw. (A page busy
// from the constructor on would hold back the Worker's own start.)
if (q.has("busyStart")) {
  worker.bridgeReady.then(() => {
    const until = performance.now() + 20_000;
    let requested = false;
    while (!requested && performance.now() < until) {
      const xhr = new XMLHttpRequest();
      xhr.open("GET", "/__interpreter_requested", false);
      xhr.send();
      requested = xhr.responseText === "yes";
    }
    state.interpreterRequestedWhileBusy = requested;
  });
}

// What the scripts may call on the main thread.
worker.sync.report = (name, value) => {
  state.reports[name] = value;
};
function describeValue(value) {
  return {
    type: typeof value,
    plain: value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype,
    isArray: Array.isArray(value),
    isDate: value instanceof Date,
    isMap: value instanceof Map,
    json: (() => { try { return JSON.stringify(value); } catch { return null; } })(),
    isUint8Array: value instanceof Uint8Array,
    // A proxy of a worker object: every read is a Promise.
    remote: value !== null && typeof value === "object" && value.__wb_probe instanceof Promise,
    bytes: value instanceof Uint8Array ? [...value] : null,
    // The first element / property values that are functions or objects.
    inner: value !== null && typeof value === "object"
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? "null" : Array.isArray(v) ? "array"
        : v instanceof Uint8Array ? "Uint8Array" : typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype ? "plain" : typeof v]))
      : null,
  };
}
worker.sync.describe = (name, value) => {
  state.reports[name] = describeValue(value);
};
// The same through a plain `window` function (not `sync`).
window.__describe = (name, value) => {
  state.reports[name] = describeValue(value);
};
window.__throws = (m) => {
  throw new RangeError(`window says ${m}`);
};
// Promises that reject with what is not an Error of this realm (rejects.py):
// a DOMException without a stack (as the browser's own are), a string, a
// plain object.
window.__rejectWith = (kind) => new Promise((_, reject) => setTimeout(() => {
  const dom = new DOMException("made on the page", "AbortError");
  delete dom.stack;
  reject(kind === "dom" ? dom : kind === "string" ? "a plain string reason" : { name: "CustomReason", message: "a plain object reason" });
}, 10));
window.__isPlain = (v) => v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype;
worker.sync.fails = (msg) => {
  throw new TypeError(`main says ${msg}`);
};
worker.sync.add = (a, b) => a + b;
// probes.py: requests served so far (stats().served), and fixtures.
worker.sync.served = () => worker.stats().served;
window.isInstance = (x, C) => x instanceof C;
class ProbeA { get kind() { return "A"; } }
class ProbeB { get kind() { return "B"; } get extra() { return 1; } }
window.probeTarget = new ProbeA();
window.swapProbeProto = () => { Object.setPrototypeOf(window.probeTarget, ProbeB.prototype); };
window.addLateLater = () => { setTimeout(() => { window.probeTarget.late = 1; }, 50); };
// rounds.py: page functions MicroPython calls (round trips and results).
window.rounds = {
  add: (a, b) => a + b,
  obj: { name: "rounds-obj", who() { return this.name; } },
  makeAdder: (n) => (x = 0) => n + x,
  refFn: Object.assign((x) => x + 1, { _ref: 3 }),
  kw: (...args) => JSON.stringify(args),
  callBack: (f, x) => f(x),
  echo: (x) => x,
  list: (n) => Array.from({ length: n }, (_, i) => ({ i })),
};
// PyScript FAQ "Possible deadlock": main awaits a worker function while the
// worker is blocked in this very call.
worker.sync.main_task = async () => {
  await worker.sync.worker_task();
  return "main_task finished";
};

worker.ready.then(() => { state.ready = true; }, () => {});
worker.done.then(
  () => { state.done = true; },
  (e) => {
    state.error = { name: e.name, type: e.type, message: e.message, isPythonError: e instanceof PythonError };
    state.done = true;
  },
);

// Dispatches a bubbling, cancelable event on #btn; what the page saw.
// `sync.dispatch_over()`: whether that dispatchEvent returned (prevent.py's
// slow listener holds on until it did).
let dispatchOver = false;
worker.sync.dispatch_over = () => dispatchOver;
window.__dispatch = (type) => {
  let bubbled = false;
  const onBody = () => { bubbled = true; };
  document.body.addEventListener(type, onBody);
  const ev = new Event(type, { bubbles: true, cancelable: true });
  dispatchOver = false;
  const notPrevented = document.getElementById("btn").dispatchEvent(ev);
  dispatchOver = true;
  document.body.removeEventListener(type, onBody);
  return { notPrevented, defaultPrevented: ev.defaultPrevented, bubbled, reports: { ...state.reports } };
};
