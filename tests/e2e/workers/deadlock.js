// A worker for tests/e2e/deadlock.test.mjs, started by the page module
// pages/main/deadlock.js (no runCases: the page drives every scenario).
// `run(name, ...args)` calls the page's `sync[name]` synchronously, so the
// worker is blocked in it while the page's handler runs, and reports how it
// ended: the page sees both sides of a deadlock, a time-out or an interrupt.
import { bridge } from "/bridge-js/src/worker.js";
import { installDeadlockScenarios } from "/bridge-js/test/fixtures/deadlock-scenarios.js";

// Saved before the start-up message is handled: the bridge wraps self.close then.
const rawClose = self.close;
const b = await bridge();
const { sync } = b;
installDeadlockScenarios(b);

sync.closeSoon = () => {
  setTimeout(() => self.close(), 0);
  return true;
};

// self.close() past the bridge's wrapper (the close saved above, as code that
// kept it before the bridge started would): main learns of it only by the
// worker's lifetime lock.
sync.closeUnseen = () => {
  setTimeout(() => rawClose.call(self), 0);
  return true;
};
