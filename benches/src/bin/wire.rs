//! Wire codec throughput by value shape.
//!
//! `cargo run --release -p bridge-benches --bin wire` prints, per shape, the
//! encoded size, ns per message and MB/s for encode (into a reused buffer)
//! and decode. Machines are shared and noisy: compare rows of one run.

use bridge_core::message::{Message, Op, Outcome, Reply, Request};
use bridge_core::value::{JsString, Value};
use bridge_core::wire::{decode, encode_into};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn call(args: Vec<Value>) -> Message {
    Message::Request(Request {
        seq: 1,
        nested_in: 0,
        target: 0,
        op: Op::Call {
            name: "compute".into(),
            args,
        },
        releases: vec![],
    })
}

fn reply(v: Value) -> Message {
    Message::Reply(Reply {
        seq: 1,
        outcome: Outcome::Ok(v),
        releases: vec![],
    })
}

fn tree(depth: u32) -> Value {
    if depth == 0 {
        return Value::Float(depth as f64 + 0.5);
    }
    Value::Object(vec![
        ("name".into(), Value::string(format!("node{depth}"))),
        ("n".into(), Value::Int(depth as i32)),
        (
            "kids".into(),
            Value::Array((0..3).map(|_| tree(depth - 1)).collect()),
        ),
    ])
}

fn shapes() -> Vec<(&'static str, Message)> {
    let f64s: Vec<u8> = (0..131072)
        .flat_map(|i| (i as f64 * 0.25).to_le_bytes())
        .collect();
    vec![
        ("small call", call(vec![Value::Int(1), Value::Int(2)])),
        (
            "64 KiB string",
            call(vec![Value::string("x".repeat(64 * 1024))]),
        ),
        (
            "1 MiB Float64Array",
            reply(Value::TypedArray {
                kind: 8,
                bytes: f64s,
            }),
        ),
        (
            "1000-key object",
            reply(Value::Object(
                (0..1000)
                    .map(|i| {
                        let v = match i % 3 {
                            0 => Value::Int(i),
                            1 => Value::Float(i as f64 / 7.0),
                            _ => Value::string(format!("value {i}")),
                        };
                        (JsString::from(format!("key{i}")), v)
                    })
                    .collect(),
            )),
        ),
        ("nested tree (3^7 leaves)", reply(tree(7))),
    ]
}

/// Runs `f` repeatedly for about `budget`; returns the mean time per run.
fn time(budget: Duration, mut f: impl FnMut()) -> Duration {
    // Warm up, and size the batch so that timer overhead does not matter.
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < budget / 10 {
        f();
        n += 1;
    }
    let batch = n.max(1);
    let mut runs = 0u32;
    let start = Instant::now();
    while start.elapsed() < budget {
        for _ in 0..batch {
            f();
        }
        runs += batch;
    }
    start.elapsed() / runs
}

fn main() {
    let budget = Duration::from_millis(300);
    println!(
        "{:<26} {:>10} {:>12} {:>10} {:>12} {:>10}",
        "shape", "bytes", "encode ns", "enc MB/s", "decode ns", "dec MB/s"
    );
    for (name, msg) in shapes() {
        let mut buf = Vec::new();
        encode_into(&msg, &mut buf).expect("bench message encodes");
        let len = buf.len();
        let enc = time(budget, || {
            encode_into(black_box(&msg), &mut buf).unwrap();
            black_box(&buf);
        });
        let bytes = buf.clone();
        let dec = time(budget, || {
            black_box(decode(black_box(&bytes)).unwrap());
        });
        let mbps = |d: Duration| len as f64 / d.as_secs_f64() / 1e6;
        println!(
            "{:<26} {:>10} {:>12} {:>10.0} {:>12} {:>10.0}",
            name,
            len,
            enc.as_nanos(),
            mbps(enc),
            dec.as_nanos(),
            mbps(dec)
        );
    }
}
