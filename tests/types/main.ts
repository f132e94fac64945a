// Type-checked by `tsc --noEmit --strict` (tests/types/tsconfig.json) against
// bridge-js/types, resolved through the package's `exports` as a user's
// TypeScript resolves them. Compiles only: the bundler apps run the same code.
import { BridgeWorker, DeadlockError, TimeoutError, type BridgeStats } from "worker-bridge";

const w = new BridgeWorker(new URL("./worker.js", import.meta.url), {
  type: "module",
  serviceWorker: { url: "./bridge-sw.js", scope: "./" },
  timeout: 5_000,
  callPark: 2,
});
w.sync.add = (a: number, b: number) => a + b;
w.sync.sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function run(): Promise<number> {
  await w.ready;
  const transport: "atomics" | "service-worker" | "async" = w.transport;
  const stats: BridgeStats = w.stats();
  try {
    const twice = await w.sync.twice(21);
    return Number(twice) + stats.pendingCalls + transport.length;
  } catch (e) {
    if (e instanceof DeadlockError || e instanceof TimeoutError) return -1;
    throw e;
  } finally {
    w.terminate();
  }
}
void run();
