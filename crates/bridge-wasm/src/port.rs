//! [`WorkerPort`]: the worker's end of a channel, framed by bridge-core's
//! mailbox (docs/protocol.md §4) over a [`SabRegion`].
//!
//! It is the transport a Rust runtime in a worker uses to talk to a
//! bridge-js main thread without any JS codec in the path, and it proves that
//! the Rust and JS mailbox implementations interoperate on one buffer.

use std::time::Duration;

use bridge_core::mailbox::{Config, Consumer, Deadline, Layout, Producer};
use js_sys::SharedArrayBuffer;
use wasm_bindgen::prelude::*;

use crate::shm::SabRegion;

/// Sends on `to_main`, receives on `to_worker`, blocking with `Atomics.wait`.
#[wasm_bindgen]
pub struct WorkerPort {
    tx: Producer<SabRegion>,
    rx: Consumer<SabRegion>,
}

fn deadline(region: &SabRegion, timeout_ms: Option<f64>) -> Deadline {
    Deadline::after(
        region,
        timeout_ms.map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0)),
    )
}

#[wasm_bindgen]
impl WorkerPort {
    /// `new WorkerPort(sab, capacity, maxMessage)`: the channel the main
    /// thread created with `channelBytes(capacity)` bytes. Throws if the
    /// sizes do not fit the buffer or this thread may not block.
    #[wasm_bindgen(constructor)]
    pub fn new(
        sab: &SharedArrayBuffer,
        capacity: u32,
        max_message: u32,
    ) -> Result<WorkerPort, JsError> {
        let region = SabRegion::from_sab(sab, None);
        if !bridge_core::shm::SharedMemory::can_block(&region) {
            return Err(JsError::new(
                "WorkerPort: this thread may not block (a browser main thread); create the port in a worker",
            ));
        }
        let config = Config {
            capacity: capacity as usize,
            max_message: max_message as usize,
            ..Config::default()
        };
        config
            .validate(sab.byte_length() as usize)
            .map_err(|e| JsError::new(&format!("WorkerPort: {e}")))?;
        let cap = config.capacity;
        Ok(WorkerPort {
            tx: Producer::new(region.clone(), Layout::to_main(cap), &config),
            rx: Consumer::new(region, Layout::to_worker(cap), &config),
        })
    }

    /// Sends one message to the main thread, waiting for the slot up to
    /// `timeoutMs` (no limit if omitted).
    pub fn send(&mut self, bytes: &[u8], timeout_ms: Option<f64>) -> Result<(), JsError> {
        let d = deadline(self.tx.memory(), timeout_ms);
        self.tx
            .send(bytes, d)
            .map_err(|e| JsError::new(&format!("WorkerPort.send: {e}")))
    }

    /// Receives one whole message from the main thread, waiting up to
    /// `timeoutMs` (no limit if omitted).
    pub fn recv(&mut self, timeout_ms: Option<f64>) -> Result<Vec<u8>, JsError> {
        let d = deadline(self.rx.memory(), timeout_ms);
        self.rx
            .recv(d)
            .map_err(|e| JsError::new(&format!("WorkerPort.recv: {e}")))
    }

    /// Closes the channel for both sides (wakes every waiter).
    pub fn close(&self) {
        self.tx.close();
    }
}
