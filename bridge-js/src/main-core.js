// The main thread's wait-for tracker, one for all BridgeWorkers of a page:
// bridge-core's WaitForTracker (crates/bridge-core/src/deadlock.rs, whose
// module doc has the rule and its reasoning; docs/deadlocks.md the user's
// view), built from Rust into a raw-exports wasm module
// (crates/bridge-core-wasm, src/main_core.rs) by `cargo xtask build`:
// ../gen/main-core.wasm, fetched and compiled while this module loads (a
// top-level await). Where the page's Content-Security-Policy forbids
// compiling wasm (no 'wasm-unsafe-eval'), or the .wasm cannot be had, the
// same build translated to JS by wasm2js (../gen/main-core-js.js) is
// imported instead, on demand. docs/benchmarks.md has the measurements
// behind both choices.
//
// This file is its host, and keeps only what only JS can:
// - the labels: the tracker names calls and workers in its messages by key,
//   and the host keeps the label under that key (a string, or a function
//   that makes it when a message needs it);
// - the context: the served call whose handler is running now (`current`,
//   set by the endpoint around the handler), and carried one step across an
//   `await` of a bridge call (when a main->worker call made in context C
//   settles, C is current again for exactly the microtask that `await`
//   resumes in); after awaiting anything else it is unknown (null), and the
//   tracker assumes the rest.

import { DeadlockError } from "./errors.js";
import { DEFAULT_MAX_NESTING } from "./protocol.js";

const url = new URL("../gen/main-core.wasm", import.meta.url);
// Under Node the file is read; the specifier is hidden from bundlers.
const fs = "node:fs";
let core;
try {
  const bytes = url.protocol === "file:"
    ? (await import(/* webpackIgnore: true */ /* @vite-ignore */ fs)).readFileSync(url)
    : await (await fetch(url)).arrayBuffer();
  core = (await WebAssembly.instantiate(bytes)).instance.exports;
} catch {
  // Compiling wasm is refused (a CSP without 'wasm-unsafe-eval'): the JS build.
  core = await import("../gen/main-core-js.js");
}
// The exports by their one-letter names (crates/bridge-core-wasm/src/main_core.rs).
const { a: add, b: remove, c: begin, d: finish, e: call, f: mayCycleIn, g: suspected, h: take, i: takenSeq, j: depth, k: errorPtr, l: errorLen, memory } = core;

// Labels by key `worker * 2^32 + seq`: of the worker calls main serves, of
// main's calls into workers; workers' names by `worker * 2^32`.
const KEY = 2 ** 32;
const served = new Map();
const calls = new Map();
const names = new Map();
const tables = { S: served, C: calls, N: names };

// The served call whose handler is running now ({ worker, seq }) or null.
let current = null;

// The tracker's last refusal, its placeholders (\x01 kind worker:seq \x02)
// replaced by the labels.
const utf8 = new TextDecoder();
function refusal() {
  const bytes = new Uint8Array(memory.buffer, errorPtr(), errorLen());
  return new DeadlockError(utf8.decode(bytes).replace(/\x01([SCN])(\d+):(\d+)\x02/g, (_, kind, worker, seq) => {
    const label = tables[kind].get(worker * KEY + Number(seq));
    return typeof label === "function" ? label() : label;
  }));
}

/** What the endpoint asks the tracker (main.js hands it over: useWaitFor). */
export const waitFor = {
  /**
   * How long after sending a call to a blocked strict worker main checks it
   * again for a wait cycle through calls of unknown context (suspectedCycle).
   */
  SUSPECT_CHECK_MS: 1000,

  /** Makes `ctx` ({ worker, seq } or null) the served call whose handler runs now; returns the one before. */
  setCurrent(ctx) {
    const prev = current;
    current = ctx;
    return prev;
  },

  /** Registers a worker; returns its id. */
  addWorker({ reentrant = true, maxNesting = DEFAULT_MAX_NESTING, name } = {}) {
    const named = typeof name === "string" && name !== "";
    const id = add(reentrant ? 1 : 0, maxNesting, named ? 1 : 0);
    if (named) names.set(id * KEY, name);
    return id;
  },

  /** The worker is gone: forget it. */
  removeWorker(id) {
    remove(id);
    for (const table of [served, calls, names]) {
      for (const key of table.keys()) if (Math.floor(key / KEY) === id) table.delete(key);
    }
  },

  /** Main serves the worker's request `seq` (labelled e.g. "proxy.main_task()"). */
  beginServing(id, seq, label) {
    served.set(id * KEY + seq, label);
    begin(id, seq);
  },

  /** Main answered (or gave up on) the worker's request `seq`. */
  finishServing(id, seq) {
    finish(id, seq);
    served.delete(id * KEY + seq);
  },

  /**
   * Decides how main's call `seq` (labelled `label`, a string or a function
   * that makes it) to worker `id` goes:
   * returns the seq to nest it into (0: deliver directly), or throws a
   * DeadlockError when it could never finish. Records the call until
   * `callFinished`. `context` defaults to the current one.
   */
  callWorker(id, seq, label, context = current) {
    const key = id * KEY + seq;
    calls.set(key, label);
    const into = context === null ? call(id, seq, 0, 0) : call(id, seq, context.worker, context.seq);
    if (into >= 0) return into;
    const e = refusal();
    calls.delete(key);
    throw e;
  },

  /** True when a direct call to worker `id` should be checked again later (suspectedCycle). */
  mayCycle(id) {
    return mayCycleIn(id) !== 0;
  },

  /**
   * Main's outstanding call `seq` to worker `id` checked again, counting the
   * assumed edges: the DeadlockError to refuse it with if it waits in a cycle
   * now, else null. Does not forget the call (callFinished does).
   */
  suspectedCycle(id, seq) {
    return suspected(id, seq) !== 0 ? refusal() : null;
  },

  /** The reply to main's call `seq` arrived, or it was given up. Returns its context. */
  callFinished(id, seq) {
    const worker = take(id, seq);
    calls.delete(id * KEY + seq);
    return worker === 0 ? null : { worker, seq: takenSeq() };
  },
};

// For tests and stats only (not part of `waitFor`, so bundles drop them).

/** Nested requests in progress in worker `id`. */
export function nestingDepth(id) {
  return depth(id);
}

/** Worker calls main is serving, `[{ worker, seq, label }]`, oldest first. */
export function serving() {
  return [...served].map(([key, label]) => ({ worker: Math.floor(key / KEY), seq: key % KEY, label }));
}
