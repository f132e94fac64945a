// A small app as a user writes it, built by Vite and by webpack
// (tests/bundlers/): the package by its name, the worker by
// `new URL(..., import.meta.url)`, the service worker as docs/api.md says.
import { BridgeWorker } from "worker-bridge";

const useSw = new URLSearchParams(location.search).has("sw");
const w = new BridgeWorker(new URL("./worker.js", import.meta.url), {
  type: "module",
  ...(useSw ? { serviceWorker: "./bridge-sw.js" } : {}),
});

w.sync.add = (a, b) => a + b;
w.sync.done = async (report) => {
  // main -> worker, after the worker's synchronous calls
  const twice = await w.sync.twice(21);
  window.appResult = { ...report, twice, mainTransport: w.transport };
};
w.ready.catch((e) => {
  window.appResult = { error: String(e?.stack ?? e) };
});
