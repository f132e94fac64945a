// An experiment for bundle-variants.mjs (variant `src-preempt`), not shipped:
// the worker's blocking wait with a spin that notices it lost its core. A
// burst of 64 loads + Atomics.pause takes a few microseconds; one that took
// far longer means this thread was descheduled, i.e. no core is free, and
// spinning only takes time the main thread needs. After such a burst the
// next SKIP waits park at once, then spinning is tried again. The signal is
// this thread's own clock, not the peer's behaviour (the adaptive spin that
// was reverted coupled the two sides' controllers).
const STOLEN_MS = 0.03;
const SKIP = 64;

export function install(Mailbox) {
  const pause = typeof Atomics.pause === "function" ? Atomics.pause : null;
  const park = Mailbox.prototype.waitChange;
  let skip = 0;
  Mailbox.prototype.waitChange = function (slot, seen, deadline) {
    const hdr = this.hdr;
    if (skip === 0) {
      let t = performance.now();
      const spinEnd = t + Mailbox.spinMicros / 1000;
      do {
        for (let i = 0; i < 64; i++) {
          if (Atomics.load(hdr, slot) !== seen) return true;
          if (pause !== null) pause(i);
        }
        const t2 = performance.now();
        if (t2 - t > STOLEN_MS) {
          skip = SKIP;
          break;
        }
        t = t2;
      } while (t < spinEnd);
    } else {
      skip--;
    }
    // mailbox.js's own wait, its spin set to one burst: parks at once
    const spin = Mailbox.spinMicros;
    Mailbox.spinMicros = 0;
    try {
      return park.call(this, slot, seen, deadline);
    } finally {
      Mailbox.spinMicros = spin;
    }
  };
}
