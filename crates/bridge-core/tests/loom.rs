//! Loom models of the mailbox handshake and the call layer: every
//! interleaving of one producer and one consumer (within loom's preemption
//! bound) delivers every message intact, with no lost wake-up and no stale
//! reply taken for a fresh one.
//!
//! Run: `RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test -p
//! bridge-core --test loom --release` (a separate target dir keeps the normal
//! build valid).
//!
//! How wait/notify is modelled: loom has no futex, so [`LoomShm`] keeps one
//! loom `Mutex` + `Condvar`. `wait` takes the mutex, returns `NotEqual` if
//! the slot changed, else sleeps on the condvar; `notify` takes the mutex
//! and wakes all. Because the waker stores the slot before it takes the
//! mutex and the waiter checks the slot under it, this is exactly a futex:
//! a wake-up is lost only if the protocol loses it, and then loom reports
//! the waiting thread as deadlocked. Waits longer than an hour (the park
//! slice the models configure) never time out. A shorter wait models "the
//! time-out passed": it advances the model's clock by the time-out, yields,
//! and returns `TimedOut`, so loom explores a reply arriving both before
//! and after the caller gives up.
//!
//! Byte copies go through loom `UnsafeCell`s, one per mailbox data area, so
//! loom also checks that the producer's copy and the consumer's copy are
//! ordered (never concurrent).
#![cfg(loom)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bridge_core::channel::{CallError, MainSide, WorkerSide};
use bridge_core::mailbox::{
    channel_bytes, slot, state, Config, Consumer, Deadline, Layout, Producer,
};
use bridge_core::message::{Op, Outcome};
use bridge_core::shm::{SharedMemory, WaitOutcome};
use bridge_core::value::{JsString, Value};
use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicI32};
use loom::sync::{Condvar, Mutex};
// A std Arc: bridge-core implements SharedMemory for it, and sharing the
// handle is not what the models check.
use loom::thread;
use std::sync::Arc;

const CAP: usize = 8;
const FOREVER: Duration = Duration::from_secs(3600);

struct LoomShm {
    words: Vec<AtomicI32>,
    /// Data areas of `to_main` and `to_worker`.
    data: [UnsafeCell<Vec<u8>>; 2],
    lock: Mutex<()>,
    cv: Condvar,
    /// Model time in milliseconds; only timed-out waits advance it.
    clock_ms: AtomicU64,
}

impl LoomShm {
    fn new() -> Self {
        LoomShm {
            words: (0..channel_bytes(CAP) / 4)
                .map(|_| AtomicI32::new(0))
                .collect(),
            data: [UnsafeCell::new(vec![0; CAP]), UnsafeCell::new(vec![0; CAP])],
            lock: Mutex::new(()),
            cv: Condvar::new(),
            clock_ms: AtomicU64::new(0),
        }
    }

    /// Which data area `offset..offset+len` lies in, and where in it.
    fn area(&self, offset: usize, len: usize) -> (usize, usize) {
        for (i, layout) in [Layout::to_main(CAP), Layout::to_worker(CAP)]
            .iter()
            .enumerate()
        {
            if offset >= layout.data() && offset + len <= layout.end() {
                return (i, offset - layout.data());
            }
        }
        panic!("byte copy at {offset}+{len} outside the data areas");
    }
}

impl SharedMemory for LoomShm {
    fn load(&self, slot: usize) -> i32 {
        self.words[slot].load(Ordering::SeqCst)
    }
    fn store(&self, slot: usize, value: i32) {
        self.words[slot].store(value, Ordering::SeqCst)
    }
    fn compare_exchange(&self, slot: usize, current: i32, new: i32) -> Result<i32, i32> {
        self.words[slot].compare_exchange(current, new, Ordering::SeqCst, Ordering::SeqCst)
    }
    fn wait(&self, slot: usize, expected: i32, timeout: Option<Duration>) -> WaitOutcome {
        match timeout {
            Some(t) if t < FOREVER => {
                let ms = t.as_millis().max(1) as u64;
                self.clock_ms.fetch_add(ms, Ordering::SeqCst);
                thread::yield_now();
                WaitOutcome::TimedOut
            }
            _ => {
                let guard = self.lock.lock().unwrap();
                if self.load(slot) != expected {
                    return WaitOutcome::NotEqual;
                }
                drop(self.cv.wait(guard).unwrap());
                WaitOutcome::Woken
            }
        }
    }
    fn notify(&self, _slot: usize, _count: u32) -> u32 {
        let _guard = self.lock.lock().unwrap();
        self.cv.notify_all();
        0
    }
    fn read_bytes(&self, offset: usize, dst: &mut [u8]) {
        let (i, at) = self.area(offset, dst.len());
        // SAFETY: loom's UnsafeCell checks that no write to this area runs
        // concurrently (it fails the model if one does); `at..at+len` is in
        // range (area() checked it).
        self.data[i].with(|p| dst.copy_from_slice(unsafe { &(&*p)[at..at + dst.len()] }));
    }
    fn write_bytes(&self, offset: usize, src: &[u8]) {
        let (i, at) = self.area(offset, src.len());
        // SAFETY: as in read_bytes, loom checks exclusivity of this access.
        self.data[i].with_mut(|p| unsafe { (&mut *p)[at..at + src.len()].copy_from_slice(src) });
    }
    fn byte_len(&self) -> usize {
        channel_bytes(CAP)
    }
    fn now(&self) -> Duration {
        Duration::from_millis(self.clock_ms.load(Ordering::SeqCst))
    }
    fn pause(&self) {
        thread::yield_now();
    }
}

