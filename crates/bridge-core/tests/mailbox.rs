//! The frame protocol of docs/protocol.md §4 over real atomics and futexes.

mod common;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bridge_core::mailbox::{
    channel_bytes, close_channel, flag, slot, Config, ConfigError, Consumer, Deadline, Layout,
    OutgoingMessage, Producer, Progress, RecvError, SendError, TryRecvError, HEADER_BYTES,
};
use bridge_core::shm::SharedMemory;
use common::NativeShm;

fn config(capacity: usize, max_message: usize) -> Config {
    Config {
        capacity,
        max_message,
        ..Config::default()
    }
}

/// A producer on `to_worker` and a consumer on it, sharing one region.
fn pair(
    cfg: &Config,
) -> (
    Arc<NativeShm>,
    Producer<Arc<NativeShm>>,
    Consumer<Arc<NativeShm>>,
) {
    let mem = common::channel(cfg);
    let layout = Layout::to_worker(cfg.capacity);
    (
        mem.clone(),
        Producer::new(mem.clone(), layout, cfg),
        Consumer::new(mem, layout, cfg),
    )
}

/// Bytes whose value depends on the position, so a misplaced chunk shows.
fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + i / 251) as u8) ^ salt)
        .collect()
}

fn after(mem: &Arc<NativeShm>, ms: u64) -> Deadline {
    Deadline::after(&**mem, Some(Duration::from_millis(ms)))
}

fn written(mem: &NativeShm, layout: Layout) -> i32 {
    mem.load(layout.slot(slot::WRITTEN))
}

#[test]
fn layout_matches_protocol() {
    assert_eq!(HEADER_BYTES, 32);
    assert_eq!(channel_bytes(64), 2 * (32 + 64));
    let to_main = Layout::to_main(64);
    let to_worker = Layout::to_worker(64);
    assert_eq!((to_main.offset, to_main.data(), to_main.end()), (0, 32, 96));
    assert_eq!(
        (to_worker.offset, to_worker.data(), to_worker.end()),
        (96, 128, 192)
    );
    assert_eq!(to_worker.slot(slot::CLOSED), 96 / 4 + 5);
}

#[test]
fn config_is_validated() {
    let bad = Config {
        capacity: 12,
        ..Config::default()
    };
    assert_eq!(bad.validate(1 << 30), Err(ConfigError::Capacity(12)));
    let zero = Config {
        capacity: 0,
        ..Config::default()
    };
    assert_eq!(zero.validate(1 << 30), Err(ConfigError::Capacity(0)));
    let big = Config {
        max_message: 1 << 31,
        ..Config::default()
    };
    assert_eq!(big.validate(1 << 30), Err(ConfigError::MaxMessage(1 << 31)));
    let ok = config(64, 1024);
    assert_eq!(ok.validate(channel_bytes(64)), Ok(()));
    let err = ok.validate(channel_bytes(64) - 1).unwrap_err();
    assert!(err.to_string().contains("channel_bytes"), "{err}");
}

#[test]
fn zero_byte_message_is_one_frame_and_distinct_from_nothing() {
    let cfg = config(64, 1024);
    let (mem, mut tx, mut rx) = pair(&cfg);
    let layout = Layout::to_worker(64);
    assert_eq!(rx.try_recv(), Ok(None), "nothing sent yet");
    tx.send(&[], Deadline::NEVER).unwrap();
    assert_eq!(written(&mem, layout), 1);
    assert_eq!(mem.load(layout.slot(slot::FLAGS)), flag::FIRST | flag::LAST);
    assert_eq!(mem.load(layout.slot(slot::FRAME_LEN)), 0);
    assert_eq!(rx.try_recv(), Ok(Some(vec![])));
    assert_eq!(rx.try_recv(), Ok(None), "the empty message is taken once");
    assert_eq!(mem.load(layout.slot(slot::READ)), 1);
}

#[test]
fn message_of_exactly_capacity_is_one_frame() {
    let cfg = config(64, 1024);
    let (mem, mut tx, mut rx) = pair(&cfg);
    let msg = pattern(64, 1);
    // One frame fits without a consumer: send returns at once.
    tx.send(&msg, after(&mem, 1000)).unwrap();
    assert_eq!(written(&mem, Layout::to_worker(64)), 1);
    assert_eq!(rx.try_recv(), Ok(Some(msg)));
}

