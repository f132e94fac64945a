// A worker that dies while starting: it imports the bridge, then throws at
// the top level (tests/e2e/deadlock.test.mjs, "crash").
import "/bridge-js/src/worker.js";

throw new Error("deadlock-crash.js dies on purpose");
