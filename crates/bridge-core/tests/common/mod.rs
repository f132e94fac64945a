//! Native `SharedMemory` for tests and examples: a boxed slice of
//! `AtomicI32` with real futex waits (the `atomic-wait` crate), standing in
//! for a SharedArrayBuffer shared by OS threads instead of Workers.
//!
//! `atomic-wait` has no timed wait, so timed waits register a deadline with
//! one watchdog thread that wakes the slot (`wake_all`, a legal spurious
//! wake-up) once the deadline has passed, and keeps re-waking it every
//! millisecond until the waiter has left: a wake that lands just before the
//! waiter enters the futex is therefore never the last one.
#![allow(dead_code)]

use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bridge_core::shm::{SharedMemory, WaitOutcome};

/// A shared region of `AtomicI32` words, addressed as slots and as bytes.
pub struct NativeShm {
    words: Box<[AtomicI32]>,
    /// Threads inside `wait`: `notify` skips the syscall when there are none.
    waiters: AtomicU32,
    /// What `can_block()` answers (false simulates a browser main thread).
    can_block: bool,
}

impl NativeShm {
    /// A zeroed region of `bytes` bytes (rounded up to whole words).
    pub fn new(bytes: usize) -> Self {
        let words = (0..bytes.div_ceil(4)).map(|_| AtomicI32::new(0)).collect();
        NativeShm {
            words,
            waiters: AtomicU32::new(0),
            can_block: true,
        }
    }

    /// A shared region for one channel of `capacity` bytes per mailbox.
    pub fn channel(capacity: usize) -> Arc<Self> {
        Arc::new(Self::new(bridge_core::mailbox::channel_bytes(capacity)))
    }

    /// Same region, but `can_block()` is false (browser main thread).
    pub fn non_blocking(bytes: usize) -> Self {
        NativeShm {
            can_block: false,
            ..Self::new(bytes)
        }
    }

    fn futex(&self, slot: usize) -> &AtomicU32 {
        let word: &AtomicI32 = &self.words[slot];
        // SAFETY: AtomicI32 and AtomicU32 have the same size, alignment and
        // bit validity; the futex only compares and wakes on the 32 bits.
        unsafe { &*(word as *const AtomicI32 as *const AtomicU32) }
    }

    fn byte_ptr(&self) -> *mut u8 {
        // The words are UnsafeCells (AtomicI32), so writing through this
        // pointer derived from a shared reference is allowed.
        self.words.as_ptr() as *mut AtomicI32 as *mut u8
    }
}

fn clock_origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

impl SharedMemory for NativeShm {
    fn load(&self, slot: usize) -> i32 {
        self.words[slot].load(SeqCst)
    }

    fn store(&self, slot: usize, value: i32) {
        self.words[slot].store(value, SeqCst)
    }

    fn compare_exchange(&self, slot: usize, current: i32, new: i32) -> Result<i32, i32> {
        self.words[slot].compare_exchange(current, new, SeqCst, SeqCst)
    }

    fn wait(&self, slot: usize, expected: i32, timeout: Option<Duration>) -> WaitOutcome {
        assert!(
            self.can_block,
            "wait() on memory whose can_block() is false"
        );
        let futex = self.futex(slot);
        self.waiters.fetch_add(1, SeqCst);
        let outcome = if futex.load(SeqCst) != expected as u32 {
            WaitOutcome::NotEqual
        } else {
            match timeout {
                None => {
                    atomic_wait::wait(futex, expected as u32);
                    WaitOutcome::Woken
                }
                Some(t) => {
                    let deadline = Instant::now() + t;
                    let ticket = watchdog().register(futex as *const AtomicU32 as usize, deadline);
                    atomic_wait::wait(futex, expected as u32);
                    watchdog().unregister(ticket);
                    if Instant::now() >= deadline && futex.load(SeqCst) == expected as u32 {
                        WaitOutcome::TimedOut
                    } else {
                        WaitOutcome::Woken
                    }
                }
            }
        };
        self.waiters.fetch_sub(1, SeqCst);
        outcome
    }

