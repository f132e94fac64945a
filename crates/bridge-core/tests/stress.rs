//! Real OS threads and real futex waits standing in for workers: 8 worker
//! threads call one main thread that polls all 8 channels, with nested
//! calls, time-outs with late replies, and payloads across chunk boundaries.
//!
//! Calls per worker: `BRIDGE_STRESS_CALLS` (default 100 000: about 17 s in a
//! debug build on 2 shared cores, 9 s in release); `BRIDGE_STRESS_WORKERS`
//! overrides the 8 workers.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use bridge_core::channel::{CallError, MainEvent, MainSide, WorkerSide};
use bridge_core::mailbox::{Config, DEFAULT_CAPACITY};
use bridge_core::message::{Op, Outcome, Request};
use bridge_core::value::{JsString, Value};
use common::NativeShm;

const WORKER_TIMEOUT: Duration = Duration::from_millis(20);
const LATE_BY: Duration = Duration::from_millis(400);
const NESTED_EVERY: usize = 50;
const CAP: usize = DEFAULT_CAPACITY;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn call(name: &str, args: Vec<Value>) -> Op {
    Op::Call {
        name: JsString::from(name),
        args,
    }
}

fn int(v: &Value) -> i32 {
    match v {
        Value::Int(n) => *n,
        other => panic!("expected an Int, got {other:?}"),
    }
}

/// The name and arguments of an `Op::Call`.
fn parts(req: &Request) -> (String, &[Value]) {
    match &req.op {
        Op::Call { name, args } => (name.to_string_lossy(), args),
        other => panic!("unexpected op {other:?}"),
    }
}

fn payload(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(7) ^ (i >> 12) as u8 ^ salt)
        .collect()
}

/// Payload sizes around the frame size of a request carrying them.
fn payload_sizes(worker: usize) -> Vec<usize> {
    let w = worker;
    let mut sizes = vec![
        0,
        1,
        1000 + w,
        CAP - 40 + w,
        CAP - 20 + w,
        CAP + w,
        3 * CAP + 5 + w,
    ];
    if worker < 2 {
        sizes.push((8 << 20) - 20 + w);
        sizes.push(8 << 20);
    }
    sizes
}

/// Where worker `w` makes its slow call (one that times out).
fn slow_points(calls: usize) -> Vec<usize> {
    vec![calls / 4, calls / 2, 3 * calls / 4]
        .into_iter()
        .filter(|&i| i + 1000 < calls || calls < 1000)
        .collect()
}

struct WorkerReport {
    calls: usize,
    timeouts: usize,
    dropped: u64,
    served: u64,
}

fn worker(
    id: usize,
    mem: Arc<NativeShm>,
    cfg: Config,
    calls: usize,
    late_sent: Arc<AtomicUsize>,
) -> WorkerReport {
    let mut side = WorkerSide::new(mem, &cfg).unwrap();
    side.set_handler(move |req, _| {
        let (name, args) = parts(&req);
        assert_eq!(name, "worker_task", "worker {id} got an unexpected request");
        assert_ne!(
            req.nested_in, 0,
            "main calls us only nested into our blocked call"
        );
        Outcome::Ok(Value::Int(int(&args[0]).wrapping_mul(10)))
    });
    let long = Some(Duration::from_secs(60));
    let slow = slow_points(calls);
    let mut timeouts = 0;
    for i in 0..calls {
        let a = i as i32;
        let b = id as i32 * 1_000_000;
        if slow.contains(&i) {
            let t = Instant::now();
            let r = side.call(0, call("slow", vec![Value::Int(a)]), Some(WORKER_TIMEOUT));
            assert!(
                matches!(r, Err(CallError::Timeout)),
                "worker {id} call {i}: {r:?}"
            );
            assert!(t.elapsed() >= WORKER_TIMEOUT);
            timeouts += 1;
        } else if i % NESTED_EVERY == 7 {
            let r = side
                .call(0, call("nested", vec![Value::Int(a)]), long)
                .unwrap();
            assert_eq!(
                r,
                Outcome::Ok(Value::Int(a.wrapping_mul(10) + 1)),
                "worker {id} call {i}"
            );
        } else {
            let r = side
                .call(0, call("add", vec![Value::Int(a), Value::Int(b)]), long)
                .unwrap();
            assert_eq!(r, Outcome::Ok(Value::Int(a + b)), "worker {id} call {i}");
        }
    }
    for (k, &n) in payload_sizes(id).iter().enumerate() {
        let data = payload(n, (id * 16 + k) as u8);
        let r = side
            .call(
                0,
                call("echo", vec![Value::ArrayBuffer(data.clone())]),
                long,
            )
            .unwrap();
        match r {
            Outcome::Ok(Value::ArrayBuffer(back)) => {
                assert!(
                    back == data,
                    "worker {id}: echo of {n} bytes came back different"
                )
            }
            other => panic!("worker {id}: echo of {n} bytes returned {other:?}"),
        }
    }
    // Every late reply has been sent by now or soon; one more call reads
    // past them, so all of them must have been dropped.
    while late_sent.load(SeqCst) < slow.len() {
        thread::sleep(Duration::from_millis(5));
    }
    let r = side
        .call(0, call("add", vec![Value::Int(1), Value::Int(2)]), long)
        .unwrap();
    assert_eq!(r, Outcome::Ok(Value::Int(3)));
    let stats = side.stats();
    WorkerReport {
        calls: calls + 1,
        timeouts,
        dropped: stats.late_replies_dropped,
        served: stats.served,
    }
}

