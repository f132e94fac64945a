// Worker side of every case, shared by all libraries. An adapter builds `api`
// and calls `boot(async () => api)`:
//   api.kind        "sync" (calls return values) or "async" (calls return promises)
//   api.add(a, b)   main returns a + b
//   api.echoStr(s)  main returns s (64 KiB string)
//   api.echoF64(a)  main sets a[1] = a[0] + 1 and returns a (1 MiB Float64Array)
//   api.title()     `window.document.title` (floors: one op)
//   api.dom(n)      create, fill, style and append n <div>s to #box
//   api.serveMainCalls()  floors only: block serving main->worker calls until told to quit
// The control channel is a BroadcastChannel named in the worker URL (?ctl=),
// so it never touches the library's own messages.

export const STR_BYTES = 64 * 1024;
export const F64_LEN = (1024 * 1024) / 8;

const ctlName = new URL(self.location.href).searchParams.get("ctl");
const ctl = new BroadcastChannel(ctlName);
const now = () => performance.timeOrigin + performance.now();

export async function boot(setup) {
  let api;
  // Start-up breakdown: modules evaluated (boot runs after every static
  // import), library handshake done (setup resolved), first call done.
  const tBoot = now();
  try {
    api = await setup();
    const tSetup = now();
    // The first call: the startup case measures new Worker -> here.
    const r = api.kind === "sync" ? api.add(1, 2) : await api.add(1, 2);
    const tFirst = now();
    if (r !== 3) throw new Error(`first call returned ${String(r)}, expected 3`);
    // A second call once the page has been idle for 20 ms (its thread back
    // in its event loop): not part of the start-up time, a phase of its own
    // (secondCall), so a cost moved from the first call to the next shows.
    await new Promise((res) => setTimeout(res, 20));
    performance.mark("wb-call-2"); // trace-startup.mjs --count: which call a page task served
    const t2 = now();
    const r2 = api.kind === "sync" ? api.add(2, 3) : await api.add(2, 3);
    const tSecond = now() - t2;
    if (r2 !== 5) throw new Error(`second call returned ${String(r2)}, expected 5`);
    ctl.onmessage = ({ data }) => onControl(api, data);
    // tUp: this worker's global scope was created (its time origin), before
    // its script was fetched.
    // tEval (optional): an adapter's first import stored when evaluation began.
    ctl.postMessage({ type: "ready", ok: true, tFirst, tBoot, tSetup, tSecond, tUp: performance.timeOrigin, tEval: globalThis.__tEval });
  } catch (e) {
    ctl.postMessage({ type: "ready", ok: false, error: String(e?.stack || e) });
  }
}

async function onControl(api, data) {
  if (data?.type === "serve") {
    api.serveMainCalls();
    ctl.postMessage({ type: "served", id: data.id });
    return;
  }
  if (data?.type === "stats") {
    if (data.reset) api.resetStats?.();
    ctl.postMessage({ type: "stats", id: data.id, ok: true, stats: api.stats?.() ?? null });
    return;
  }
  if (data?.type !== "run") return;
  let reply;
  try {
    const loops = api.kind === "sync" ? SYNC : ASYNC;
    const fn = loops[data.case];
    if (!fn) throw new Error(`no worker loop for case ${data.case}`);
    const t0 = performance.now();
    const check = await fn(api, data.n);
    const ms = performance.now() - t0;
    reply = { type: "done", id: data.id, ok: true, ms, check };
  } catch (e) {
    reply = { type: "done", id: data.id, ok: false, error: String(e?.stack || e) };
  }
  ctl.postMessage(reply);
}

// Sixteen flat 64 KiB strings with distinct heads and tails, and the 1 MiB
// array, built before a case's timed loop so no case times building them, but
// on a case's first use, not at the module's top level: there they ran inside
// every library's start-up time (the `evaluated` phase) and diluted its ratios.
let STRINGS = null;
const strings = () => (STRINGS ??= (() => {
  const dec = new TextDecoder();
  const out = [];
  for (let k = 0; k < 16; k++) {
    const b = new Uint8Array(STR_BYTES);
    for (let i = 0; i < b.length; i++) b[i] = 97 + ((i * 7 + k) % 26);
    b[0] = 65 + k;
    b[b.length - 1] = 48 + (k % 10);
    out.push(dec.decode(b));
  }
  return out;
})());
let F64 = null;
const f64Array = () => (F64 ??= (() => {
  const a = new Float64Array(F64_LEN);
  for (let i = 0; i < a.length; i++) a[i] = i * 0.5;
  return a;
})());
const TITLE = "worker-bridge bench";

