// How long a waiter spins before it parks.
//
// Spinning wins when the peer answers within the spin: a round trip of a few
// microseconds instead of a park and a wake-up that cost tens. It loses
// badly when the peer has no core to answer on (a busy or oversubscribed
// machine): the spinner takes the very core its peer needs, and every call
// pays the whole spin on top (measured: 125 us a call instead of 30 with one
// busy process on 2 cores, docs/benchmarks.md). So each waiter keeps a
// running hit rate of its full-length spins and spins fully only while they
// mostly pay; otherwise it spins briefly and parks, and every 8th wait still
// spins fully, to notice when spinning pays again.

const PROBE_EVERY = 8; // a power of two
const KEEP_SPINNING = 0.08; // hit rate under which full spins stop (0.25 cost idle round trips)

export class SpinPolicy {
  constructor() {
    this.rate = 1; // exponentially weighted: the share of full spins that hit
    this.waits = 0;
  }

  /** The spin for the next wait: `full` while full spins pay, else `short`. */
  length(full, short) {
    if (this.rate >= KEEP_SPINNING) return full;
    return (++this.waits & (PROBE_EVERY - 1)) === 0 ? full : short;
  }

  /** Outcome of a wait that spun `len` (only full spins count). */
  record(len, full, hit) {
    if (len === full) this.rate += ((hit ? 1 : 0) - this.rate) / 8;
  }
}
