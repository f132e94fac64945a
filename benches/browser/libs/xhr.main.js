// Floor of the service-worker path, main side (see ../xhr-sw.js): answer each
// request the worker posts by posting the result to the service worker, which
// answers the worker's blocked XHR with it. Only `add` (the `sw` case).
export function start(url, api) {
  const w = new Worker(url, { type: "module" });
  w.onmessage = ({ data }) => {
    if (!Array.isArray(data)) return;
    const [op, a, b] = data;
    const r = op === "add" ? api.add(a, b) : null;
    navigator.serviceWorker.controller.postMessage(JSON.stringify(r));
  };
  return { worker: w, callWorker: () => Promise.reject(new Error("floor (SW): main->worker calls not implemented")), terminate: () => w.terminate() };
}
