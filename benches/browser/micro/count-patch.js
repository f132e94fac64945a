// Counts one thread's waits and wake-ups, nothing timed (bundle-variants.mjs,
// `count: true` variants): whether a build ends more calls in a park and a
// wake-up. Atomics.* are looked up at each call, so patching them once, at
// import, covers every build.
const counts = { "Atomics.wait": 0, "Atomics.wait timed out": 0, "Atomics.waitAsync pending": 0, "Atomics.notify woke": 0, "Atomics.notify nobody": 0 };
const { wait, waitAsync, notify } = Atomics;
Atomics.wait = function (...a) {
  counts["Atomics.wait"]++;
  const r = wait.apply(Atomics, a);
  if (r === "timed-out") counts["Atomics.wait timed out"]++;
  return r;
};
Atomics.waitAsync = function (...a) {
  const r = waitAsync.apply(Atomics, a);
  if (r.async) counts["Atomics.waitAsync pending"]++;
  return r;
};
Atomics.notify = function (...a) {
  const n = notify.apply(Atomics, a);
  counts[n > 0 ? "Atomics.notify woke" : "Atomics.notify nobody"]++;
  return n;
};
/** The counts since the last reset, each key prefixed with `side`. */
export const stats = (side) => Object.fromEntries(Object.entries({ ...counts, ...(globalThis.__wbWhy ?? {}) }).map(([k, v]) => [`${side}: ${k}`, { calls: v, ms: 0 }]));
export const reset = () => { for (const k in counts) counts[k] = 0; const w = globalThis.__wbWhy; if (w) for (const k in w) w[k] = 0; };
