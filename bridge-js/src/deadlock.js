// The main thread's wait-for tracker, one for all BridgeWorkers of a page:
// the JS twin of crates/bridge-core/src/deadlock.rs, the same rule and the
// same message texts (both sides' tests check them word for word; its module
// doc has the reasoning; docs/deadlocks.md the user's view).
//
// What main observes:
// - served calls: a worker call (worker, seq) main read and has not answered;
//   the worker is blocked in it (a stack per worker, innermost last);
// - outgoing calls: main->worker calls without a reply, each with its
//   context: the served call whose handler issued it, when known.
//
// The context is known while a handler runs synchronously (`current`, set
// by the endpoint around the handler), and it is carried one step across an
// `await` of a bridge call: when a main->worker call made in context C
// settles, C is current again for exactly the microtask that `await` resumes
// in (so `await w1.sync.a(); await w2.sync.b();` in a handler keeps it).
// It is lost after awaiting anything else (a timer, fetch, Promise.all).
// A call made then is assumed to be awaited by every call main was serving
// for the other workers when it was made (its candidates). Assumed edges
// never refuse a call at once: `suspectedCycle` checks a call to a blocked
// strict worker again later (the endpoint does, SUSPECT_CHECK_MS after
// sending it) and refuses it if a cycle through them still stands (the Rust
// module doc has the rule and its price). Re-entrant workers (the default)
// never need the context.
//
// Edges: a served call waits for the outgoing calls made in its context (or
// of which it is a candidate); an
// outgoing call delivered directly waits for every call its worker is
// blocked in; one nested into the worker's call s waits only for the calls
// the worker made above s.

import { DeadlockError } from "./errors.js";

import { DEFAULT_MAX_NESTING } from "./protocol.js";

export { DEFAULT_MAX_NESTING };

/**
 * How long after sending a call to a blocked strict worker main checks it
 * again for a wait cycle through calls of unknown context (suspectedCycle).
 */
export const SUSPECT_CHECK_MS = 1000;

const workers = new Map(); // id -> state
let nextId = 1;

/** The served call whose handler is running now ({ worker, seq }) or null. */
export let current = null;

export function setCurrent(ctx) {
  const prev = current;
  current = ctx;
  return prev;
}

/** Registers a worker; returns its id. */
export function addWorker({ reentrant = true, maxNesting = DEFAULT_MAX_NESTING, name } = {}) {
  const id = nextId++;
  workers.set(id, {
    reentrant,
    maxNesting: Math.max(1, maxNesting | 0),
    name: typeof name === "string" && name !== "" ? `worker "${name}"` : `worker #${id}`,
    blocked: [], // [{ seq, label }], oldest first
    outgoing: new Map(), // main's seq -> { label, context, nestedInto }
  });
  return id;
}

/** The worker is gone: forget it. */
export function removeWorker(id) {
  workers.delete(id);
}

/** Main serves the worker's request `seq` (labelled e.g. "proxy.main_task()"). */
export function beginServing(id, seq, label) {
  const w = workers.get(id);
  if (w !== undefined) w.blocked.push({ seq, label });
}

/** Main answered (or gave up on) the worker's request `seq`. */
export function finishServing(id, seq) {
  const w = workers.get(id);
  if (w === undefined) return;
  for (let i = w.blocked.length - 1; i >= 0; i--) {
    if (w.blocked[i].seq === seq) {
      w.blocked.splice(i, 1);
      return;
    }
  }
}

function isServing(ctx) {
  const w = workers.get(ctx.worker);
  return w !== undefined && w.blocked.some((b) => b.seq === ctx.seq);
}

function labelOf(ctx) {
  const w = workers.get(ctx.worker);
  const b = w && w.blocked.find((x) => x.seq === ctx.seq);
  return b ? b.label : "a call to the main thread";
}

function nesting(w) {
  let n = 0;
  for (const c of w.outgoing.values()) if (c.nestedInto !== 0) n++;
  return n;
}

function waitedBy(w, call) {
  if (call.nestedInto === 0) return w.blocked;
  const i = w.blocked.findIndex((b) => b.seq === call.nestedInto);
  return i === -1 ? w.blocked : w.blocked.slice(i + 1);
}

// Whether the handler of served call `node` awaits `call` (or, with
// `assumed`, may await it).
function awaitedBy(call, node, assumed) {
  const c = call.context;
  if (c !== null) return c.worker === node.worker && c.seq === node.seq;
  return assumed && call.candidates.some((k) => k.worker === node.worker && k.seq === node.seq);
}

// With no known context: every call main serves for a worker other than `target`.
function candidates(target) {
  return serving().filter((c) => c.worker !== target).map(({ worker, seq }) => ({ worker, seq }));
}

