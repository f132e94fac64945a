//! bridge-core's protocol decisions behind plain `extern "C"` exports:
//! numbers in, numbers out, no wasm-bindgen, no JS glue. It builds on
//! stable Rust for `wasm32-unknown-unknown`:
//!
//! ```text
//! cargo build -p bridge-core-wasm --target wasm32-unknown-unknown --profile release-core
//! ```
//!
//! Two sets of exports, one feature each (both by default):
//!
//! - `worker` ([`worker_core`]): the worker side's machine
//!   ([`bridge_core::protocol::WorkerCore`]). A JS host keeps the decoded
//!   message bodies in its own table and gives the machine their index
//!   (`handle`); times are milliseconds as `f64` (`performance.now()`).
//!   `benches/core-wasm` drives it from Node through the wasm boundary and
//!   through its `wasm2js` translation, against the JS code path bridge-js
//!   runs (docs/benchmarks.md).
//! - `main` ([`main_core`]): the main thread's wait-for tracker
//!   ([`bridge_core::deadlock::WaitForTracker`]), labels kept by the host,
//!   one tracker per module instance. Built alone (`--no-default-features
//!   --features main`, profile `release-core`) by `cargo xtask build` into
//!   `bridge-js/gen/main-core.wasm` and its wasm2js translation: bridge-js's
//!   main thread runs it (`bridge-js/src/main-core.js`).
//!
//! The worker's exports take the pointer `wb_worker_new` returned first.
//!
//! On wasm32 the crate is `no_std`: bridge-core without its `std` feature,
//! a small size-class allocator (`alloc_wasm`) and a panic handler that
//! traps, so the module carries no formatting or unwinding code.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

#[cfg(target_arch = "wasm32")]
mod alloc_wasm;

/// The main thread's wait-for tracker (feature `main`), which bridge-js
/// loads on the main thread.
#[cfg(feature = "main")]
pub mod main_core;
/// The worker's protocol machine (feature `worker`).
#[cfg(feature = "worker")]
pub mod worker_core;
