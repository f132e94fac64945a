//! Golden vectors of the mailbox layout (docs/protocol.md §4), beside the
//! wire vectors: `tests/vectors/mailbox.json` holds the header offsets, the
//! slot and flag numbers, the defaults, and for a sequence of messages sent
//! through a small mailbox, every frame as the consumer sees it (the eight
//! header i32 slots right after the frame is published, and the frame's
//! data bytes). The JS mailbox (bridge-js/test/vectors.test.js) must write
//! the same frames. `UPDATE_VECTORS=1 cargo test -p bridge-core --test
//! mailbox_vectors` rewrites the file after a deliberate layout change.

mod common;

use std::path::PathBuf;

use bridge_core::mailbox::{
    channel_bytes, flag, slot, state, Config, Consumer, Layout, Producer, Progress, HEADER_BYTES,
};
use bridge_core::message::{Message, Op, Request};
use bridge_core::protocol::constants;
use bridge_core::shm::SharedMemory;
use bridge_core::value::{JsString, Value};
use bridge_core::wire;
use common::NativeShm;
use serde_json::{json, Value as Json};

const CAPACITY: usize = 8;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The messages of the sequence: empty, short, exactly one slot, three
/// frames, and a real wire message (a `sync.f(1)` request).
fn messages() -> Vec<(&'static str, Vec<u8>)> {
    let request = wire::encode(&Message::Request(Request {
        seq: 1,
        nested_in: 0,
        target: 0,
        op: Op::Call {
            name: JsString::from("f"),
            args: vec![Value::Int(1)],
        },
        releases: vec![],
    }))
    .unwrap();
    vec![
        ("empty message", vec![]),
        ("3 bytes", vec![1, 2, 3]),
        ("exactly one slot", (10..18).collect()),
        ("three frames", (0..20).collect()),
        ("request sync.f(1)", request),
    ]
}

fn generate() -> Json {
    let cfg = Config {
        capacity: CAPACITY,
        max_message: 1 << 20,
        ..Config::default()
    };
    let mem = NativeShm::channel(CAPACITY);
    let layout = Layout::to_worker(CAPACITY);
    let mut producer = Producer::new(mem.clone(), layout, &cfg);
    let mut consumer = Consumer::new(mem.clone(), layout, &cfg);
    let mut sequence = Vec::new();
    for (name, bytes) in messages() {
        let mut out = producer.start(bytes.clone()).unwrap();
        let mut frames = Vec::new();
        let mut received = None;
        loop {
            let progress = out.poll_write().unwrap();
            let header: Vec<i32> = (0..HEADER_BYTES / 4)
                .map(|s| mem.load(layout.slot(s)))
                .collect();
            let mut data = vec![0; header[slot::FRAME_LEN] as usize];
            mem.read_bytes(layout.data(), &mut data);
            frames.push(json!({ "header": header, "data": hex(&data) }));
            received = consumer.try_recv().unwrap().or(received);
            if progress == Progress::Done {
                break;
            }
        }
        assert_eq!(
            received.as_deref(),
            Some(&bytes[..]),
            "{name}: the consumer got it back"
        );
        sequence.push(json!({ "name": name, "message": hex(&bytes), "frames": frames }));
    }
    let channels: Vec<Json> = [8usize, 64, 1 << 20]
        .iter()
        .map(|&c| {
            json!({
                "capacity": c,
                "channel_bytes": channel_bytes(c),
                "to_main": Layout::to_main(c).offset,
                "to_worker": Layout::to_worker(c).offset,
            })
        })
        .collect();
    json!({
        "header_bytes": HEADER_BYTES,
        "slots": {
            "WRITTEN": slot::WRITTEN, "READ": slot::READ, "FRAME_LEN": slot::FRAME_LEN,
            "MSG_LEN": slot::MSG_LEN, "FLAGS": slot::FLAGS, "CLOSED": slot::CLOSED,
            "STATE": slot::STATE,
        },
        "state": {
            "AWAKE": state::AWAKE, "POLLING": state::POLLING,
            "SPINNING": state::SPINNING, "BEAT": state::BEAT,
        },
        "flags": { "FIRST": flag::FIRST, "LAST": flag::LAST, "ABORT": flag::ABORT },
        "defaults": {
            "capacity": constants::DEFAULT_CAPACITY,
            "max_message": constants::DEFAULT_MAX_MESSAGE,
            "max_nesting": constants::DEFAULT_MAX_NESTING,
        },
        "channels": channels,
        "sequence": { "mailbox": "to_worker", "capacity": CAPACITY, "messages": sequence },
    })
}

#[test]
fn mailbox_layout_matches_the_golden_file() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/mailbox.json");
    let mut text = serde_json::to_string_pretty(&generate()).unwrap();
    text.push('\n');
    if std::env::var("UPDATE_VECTORS").as_deref() == Ok("1") {
        std::fs::write(&path, &text).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("reading {}: {e}; run `UPDATE_VECTORS=1 cargo test -p bridge-core --test mailbox_vectors`", path.display())
    });
    assert!(
        on_disk == text,
        "tests/vectors/mailbox.json differs from what the mailbox writes: the layout changed. If that is \
         deliberate, run `UPDATE_VECTORS=1 cargo test -p bridge-core --test mailbox_vectors` and say why in the commit."
    );
}

#[test]
fn protocol_constants_are_the_wire_tags() {
    use bridge_core::message::{Outcome, Reply};
    let tag = |m: &Message| wire::encode(m).unwrap()[0];
    let req = |op: Op| {
        Message::Request(Request {
            seq: 1,
            nested_in: 0,
            target: 0,
            op,
            releases: vec![],
        })
    };
    assert_eq!(tag(&req(Op::OwnKeys)), constants::tag::REQUEST);
    let reply = Message::Reply(Reply {
        seq: 1,
        outcome: Outcome::Thrown(Value::Null),
        releases: vec![],
    });
    assert_eq!(tag(&reply), constants::tag::REPLY);
    assert_eq!(tag(&Message::Release(vec![])), constants::tag::RELEASE);
    assert_eq!(tag(&Message::Cancel { seq: 1 }), constants::tag::CANCEL);
    // Request: tag, seq, nested_in, target (one byte each here), then the op.
    assert_eq!(
        wire::encode(&req(Op::OwnKeys)).unwrap()[4],
        constants::op::OWN_KEYS
    );
    let call = req(Op::Call {
        name: JsString::from("f"),
        args: vec![],
    });
    assert_eq!(wire::encode(&call).unwrap()[4], constants::op::CALL);
    // Reply: tag, seq, then the outcome.
    assert_eq!(wire::encode(&reply).unwrap()[2], constants::outcome::THROWN);
}