#[test]
fn message_of_capacity_plus_one_is_two_frames() {
    let cfg = config(64, 1024);
    let (mem, mut tx, mut rx) = pair(&cfg);
    let msg = pattern(65, 2);
    let sent = msg.clone();
    let producer = thread::spawn(move || {
        tx.send(&sent, Deadline::NEVER).unwrap();
        tx
    });
    let got = rx.recv(after(&mem, 5000)).unwrap();
    producer.join().unwrap();
    assert_eq!(got, msg);
    assert_eq!(written(&mem, Layout::to_worker(64)), 2);
}

#[test]
fn big_messages_cross_chunk_boundaries() {
    let cfg = config(64 * 1024, 16 << 20);
    let (mem, tx, mut rx) = pair(&cfg);
    let sizes = [
        8 << 20,
        (8 << 20) + 1,
        (8 << 20) - 1,
        64 * 1024 * 3 + 7,
        1,
        0,
    ];
    let producer = thread::spawn(move || {
        let mut tx = tx;
        for (i, &n) in sizes.iter().enumerate() {
            tx.send(&pattern(n, i as u8), Deadline::NEVER).unwrap();
        }
    });
    for (i, &n) in sizes.iter().enumerate() {
        let got = rx.recv(after(&mem, 20_000)).unwrap();
        assert_eq!(got.len(), n, "message {i}");
        assert!(
            got == pattern(n, i as u8),
            "message {i} of {n} bytes is corrupted"
        );
    }
    producer.join().unwrap();
}

#[test]
fn producer_refuses_too_large_before_writing() {
    let cfg = config(64, 100);
    let (mem, mut tx, mut rx) = pair(&cfg);
    let err = tx.send(&[7; 101], Deadline::NEVER).unwrap_err();
    assert_eq!(err, SendError::TooLarge { len: 101, max: 100 });
    assert!(err.to_string().contains("raise max_message"), "{err}");
    assert_eq!(written(&mem, Layout::to_worker(64)), 0, "nothing written");
    assert!(matches!(
        tx.start(vec![0; 101]),
        Err(SendError::TooLarge { len: 101, max: 100 })
    ));
    // 2 frames and nobody reads: gives up after the first.
    assert_eq!(tx.send(&[7; 100], after(&mem, 20)), Err(SendError::Timeout));
    // The consumer sees only the accepted message's first frame.
    assert_eq!(rx.try_recv(), Ok(None));
    assert!(rx.in_message());
}

#[test]
fn consumer_refuses_too_large_discards_to_last_and_recovers() {
    let big = config(64, 10_000);
    let small = config(64, 100);
    let mem = common::channel(&big);
    let layout = Layout::to_worker(64);
    let mut tx = Producer::new(mem.clone(), layout, &big);
    let mut rx = Consumer::new(mem.clone(), layout, &small);
    let producer = thread::spawn(move || {
        tx.send(&pattern(1000, 3), Deadline::NEVER).unwrap(); // 16 frames
        tx.send(b"after", Deadline::NEVER).unwrap();
    });
    let err = rx.recv(after(&mem, 5000)).unwrap_err();
    assert_eq!(
        err,
        RecvError::TooLarge {
            len: 1000,
            max: 100
        }
    );
    assert!(err.to_string().contains("raise max_message"), "{err}");
    assert!(
        !rx.in_message(),
        "all frames of the refused message were discarded"
    );
    assert_eq!(rx.recv(after(&mem, 5000)).unwrap(), b"after");
    producer.join().unwrap();
    assert_eq!(written(&mem, layout), 17);
}

#[test]
fn producer_timeout_mid_message_sends_abort_and_next_message_is_clean() {
    let cfg = config(64, 10_000);
    let (mem, mut tx, mut rx) = pair(&cfg);
    // Three frames; nobody reads, so the producer gives up after the first.
    assert_eq!(
        tx.send(&pattern(150, 4), after(&mem, 30)),
        Err(SendError::Timeout)
    );
    assert_eq!(rx.try_recv(), Ok(None));
    assert!(rx.in_message(), "the first frame is in");
    let producer = thread::spawn(move || {
        tx.send(b"fresh", Deadline::NEVER).unwrap();
        tx
    });
    assert_eq!(rx.recv(after(&mem, 5000)).unwrap(), b"fresh");
    producer.join().unwrap();
    // frame 1, ABORT, "fresh"
    assert_eq!(written(&mem, Layout::to_worker(64)), 3);
}