fn config(spin: u32) -> Config {
    Config {
        capacity: CAP,
        max_message: 64,
        spin,
        park_slice: FOREVER * 2,
    }
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// Three messages, one of them two frames, one empty: all arrive intact and
/// in order, whatever the interleaving, and neither side sleeps forever.
#[test]
fn frames_handshake_no_lost_wakeup() {
    model(|| {
        let mem = Arc::new(LoomShm::new());
        let cfg = config(0);
        let layout = Layout::to_worker(CAP);
        let mut tx = Producer::new(mem.clone(), layout, &cfg);
        let mut rx = Consumer::new(mem.clone(), layout, &cfg);
        let producer = thread::spawn(move || {
            tx.send(b"a", Deadline::NEVER).unwrap();
            tx.send(b"0123456789abc", Deadline::NEVER).unwrap();
            tx.send(b"", Deadline::NEVER).unwrap();
        });
        assert_eq!(rx.recv(Deadline::NEVER).unwrap(), b"a");
        assert_eq!(rx.recv(Deadline::NEVER).unwrap(), b"0123456789abc");
        assert_eq!(rx.recv(Deadline::NEVER).unwrap(), b"");
        producer.join().unwrap();
    });
}

/// The same with a spin phase before parking.
#[test]
fn frames_handshake_with_spinning() {
    model(|| {
        let mem = Arc::new(LoomShm::new());
        let cfg = config(1);
        let layout = Layout::to_main(CAP);
        let mut tx = Producer::new(mem.clone(), layout, &cfg);
        let mut rx = Consumer::new(mem.clone(), layout, &cfg);
        let producer = thread::spawn(move || {
            tx.send(b"0123456789", Deadline::NEVER).unwrap();
            tx.send(b"z", Deadline::NEVER).unwrap();
        });
        assert_eq!(rx.recv(Deadline::NEVER).unwrap(), b"0123456789");
        assert_eq!(rx.recv(Deadline::NEVER).unwrap(), b"z");
        producer.join().unwrap();
    });
}

/// The wait-state handshake (slot `STATE`): a producer skips the notify
/// while the consumer says it polls, and the consumer clears that
/// (`wait_target`) before it parks, as the JS page's spin does before its
/// `Atomics.waitAsync`. No frame written in between is missed: without the
/// clearing store in `wait_target`, loom finds the consumer asleep forever.
#[test]
fn notify_skipped_only_while_the_consumer_polls() {
    model(|| {
        let mem = Arc::new(LoomShm::new());
        let cfg = config(0);
        let layout = Layout::to_worker(CAP);
        let mut tx = Producer::new(mem.clone(), layout, &cfg);
        let mut rx = Consumer::new(mem.clone(), layout, &cfg);
        let producer = thread::spawn(move || {
            tx.send(b"a", Deadline::NEVER).unwrap();
            tx.send(b"0123456789", Deadline::NEVER).unwrap();
        });
        let polling = state::AWAKE | state::POLLING | state::SPINNING;
        let mut got = Vec::new();
        while got.len() < 2 {
            // An RMW, as bridge-core writes STATE (mailbox.rs, set_state).
            let st = layout.slot(slot::STATE);
            while mem.compare_exchange(st, mem.load(st), polling).is_err() {}
            if let Some(m) = rx.try_recv().unwrap() {
                got.push(m);
                continue;
            }
            let (s, v) = rx.wait_target();
            mem.wait(s, v, None);
        }
        assert_eq!(got, [b"a".to_vec(), b"0123456789".to_vec()]);
        producer.join().unwrap();
    });
}

fn call_op(x: i32) -> Op {
    Op::Call {
        name: JsString::from("f"),
        args: vec![Value::Int(x)],
    }
}

/// A worker's first call may time out (loom explores the reply arriving
/// before and after the time-out, and the time-out hitting while the
/// two-frame request is still being written, which sends an `ABORT`); its
/// second call must get its own reply, never the late reply of the first.
#[test]
fn late_reply_is_never_taken_for_a_fresh_one() {
    model(|| {
        let mem = Arc::new(LoomShm::new());
        let cfg = config(0);
        let mut worker = WorkerSide::new(mem.clone(), &cfg).unwrap();
        let mut main = MainSide::new(mem.clone(), &cfg).unwrap();
        let answered_first = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicBool::new(false));
        let (answered, finished) = (answered_first.clone(), done.clone());
        let w = thread::spawn(move || {
            let first = worker.call(0, call_op(1), Some(Duration::from_millis(10)));
            let second = worker.call(0, call_op(2), None).unwrap();
            assert_eq!(
                second,
                Outcome::Ok(Value::Int(102)),
                "the second call got a stale reply"
            );
            // Main answers in order, so its answer to the first request (if
            // the request got through whole) was written before the second.
            let late = answered.load(Ordering::SeqCst);
            let stats = worker.stats();
            match first {
                Ok(outcome) => {
                    assert_eq!(outcome, Outcome::Ok(Value::Int(101)));
                    assert!(late, "a reply without a request");
                    assert_eq!(stats.late_replies_dropped, 0, "{stats:?}");
                }
                Err(CallError::Timeout) => {
                    assert_eq!(stats.late_replies_dropped, u64::from(late), "{stats:?}");
                }
                Err(e) => panic!("unexpected error {e}"),
            }
            finished.store(true, Ordering::SeqCst);
        });
        loop {
            main.poll(|req| {
                let Op::Call { args, .. } = &req.op else {
                    panic!("unexpected op")
                };
                let Value::Int(x) = args[0] else {
                    panic!("unexpected arg")
                };
                if x == 1 {
                    answered_first.store(true, Ordering::SeqCst);
                }
                Some(Outcome::Ok(Value::Int(100 + x)))
            })
            .unwrap();
            if done.load(Ordering::SeqCst) {
                break;
            }
            thread::yield_now();
        }
        w.join().unwrap();
    });
}
