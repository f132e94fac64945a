// The protocol's numbers in one table, the JS twin of bridge-core's
// `protocol::constants` (docs/protocol.md). tests/vectors/mailbox.json pins
// both: bridge-js/test/mailbox-vectors.test.js checks this file against it.

/** Message tags: the first byte of every message. */
export const TAG_REQUEST = 0;
export const TAG_REPLY = 1;
export const TAG_RELEASE = 2;
export const TAG_CANCEL = 3;

/** Request op codes, by the `op.t` names the codec uses. */
export const OP = Object.freeze({
  get: 0,
  set: 1,
  has: 2,
  delete: 3,
  own_keys: 4,
  get_own_property_descriptor: 5,
  define_property: 6,
  get_prototype_of: 7,
  set_prototype_of: 8,
  apply: 9,
  construct: 10,
  call: 11,
  describe: 12,
  // Not an op of its own: a prefix before a get, apply or construct that asks
  // for the result's Describe snapshot in the reply (docs/protocol.md §3
  // "Describe", "Folded into the reply").
  described: 13,
});

/**
 * Well-known symbols by `JsSymbol::WellKnown` number (docs/protocol.md §2
 * "Symbols"): the names after `Symbol.`, bridge-core's `WELL_KNOWN_SYMBOLS`.
 * The golden vectors (tests/vectors/values.json) name each number they use.
 */
export const WELL_KNOWN_SYMBOLS = Object.freeze(["asyncIterator", "hasInstance",
  "isConcatSpreadable", "iterator", "match", "matchAll", "replace", "search",
  "species", "split", "toPrimitive", "toStringTag", "unscopables", "dispose",
  "asyncDispose"]);

/** Reply outcomes: the byte after a reply's seq. */
export const OUTCOME_OK = 0;
export const OUTCOME_THROWN = 1;

/** Bytes of a mailbox's header (docs/protocol.md §4). */
export const HEADER_BYTES = 32;

/** The header's i32 slots. */
export const SLOT = Object.freeze({ WRITTEN: 0, READ: 1, FRAME_LEN: 2, MSG_LEN: 3, FLAGS: 4, CLOSED: 5, STATE: 6 });

/** Bits of the FLAGS slot. */
export const FLAG = Object.freeze({ FIRST: 1, LAST: 2, ABORT: 4 });

/** Bits of the STATE slot: the consumer's wait state (docs/protocol.md §4, "Waiting"). */
export const WAIT_STATE = Object.freeze({ AWAKE: 1, POLLING: 2, SPINNING: 4, BEAT: 8 });

/** The longest message a header can describe (MSG_LEN is an i32 slot). */
export const MAX_LEN = 0x7fffffff;

/** Data bytes per mailbox unless configured otherwise: 4 MiB + 64 KiB, so a 4 MiB payload and its message's header are one frame (the reasons are in bridge_core::protocol::constants). */
export const DEFAULT_CAPACITY = (4 << 20) + (64 << 10);

/**
 * The largest message either side sends or accepts unless configured
 * otherwise: 256 MiB, the same on every host (the reasons are in
 * bridge-core's `protocol::constants::DEFAULT_MAX_MESSAGE`).
 */
export const DEFAULT_MAX_MESSAGE = 256 << 20;

/** Nested requests in progress in one worker at once, unless `maxNesting` says otherwise. */
export const DEFAULT_MAX_NESTING = 64;
