//! wasm-bindgen bindings of worker-bridge.
//!
//! What bridge-js imports from the wasm package:
//!
//! - [`SabRegion`]: bridge-core's `SharedMemory` over a JS
//!   `SharedArrayBuffer` (js-sys `Int32Array` + `Atomics`), so the Rust
//!   mailbox and any Rust embedding run on the same buffer as the JS side;
//! - [`DeadlockTracker`]: the main thread's wait-for tracker
//!   (`bridge_core::deadlock`), deciding how each main->worker call is
//!   delivered or refusing it with a "Possible deadlock" message;
//! - `WorkerPort` (feature `embed`): a worker's end of a channel framed by bridge-core's
//!   mailbox, for Rust runtimes in workers (and to prove the Rust and JS
//!   mailboxes interoperate);
//! - `embed` (feature `embed`): the typed Rust embedding,
//!   `embed::main_thread().call::<A, R>(name, &args)`, DOM handles and
//!   exposed Rust functions (docs/rust.md), with the `initBridge` /
//!   `servePending` exports a worker's JS bootstrap calls; with feature
//!   `threads` on a `+atomics` nightly build, `embed::threads`: channels in
//!   the shared wasm memory so that every thread of a wasm-bindgen-rayon pool
//!   calls the main thread (`allocThreadChannels`, docs/rust.md);
//! - `convert` (feature `convert`): `convertEncodeValue` /
//!   `convertDecodeValue`, JS values <-> wire bytes converted in Rust, only
//!   to measure against the JS codec (benches/codec/run.mjs); not shipped;
//! - `wireRoundTrip` / `wireRoundTripValue` (feature `wire`): decode and re-encode
//!   with bridge-core's wire codec, so JS tests prove that bytes the JS codec
//!   writes are accepted by Rust and come back byte for byte.
//!
//! Features: the package bridge-js ships is the default build (SabRegion and
//! DeadlockTracker: about 57 KB raw, 18 KB brotli with the name section
//! removed). `wire` adds the codec (about +37 KB raw, +10 KB brotli) and
//! `embed` adds `WorkerPort` and the typed embedding with its codec and call
//! layer (about +114 KB raw, +37 KB brotli); `full` is all of them,
//! built into bridge-js/pkg/full for the JS tests.
//!
//! This is the only Rust crate that touches js-sys.

// The wasm-threads flavour (nightly only, as `+atomics` is) uses the wasm
// `memory.atomic.wait32` / `notify` intrinsics.
#![cfg_attr(
    all(
        feature = "threads",
        target_arch = "wasm32",
        target_feature = "atomics"
    ),
    feature(stdarch_wasm_atomic_wait)
)]

#[cfg(feature = "embed")]
mod callback;
#[cfg(feature = "convert")]
pub mod convert;
#[cfg(feature = "embed")]
pub mod embed;
#[cfg(any(feature = "embed", test))]
mod exports;
#[cfg(feature = "embed")]
mod port;
mod shm;
mod tracker;

#[cfg(feature = "embed")]
pub use embed::{Callback, RustObject};
#[cfg(feature = "embed")]
pub use port::WorkerPort;
pub use shm::SabRegion;
pub use tracker::DeadlockTracker;

#[cfg(feature = "wire")]
use bridge_core::wire;
#[cfg(feature = "wire")]
use wasm_bindgen::prelude::*;

/// Decodes a message with bridge-core's wire codec and encodes it again.
/// Throws an `Error` whose message says why the bytes were refused.
#[cfg(feature = "wire")]
#[wasm_bindgen(js_name = wireRoundTrip)]
pub fn wire_round_trip(bytes: &[u8]) -> Result<Vec<u8>, JsError> {
    let msg = wire::decode(bytes)
        .map_err(|e| JsError::new(&format!("wireRoundTrip: Rust refused the message: {e}")))?;
    wire::encode(&msg).map_err(|e| {
        JsError::new(&format!(
            "wireRoundTrip: Rust decoded the message but cannot encode it again: {e}"
        ))
    })
}

/// Like [`wire_round_trip`], for a lone `Value` (the golden `values.json`).
#[cfg(feature = "wire")]
#[wasm_bindgen(js_name = wireRoundTripValue)]
pub fn wire_round_trip_value(bytes: &[u8]) -> Result<Vec<u8>, JsError> {
    let value = wire::decode_value(bytes)
        .map_err(|e| JsError::new(&format!("wireRoundTripValue: Rust refused the value: {e}")))?;
    wire::encode_value(&value).map_err(|e| {
        JsError::new(&format!(
            "wireRoundTripValue: Rust decoded the value but cannot encode it again: {e}"
        ))
    })
}
