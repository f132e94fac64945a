//! The protocol's numbers, in one table: wire tags, op codes, header slots
//! and defaults (docs/protocol.md). bridge-js keeps the same table in
//! `bridge-js/src/protocol.js`; the golden vectors in `tests/vectors` pin
//! both to the bytes.

/// Message tags: the first byte of every message.
pub mod tag {
    /// `Request { seq, nested_in, target, op, releases }`.
    pub const REQUEST: u8 = 0;
    /// `Reply { seq, outcome, releases }`.
    pub const REPLY: u8 = 1;
    /// `Release(releases)`: releases with nothing else to ride on.
    pub const RELEASE: u8 = 2;
    /// `Cancel { seq }`: the sender gave up on its request.
    pub const CANCEL: u8 = 3;
}

/// Request op codes: the byte after a request's `target`.
pub mod op {
    /// `Get { key }`.
    pub const GET: u8 = 0;
    /// `Set { key, value }`.
    pub const SET: u8 = 1;
    /// `Has { key }`.
    pub const HAS: u8 = 2;
    /// `Delete { key }`.
    pub const DELETE: u8 = 3;
    /// `OwnKeys`.
    pub const OWN_KEYS: u8 = 4;
    /// `GetOwnPropertyDescriptor { key }`.
    pub const GET_OWN_PROPERTY_DESCRIPTOR: u8 = 5;
    /// `DefineProperty { key, descriptor }`.
    pub const DEFINE_PROPERTY: u8 = 6;
    /// `GetPrototypeOf`.
    pub const GET_PROTOTYPE_OF: u8 = 7;
    /// `SetPrototypeOf { proto }`.
    pub const SET_PROTOTYPE_OF: u8 = 8;
    /// `Apply { this, args }`.
    pub const APPLY: u8 = 9;
    /// `Construct { args }`.
    pub const CONSTRUCT: u8 = 10;
    /// `Call { name, args }`: a function exposed as `sync[name]`.
    pub const CALL: u8 = 11;
    /// `Describe`: a proxy's prototype chain and shape in one reply
    /// (docs/protocol.md §3 "Describe").
    pub const DESCRIBE: u8 = 12;
    /// `Described(op)`: a prefix before a `Get`, `Apply` or `Construct` that
    /// asks for the result's Describe snapshot in the reply (docs/protocol.md
    /// §3 "Folded into the reply"). Only bridge-js's worker sends it; this
    /// codec reads and writes it (`Op::Described`), and a Rust worker
    /// answers it with null snapshots.
    pub const DESCRIBED: u8 = 13;
}

/// Outcome tags of a reply.
pub mod outcome {
    /// The request returned a value.
    pub const OK: u8 = 0;
    /// The request threw.
    pub const THROWN: u8 = 1;
}

/// Bytes of the header in front of each mailbox's data.
pub const HEADER_BYTES: usize = 32;

/// Largest `capacity` / `max_message`: lengths travel in i32 slots, which JS
/// reads as signed numbers.
pub const MAX_LEN: usize = i32::MAX as usize;

/// i32 slot numbers inside one mailbox header.
pub mod slot {
    /// Frames written so far (wrapping counter, starts at 0).
    pub const WRITTEN: usize = 0;
    /// Frames consumed so far.
    pub const READ: usize = 1;
    /// Payload bytes in the current frame, `0..=capacity`.
    pub const FRAME_LEN: usize = 2;
    /// Total bytes of the message the frame belongs to.
    pub const MSG_LEN: usize = 3;
    /// [`super::flag`] bits.
    pub const FLAGS: usize = 4;
    /// Non-zero once either side closed the channel.
    pub const CLOSED: usize = 5;
    /// The consumer's wait state, [`super::state`] bits: whether a
    /// producer must notify it and whether it runs.
    pub const STATE: usize = 6;
}

/// Bits of the `STATE` slot, written by the consumer only. 0 means
/// "parked, or does not say": the producer notifies after each frame.
pub mod state {
    /// The consumer's thread runs (a peer waiting for it may spin).
    pub const AWAKE: i32 = 1;
    /// The consumer looks at `WRITTEN` again before it parks (it clears
    /// this bit first), so a producer need not notify it.
    pub const POLLING: i32 = 2;
    /// The consumer spins now; it adds [`BEAT`] to the slot as it goes.
    pub const SPINNING: i32 = 4;
    /// One heartbeat of a spinning consumer: a value that stops changing
    /// means its thread lost the core.
    pub const BEAT: i32 = 8;
}

/// Bits of the `FLAGS` slot.
pub mod flag {
    /// The frame starts a message.
    pub const FIRST: i32 = 1;
    /// The frame ends a message.
    pub const LAST: i32 = 2;
    /// The producer gave up on the message in progress; drop it.
    pub const ABORT: i32 = 4;
}

/// Data bytes per mailbox unless configured otherwise: 4 MiB and 64 KiB, so a
/// payload of up to 4 MiB (a 1024x1024 RGBA image, a 512K-element
/// Float64Array) and its message's own bytes travel as one frame. A message
/// over the capacity is chunked, and every further frame waits for the peer
/// to take the one before: a 1 MiB Float64Array argument and result took
/// 5.8 ms a call at the former 1 MiB, 3.5-3.8 ms in one frame
/// (docs/benchmarks.md, "A quiet machine (stop 19)"). The shared buffer's
/// pages are touched only as far as messages reach, so the size costs
/// address space, not memory.
pub const DEFAULT_CAPACITY: usize = (4 << 20) + (64 << 10);

/// The largest message either side sends or accepts unless configured
/// otherwise: 256 MiB. One value for every host, because each side
/// enforces its own limit and a message one side may send but the other
/// refuses is an error only at run time. 256 MiB is what the public API
/// has always documented (`BridgeWorker`'s `maxMessage`); it is far beyond
/// a DOM call's arguments, yet a message is assembled in one buffer on the
/// receiving side, so the limit still fails a runaway payload clearly
/// before the receiver runs out of memory (a wasm32 heap is 4 GiB at most).
pub const DEFAULT_MAX_MESSAGE: usize = 256 << 20;

/// How many nested requests may be in progress in one worker at once,
/// unless the worker is created with another `maxNesting`.
pub const DEFAULT_MAX_NESTING: usize = 64;

/// Id 0 names the receiver's global object; export tables never hand it out.
pub const GLOBAL_ID: u32 = 0;
