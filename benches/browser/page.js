// Main side of the browser benchmark. run.mjs opens index.html?lib=NAME and
// calls `window.bench(caseName, counts)`; every measurement gets a fresh page.
const params = new URLSearchParams(location.search);
const lib = params.get("lib");
// The service-worker variants ("-sw") use the library's own adapter with its
// serviceWorker option, on a page without COOP/COEP.
const SW = lib === "coincident-sw" || lib === "ours-sw" || lib === "xhr-sw";
// The main->worker floors (m2w-waitasync, m2w-wait, m2w-poll) are one adapter with a mode.
const M2W_FLOOR = lib?.startsWith("m2w-") ? lib.slice(4) : null;
const libFile = SW ? lib.slice(0, -3) : M2W_FLOOR ? "m2w-floor" : lib;
const WORKER_URL = new URL(`./libs/${libFile}.worker.js`, import.meta.url).href;
const token = Math.random().toString(36).slice(2);
let ctlSeq = 0;

const box = document.getElementById("box");
// What main exposes to the worker, identical for every library.
const api = {
  add: (a, b) => a + b,
  echoStr: (s) => s,
  echoF64: (a) => {
    a[1] = a[0] + 1;
    return a;
  },
};

const timeout = (p, ms, what) =>
  Promise.race([p, new Promise((_, no) => setTimeout(() => no(new Error(`timed out after ${ms} ms: ${what}`)), ms))]);

let adapter;
async function load() {
  if (lib === "coincident-sw" || lib === "xhr-sw") {
    // coincident's service-worker mode (and the floor's) needs this page controlled by its SW.
    if (!navigator.serviceWorker.controller) {
      await navigator.serviceWorker.register(new URL(`./${lib}.js`, import.meta.url).href);
      await navigator.serviceWorker.ready;
      location.reload();
      await new Promise(() => {});
    }
  }
  adapter = await import(`./libs/${libFile}.main.js`);
}

async function start() {
  const ctlName = `bench-${token}-${ctlSeq++}`;
  const ctl = new BroadcastChannel(ctlName);
  const waiting = new Map();
  let onReady;
  const ready = new Promise((r) => (onReady = r));
  ctl.onmessage = ({ data }) => {
    if (data.type === "ready") onReady(data);
    else waiting.get(data.id)?.(data);
  };
  const t0 = performance.timeOrigin + performance.now();
  // Both service workers live in this folder, so their scope covers this page
  // and libs/ (run.mjs gives each its own browser context).
  const options = SW ? { serviceWorker: new URL(`./${lib}.js`, import.meta.url).href } : M2W_FLOOR ? { mode: M2W_FLOOR } : undefined;
  const url = `${WORKER_URL}?ctl=${ctlName}${SW ? "&sw" : ""}`;
  const h = adapter.start(url, api, options);
  let workerError = null;
  const errored = new Promise((_, no) => {
    const w = h.worker;
    const on = (e) => no(new Error(`worker error: ${e.message || e.type} ${e.filename ?? ""}:${e.lineno ?? ""}`));
    if (w?.addEventListener) w.addEventListener("error", on);
    else if (w) w.onerror = on;
  });
  errored.catch((e) => (workerError = e));
  const r = await timeout(Promise.race([ready, errored]), 15_000, `${lib} worker ready`);
  if (!r.ok) throw new Error(`worker setup failed: ${r.error}`);
  let id = 0;
  const send = (msg, ms = 300_000) => {
    const mid = ++id;
    const p = new Promise((resolve) => waiting.set(mid, resolve));
    ctl.postMessage({ ...msg, id: mid });
    return timeout(Promise.race([p, errored]), ms, `${lib} ${msg.type} ${msg.case ?? ""}`).finally(() => waiting.delete(mid));
  };
  const run = async (name, n) => {
    const d = await send({ type: "run", case: name, n });
    if (!d.ok) throw new Error(`${name}: ${d.error}`);
    return d;
  };
  return {
    h,
    run,
    send,
    startupMs: r.tFirst - t0,
    // workerUp: new Worker -> the worker's global exists (part of modules)
    phases: {
      modules: r.tBoot - t0, workerUp: r.tUp - t0, handshake: r.tSetup - r.tBoot, firstCall: r.tFirst - r.tSetup, secondCall: r.tSecond,
      // fetched: the worker's module graph fetched and linked; evaluated: its code ran
      ...(r.tEval === undefined ? {} : { fetched: r.tEval - r.tUp, evaluated: r.tBoot - r.tEval }),
    },
    close() {
      h.terminate();
      ctl.close();
    },
    get workerError() { return workerError; },
  };
}