/// The main thread's view of one worker.
struct Served {
    side: MainSide<Arc<NativeShm>>,
    /// Our nested call's seq -> the worker request it serves.
    nested: HashMap<u32, u32>,
    /// Deferred slow requests: (worker seq, when to reply, value).
    late: Vec<(u32, Instant, i32)>,
    late_sent: Arc<AtomicUsize>,
    cancels: usize,
}

fn main_loop(mut chans: Vec<Served>, done: &AtomicUsize) -> Vec<Served> {
    let workers = chans.len();
    let mut idle = 0u32;
    loop {
        let mut busy = false;
        for ch in chans.iter_mut() {
            let mut start_nested = Vec::new();
            let mut slow = Vec::new();
            let events = ch
                .side
                .poll(|req| {
                    let (name, args) = parts(&req);
                    match name.as_str() {
                        "add" => Some(Outcome::Ok(Value::Int(int(&args[0]) + int(&args[1])))),
                        "echo" => Some(Outcome::Ok(args[0].clone())),
                        "nested" => {
                            start_nested.push((req.seq, int(&args[0])));
                            None
                        }
                        "slow" => {
                            slow.push((req.seq, Instant::now() + LATE_BY, int(&args[0])));
                            None
                        }
                        other => panic!("main got unexpected call {other}"),
                    }
                })
                .unwrap();
            busy |= !events.is_empty() || !start_nested.is_empty() || !slow.is_empty();
            for (worker_seq, x) in start_nested {
                let started = ch
                    .side
                    .start_call(
                        0,
                        call("worker_task", vec![Value::Int(x)]),
                        "proxy.worker_task()",
                        None,
                    )
                    .unwrap();
                assert_eq!(
                    started.nested_in, worker_seq,
                    "nested into the deferred request"
                );
                ch.nested.insert(started.seq, worker_seq);
            }
            ch.late.extend(slow);
            for event in events {
                match event {
                    MainEvent::Reply { seq, outcome } => {
                        let worker_seq =
                            ch.nested.remove(&seq).expect("a reply to our nested call");
                        let Outcome::Ok(v) = outcome else {
                            panic!("worker_task threw: {outcome:?}")
                        };
                        ch.side
                            .reply(worker_seq, Outcome::Ok(Value::Int(int(&v) + 1)))
                            .unwrap();
                    }
                    MainEvent::Cancelled { seq } => {
                        assert!(
                            ch.late.iter().any(|l| l.0 == seq),
                            "cancel of a request we did not defer"
                        );
                        ch.cancels += 1;
                    }
                }
            }
            let now = Instant::now();
            let due: Vec<_> = ch.late.iter().filter(|l| l.1 <= now).copied().collect();
            ch.late.retain(|l| l.1 > now);
            for (seq, _, x) in due {
                // The worker gave up long ago: main or the worker drops this.
                ch.side.reply(seq, Outcome::Ok(Value::Int(x))).unwrap();
                ch.late_sent.fetch_add(1, SeqCst);
                busy = true;
            }
        }
        if done.load(SeqCst) == workers && chans.iter().all(|c| !c.side.has_outgoing()) {
            return chans;
        }
        if busy {
            idle = 0;
        } else {
            idle += 1;
            if idle < 200 {
                thread::yield_now();
            } else {
                thread::sleep(Duration::from_micros(50));
            }
        }
    }
}

#[test]
fn eight_workers_call_one_main_thread() {
    let calls = env_usize("BRIDGE_STRESS_CALLS", 100_000);
    let workers = env_usize("BRIDGE_STRESS_WORKERS", 8);
    let cfg = Config {
        max_message: 16 << 20,
        ..Config::default()
    };
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut chans = Vec::new();
    let mut handles = Vec::new();
    for id in 0..workers {
        let mem = common::channel(&cfg);
        let late_sent = Arc::new(AtomicUsize::new(0));
        chans.push(Served {
            side: MainSide::new(mem.clone(), &cfg).unwrap(),
            nested: HashMap::new(),
            late: Vec::new(),
            late_sent: late_sent.clone(),
            cancels: 0,
        });
        let (cfg, done) = (cfg.clone(), done.clone());
        handles.push(thread::spawn(move || {
            let report = worker(id, mem, cfg, calls, late_sent);
            done.fetch_add(1, SeqCst);
            report
        }));
    }
    let main = thread::spawn({
        let done = done.clone();
        move || main_loop(chans, &done)
    });
    let reports: Vec<WorkerReport> = handles
        .into_iter()
        .map(|h| h.join().expect("a worker thread panicked"))
        .collect();
    let chans = main.join().expect("the main thread panicked");
    let elapsed = started.elapsed();
    let slow = slow_points(calls).len();
    let nested = (0..calls)
        .filter(|i| i % NESTED_EVERY == 7 && !slow_points(calls).contains(i))
        .count();
    let total: usize = reports.iter().map(|r| r.calls).sum();
    for (id, (r, ch)) in reports.iter().zip(&chans).enumerate() {
        assert_eq!(r.timeouts, slow, "worker {id}");
        // A late answer is dropped by main when the worker's Cancel came
        // first, else by the worker when it arrives.
        assert_eq!(
            r.dropped + ch.side.stats().answers_dropped,
            slow as u64,
            "worker {id}: every late reply dropped, on one side or the other"
        );
        assert_eq!(
            r.served, nested as u64,
            "worker {id}: every nested request served"
        );
        assert_eq!(ch.cancels, slow, "worker {id}: main saw every Cancel");
        assert!(ch.nested.is_empty() && ch.late.is_empty());
        assert_eq!(ch.side.deferred().count(), 0);
    }
    eprintln!(
        "stress: {workers} workers x {calls} calls ({total} calls, {} nested) in {:.2?}: {:.0} calls/s",
        nested * workers,
        elapsed,
        total as f64 / elapsed.as_secs_f64()
    );
}