    fn notify(&self, slot: usize, _count: u32) -> u32 {
        // The value was stored (SeqCst) before this load; a waiter that
        // registered after it sees the new value in the futex check.
        if self.waiters.load(SeqCst) > 0 {
            atomic_wait::wake_all(self.futex(slot));
        }
        0
    }

    fn read_bytes(&self, offset: usize, dst: &mut [u8]) {
        assert!(
            offset + dst.len() <= self.byte_len(),
            "read_bytes out of range"
        );
        // SAFETY: in range (checked above); the words live as long as self.
        // The mailbox protocol orders this copy after the producer's copy
        // through the SeqCst WRITTEN store/load, and no one writes these
        // bytes until our later READ store, so the plain copy does not race.
        unsafe {
            std::ptr::copy_nonoverlapping(self.byte_ptr().add(offset), dst.as_mut_ptr(), dst.len())
        }
    }

    fn write_bytes(&self, offset: usize, src: &[u8]) {
        assert!(
            offset + src.len() <= self.byte_len(),
            "write_bytes out of range"
        );
        // SAFETY: in range (checked above); AtomicI32 is an UnsafeCell so
        // writing through a shared reference is allowed. The producer writes
        // only while READ == WRITTEN, when the consumer does not read.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), self.byte_ptr().add(offset), src.len())
        }
    }

    fn byte_len(&self) -> usize {
        self.words.len() * 4
    }

    fn now(&self) -> Duration {
        clock_origin().elapsed()
    }

    fn can_block(&self) -> bool {
        self.can_block
    }
}

/// Wakes timed waiters whose deadline passed (see the module docs).
struct Watchdog {
    state: Mutex<DogState>,
    changed: Condvar,
    next_ticket: AtomicU64,
}

struct DogState {
    /// (ticket, futex address, deadline) of every timed waiter.
    entries: Vec<(u64, usize, Instant)>,
    /// When the watchdog will look next; None while it sleeps untimed.
    wakes_at: Option<Instant>,
}

fn watchdog() -> &'static Watchdog {
    static DOG: OnceLock<&'static Watchdog> = OnceLock::new();
    DOG.get_or_init(|| {
        let dog: &'static Watchdog = Box::leak(Box::new(Watchdog {
            state: Mutex::new(DogState {
                entries: Vec::new(),
                wakes_at: None,
            }),
            changed: Condvar::new(),
            next_ticket: AtomicU64::new(1),
        }));
        std::thread::Builder::new()
            .name("futex-watchdog".into())
            .spawn(move || dog.run())
            .expect("spawn the futex watchdog thread");
        dog
    })
}

impl Watchdog {
    fn register(&self, addr: usize, deadline: Instant) -> u64 {
        let ticket = self.next_ticket.fetch_add(1, SeqCst);
        let mut state = self.state.lock().unwrap();
        state.entries.push((ticket, addr, deadline));
        // Wake the watchdog only if it would look too late: parks are
        // frequent and most end by a notify long before their deadline.
        if !matches!(state.wakes_at, Some(at) if at <= deadline) {
            self.changed.notify_one();
        }
        ticket
    }

    fn unregister(&self, ticket: u64) {
        self.state.lock().unwrap().entries.retain(|e| e.0 != ticket);
    }

    fn run(&self) {
        let mut state = self.state.lock().unwrap();
        loop {
            let now = Instant::now();
            let mut next: Option<Instant> = None;
            for &(_, addr, deadline) in state.entries.iter() {
                let at = if deadline <= now {
                    // The pointer may dangle if the memory was freed; a
                    // futex wake on a dangling address is harmless.
                    atomic_wait::wake_all(addr as *const AtomicU32);
                    now + Duration::from_millis(1)
                } else {
                    deadline
                };
                next = Some(next.map_or(at, |n| n.min(at)));
            }
            state.wakes_at = next;
            state = match next {
                None => self.changed.wait(state).unwrap(),
                Some(at) => {
                    let wait = at.saturating_duration_since(now);
                    self.changed.wait_timeout(state, wait).unwrap().0
                }
            };
        }
    }
}

/// Allocates a channel region and returns it with the configuration used.
pub fn channel(config: &bridge_core::mailbox::Config) -> Arc<NativeShm> {
    let mem = NativeShm::channel(config.capacity);
    config.validate(mem.byte_len()).expect("valid test config");
    mem
}
