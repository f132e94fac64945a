// The page's `document` from PyScript workers (main=documents.js): two
// workers at once, then one terminated and a new one made; each worker keeps
// its own proxy of the document (docs/architecture.md).
import { pyWorkerOf } from "./helpers.js";

export default async (core, q) => {
  const { W, options } = await pyWorkerOf(core, q);
  const [a, b] = await Promise.all([W("./documents.py", options), W("./documents.py", options)]);
  report("a", await a.sync.read("a"));
  report("b", await b.sync.read("b"));
  a.terminate();
  document.title = "renamed after a terminated";
  const c = await W("./documents.py", options);
  report("c", await c.sync.read("c"));
  report("bAgain", await b.sync.read("b"));
  b.terminate();
  c.terminate();
  report("dataset", { ...document.getElementById("heading").dataset });
  report("done", true);
};
