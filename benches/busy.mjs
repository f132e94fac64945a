// CPU-bound processes beside a benchmark: `--busy N` in the bench runners.
//
// Users' machines are busy (other tabs, a phone, a page whose own workers
// compute), so every benchmark can run with N processes that spin on a core
// each, started before the first measurement and stopped when the run ends
// (also on Ctrl-C or a crash of the runner). Shared by every bench runner so
// "busy" means the same load everywhere.
import { spawn } from "node:child_process";

const SIGNALS = ["SIGINT", "SIGTERM"];

/** Starts `n` CPU-bound Node processes; returns a function that stops them. */
export function startBusy(n) {
  const kids = [];
  for (let i = 0; i < n; i++) {
    kids.push(spawn(process.execPath, ["-e", "for(;;){}"], { stdio: "ignore" }));
  }
  const onSignal = () => {
    stop();
    process.exit(130);
  };
  // Takes its own process listeners away again: a runner that starts and
  // stops the load many times (bundle-variants.mjs --alternate) must not
  // pile them up (MaxListenersExceededWarning after ten).
  const stop = () => {
    process.off("exit", stop);
    for (const sig of SIGNALS) process.off(sig, onSignal);
    for (const k of kids) if (k.exitCode === null && !k.killed) k.kill("SIGKILL");
  };
  process.once("exit", stop);
  for (const sig of SIGNALS) process.once(sig, onSignal);
  return stop;
}

/** `--busy N` from an argv array: N (0 when absent). Throws on a bad N. */
export function busyArg(argv) {
  const i = argv.indexOf("--busy");
  if (i < 0) return 0;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0 || n > 64) {
    throw new Error(`--busy needs a whole number of processes (0-64), got ${argv[i + 1]}`);
  }
  return n;
}
