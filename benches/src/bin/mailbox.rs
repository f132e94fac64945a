//! Native round trip latency of one mailbox pair between two OS threads:
//! a "worker" sends a payload, a "main" thread echoes it back, raw bytes
//! (no wire codec), with real futex waits. Prints a table per spin budget.
//!
//! Run: `cargo run --release -p bridge-benches --bin mailbox`.

#[path = "../../../crates/bridge-core/tests/common/mod.rs"]
mod common;

use std::thread;
use std::time::{Duration, Instant};

use bridge_core::mailbox::{Config, Consumer, Deadline, Layout, Producer};

/// Round trips of `size` bytes; returns every round trip's duration.
fn run(size: usize, iterations: usize, spin: u32) -> Vec<Duration> {
    let cfg = Config {
        spin,
        ..Config::default()
    };
    let mem = common::channel(&cfg);
    let (to_main, to_worker) = (
        Layout::to_main(cfg.capacity),
        Layout::to_worker(cfg.capacity),
    );
    let main = {
        let (mem, cfg) = (mem.clone(), cfg.clone());
        thread::spawn(move || {
            let mut rx = Consumer::new(mem.clone(), to_main, &cfg);
            let mut tx = Producer::new(mem, to_worker, &cfg);
            for _ in 0..iterations {
                let msg = rx.recv(Deadline::NEVER).expect("main recv");
                tx.send(&msg, Deadline::NEVER).expect("main send");
            }
        })
    };
    let mut tx = Producer::new(mem.clone(), to_main, &cfg);
    let mut rx = Consumer::new(mem, to_worker, &cfg);
    let payload: Vec<u8> = (0..size).map(|i| i as u8).collect();
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        tx.send(&payload, Deadline::NEVER).expect("worker send");
        let back = rx.recv(Deadline::NEVER).expect("worker recv");
        times.push(t.elapsed());
        assert_eq!(back.len(), size);
    }
    main.join().unwrap();
    times
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let sizes: [(&str, usize, usize); 4] = [
        ("0 B", 0, 20_000),
        ("64 B", 64, 20_000),
        ("64 KiB", 64 << 10, 2_000),
        ("1 MiB", 1 << 20, 200),
    ];
    for spin in [100u32, 10_000] {
        println!("\nmailbox round trip, 2 threads, futex waits, spin budget {spin}");
        println!("| payload | round trips | mean us | p50 us | p99 us | MB/s each way |");
        println!("|---|---:|---:|---:|---:|---:|");
        for (name, size, n) in sizes {
            let mut times = run(size, n, spin);
            let total: Duration = times.iter().sum();
            times.sort();
            let mean = total / n as u32;
            let mbps = if size == 0 {
                0.0
            } else {
                size as f64 * n as f64 / total.as_secs_f64() / 1e6
            };
            println!(
                "| {name} | {n} | {:.1} | {:.1} | {:.1} | {mbps:.0} |",
                us(mean),
                us(times[n / 2]),
                us(times[n * 99 / 100])
            );
        }
    }
}