const fail = (what) => { throw new Error(`wrong result: ${what}`); };
const checkStr = (r, s) => {
  if (typeof r !== "string" || r.length !== s.length || r.charCodeAt(0) !== s.charCodeAt(0) ||
      r.charCodeAt(r.length - 1) !== s.charCodeAt(s.length - 1) || r.charCodeAt(777) !== s.charCodeAt(777))
    fail(`echoStr returned ${typeof r} of length ${r?.length}`);
};
const checkF64 = (r, i) => {
  if (!(r instanceof Float64Array) || r.length !== F64_LEN || r[0] !== i || r[1] !== i + 1 ||
      r[F64_LEN - 1] !== (F64_LEN - 1) * 0.5)
    fail(`echoF64 returned ${Object.prototype.toString.call(r)} length ${r?.length} [1]=${r?.[1]}`);
};

const SYNC = {
  small(api, n) {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += api.add(i, 1);
    if (acc !== (n * (n - 1)) / 2 + n) fail(`sum ${acc}`);
    return acc;
  },
  str64k(api, n) {
    const all = strings();
    for (let i = 0; i < n; i++) {
      const s = all[i & 15];
      checkStr(api.echoStr(s), s);
    }
    return n;
  },
  f64(api, n) {
    const a = f64Array();
    for (let i = 0; i < n; i++) {
      a[0] = i;
      checkF64(api.echoF64(a), i);
    }
    return n;
  },
  title(api, n) {
    for (let i = 0; i < n; i++) if (api.title() !== TITLE) fail("title");
    return n;
  },
  dom(api, n) {
    return api.dom(n);
  },
  // bundle-variants.mjs: the best 64-call window of a small-call or title
  // loop, us per op. On a busy machine the mean is mostly time spent
  // descheduled; the best window is what the code costs when both threads
  // have a core.
  smallBest(api, n) {
    return bestWindow(n, (i) => api.add(i, 1) === i + 1);
  },
  titleBest(api, n) {
    return bestWindow(n, () => api.title() === TITLE);
  },
  // one worker's share of the 8-worker case
  burst(api, n) {
    return SYNC.small(api, n);
  },
  // trace-startup.mjs --count: n calls, each after 5 ms of quiet, so every
  // one finds the page idle in its wait (a wake-up after idle, not a burst)
  async spaced(api, n) {
    for (let i = 0; i < n; i++) {
      await new Promise((res) => setTimeout(res, 5));
      performance.mark(`wb-call-${i + 3}`);
      if (api.add(i, 1) !== i + 1) fail(`spaced ${i}`);
    }
    performance.mark("wb-call-end");
    return n;
  },
};

function bestWindow(n, op) {
  const W = 64;
  let best = Infinity;
  for (let i = 0; i < n; i += W) {
    const t0 = performance.now();
    for (let j = i; j < i + W; j++) if (!op(j)) fail(`op ${j}`);
    const t = performance.now() - t0;
    if (t < best) best = t;
  }
  return (best * 1000) / W;
}

const ASYNC = {
  async small(api, n) {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += await api.add(i, 1);
    if (acc !== (n * (n - 1)) / 2 + n) fail(`sum ${acc}`);
    return acc;
  },
  async str64k(api, n) {
    const all = strings();
    for (let i = 0; i < n; i++) {
      const s = all[i & 15];
      checkStr(await api.echoStr(s), s);
    }
    return n;
  },
  async f64(api, n) {
    const a = f64Array();
    for (let i = 0; i < n; i++) {
      a[0] = i;
      checkF64(await api.echoF64(a), i);
    }
    return n;
  },
  async title(api, n) {
    for (let i = 0; i < n; i++) if ((await api.title()) !== TITLE) fail("title");
    return n;
  },
  async dom(api, n) {
    if (!api.dom) throw new Error("not applicable");
    return await api.dom(n);
  },
  async burst(api, n) {
    return ASYNC.small(api, n);
  },
};

// The DOM loop as a user writes it against a `window` proxy.
export function domWithWindow(window, n) {
  const document = window.document;
  const box = document.getElementById("box");
  for (let i = 0; i < n; i++) {
    const el = document.createElement("div");
    el.textContent = "item " + i;
    el.style.color = "red";
    box.appendChild(el);
  }
  return n;
}
