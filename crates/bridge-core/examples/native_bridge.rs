//! Two OS threads standing in for a Web Worker and the page's main thread,
//! talking through bridge-core's channel over real atomics and futex waits.
//!
//! Run: `cargo run -p bridge-core --example native_bridge` (add `--release`
//! for realistic timings).
//!
//! It shows: synchronous calls from the worker into main (`add`, `greet`),
//! a nested call (main serves `main_task` by calling the blocked worker's
//! `worker_task`), a time-out that leaves the channel usable, a call that
//! can never finish failing at once with "Possible deadlock" (the
//! `WaitForTracker` refuses it), and throughput.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use bridge_core::channel::{thrown, CallError, MainEvent, MainSide, WorkerSide};
use bridge_core::deadlock::{CallRef, WaitForTracker, WorkerOptions};
use bridge_core::mailbox::Config;
use bridge_core::message::{Op, Outcome, Request};
use bridge_core::shm::SharedMemory;
use bridge_core::value::{JsString, Value};
use common::NativeShm;

fn call(name: &str, args: Vec<Value>) -> Op {
    Op::Call {
        name: JsString::from(name),
        args,
    }
}

fn name_and_args(req: &Request) -> (String, Vec<Value>) {
    match &req.op {
        Op::Call { name, args } => (name.to_string_lossy(), args.clone()),
        other => (format!("{other:?}"), Vec::new()),
    }
}

fn show(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Ok(v) => format!("{v:?}"),
        Outcome::Thrown(Value::Error(e)) => format!("threw {}: {}", e.name, e.message),
        Outcome::Thrown(v) => format!("threw {v:?}"),
    }
}

fn micros(d: Duration) -> String {
    format!("{:.1} us", d.as_secs_f64() * 1e6)
}

/// The worker: exposes `worker_task`, then runs its script of calls.
fn worker(mem: Arc<NativeShm>, cfg: Config) -> Result<(), CallError> {
    let mut side = WorkerSide::new(mem, &cfg).expect("valid config");
    side.set_handler(|req, _| match name_and_args(&req).0.as_str() {
        "worker_task" => {
            println!(
                "worker:   serving nested worker_task() (nested in my call {})",
                req.nested_in
            );
            Outcome::Ok(Value::string("ok"))
        }
        other => thrown("TypeError", &format!("worker has no function {other}")),
    });
    let t = Some(Duration::from_secs(5));

    let start = Instant::now();
    let r = side.call(0, call("add", vec![Value::Int(2), Value::Int(3)]), t)?;
    println!(
        "worker: add(2, 3) = {} in {}",
        show(&r),
        micros(start.elapsed())
    );
    let start = Instant::now();
    let r = side.call(0, call("greet", vec![Value::string("worker")]), t)?;
    println!(
        "worker: greet(\"worker\") = {} in {}",
        show(&r),
        micros(start.elapsed())
    );

    let start = Instant::now();
    let r = side.call(0, call("main_task", vec![]), t)?;
    println!(
        "worker: main_task() = {} in {} (main called back into me)",
        show(&r),
        micros(start.elapsed())
    );

    let start = Instant::now();
    match side.call(0, call("slow", vec![]), Some(Duration::from_millis(50))) {
        Err(e @ CallError::Timeout) => {
            println!("worker: slow() failed after {:.0?}: {e}", start.elapsed())
        }
        other => panic!("slow() should have timed out, got {other:?}"),
    }
    thread::sleep(Duration::from_millis(600)); // main's late reply arrives meanwhile
    let r = side.call(0, call("add", vec![Value::Int(40), Value::Int(2)]), t)?;
    println!(
        "worker: add(40, 2) = {} after the time-out; late replies dropped: {}",
        show(&r),
        side.stats().late_replies_dropped
    );

    let start = Instant::now();
    let r = side.call(0, call("strict_task", vec![]), t)?;
    println!(
        "worker: strict_task() = {} in {}",
        show(&r),
        micros(start.elapsed())
    );

    let n = 20_000;
    let start = Instant::now();
    for i in 0..n {
        let r = side.call(0, call("add", vec![Value::Int(i), Value::Int(1)]), t)?;
        assert_eq!(r, Outcome::Ok(Value::Int(i + 1)));
    }
    let d = start.elapsed();
    println!(
        "worker: {n} add() calls in {d:.2?}: {:.0} calls/s, {} per round trip",
        n as f64 / d.as_secs_f64(),
        micros(d / n as u32)
    );
    let big = Value::ArrayBuffer(vec![7; 64 * 1024]);
    let n = 500;
    let start = Instant::now();
    for _ in 0..n {
        let r = side.call(0, call("echo", vec![big.clone()]), t)?;
        assert_eq!(r, Outcome::Ok(big.clone()));
    }
    let d = start.elapsed();
    println!(
        "worker: {n} echo(64 KiB) calls in {d:.2?}: {} per round trip",
        micros(d / n)
    );
    side.close();
    Ok(())
}

