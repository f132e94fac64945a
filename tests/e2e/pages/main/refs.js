// Page side of workers/refs.js: garbage collection and stats of the page's
// end of the channel, and the churn's element factory.
const tick = () => new Promise((r) => setTimeout(r, 1));

export function setup({ worker }) {
  // Collects on the page: from a task with no stack to scan ("task", see
  // workers/refs.js) or with a plain gc() call ("sync"). Then turns the
  // event loop so FinalizationRegistry cleanup tasks run.
  worker.sync.gcMain = async (mode) => {
    for (let i = 0; i < 2; i++) {
      if (mode === "sync") window.gc();
      else await window.gc({ type: "major", execution: "async" });
      await tick();
    }
    return worker.stats();
  };
  worker.sync.mainStats = () => worker.stats();
  // For a failure message: the page's import entries left (at most 20) with
  // their counts, and whether each proxy is alive or was collected without
  // its FinalizationRegistry callback having run yet. (Reads the bridge's
  // internal tables: a test aid, not API.)
  worker.sync.mainResidue = () => {
    const refs = worker._ep.refs;
    const entries = [];
    for (const [id, e] of refs.imports) {
      if (entries.length === 20) break;
      entries.push({ id, count: e.count, proxy: e.ref.deref() === undefined ? "collected" : "alive" });
    }
    return { imports: refs.imports.size, pendingReleases: refs.pending.length, entries };
  };
  // One call of the churn: a fresh worker callback in, a fresh element out.
  window.refsDiv = (cb) => {
    const el = document.createElement("div");
    el.onclick = cb;
    return el;
  };
}
