//! worker-bridge's protocol, independent of any browser API.
//!
//! A worker calls the main thread synchronously: it writes a request into
//! shared memory, wakes the main thread, and blocks on its own inbound mailbox
//! until the reply, or a nested request from the main thread, arrives. This
//! crate is that protocol, with nothing of the browser in it, so it builds and
//! is tested natively (real OS threads and futex waits stand in for workers)
//! and builds for `wasm32-unknown-unknown` unchanged.
//!
//! # The contract
//!
//! * [`wire`] encodes [`message::Message`]s (requests, replies, releases,
//!   cancels) carrying [`value::Value`]s, as postcard bytes. Decoding never
//!   panics, never recurses (constant stack for any nesting), and checks every
//!   length against the bytes that remain before it allocates. Malformed input
//!   is a [`wire::DecodeError`] that says where and why.
//! * [`shm::SharedMemory`] is the only thing a platform provides: atomic i32
//!   slots with wait/notify, byte copies, a clock. JS SharedArrayBuffers
//!   (`bridge-wasm`) and native atomics (the tests) implement it.
//! * [`mailbox`] moves messages of any size through a fixed region in frames.
//!   Counters only grow, so no slot value means two things; the producer
//!   refuses a message over `max_message` before writing anything; a closed
//!   channel wakes every waiter within one park slice.
//! * [`protocol`] is the protocol's decisions, once, as a sans-IO state
//!   machine per side (events and the host's `now` in, actions out; no I/O,
//!   no clock): request numbering, the frame stack of nested calls, early
//!   outer replies, late replies, cancels, deadlines, release batching.
//!   [`protocol::constants`] is the one table of tags, op codes and
//!   defaults.
//! * [`channel`] is a host of those machines over the two mailboxes:
//!   blocking calls that serve nested requests while they wait, a main side
//!   that never blocks. The Rust embedding (bridge-wasm) and the native
//!   tests drive it.
//! * [`refs`] counts references across the boundary (the exporter counts
//!   sends, the importer releases what it received, so a release never races a
//!   new send). [`deadlock`] decides, for a main->worker call, whether it can be
//!   delivered as a nested request or must fail at once with "Possible
//!   deadlock".
//!
//! The byte-level format is specified in `docs/protocol.md`; the golden
//! vectors in `tests/vectors/` are checked by these tests and by the JS codec.

// Without the `std` feature only the protocol's decisions and their types
// build (`protocol`, `deadlock`, `refs`, `message`, `value`): what a raw
// wasm module needs (crates/bridge-core-wasm), with no std in it.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

#[cfg(feature = "std")]
pub mod channel;
pub mod deadlock;
#[cfg(feature = "std")]
pub mod mailbox;
pub mod message;
pub mod protocol;
pub mod refs;
#[cfg(feature = "std")]
pub mod serde_value;
#[cfg(feature = "std")]
pub mod shm;
pub mod value;
#[cfg(feature = "std")]
pub mod wire;
