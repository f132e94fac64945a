// The worker of tests/e2e/coincident: ?case=compat uses
// worker-bridge/coincident/worker, ?case=bridge worker-bridge/worker.
import coincident from "/bridge-js/src/coincident/worker.js";
import { bridge } from "/bridge-js/src/worker.js";

const compat = new URL(location.href).searchParams.get("case") === "compat";
const seen = [];
// The user's listener: it must see the page's user messages only.
addEventListener("message", (e) => {
  seen.push(e.data);
  postMessage(`echo:${e.data}`);
});

if (compat) {
  const { proxy, sync, native, window, isWindowProxy, ffi } = await coincident({ transform: (v) => (v && v.wrapped !== undefined ? v.wrapped : v) });
  proxy.run = () => {
    const box = window.document.getElementById("box");
    const r = {
      sync,
      native,
      isProxy: isWindowProxy(box),
      add: proxy.add({ wrapped: 2 }, 3), // the worker's transform unwraps
      pageResult: proxy.wrapped(),
      gather: ffi.gather(window.document, "title", "body.firstElementChild.id"),
      query: ffi.query(window, "location.pathname"),
      localGather: ffi.gather({ a: 1, b: 2 }, "b"),
      seen: [...seen],
    };
    ffi.assign(box.dataset, { fromWorker: "yes" });
    r.assigned = box.dataset.fromWorker;
    try {
      r.evaluate = ffi.evaluate((a, b) => a * b + window.document.title.length, 6, 7);
    } catch (e) {
      r.evaluate = `${e.name}: ${e.message}`;
    }
    return r;
  };
  // ?case=documents: the page's `document` read twice, the worker's own
  // global `document` assigned from it (as PyScript does: `js.document =
  // document`), the page's `window.document` assigned (unforgeable: the
  // page keeps its own), then read again.
  const tag = new URL(location.href).searchParams.get("tag");
  proxy.documents = () => {
    const first = window.document;
    const r = { same: first === window.document, isProxy: isWindowProxy(first), title: first.title };
    globalThis.document = window.document;
    r.ownGlobal = globalThis.document.title;
    try {
      window.document = { title: "forged by a worker" };
      r.assign = "no error";
    } catch (e) {
      r.assign = e.name;
    }
    r.afterAssign = window.document.title;
    r.sameAfterAssign = window.document === first;
    window.document.getElementById("box").dataset[tag] = window.document.title;
    return r;
  };
  proxy.title = () => window.document.title;
  // What touching `window` throws (compat-async: no SharedArrayBuffer).
  proxy.touchWindow = () => {
    try {
      return `no error: ${window.document.title}`;
    } catch (e) {
      return `${e.name}: ${e.message}`;
    }
  };
  // coincident's `window.import(name)`: a module imported on the page,
  // `name` resolved against the page's URL.
  proxy.imported = async () => {
    const m = await window.import("./module.js");
    return [m.default, m.where];
  };
} else {
  const { sync } = await bridge();
  sync.run = () => ({ add: sync.add(2, 3), seen: [...seen] });
}