/// The main thread: never blocks; polls, answers, calls back, times out.
fn main_thread(mem: Arc<NativeShm>, cfg: Config) {
    // The page's wait-for tracker: the channel's machine keeps it up to date
    // (requests served, calls made and answered) and asks it before every
    // call into the worker.
    let tracker = Arc::new(Mutex::new(WaitForTracker::new(true)));
    let mut side =
        MainSide::with_tracker(mem.clone(), &cfg, tracker.clone(), WorkerOptions::default())
            .expect("valid config");
    let worker_id = side.worker_id();
    // main's nested call seq -> the worker request it serves
    let mut nested: HashMap<u32, u32> = HashMap::new();
    let mut late: Vec<(u32, Instant)> = Vec::new();
    loop {
        let mut todo: Vec<(u32, String)> = Vec::new();
        let polled = side.poll(|req| {
            let (name, args) = name_and_args(&req);
            match name.as_str() {
                "add" => match (&args[0], &args[1]) {
                    (Value::Int(a), Value::Int(b)) => Some(Outcome::Ok(Value::Int(a + b))),
                    _ => Some(thrown("TypeError", "add() takes two integers")),
                },
                "greet" => {
                    let who = match &args[0] {
                        Value::String(s) => s.to_string_lossy(),
                        other => format!("{other:?}"),
                    };
                    Some(Outcome::Ok(Value::string(format!("Hello, {who}!"))))
                }
                "echo" => Some(Outcome::Ok(args[0].clone())),
                // Answered later, after a call into the worker or a delay.
                "main_task" | "strict_task" | "slow" => {
                    todo.push((req.seq, name));
                    None
                }
                other => Some(thrown(
                    "TypeError",
                    &format!("main has no function {other}"),
                )),
            }
        });
        let events = match polled {
            Ok(events) => events,
            Err(CallError::Closed) => {
                println!("main:   the worker closed the channel; done");
                return;
            }
            Err(e) => panic!("main: {e}"),
        };
        let busy = !events.is_empty() || !todo.is_empty();
        for (seq, name) in todo {
            let label = format!("proxy.{name}()");
            match name.as_str() {
                "slow" => {
                    println!("main:   slow() will answer in 500 ms");
                    late.push((seq, Instant::now() + Duration::from_millis(500)));
                }
                _ => {
                    // Both call the blocked worker's worker_task(); for
                    // strict_task the worker counts as reentrant: false.
                    tracker
                        .lock()
                        .unwrap()
                        .set_reentrant(worker_id, name == "main_task");
                    let ctx = CallRef {
                        worker: worker_id,
                        seq,
                    };
                    match side.start_call(
                        0,
                        call("worker_task", vec![]),
                        "proxy.worker_task()",
                        Some(ctx),
                    ) {
                        Ok(started) => {
                            println!(
                                "main:   {label} calls worker_task() nested into worker call {}",
                                started.nested_in
                            );
                            nested.insert(started.seq, seq);
                        }
                        Err(CallError::Deadlock(deadlock)) => {
                            println!("main:   {label} refused at once: {deadlock}");
                            side.reply(seq, thrown("DeadlockError", &deadlock.to_string()))
                                .unwrap();
                        }
                        Err(e) => panic!("main: {e}"),
                    }
                }
            }
        }
        for event in events {
            match event {
                MainEvent::Reply { seq, outcome } => {
                    let served = nested.remove(&seq).expect("reply to our nested call");
                    println!("main:   worker_task() returned {}", show(&outcome));
                    side.reply(served, outcome).unwrap();
                }
                MainEvent::Cancelled { seq } => {
                    println!("main:   the worker gave up on its call {seq}");
                }
            }
        }
        let now = Instant::now();
        for (seq, _) in late.iter().filter(|l| l.1 <= now) {
            println!("main:   answering slow() now, too late (dropped: the worker cancelled it)");
            side.reply(*seq, Outcome::Ok(Value::string("late")))
                .unwrap();
        }
        late.retain(|l| l.1 > now);
        if !busy && !side.has_outgoing() {
            // A browser main thread awaits Atomics.waitAsync on this slot;
            // this stand-in may block, so it parks on it (briefly, so the
            // late reply above still goes out on time).
            let (slot, value) = side.wait_targets()[0];
            mem.wait(slot, value, Some(Duration::from_millis(5)));
        } else if !busy {
            thread::yield_now();
        }
    }
}

fn main() {
    let cfg = Config::default();
    let mem = common::channel(&cfg);
    println!(
        "native bridge: {} KiB per mailbox, max message {} MiB",
        cfg.capacity / 1024,
        cfg.max_message >> 20
    );
    let started = Instant::now();
    let w = {
        let (mem, cfg) = (mem.clone(), cfg.clone());
        thread::Builder::new()
            .name("worker".into())
            .spawn(move || worker(mem, cfg))
            .unwrap()
    };
    main_thread(mem, cfg);
    match w.join().expect("worker thread panicked") {
        Ok(()) => println!("all done in {:.2?}", started.elapsed()),
        Err(e) => {
            eprintln!("worker failed: {e}");
            std::process::exit(1);
        }
    }
}
