// tests/e2e/coincident.test.mjs: worker-bridge/coincident/main and /worker
// used directly (as polyscript does), and BridgeWorker beside user messages.
// ?case=compat|compat-import|compat-async|compat-throw|documents|bridge; results in window.__c.
import coincident from "/bridge-js/src/coincident/main.js";
import { BridgeWorker } from "/bridge-js/src/main.js";

const q = new URLSearchParams(location.search);
const out = (window.__c = {});
const sw = q.get("sw") ? "./sw.js" : undefined;

async function userMessages(worker, seen) {
  // The worker echoes user messages; main sees only those, never the bridge's.
  const echoed = new Promise((resolve) => worker.addEventListener("message", (e) => e.data === "echo:2" && resolve()));
  worker.postMessage(1);
  worker.postMessage(2);
  await echoed;
  return seen;
}

try {
  if (q.get("case") === "compat" || q.get("case") === "compat-import") {
    const { Worker: CWorker } = coincident({ transform: (v) => (v && v.wrapped !== undefined ? v.wrapped : v) });
    // compat-import: the Worker's `import` option serves window.import().
    const load = q.get("case") === "compat-import" ? async (name) => ({ default: `the import option: ${name}`, where: "option" }) : undefined;
    const w = new CWorker("./worker.js?case=compat", { serviceWorker: sw, import: load });
    const seen = [];
    w.addEventListener("message", (e) => seen.push(e.data));
    out.isWorker = w instanceof Worker;
    w.proxy.add = (a, b) => a + b;
    w.proxy.wrapped = () => ({ wrapped: "unwrapped by the page's transform" });
    out.worker = await w.proxy.run();
    out.imported = await w.proxy.imported();
    out.seen = await userMessages(w, seen);
    const pending = w.proxy.run();
    w.terminate();
    out.terminated = await pending.then(() => "resolved", (e) => e.name);
  } else if (q.get("case") === "documents") {
    // The page's `document` from several workers at once, and from a worker
    // made after one was terminated: each keeps its own proxy of it.
    const { Worker: CWorker } = coincident();
    const make = (tag) => new CWorker(`./worker.js?case=compat&tag=${tag}`, { serviceWorker: sw });
    const a = make("a");
    const b = make("b");
    [out.a, out.b] = await Promise.all([a.proxy.documents(), b.proxy.documents()]);
    a.terminate();
    document.title = "renamed after a terminated";
    const c = make("c");
    out.c = await c.proxy.documents();
    out.bAgain = await b.proxy.title();
    b.terminate();
    c.terminate();
    out.dataset = { ...document.getElementById("box").dataset };
  } else if (q.get("case") === "compat-throw") {
    // A compat Worker whose set-up throws after super() started the Worker:
    // a bad option (a timeout that is no number), and (cross-origin isolated
    // only: the atomics transport allocates the channel's memory) a failed
    // allocation. Each constructor throws, and no Worker is left running:
    // while a good Worker beats 8 times, the bad ones beat no more.
    const { Worker: CWorker } = coincident();
    const beats = new Map();
    const channel = new BroadcastChannel("wb-alive");
    let goodBeat = null;
    channel.onmessage = (e) => {
      beats.set(e.data, (beats.get(e.data) ?? 0) + 1);
      if (e.data === "good") goodBeat?.();
    };
    const make = (tag, opts) => {
      try {
        new CWorker(`./alive.js?tag=${tag}`, { serviceWorker: sw, ...opts });
        return "no error";
      } catch (e) {
        return `${e.name}: ${e.message}`;
      }
    };
    out.timeoutError = make("bad-timeout", { timeout: Symbol("ms") });
    out.timeoutStringError = make("bad-timeout-string", { timeout: "abc" });
    if (globalThis.crossOriginIsolated) {
      const Shared = globalThis.SharedArrayBuffer;
      globalThis.SharedArrayBuffer = class extends Shared {
        constructor() {
          throw new RangeError("Array buffer allocation failed");
        }
      };
      try {
        out.allocError = make("bad-alloc");
      } finally {
        globalThis.SharedArrayBuffer = Shared;
      }
    }
    const good = new CWorker("./alive.js?tag=good", { serviceWorker: sw });
    const goodBeats = async (n) => {
      while ((beats.get("good") ?? 0) < n) await new Promise((r) => { goodBeat = r; });
    };
    await goodBeats(1);
    const first = Object.fromEntries(beats);
    await goodBeats(8);
    out.beatsAtFirst = first;
    out.beatsAtLast = Object.fromEntries(beats);
    good.terminate();
    channel.close();
  } else if (q.get("case") === "compat-async") {
    // No COOP/COEP and no service worker: the async transport, where the
    // worker cannot use `window` and says what to do.
    const { Worker: CWorker } = coincident();
    const w = new CWorker("./worker.js?case=compat");
    out.transport = w.transport;
    out.windowError = await w.proxy.touchWindow();
    w.terminate();
  } else {
    const w = new BridgeWorker("./worker.js?case=bridge", { type: "module", serviceWorker: sw });
    const seen = [];
    w.sync.add = (a, b) => a + b;
    // (On the service-worker transport the Worker exists once the service
    // worker controls the page.)
    await w.ready;
    w.worker.addEventListener("message", (e) => seen.push(e.data));
    out.worker = await w.sync.run();
    out.seen = await userMessages(w.worker, seen);
    w.terminate();
  }
} catch (e) {
  out.error = `${e.name}: ${e.message}`;
}
out.done = true;