/// Writes one frame by hand, as another implementation would; the slot must be free.
fn write_frame(mem: &NativeShm, layout: Layout, data: &[u8], msg_len: i32, flags: i32) {
    let w = mem.load(layout.slot(slot::WRITTEN));
    assert_eq!(mem.load(layout.slot(slot::READ)), w);
    mem.write_bytes(layout.data(), data);
    mem.store(layout.slot(slot::FRAME_LEN), data.len() as i32);
    mem.store(layout.slot(slot::MSG_LEN), msg_len);
    mem.store(layout.slot(slot::FLAGS), flags);
    mem.store(layout.slot(slot::WRITTEN), w + 1);
}

#[test]
fn abort_frame_drops_partial_message() {
    let cfg = config(8, 1000);
    let mem = common::channel(&cfg);
    let layout = Layout::to_worker(8);
    let mut rx = Consumer::new(mem.clone(), layout, &cfg);
    // Hand-written frames, as another implementation would write them.
    let frame =
        |data: &[u8], msg_len: i32, flags: i32| write_frame(&mem, layout, data, msg_len, flags);
    frame(b"partial!", 16, flag::FIRST);
    assert_eq!(rx.try_recv(), Ok(None));
    frame(b"", 0, flag::ABORT);
    assert_eq!(rx.try_recv(), Ok(None));
    assert!(!rx.in_message());
    frame(b"ok", 2, flag::FIRST | flag::LAST);
    assert_eq!(rx.try_recv(), Ok(Some(b"ok".to_vec())));
}

#[test]
fn declared_length_is_not_reserved_up_front() {
    // One byte that declares a 255 MiB message (allowed by max_message)
    // must reserve about one byte, not 255 MiB: the buffer grows with the
    // bytes that arrive (docs/protocol.md §4).
    let cfg = config(64, 256 << 20);
    let mem = common::channel(&cfg);
    let layout = Layout::to_worker(64);
    let mut rx = Consumer::new(mem.clone(), layout, &cfg);
    let frame =
        |data: &[u8], msg_len: i32, flags: i32| write_frame(&mem, layout, data, msg_len, flags);
    frame(b"x", 255 << 20, flag::FIRST);
    assert_eq!(rx.try_recv(), Ok(None));
    assert!(rx.in_message());
    let reserved = rx.assembly_capacity();
    assert!((1..=64).contains(&reserved), "reserved {reserved} bytes");
    // An honest multi-frame message still arrives whole, its buffer
    // exactly its length at the end.
    frame(b"", 0, flag::ABORT);
    let mut tx = Producer::new(mem.clone(), layout, &cfg);
    let big = pattern(1000, 7);
    let sender = {
        let big = big.clone();
        thread::spawn(move || tx.send(&big, Deadline::NEVER).unwrap())
    };
    let got = rx.recv(Deadline::NEVER).unwrap();
    sender.join().unwrap();
    assert_eq!(got, big);
    assert_eq!(got.capacity(), big.len());
}

#[test]
fn corrupt_headers_are_errors_not_panics() {
    let cfg = config(8, 1000);
    let mem = common::channel(&cfg);
    let layout = Layout::to_worker(8);
    let mut rx = Consumer::new(mem.clone(), layout, &cfg);
    let raw = |frame_len: i32, msg_len: i32, flags: i32| {
        let w = mem.load(layout.slot(slot::WRITTEN));
        mem.store(layout.slot(slot::FRAME_LEN), frame_len);
        mem.store(layout.slot(slot::MSG_LEN), msg_len);
        mem.store(layout.slot(slot::FLAGS), flags);
        mem.store(layout.slot(slot::WRITTEN), w + 1);
    };
    raw(9, 9, flag::FIRST | flag::LAST);
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Corrupt(_))));
    raw(4, 4, flag::LAST);
    let err = rx.try_recv().unwrap_err();
    assert!(
        err.to_string()
            .contains("same worker-bridge protocol version"),
        "{err}"
    );
    raw(8, 4, flag::FIRST);
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Corrupt(_))));
    raw(-1, 4, flag::FIRST);
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Corrupt(_))));
    raw(4, 8, flag::FIRST | flag::LAST);
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Corrupt(_))));
    // Still usable.
    let mut tx = Producer::new(mem.clone(), layout, &cfg);
    tx.send(b"good", Deadline::NEVER).unwrap();
    assert_eq!(rx.try_recv(), Ok(Some(b"good".to_vec())));
}

