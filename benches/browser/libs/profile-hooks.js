// Wraps methods of worker-bridge's classes with performance.now() counters
// (the "ours-profile" library, `run.mjs --profile`): where a call's time goes.
export function hook(proto, name, counters, key = name) {
  const orig = proto[name];
  if (typeof orig !== "function") return;
  const c = (counters[key] = { calls: 0, ms: 0 });
  proto[name] = function (...args) {
    const t = performance.now();
    try {
      return orig.apply(this, args);
    } finally {
      c.calls++;
      c.ms += performance.now() - t;
    }
  };
}
export const reset = (counters) => {
  for (const c of Object.values(counters)) { c.calls = 0; c.ms = 0; }
};
