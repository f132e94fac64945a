// The main thread's wait-for tracker, one for all BridgeWorkers of a page:
// bridge-core's WaitForTracker (crates/bridge-core/src/deadlock.rs, whose
// module doc has the rule and its reasoning; docs/deadlocks.md the user's
// view), built from Rust into a raw-exports wasm module
// (crates/bridge-core-wasm, src/main_core.rs) and shipped as its wasm2js
// translation (../gen/main-core.js, made by `cargo xtask build`): plain JS,
// so it loads synchronously with the page's other modules and runs where a
// Content-Security-Policy forbids compiling wasm (docs/benchmarks.md has
// the measurements behind shipping only that artifact).
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

import * as core from "../gen/main-core.js";
import { DeadlockError } from "./errors.js";
import { DEFAULT_MAX_NESTING } from "./protocol.js";

/**
 * How long after sending a call to a blocked strict worker main checks it
 * again for a wait cycle through calls of unknown context (suspectedCycle).
 */
export const SUSPECT_CHECK_MS = 1000;

const tracker = core.wb_tracker_new();

// Labels by key `worker * 2^32 + seq`: of the worker calls main serves, of
// main's calls into workers; workers' names by `worker * 2^32`.
const KEY = 2 ** 32;
const served = new Map();
const calls = new Map();
const names = new Map();
const tables = { S: served, C: calls, N: names };

/** The served call whose handler is running now ({ worker, seq }) or null. */
export let current = null;

export function setCurrent(ctx) {
  const prev = current;
  current = ctx;
  return prev;
}

// The tracker's last refusal, its placeholders (\x01 kind worker:seq \x02)
// replaced by the labels.
const utf8 = new TextDecoder();
function refusal() {
  const bytes = new Uint8Array(core.memory.buffer, core.wb_error_ptr(tracker), core.wb_error_len(tracker));
  return new DeadlockError(utf8.decode(bytes).replace(/\x01([SCN])(\d+):(\d+)\x02/g, (_, kind, worker, seq) => {
    const label = tables[kind].get(worker * KEY + Number(seq));
    return typeof label === "function" ? label() : label;
  }));
}

/** Registers a worker; returns its id. */
export function addWorker({ reentrant = true, maxNesting = DEFAULT_MAX_NESTING, name } = {}) {
  const named = typeof name === "string" && name !== "";
  const id = core.wb_add_worker(tracker, reentrant ? 1 : 0, Math.max(0, maxNesting | 0), named ? 1 : 0);
  if (named) names.set(id * KEY, name);
  return id;
}

/** The worker is gone: forget it. */
export function removeWorker(id) {
  core.wb_remove_worker(tracker, id);
  for (const table of [served, calls, names]) {
    for (const key of table.keys()) if (Math.floor(key / KEY) === id) table.delete(key);
  }
}

/** Main serves the worker's request `seq` (labelled e.g. "proxy.main_task()"). */
export function beginServing(id, seq, label) {
  served.set(id * KEY + seq, label);
  core.wb_begin_serving(tracker, id, seq);
}

/** Main answered (or gave up on) the worker's request `seq`. */
export function finishServing(id, seq) {
  core.wb_finish_serving(tracker, id, seq);
  served.delete(id * KEY + seq);
}

/**
 * Decides how main's call `seq` (labelled `label`, a string or a function
 * that makes it) to worker `id` goes:
 * returns the seq to nest it into (0: deliver directly), or throws a
 * DeadlockError when it could never finish. Records the call until
 * `callFinished`. `context` defaults to the current one.
 */
export function callWorker(id, seq, label, context = current) {
  const key = id * KEY + seq;
  calls.set(key, label);
  const into = context === null
    ? core.wb_call_worker(tracker, id, seq, 0, 0)
    : core.wb_call_worker(tracker, id, seq, context.worker, context.seq);
  if (into >= 0) return into;
  const e = refusal();
  calls.delete(key);
  throw e;
}

/** True when a direct call to worker `id` should be checked again later (suspectedCycle). */
export function mayCycle(id) {
  return core.wb_may_cycle(tracker, id) !== 0;
}

/**
 * Main's outstanding call `seq` to worker `id` checked again, counting the
 * assumed edges: the DeadlockError to refuse it with if it waits in a cycle
 * now, else null. Does not forget the call (callFinished does).
 */
export function suspectedCycle(id, seq) {
  return core.wb_suspected_cycle(tracker, id, seq) !== 0 ? refusal() : null;
}

/** The reply to main's call `seq` arrived, or it was given up. Returns its context. */
export function callFinished(id, seq) {
  const worker = core.wb_take_call(tracker, id, seq);
  calls.delete(id * KEY + seq);
  return worker === 0 ? null : { worker, seq: core.wb_seq(tracker) };
}

/** For tests and stats: nested requests in progress in worker `id`. */
export function nestingDepth(id) {
  return core.wb_nesting_depth(tracker, id);
}

/** For tests: worker calls main is serving, `[{ worker, seq, label }]`. */
export function serving() {
  const out = [];
  for (let i = 0, n = core.wb_serving_count(tracker); i < n; i++) {
    const worker = core.wb_serving_at(tracker, i);
    const seq = core.wb_seq(tracker);
    out.push({ worker, seq, label: served.get(worker * KEY + seq) });
  }
  return out;
}
