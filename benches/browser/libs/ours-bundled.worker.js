// worker-bridge, worker side, from one esbuild bundle (run.mjs builds
// .build/ours/ours-worker.js before the run): the start-up case with the module
// graph fetched as a single file, as coincident's dist file is.
import { bridge } from "../.build/ours/ours-worker.js";
import { boot } from "../common.worker.js";

boot(async () => {
  const { sync } = await bridge();
  sync.wadd = (a, b) => a + b;
  return { kind: "sync", add: (a, b) => sync.add(a, b) };
});
