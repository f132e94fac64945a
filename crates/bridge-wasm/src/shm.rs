//! [`SabRegion`]: bridge-core's [`SharedMemory`] over a JS `SharedArrayBuffer`.
//!
//! Slots go through an `Int32Array` view and the JS `Atomics` object, bytes
//! through a `Uint8Array` view, so the same buffer can be shared with JS code
//! (bridge-js's mailbox) and with other threads (workers) that see it as
//! theirs. The wasm linear memory is not shared in this build; bytes are
//! copied across.
//!
//! Misuse (an index outside the buffer) throws the JS `RangeError` from
//! `Atomics`, or a `RangeError`-style message for byte copies, instead of
//! panicking: the release-wasm build aborts on panic without a message.

use std::time::Duration;

use bridge_core::shm::{SharedMemory, WaitOutcome};
use js_sys::{Atomics, Int32Array, Reflect, SharedArrayBuffer, Uint8Array};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `performance.now()`: monotonic, available in windows, workers and Node.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// A `SharedArrayBuffer` seen as i32 slots and bytes. Cloning is cheap (the
/// views are shared JS handles).
#[wasm_bindgen]
#[derive(Clone, Debug)]
pub struct SabRegion {
    i32s: Int32Array,
    bytes: Uint8Array,
    can_block: bool,
    has_pause: bool,
}

/// True if `Atomics.wait` may be called on this thread. The browser main
/// thread throws a `TypeError` from `Atomics.wait` before it looks at the
/// value; elsewhere a wait for a value the slot does not hold returns
/// `"not-equal"` at once. The probe uses a private 4-byte buffer.
fn probe_can_block() -> bool {
    let probe = Int32Array::new(&SharedArrayBuffer::new(4));
    Atomics::wait_with_timeout(&probe, 0, 1, 0.0).is_ok()
}

fn has_atomics_pause() -> bool {
    Reflect::get(&js_sys::global(), &JsValue::from_str("Atomics"))
        .and_then(|atomics| Reflect::has(&atomics, &JsValue::from_str("pause")))
        .unwrap_or(false)
}

impl SabRegion {
    /// Wraps `sab`. `can_block`: `None` probes the thread (see
    /// [`SharedMemory::can_block`]); pass `Some(false)` to forbid blocking
    /// where the probe cannot tell (e.g. a thread that must stay responsive).
    pub fn from_sab(sab: &SharedArrayBuffer, can_block: Option<bool>) -> Self {
        SabRegion {
            i32s: Int32Array::new(sab),
            bytes: Uint8Array::new(sab),
            can_block: can_block.unwrap_or_else(probe_can_block),
            has_pause: has_atomics_pause(),
        }
    }

    fn check_range(&self, offset: usize, len: usize) {
        let total = self.bytes.length() as usize;
        if offset > total || len > total - offset {
            wasm_bindgen::throw_str(&format!(
                "RangeError: SabRegion byte copy of {len} bytes at offset {offset} is outside the {total}-byte SharedArrayBuffer; the caller's layout does not fit the buffer"
            ));
        }
    }
}

/// Unwraps an `Atomics` result, rethrowing the JS exception (a `RangeError`
/// for a slot outside the buffer) rather than panicking.
fn or_throw<T>(r: Result<T, JsValue>) -> T {
    r.unwrap_or_else(|e| wasm_bindgen::throw_val(e))
}

impl SharedMemory for SabRegion {
    fn load(&self, slot: usize) -> i32 {
        or_throw(Atomics::load(&self.i32s, slot as u32))
    }

    fn store(&self, slot: usize, value: i32) {
        or_throw(Atomics::store(&self.i32s, slot as u32, value));
    }

    fn compare_exchange(&self, slot: usize, current: i32, new: i32) -> Result<i32, i32> {
        let previous = or_throw(Atomics::compare_exchange(
            &self.i32s,
            slot as u32,
            current,
            new,
        ));
        if previous == current {
            Ok(previous)
        } else {
            Err(previous)
        }
    }

    fn wait(&self, slot: usize, expected: i32, timeout: Option<Duration>) -> WaitOutcome {
        let result = match timeout {
            Some(t) => Atomics::wait_with_timeout(
                &self.i32s,
                slot as u32,
                expected,
                t.as_secs_f64() * 1000.0,
            ),
            None => Atomics::wait(&self.i32s, slot as u32, expected),
        };
        // "ok", "not-equal" or "timed-out": the first letter tells them apart.
        match or_throw(result).char_code_at(0) as u32 {
            0x6e => WaitOutcome::NotEqual,
            0x74 => WaitOutcome::TimedOut,
            _ => WaitOutcome::Woken,
        }
    }