const CASES = {
  // worker loops, timed inside the worker: result is ms per operation
  async small(c) { return workerLoop("small", c.n, c.warm); },
  async str64k(c) { return workerLoop("str64k", c.n, c.warm); },
  async f64(c) { return workerLoop("f64", c.n, c.warm); },
  async title(c) { return workerLoop("title", c.n, c.warm); },
  // bundle-variants.mjs only: the best 64-op window, us per op (common.worker.js)
  async smallBest(c) { return bestLoop("smallBest", c); },
  async titleBest(c) { return bestLoop("titleBest", c); },
  // trace-startup.mjs --count: a start, then n calls each after 5 ms of quiet
  async spaced(c) { return workerLoop("spaced", c.n, 0); },
  async m2wBest(c) {
    const w = await start();
    try {
      const served = w.h.m2wServe ? w.send({ type: "serve" }) : null; // the floors' blocking worker loop
      let best = Infinity;
      for (let k = 0; k < c.warm; k++) await w.h.callWorker(k, 1);
      for (let i = 0; i < c.n; i += 64) {
        const t0 = performance.now();
        for (let j = i; j < i + 64; j++) if ((await w.h.callWorker(j, 1)) !== j + 1) throw new Error(`m2wBest: wrong result at ${j}`);
        best = Math.min(best, performance.now() - t0);
      }
      if (served) {
        await w.h.endM2W();
        await served;
      }
      return { value: best / 64, ops: c.n };
    } finally { w.close(); }
  },
  async dom(c) {
    const w = await start();
    try {
      box.replaceChildren();
      await w.run("dom", c.warm);
      box.replaceChildren();
      const { d, profile } = await profiled(w, () => w.run("dom", c.n));
      const last = box.lastElementChild;
      if (box.childElementCount !== c.n || last?.textContent !== `item ${c.n - 1}` || last.style.color !== "red")
        throw new Error(`dom: wrong result: ${box.childElementCount} children, last ${last?.outerHTML}`);
      box.replaceChildren();
      return { value: d.ms, ops: c.n, profile };
    } finally { w.close(); }
  },
  async m2w(c) {
    const w = await start();
    try {
      const served = w.h.m2wServe ? w.send({ type: "serve" }) : null;
      const loop = async (n) => {
        let acc = 0;
        for (let i = 0; i < n; i++) acc += await w.h.callWorker(i, 1);
        if (acc !== (n * (n - 1)) / 2 + n) throw new Error(`m2w: wrong sum ${acc}`);
      };
      await loop(c.warm);
      const { d, profile } = await profiled(w, async () => {
        const t0 = performance.now();
        await loop(c.n);
        return { ms: performance.now() - t0 };
      });
      if (served) {
        await w.h.endM2W();
        await served;
      }
      return { value: d.ms / c.n, ops: c.n, profile };
    } finally { w.close(); }
  },
  async workers8(c) {
    const ws = [];
    try {
      for (let k = 0; k < c.workers; k++) ws.push(await start());
      await Promise.all(ws.map((w) => w.run("burst", c.warm)));
      const t0 = performance.now();
      const ds = await Promise.all(ws.map((w) => w.run("burst", c.n)));
      const ms = performance.now() - t0;
      return { value: (c.workers * c.n) / (ms / 1000), ops: c.workers * c.n, perWorkerMs: ds.map((d) => d.ms) };
    } finally { for (const w of ws) w.close(); }
  },
  async startup(c) {
    const times = [];
    const phases = {};
    for (let k = 0; k < c.n; k++) {
      const w = await start();
      times.push(w.startupMs);
      for (const p in w.phases) (phases[p] ??= []).push(w.phases[p]);
      w.close();
    }
    const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const phaseMedians = Object.fromEntries(Object.entries(phases).map(([p, xs]) => [p, med(xs)]));
    return { value: med(times), all: times, phases: phaseMedians };
  },
};

// `--profile`: counters of the instrumented library around one timed run.
async function profiled(w, fn) {
  const profiling = typeof w.h.stats === "function";
  if (profiling) {
    w.h.resetStats();
    await w.send({ type: "stats", reset: true });
  }
  const d = await fn();
  const profile = profiling ? { ...(await w.send({ type: "stats" })).stats, ...w.h.stats() } : undefined;
  return { d, profile };
}

async function workerLoop(name, n, warm) {
  const w = await start();
  try {
    await w.run(name, warm);
    const { d, profile } = await profiled(w, () => w.run(name, n));
    return { value: d.ms / n, ops: n, profile };
  } finally { w.close(); }
}

async function bestLoop(name, c) {
  const w = await start();
  try {
    await w.run(name, c.warm);
    const d = await w.run(name, c.n);
    return { value: d.check / 1000, ops: c.n };
  } finally { w.close(); }
}

window.bench = async (name, counts) => {
  try {
    if (!adapter) throw new Error("adapter not loaded");
    if (!crossOriginIsolated && !SW) throw new Error("page is not crossOriginIsolated");
    return { ok: true, ...(await CASES[name](counts)) };
  } catch (e) {
    return { ok: false, error: String(e?.stack || e) };
  }
};

load().then(
  () => { window.benchReady = { ok: true }; },
  (e) => { window.benchReady = { ok: false, error: String(e?.stack || e) }; },
);
