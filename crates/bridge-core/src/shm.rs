//! The shared memory a channel lives in, as an abstract trait.
//!
//! bridge-core never touches a browser API: the mailbox state machine
//! ([`crate::mailbox`]) is written against [`SharedMemory`], and each
//! platform supplies an implementation: a JS `SharedArrayBuffer` through an
//! `Int32Array` and `Atomics` (crates/bridge-wasm), a boxed slice of
//! `AtomicI32` with futex waits (the native tests and examples), a loom model
//! (tests/loom.rs).

use std::sync::Arc;
use std::time::Duration;

/// What a [`SharedMemory::wait`] returned, as JS `Atomics.wait` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitOutcome {
    /// Woken by a notify (implementations may also wake spuriously:
    /// callers always re-check the slot).
    Woken,
    /// The slot did not hold `expected` when the wait began.
    NotEqual,
    /// The time-out passed without a notify.
    TimedOut,
}

/// A region of shared memory seen as i32 slots and as bytes.
///
/// Contract (it is the JS `Atomics` contract, so a `SharedArrayBuffer` fits):
///
/// - `slot` is an i32 index into the whole region (byte offset / 4);
///   `offset` is a byte offset. Out-of-range indices are a bug of the caller
///   and may panic; the mailbox checks every length it reads from memory
///   before it uses it.
/// - [`load`](Self::load), [`store`](Self::store),
///   [`compare_exchange`](Self::compare_exchange) are sequentially
///   consistent, like `Atomics.load/store/compareExchange`.
/// - [`read_bytes`](Self::read_bytes) and [`write_bytes`](Self::write_bytes)
///   are plain copies with no ordering of their own. They are ordered by the
///   slot store that publishes them (producer: copy, then store `WRITTEN`)
///   and the slot load that observes it (consumer: load `WRITTEN`, then
///   copy). The protocol guarantees that the two sides never copy the same
///   bytes at the same time.
/// - [`wait`](Self::wait) is `Atomics.wait`: it atomically checks that
///   `slot` still holds `expected` and sleeps until a
///   [`notify`](Self::notify) on that slot or the time-out. It may return
///   [`WaitOutcome::Woken`] spuriously. Only call it when
///   [`can_block`](Self::can_block) is true.
/// - [`now`](Self::now) is a monotonic clock for deadlines
///   (`performance.now()` in a browser; `std::time::Instant` is not
///   available on `wasm32-unknown-unknown`, so the memory supplies it).
pub trait SharedMemory {
    /// `Atomics.load` of an i32 slot.
    fn load(&self, slot: usize) -> i32;
    /// `Atomics.store` of an i32 slot.
    fn store(&self, slot: usize, value: i32);
    /// `Atomics.compareExchange`: `Ok(previous)` if the slot held `current`
    /// and now holds `new`, else `Err(actual)`.
    fn compare_exchange(&self, slot: usize, current: i32, new: i32) -> Result<i32, i32>;
    /// `Atomics.wait(slot, expected, timeout)`; `None` waits without limit.
    fn wait(&self, slot: usize, expected: i32, timeout: Option<Duration>) -> WaitOutcome;
    /// `Atomics.notify(slot, count)`: wakes up to `count` waiters
    /// (`u32::MAX` for all) and returns how many were woken, when known
    /// (implementations that cannot count may return 0).
    fn notify(&self, slot: usize, count: u32) -> u32;
    /// Plain copy out of the region, starting at byte `offset`.
    fn read_bytes(&self, offset: usize, dst: &mut [u8]);
    /// Plain copy into the region, starting at byte `offset`.
    fn write_bytes(&self, offset: usize, src: &[u8]);
    /// Size of the region in bytes.
    fn byte_len(&self) -> usize;
    /// Monotonic time since an arbitrary origin, for deadlines.
    fn now(&self) -> Duration;
    /// False where blocking is forbidden (a browser main thread): the
    /// mailbox then refuses its blocking operations instead of freezing.
    fn can_block(&self) -> bool {
        true
    }
    /// Spin-loop hint between two checks of a slot (`Atomics.pause`).
    fn pause(&self) {
        core::hint::spin_loop();
    }
}

macro_rules! forward_shared_memory {
    () => {
        fn load(&self, slot: usize) -> i32 {
            (**self).load(slot)
        }
        fn store(&self, slot: usize, value: i32) {
            (**self).store(slot, value)
        }
        fn compare_exchange(&self, slot: usize, current: i32, new: i32) -> Result<i32, i32> {
            (**self).compare_exchange(slot, current, new)
        }
        fn wait(&self, slot: usize, expected: i32, timeout: Option<Duration>) -> WaitOutcome {
            (**self).wait(slot, expected, timeout)
        }
        fn notify(&self, slot: usize, count: u32) -> u32 {
            (**self).notify(slot, count)
        }
        fn read_bytes(&self, offset: usize, dst: &mut [u8]) {
            (**self).read_bytes(offset, dst)
        }
        fn write_bytes(&self, offset: usize, src: &[u8]) {
            (**self).write_bytes(offset, src)
        }
        fn byte_len(&self) -> usize {
            (**self).byte_len()
        }
        fn now(&self) -> Duration {
            (**self).now()
        }
        fn can_block(&self) -> bool {
            (**self).can_block()
        }
        fn pause(&self) {
            (**self).pause()
        }
    };
}

/// Both ends of a channel usually share one memory through a reference or
/// an `Arc`.
impl<T: SharedMemory + ?Sized> SharedMemory for &T {
    forward_shared_memory!();
}

impl<T: SharedMemory + ?Sized> SharedMemory for Arc<T> {
    forward_shared_memory!();
}