#[test]
fn close_wakes_a_parked_consumer_and_producer() {
    // A park slice far longer than the test: the wake must come from the
    // close's notify, not from a slice running out.
    let cfg = Config {
        park_slice: Duration::from_secs(30),
        ..config(64, 1000)
    };
    let mem = common::channel(&cfg);
    let mut rx = Consumer::new(mem.clone(), Layout::to_worker(64), &cfg);
    let mut tx = Producer::new(mem.clone(), Layout::to_main(64), &cfg);
    tx.send(b"fills the slot", Deadline::NEVER).unwrap();
    let consumer = thread::spawn(move || {
        let t = Instant::now();
        (rx.recv(Deadline::NEVER), t.elapsed())
    });
    let producer = thread::spawn(move || {
        let t = Instant::now();
        (tx.send(b"waits for the slot", Deadline::NEVER), t.elapsed())
    });
    thread::sleep(Duration::from_millis(200));
    close_channel(&*mem, 64);
    let (r, rt) = consumer.join().unwrap();
    let (s, st) = producer.join().unwrap();
    assert_eq!(r, Err(RecvError::Closed));
    assert_eq!(s, Err(SendError::Closed));
    assert!(
        rt < Duration::from_secs(5) && st < Duration::from_secs(5),
        "{rt:?} {st:?}"
    );
    let err = RecvError::Closed.to_string();
    assert!(err.contains("create a new bridge"), "{err}");
}

#[test]
fn pending_frames_are_delivered_before_closed() {
    let cfg = config(64, 1000);
    let (mem, mut tx, mut rx) = pair(&cfg);
    tx.send(b"last words", Deadline::NEVER).unwrap();
    close_channel(&*mem, 64);
    assert_eq!(tx.send(b"more", Deadline::NEVER), Err(SendError::Closed));
    assert_eq!(rx.try_recv(), Ok(Some(b"last words".to_vec())));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert!(rx.is_closed());
}