    fn notify(&self, slot: usize, count: u32) -> u32 {
        let r = if count == u32::MAX {
            Atomics::notify(&self.i32s, slot as u32)
        } else {
            Atomics::notify_with_count(&self.i32s, slot as u32, count)
        };
        or_throw(r)
    }

    fn read_bytes(&self, offset: usize, dst: &mut [u8]) {
        self.check_range(offset, dst.len());
        self.bytes
            .subarray(offset as u32, (offset + dst.len()) as u32)
            .copy_to(dst);
    }

    fn write_bytes(&self, offset: usize, src: &[u8]) {
        self.check_range(offset, src.len());
        self.bytes
            .subarray(offset as u32, (offset + src.len()) as u32)
            .copy_from(src);
    }

    fn byte_len(&self) -> usize {
        self.bytes.length() as usize
    }

    fn now(&self) -> Duration {
        Duration::from_secs_f64(performance_now().max(0.0) / 1000.0)
    }

    fn can_block(&self) -> bool {
        self.can_block
    }

    fn pause(&self) {
        if self.has_pause {
            Atomics::pause();
        } else {
            core::hint::spin_loop();
        }
    }
}

/// The JS face of the region: thin wrappers over the [`SharedMemory`]
/// methods, so JS tests and tools exercise exactly the Rust code path.
#[wasm_bindgen]
impl SabRegion {
    /// `new SabRegion(sab, canBlock?)`; without `canBlock` the thread is probed.
    #[wasm_bindgen(constructor)]
    pub fn new(sab: &SharedArrayBuffer, can_block: Option<bool>) -> SabRegion {
        SabRegion::from_sab(sab, can_block)
    }

    /// Whether blocking waits are allowed on this thread.
    #[wasm_bindgen(getter, js_name = canBlock)]
    pub fn js_can_block(&self) -> bool {
        self.can_block
    }

    /// Size of the buffer in bytes.
    #[wasm_bindgen(getter, js_name = byteLength)]
    pub fn js_byte_length(&self) -> u32 {
        self.bytes.length()
    }

    /// `Atomics.load` of i32 slot `slot`.
    #[wasm_bindgen(js_name = load)]
    pub fn js_load(&self, slot: u32) -> i32 {
        self.load(slot as usize)
    }

    /// `Atomics.store` of i32 slot `slot`.
    #[wasm_bindgen(js_name = store)]
    pub fn js_store(&self, slot: u32, value: i32) {
        self.store(slot as usize, value)
    }

    /// `Atomics.compareExchange`; returns the previous value.
    #[wasm_bindgen(js_name = compareExchange)]
    pub fn js_compare_exchange(&self, slot: u32, current: i32, new: i32) -> i32 {
        match self.compare_exchange(slot as usize, current, new) {
            Ok(v) | Err(v) => v,
        }
    }

    /// Blocks until slot `slot` is notified or `timeoutMs` passes (no time-out
    /// if omitted), if it holds `expected`. Returns `"ok"`, `"not-equal"` or
    /// `"timed-out"`. Throws if this thread may not block.
    #[wasm_bindgen(js_name = wait)]
    pub fn js_wait(&self, slot: u32, expected: i32, timeout_ms: Option<f64>) -> String {
        if !self.can_block {
            wasm_bindgen::throw_str(
                "SabRegion.wait: this thread may not block (browser main thread, or canBlock: false); wait with Atomics.waitAsync instead",
            );
        }
        let timeout = timeout_ms.map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0));
        match self.wait(slot as usize, expected, timeout) {
            WaitOutcome::Woken => "ok",
            WaitOutcome::NotEqual => "not-equal",
            WaitOutcome::TimedOut => "timed-out",
        }
        .into()
    }

    /// `Atomics.notify`; wakes up to `count` waiters (all if omitted) and
    /// returns how many were woken.
    #[wasm_bindgen(js_name = notify)]
    pub fn js_notify(&self, slot: u32, count: Option<u32>) -> u32 {
        self.notify(slot as usize, count.unwrap_or(u32::MAX))
    }

    /// Copies `len` bytes out of the buffer at byte `offset`.
    #[wasm_bindgen(js_name = readBytes)]
    pub fn js_read_bytes(&self, offset: u32, len: u32) -> Vec<u8> {
        let mut out = vec![0; len as usize];
        self.read_bytes(offset as usize, &mut out);
        out
    }

    /// Copies `bytes` into the buffer at byte `offset`.
    #[wasm_bindgen(js_name = writeBytes)]
    pub fn js_write_bytes(&self, offset: u32, bytes: &[u8]) {
        self.write_bytes(offset as usize, bytes)
    }

    /// `performance.now()` as the region's clock sees it, in milliseconds.
    #[wasm_bindgen(js_name = nowMs)]
    pub fn js_now_ms(&self) -> f64 {
        self.now().as_secs_f64() * 1000.0
    }
}
