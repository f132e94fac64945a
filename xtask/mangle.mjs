// Property names internal to bridge-js that `xtask/dist.mjs` lets esbuild
// rename (`mangleProps`) in bridge-js/dist: fields and methods of the
// library's own classes and objects, which only its own code reads. About a
// tenth of dist/worker.js was these names (docs/benchmarks.md, "Start-up
// (stop 16)").
//
// The rule for a name on this list: bridge-js/src defines it (a class member
// or a `this.x =` field) and nothing outside the dist build reads it by name.
// So none of these may be:
// - public API (bridge-js/types), or read by the Python layer's Python code,
//   the coincident compat layer, the Rust glue (rust.js, rust-serve.js, the
//   wasm-bindgen pkg) or main-core.js's wasm exports;
// - a field of a message between threads (the start-up message, `[TAG]`
//   messages, sw.js's): a page may run dist/main.js beside a worker built
//   from the sources, and sw.js is always the source file;
// - a property of a JS or DOM built-in, or written quoted anywhere in
//   bridge-js/src (esbuild renames `o.x`, not `o["x"]`);
// - read by the benchmark adapters or patches that load bridge-js/dist.
// tests/bundlers/bundlers.test.mjs checks the first, second and fourth
// against the files; a name that breaks the rest fails the e2e tiers run
// on dist (docs/testing.md, "The tiers against bridge-js/dist").
// A name not listed is kept: adding one is an optimisation, never needed.
export const INTERNAL_PROPS = [
  "_abort", "_asyncDone", "_attach", "_callOp", "_dropExport", "_exposed", "_finalized", "_finished",
  "_flush", "_journal", "_local", "_lock", "_onWake", "_outbox", "_peerPort", "_pendingById",
  "_post", "_postWorker", "_pumpTick", "_queue", "_rejectReady", "_remote", "_reportError",
  "_resolveReady", "_revive", "_sent", "_start", "_started", "_waiting", "_watchLock",
  "_worker", "abortPending", "addChain", "armCycleCheck", "armPump", "armWait", "asyncWaits",
  "awaitListener", "awakeState", "beginDecode", "byRef", "callAsync", "callBlocking", "callSync",
  "checkedU32", "checkSendable", "closedByPeer", "consume", "converted", "decodeIncoming", "depth",
  "describedReply", "describeReply", "discarding", "dispatch", "dropNow", "encodeFn",
  "endDecode", "enter", "exportsById", "exportsByObj", "finishServe",
  "flushWaiters", "foldOn", "frameAbort", "frameSeq", "frameWhat", "globalObj", "hasPending",
  "hintKey", "hintParent", "hit", "inFlight", "journal", "jsString", "listenerUntil", "makeProxy",
  "markAll", "msgStart", "nextId", "nextSeq", "onCancel", "onPending", "partialLen", "partialPos", "peerBlocks",
  "peerSeen", "peerSince", "pollFor", "pos", "pumpArmed", "pumpScheduled", "reannounce", "reflect",
  "reflectAsync", "registry", "releaseState", "releaseTimer", "replySpinMs", "replySpinQueued",
  "requestAt", "resolvePending", "ringBell", "rootProxy", "rootState", "schedulePump",
  "scheduleReleaseFlush", "sendBytes", "sendCancel", "sendTransfer", "settleFlush", "slotFree",
  "spinLoop", "spinMs", "spinSeq", "stash", "tables", "timedOut", "timeoutOverride",
  "tooLarge", "typedArray", "u32", "unholdImports", "unholdTarget", "untrack", "unused", "waitReply",
  "windowProxy", "writeFrame", "writeFrames",
];

// The short names esbuild gives them: the same in every build of dist (main,
// worker, Python entries; their objects cross between the files), the most
// used name first, each one no identifier of bridge-js/src uses, so that no
// renamed property can meet a kept one of the same spelling.
export function mangleCache(srcTexts) {
  const used = new Set();
  const count = new Map(INTERNAL_PROPS.map((n) => [n, 0]));
  for (const t of srcTexts) {
    for (const w of t.match(/[A-Za-z_$][\w$]*/g) ?? []) used.add(w);
    for (const m of t.matchAll(/\.([A-Za-z_$][\w$]*)/g)) if (count.has(m[1])) count.set(m[1], count.get(m[1]) + 1);
  }
  const first = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$";
  const rest = first + "0123456789";
  const short = function* () {
    for (const a of first) yield a;
    for (const a of first) for (const b of rest) yield a + b;
    for (const a of first) for (const b of rest) for (const c of rest) yield a + b + c;
  };
  const gen = short();
  const cache = {};
  for (const n of [...count.keys()].sort((a, b) => count.get(b) - count.get(a) || (a < b ? -1 : 1))) {
    let s;
    do s = gen.next().value; while (used.has(s));
    cache[n] = s;
  }
  return cache;
}