function reaches(node, goal, visited, path, assumed) {
  if (node.worker === goal.worker && node.seq === goal.seq) return true;
  const key = `${node.worker}:${node.seq}`;
  if (visited.has(key)) return false;
  visited.add(key);
  for (const [nextId, next] of workers) {
    for (const call of next.outgoing.values()) {
      if (!awaitedBy(call, node, assumed)) continue;
      for (const b of waitedBy(next, call)) {
        path.push({ worker: node.worker, blocked: labelOf(node), awaits: call.label, next: nextId });
        if (reaches({ worker: nextId, seq: b.seq }, goal, visited, path, assumed)) return true;
        path.pop();
      }
    }
  }
  return false;
}

function nameOf(id) {
  const w = workers.get(id);
  return w ? w.name : `worker #${id}`;
}

// Labels of main's calls may be thunks: named only when an error needs it.
function text(label) {
  return typeof label === "function" ? label() : label;
}

function headline(awaited, blocked) {
  return `Possible deadlock: ${text(awaited)} was awaited while the worker is blocked in ${blocked}`;
}

/**
 * Decides how main's call `seq` (labelled `label`, a string or a function
 * that makes it) to worker `id` goes:
 * returns the seq to nest it into (0: deliver directly), or throws a
 * DeadlockError when it could never finish. Records the call until
 * `callFinished`. `context` defaults to the current one.
 */
export function callWorker(id, seq, label, context = current) {
  const w = workers.get(id);
  if (w === undefined) return 0;
  if (context !== null && !isServing(context)) context = null;
  const cands = context === null ? candidates(id) : [];
  let nestedInto = 0;
  const innermost = w.blocked.length === 0 ? null : w.blocked[w.blocked.length - 1];
  if (innermost !== null) {
    if (w.reentrant) {
      if (nesting(w) >= w.maxNesting) {
        throw new DeadlockError(`${headline(label, innermost.label)} (calls between the main thread and this worker ` +
          `are nested ${w.maxNesting} deep, the limit (the maxNesting option); they probably recurse without end)`);
      }
      nestedInto = innermost.seq;
    } else if (context !== null) {
      const e = findCycle(id, w, label, context, false);
      if (e !== null) throw e;
    }
  }
  w.outgoing.set(seq, { label, context, candidates: cands, nestedInto });
  return nestedInto;
}

// The DeadlockError if a call of worker `id` waits (through the edges) for
// served call `context`, whose handler awaits the new call; else null.
function findCycle(id, w, label, context, assumed) {
  const visited = new Set();
  for (const start of w.blocked) {
    const path = [];
    if (!reaches({ worker: id, seq: start.seq }, context, visited, path, assumed)) continue;
    if (path.length === 0) {
      return new DeadlockError(`${headline(label, start.label)} (the worker was created with reentrant: false, ` +
        "so it cannot serve a call before its own call returns, and that call's handler awaits this one; " +
        "create it with reentrant: true, or do not await worker calls in this handler)");
    }
    path.push({ worker: context.worker, blocked: labelOf(context), awaits: label, next: id });
    const links = path.map((l, i) => `${i === 0 ? " " : ", and "}${nameOf(l.worker)} is blocked in ${l.blocked}, ` +
      `whose handler awaits ${text(l.awaits)} on ${nameOf(l.next)}`).join("");
    return new DeadlockError(`${headline(label, start.label)} (a wait cycle through several workers:${links}; ` +
      "a worker created with reentrant: false cannot serve calls while it is blocked: " +
      "make the workers re-entrant or break the cycle)");
  }
  return null;
}

/** True when a direct call to worker `id` should be checked again later (suspectedCycle). */
export function mayCycle(id) {
  const w = workers.get(id);
  return w !== undefined && !w.reentrant && w.blocked.length !== 0;
}

/**
 * Main's outstanding call `seq` to worker `id` checked again, counting the
 * assumed edges: the DeadlockError to refuse it with if it waits in a cycle
 * now, else null. Does not forget the call (callFinished does).
 */
export function suspectedCycle(id, seq) {
  const w = workers.get(id);
  if (w === undefined || w.reentrant) return null;
  const call = w.outgoing.get(seq);
  if (call === undefined || call.nestedInto !== 0) return null;
  for (const goal of call.context !== null ? [call.context] : call.candidates) {
    const e = findCycle(id, w, call.label, goal, true);
    if (e !== null) return e;
  }
  return null;
}

/** The reply to main's call `seq` arrived, or it was given up. Returns its context. */
export function callFinished(id, seq) {
  const w = workers.get(id);
  if (w === undefined) return null;
  const c = w.outgoing.get(seq);
  if (c === undefined) return null;
  w.outgoing.delete(seq);
  return c.context;
}

/** For tests and stats: nested requests in progress in worker `id`. */
export function nestingDepth(id) {
  const w = workers.get(id);
  return w === undefined ? 0 : nesting(w);
}

/** For tests: worker calls main is serving, `[{ worker, seq, label }]`. */
export function serving() {
  const out = [];
  for (const [id, w] of workers) for (const b of w.blocked) out.push({ worker: id, seq: b.seq, label: b.label });
  return out;
}