#[test]
fn recv_timeout_keeps_partial_message_and_mailbox_usable() {
    let cfg = config(8, 1000);
    let (mem, tx, mut rx) = pair(&cfg);
    let t = Instant::now();
    assert_eq!(rx.recv(after(&mem, 40)), Err(RecvError::Timeout));
    let waited = t.elapsed();
    assert!(
        waited >= Duration::from_millis(40) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    // A producer that pauses in the middle of a 3-frame message: frames
    // are written by hand so the pause is exactly before the last one.
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let mem2 = mem.clone();
    let msg = pattern(20, 5);
    let producer = thread::spawn(move || {
        let layout = Layout::to_worker(8);
        let frame = |data: &[u8], flags: i32| {
            let w = mem2.load(layout.slot(slot::WRITTEN));
            while mem2.load(layout.slot(slot::READ)) != w {
                thread::yield_now();
            }
            mem2.write_bytes(layout.data(), data);
            mem2.store(layout.slot(slot::FRAME_LEN), data.len() as i32);
            mem2.store(layout.slot(slot::MSG_LEN), 20);
            mem2.store(layout.slot(slot::FLAGS), flags);
            mem2.store(layout.slot(slot::WRITTEN), w + 1);
            mem2.notify(layout.slot(slot::WRITTEN), u32::MAX);
        };
        frame(&msg[..8], flag::FIRST);
        frame(&msg[8..16], 0);
        go_rx.recv().unwrap();
        frame(&msg[16..], flag::LAST);
        let mut tx = tx;
        tx.send(b"next", Deadline::NEVER).unwrap();
    });
    // The consumer takes a frame or two, then times out mid-message.
    assert_eq!(rx.recv(after(&mem, 100)), Err(RecvError::Timeout));
    assert!(rx.in_message());
    go_tx.send(()).unwrap();
    assert_eq!(rx.recv(after(&mem, 5000)).unwrap(), pattern(20, 5));
    assert_eq!(rx.recv(after(&mem, 5000)).unwrap(), b"next");
    producer.join().unwrap();
}

#[test]
fn non_blocking_writer_never_blocks_and_resumes() {
    let cfg = config(8, 1000);
    let mem = Arc::new(NativeShm::non_blocking(channel_bytes(8)));
    let layout = Layout::to_worker(8);
    let mut tx = Producer::new(mem.clone(), layout, &cfg);
    let mut rx = Consumer::new(mem.clone(), layout, &cfg);
    assert_eq!(tx.send(b"x", Deadline::NEVER), Err(SendError::WouldBlock));
    assert_eq!(rx.recv(Deadline::NEVER), Err(RecvError::WouldBlock));
    let msg = pattern(30, 6); // 4 frames
    let mut out: OutgoingMessage<_> = tx.start(msg.clone()).unwrap();
    assert_eq!(out.len(), 30);
    let mut polls = 0;
    let got = loop {
        let progress = out.poll_write().unwrap();
        polls += 1;
        let (s, v) = out.wait_target();
        assert_eq!(s, layout.slot(slot::READ));
        if let Some(m) = rx.try_recv().unwrap() {
            assert_eq!(progress, Progress::Done);
            break m;
        }
        assert_eq!(progress, Progress::WaitingForSlot, "poll {polls}");
        assert_ne!(mem.load(s), v, "the consumer freed the slot");
    };
    assert_eq!(got, msg);
    assert_eq!(polls, 4);
    assert_eq!(out.poll_write(), Ok(Progress::Done));
}

#[test]
fn counters_wrap_without_confusing_messages() {
    let cfg = config(16, 1000);
    let (mem, tx, mut rx) = pair(&cfg);
    let layout = Layout::to_worker(16);
    // Start both counters just below the wrap.
    mem.store(layout.slot(slot::WRITTEN), i32::MAX - 3);
    mem.store(layout.slot(slot::READ), i32::MAX - 3);
    let producer = thread::spawn(move || {
        let mut tx = tx;
        for i in 0..50u32 {
            let n = (i as usize * 7) % 40;
            let mut msg = i.to_le_bytes().to_vec();
            msg.extend(pattern(n, i as u8));
            tx.send(&msg, Deadline::NEVER).unwrap();
        }
    });
    for i in 0..50u32 {
        let got = rx.recv(after(&mem, 5000)).unwrap();
        assert_eq!(got[..4], i.to_le_bytes(), "message {i} out of order");
        assert!(
            got[4..] == pattern((i as usize * 7) % 40, i as u8),
            "message {i}"
        );
    }
    producer.join().unwrap();
    assert!(written(&mem, layout) < 0, "WRITTEN wrapped past i32::MAX");
}

// ---- the call layer (channel.rs) over the same mailboxes ----

use bridge_core::channel::{CallError, MainSide, SeqCounter, WorkerSide};
use bridge_core::message::{Op, Outcome, Request};
use bridge_core::value::{JsString, Value};
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

fn op(name: &str, args: Vec<Value>) -> Op {
    Op::Call {
        name: JsString::from(name),
        args,
    }
}

/// Runs a main thread that answers with `handler` until stopped.
fn spawn_main(
    mem: Arc<NativeShm>,
    cfg: Config,
    mut handler: impl FnMut(&Request) -> Option<Outcome> + Send + 'static,
) -> (
    Arc<AtomicBool>,
    thread::JoinHandle<MainSide<Arc<NativeShm>>>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let h = thread::spawn(move || {
        let mut main = MainSide::new(mem, &cfg).unwrap();
        while !flag.load(SeqCst) {
            match main.poll(|req| handler(&req)) {
                Ok(_) | Err(CallError::IncomingTooLarge { .. }) => {}
                Err(e) => panic!("main: {e}"),
            }
            thread::yield_now();
        }
        main
    });
    (stop, h)
}

#[test]
fn seq_numbers_wrap_and_skip_zero() {
    let mut seq = SeqCounter::after(u32::MAX - 1);
    assert_eq!(seq.peek(), u32::MAX);
    assert_eq!(seq.next(), u32::MAX);
    assert_eq!(seq.next(), 1, "0 is never a seq");
    assert_eq!(seq.next(), 2);
    assert_eq!(SeqCounter::default().next(), 1);
}

#[test]
fn late_reply_is_dropped_and_next_calls_get_their_own() {
    let cfg = config(1024, 1 << 20);
    let mem = common::channel(&cfg);
    let mut worker = WorkerSide::new(mem.clone(), &cfg).unwrap();
    // Main answers "slow" 500 ms late (by sleeping in the handler: far
    // beyond the 20 ms time-out even on a loaded machine) and
    // every other call with its argument + 1.
    let (stop, main) = spawn_main(mem, cfg, |req| {
        let Op::Call { name, args } = &req.op else {
            panic!("unexpected op")
        };
        if name.to_string_lossy() == "slow" {
            thread::sleep(Duration::from_millis(500));
        }
        let Value::Int(x) = args[0] else {
            panic!("unexpected arg")
        };
        Some(Outcome::Ok(Value::Int(x + 1)))
    });
    let t = Some(Duration::from_millis(20));
    let started = Instant::now();
    let r = worker.call(0, op("slow", vec![Value::Int(0)]), t);
    let err = r.expect_err(&format!("slow() answered after {:?}", started.elapsed()));
    assert!(matches!(err, CallError::Timeout), "{err}");
    assert!(err.to_string().contains("channel stays usable"), "{err}");
    for i in 1..=1000 {
        let r = worker.call(
            0,
            op("f", vec![Value::Int(i)]),
            Some(Duration::from_secs(10)),
        );
        assert_eq!(r.unwrap(), Outcome::Ok(Value::Int(i + 1)), "call {i}");
    }
    let stats = worker.stats();
    assert_eq!(
        (stats.late_replies_dropped, stats.cancels_sent, stats.calls),
        (1, 1, 1001)
    );
    stop.store(true, SeqCst);
    main.join().unwrap();
}

#[test]
fn call_too_large_fails_before_sending_and_channel_stays_usable() {
    let cfg = config(1024, 4096);
    let mem = common::channel(&cfg);
    let mut worker = WorkerSide::new(mem.clone(), &cfg).unwrap();
    let (stop, main) = spawn_main(mem.clone(), cfg, |req| {
        let Op::Call { args, .. } = &req.op else {
            panic!("unexpected op")
        };
        Some(Outcome::Ok(args[0].clone()))
    });
    let t = Some(Duration::from_secs(10));
    let err = worker
        .call(0, op("echo", vec![Value::ArrayBuffer(vec![1; 5000])]), t)
        .unwrap_err();
    assert!(
        matches!(err, CallError::OutgoingTooLarge { max: 4096, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("raise max_message"), "{err}");
    assert_eq!(written(&mem, Layout::to_main(1024)), 0, "nothing was sent");
    let small = Value::ArrayBuffer(vec![2; 3000]);
    assert_eq!(
        worker.call(0, op("echo", vec![small.clone()]), t).unwrap(),
        Outcome::Ok(small)
    );
    stop.store(true, SeqCst);
    main.join().unwrap();
}

#[test]
fn reply_too_large_for_main_becomes_a_thrown_error() {
    let cfg = config(1024, 4096);
    let mem = common::channel(&cfg);
    let mut worker = WorkerSide::new(mem.clone(), &cfg).unwrap();
    let (stop, main) = spawn_main(mem, cfg, |_| {
        Some(Outcome::Ok(Value::ArrayBuffer(vec![0; 10_000])))
    });
    let r = worker
        .call(0, op("big", vec![]), Some(Duration::from_secs(10)))
        .unwrap();
    let Outcome::Thrown(Value::Error(e)) = r else {
        panic!("expected a thrown error, got {r:?}")
    };
    assert_eq!(e.name.to_string(), "RangeError");
    assert!(
        e.message.to_string().contains("raise max_message"),
        "{}",
        e.message
    );
    stop.store(true, SeqCst);
    main.join().unwrap();
}

#[test]
fn reply_too_large_for_worker_fails_the_call_then_recovers() {
    let main_cfg = config(1024, 1 << 20);
    let worker_cfg = config(1024, 4096);
    let mem = common::channel(&main_cfg);
    let mut worker = WorkerSide::new(mem.clone(), &worker_cfg).unwrap();
    let (stop, main) = spawn_main(mem, main_cfg, |req| {
        let Op::Call { args, .. } = &req.op else {
            panic!("unexpected op")
        };
        let Value::Int(n) = args[0] else {
            panic!("unexpected arg")
        };
        Some(Outcome::Ok(Value::ArrayBuffer(vec![9; n as usize])))
    });
    let t = Some(Duration::from_secs(10));
    let err = worker
        .call(0, op("make", vec![Value::Int(10_000)]), t)
        .unwrap_err();
    assert!(
        matches!(err, CallError::IncomingTooLarge { max: 4096, .. }),
        "{err}"
    );
    let r = worker
        .call(0, op("make", vec![Value::Int(100)]), t)
        .unwrap();
    assert_eq!(r, Outcome::Ok(Value::ArrayBuffer(vec![9; 100])));
    stop.store(true, SeqCst);
    main.join().unwrap();
}

#[test]
fn close_fails_a_blocked_call_with_closed() {
    let cfg = Config {
        park_slice: Duration::from_secs(30),
        ..config(1024, 4096)
    };
    let mem = common::channel(&cfg);
    let mut worker = WorkerSide::new(mem.clone(), &cfg).unwrap();
    let main = MainSide::new(mem.clone(), &cfg).unwrap();
    let blocked = thread::spawn(move || {
        let t = Instant::now();
        (worker.call(0, op("never", vec![]), None), t.elapsed())
    });
    thread::sleep(Duration::from_millis(100));
    main.close();
    let (r, waited) = blocked.join().unwrap();
    assert!(matches!(r, Err(CallError::Closed)), "{r:?}");
    assert!(
        waited < Duration::from_secs(5),
        "woken by the close, not a slice: {waited:?}"
    );
}

/// worker calls main `outer(n)`; main serves it by calling the blocked
/// worker's `inner(n)` nested into it; the worker's `inner` handler calls
/// main's `leaf(n)` before it answers. Replies unwind in order.
#[test]
fn nested_request_whose_handler_calls_main_again() {
    use bridge_core::channel::MainEvent;
    let cfg = config(1024, 1 << 20);
    let mem = common::channel(&cfg);
    let mut worker = WorkerSide::new(mem.clone(), &cfg).unwrap();
    worker.set_handler(|req, side| {
        let Op::Call { args, .. } = &req.op else {
            panic!("unexpected op")
        };
        assert_ne!(req.nested_in, 0);
        let leaf = side.call(0, op("leaf", args.clone()), Some(Duration::from_secs(10)));
        let Ok(Outcome::Ok(Value::Int(x))) = leaf else {
            panic!("leaf failed: {leaf:?}")
        };
        Outcome::Ok(Value::Int(x * 10))
    });
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let main = thread::spawn(move || {
        let mut main = MainSide::new(mem, &cfg).unwrap();
        // our nested call's seq -> the worker's outer request
        let mut outer_of = std::collections::HashMap::new();
        while !flag.load(SeqCst) {
            let mut outers = Vec::new();
            let events = main
                .poll(|req| {
                    let Op::Call { name, args } = &req.op else {
                        panic!("unexpected op")
                    };
                    let Value::Int(n) = args[0] else {
                        panic!("unexpected arg")
                    };
                    match name.to_string_lossy().as_str() {
                        "outer" => {
                            outers.push((req.seq, n));
                            None
                        }
                        "leaf" => Some(Outcome::Ok(Value::Int(n + 1))),
                        other => panic!("unexpected call {other}"),
                    }
                })
                .unwrap();
            for (seq, n) in outers {
                // The machine nests it into the deferred request.
                let s = main
                    .start_call(0, op("inner", vec![Value::Int(n)]), "proxy.inner()", None)
                    .unwrap();
                assert_eq!(s.nested_in, seq);
                outer_of.insert(s.seq, seq);
            }
            for event in events {
                let MainEvent::Reply { seq, outcome } = event else {
                    panic!("{event:?}")
                };
                let Outcome::Ok(Value::Int(x)) = outcome else {
                    panic!("{outcome:?}")
                };
                main.reply(
                    outer_of.remove(&seq).unwrap(),
                    Outcome::Ok(Value::Int(x + 2)),
                )
                .unwrap();
            }
            thread::yield_now();
        }
    });
    for n in [1, 5, 100] {
        let r = worker.call(
            0,
            op("outer", vec![Value::Int(n)]),
            Some(Duration::from_secs(10)),
        );
        assert_eq!(
            r.unwrap(),
            Outcome::Ok(Value::Int((n + 1) * 10 + 2)),
            "outer({n})"
        );
    }
    let stats = worker.stats();
    assert_eq!(
        (stats.calls, stats.served, stats.late_replies_dropped),
        (6, 3, 0)
    );
    stop.store(true, SeqCst);
    main.join().unwrap();
}

/// The main thread answers the worker's outer call while the worker is
/// blocked in an inner call (made by the handler of a request nested into
/// the outer one): the outer reply arrives first. It belongs to the outer
/// frame and must be returned there once the inner call unwinds, not
/// dropped as late (which left the outer call waiting until its time-out).
#[test]
fn reply_to_an_outer_call_that_comes_first_is_kept_for_it() {
    use bridge_core::channel::MainEvent;
    let cfg = config(1024, 1 << 20);
    let mem = common::channel(&cfg);
    let mut worker = WorkerSide::new(mem.clone(), &cfg).unwrap();
    worker.set_handler(|req, side| {
        assert_ne!(req.nested_in, 0, "inner is nested into outer");
        let leaf = side.call(0, op("leaf", vec![]), Some(Duration::from_secs(10)));
        let Ok(Outcome::Ok(Value::Int(x))) = leaf else {
            panic!("leaf failed: {leaf:?}")
        };
        Outcome::Ok(Value::Int(x + 1))
    });
    let main = thread::spawn(move || {
        let mut main = MainSide::new(mem, &cfg).unwrap();
        let mut outer = None;
        let mut inner = None;
        loop {
            let mut leaf = None;
            let events = main
                .poll(|req| {
                    let Op::Call { name, .. } = &req.op else {
                        panic!("unexpected op")
                    };
                    match name.to_string_lossy().as_str() {
                        "outer" => outer = Some(req.seq),
                        "leaf" => leaf = Some(req.seq),
                        other => panic!("unexpected call {other}"),
                    }
                    None
                })
                .unwrap();
            if let (Some(_), None) = (outer, inner) {
                inner = Some(
                    main.start_call(0, op("inner", vec![]), "proxy.inner()", None)
                        .unwrap(),
                );
            }
            if let Some(leaf) = leaf {
                // The outer reply goes first, then the leaf's.
                main.reply(outer.unwrap(), Outcome::Ok(Value::Int(1000)))
                    .unwrap();
                main.reply(leaf, Outcome::Ok(Value::Int(41))).unwrap();
            }
            if let Some(event) = events.into_iter().next() {
                let MainEvent::Reply { seq, outcome } = event else {
                    panic!("{event:?}")
                };
                assert_eq!(Some(seq), inner.map(|s| s.seq));
                assert_eq!(outcome, Outcome::Ok(Value::Int(42)));
                return main.stats();
            }
            thread::yield_now();
        }
    });
    let started = Instant::now();
    let r = worker.call(0, op("outer", vec![]), Some(Duration::from_secs(20)));
    assert_eq!(
        r.unwrap(),
        Outcome::Ok(Value::Int(1000)),
        "the outer call got its own reply (after {:?})",
        started.elapsed()
    );
    let stats = worker.stats();
    assert_eq!(
        (
            stats.calls,
            stats.served,
            stats.late_replies_dropped,
            stats.cancels_sent
        ),
        (2, 1, 0, 0),
        "nothing was dropped and nothing timed out"
    );
    let main_stats = main.join().unwrap();
    assert_eq!(main_stats.late_replies_dropped, 0);
}

/// The worker takes requests from its event loop with `next_request` and
/// answers them later, in any order (an async handler): each reply reaches
/// main's call of the same seq, and the worker serves more meanwhile.
#[test]
fn requests_taken_with_next_request_are_answered_out_of_order() {
    use bridge_core::channel::MainEvent;
    let cfg = config(1024, 4096);
    let mem = common::channel(&cfg);
    let mut worker = WorkerSide::new(mem.clone(), &cfg).unwrap();
    let mut main = MainSide::new(mem, &cfg).unwrap();
    let no_requests = |_: Request| -> Option<Outcome> { panic!("the worker made no call") };
    let a = main
        .start_call(0, op("a", vec![]), "proxy.a()", None)
        .unwrap()
        .seq;
    let b = main
        .start_call(0, op("b", vec![]), "proxy.b()", None)
        .unwrap()
        .seq;
    let t = Some(Duration::from_secs(5));
    let mut taken = Vec::new();
    for _ in 0..50 {
        main.poll(no_requests).unwrap();
        if let Some((seq, _)) = worker.next_request(t).unwrap() {
            taken.push(seq);
        }
        if taken.len() == 2 {
            break;
        }
    }
    assert_eq!(taken, vec![a, b], "both in flight at once");
    worker.answer(b, Outcome::Ok(Value::Int(2)), t).unwrap();
    let mut replies = Vec::new();
    for _ in 0..50 {
        for ev in main.poll(no_requests).unwrap() {
            if let MainEvent::Reply { seq, outcome } = ev {
                replies.push((seq, outcome));
            }
        }
        if replies.len() == 1 && replies[0].0 == b {
            worker.answer(a, Outcome::Ok(Value::Int(1)), t).unwrap();
        }
        if replies.len() == 2 {
            break;
        }
    }
    assert_eq!(
        replies,
        vec![
            (b, Outcome::Ok(Value::Int(2))),
            (a, Outcome::Ok(Value::Int(1)))
        ]
    );
    assert!(worker.next_request(t).unwrap().is_none());
    assert!(
        worker.answer(a, Outcome::Ok(Value::Int(1)), t).is_err(),
        "a second answer is refused"
    );
}
