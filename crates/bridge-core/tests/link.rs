//! `WorkerSide` over a `WorkerLink` that is not the mailboxes (as the Rust
//! embedding's service-worker wait is): the machine's decisions (nested
//! requests served inside a call, an outer reply kept for its frame, time-out
//! and cancel, queued requests for the event loop) hold whatever carries the
//! bytes.

use std::collections::VecDeque;
use std::time::Duration;

use bridge_core::channel::{CallError, WorkerLink, WorkerSide};
use bridge_core::mailbox::{Deadline, RecvError, SendError, TryRecvError};
use bridge_core::message::{Message, Op, Outcome, Reply, Request};
use bridge_core::value::{JsString, Value};
use bridge_core::wire;

/// A scripted main thread: what it answers to each message the worker sends.
struct ScriptedLink {
    now: Duration,
    inbox: VecDeque<Vec<u8>>,
    sent: Vec<Message>,
    script: fn(&Message) -> Vec<Message>,
}

impl WorkerLink for ScriptedLink {
    fn now(&self) -> Duration {
        self.now
    }
    fn send(&mut self, bytes: &[u8], _deadline: Deadline) -> Result<(), SendError> {
        let m = wire::decode(bytes).expect("the worker sends valid messages");
        for answer in (self.script)(&m) {
            self.inbox.push_back(wire::encode(&answer).unwrap());
        }
        self.sent.push(m);
        Ok(())
    }
    fn recv(&mut self, deadline: Deadline) -> Result<Vec<u8>, RecvError> {
        match self.inbox.pop_front() {
            Some(m) => Ok(m),
            None => {
                // Nothing will come: the wait lasts until the deadline.
                match deadline.remaining_at(self.now) {
                    Some(left) => {
                        self.now += left;
                        Err(RecvError::Timeout)
                    }
                    None => panic!("a wait without deadline and nothing to receive"),
                }
            }
        }
    }
    fn try_recv(&mut self) -> Result<Option<Vec<u8>>, TryRecvError> {
        Ok(self.inbox.pop_front())
    }
    fn close(&self) {}
}

fn call(name: &str, arg: i32) -> Op {
    Op::Call {
        name: JsString::from(name),
        args: vec![Value::Int(arg)],
    }
}

fn link(script: fn(&Message) -> Vec<Message>) -> WorkerSide<ScriptedLink> {
    let mut side = WorkerSide::with_link(
        ScriptedLink {
            now: Duration::ZERO,
            inbox: VecDeque::new(),
            sent: Vec::new(),
            script,
        },
        1 << 20,
    );
    // The worker's function: "twice" answers 2 * x.
    side.set_handler(|req, _| match req.op {
        Op::Call { args, .. } => match args[0] {
            Value::Int(x) => Outcome::Ok(Value::Int(2 * x)),
            _ => Outcome::Ok(Value::Undefined),
        },
        _ => Outcome::Ok(Value::Undefined),
    });
    side
}

fn request(seq: u32, nested_in: u32, op: Op) -> Message {
    Message::Request(Request {
        seq,
        nested_in,
        target: 0,
        op,
        releases: Vec::new(),
    })
}

fn reply(seq: u32, v: i32) -> Message {
    Message::Reply(Reply {
        seq,
        outcome: Outcome::Ok(Value::Int(v)),
        releases: Vec::new(),
    })
}

#[test]
fn nested_request_is_served_inside_the_call_over_any_link() {
    // Main answers the worker's call 1 by calling twice(21) nested in it,
    // then replies to call 1 with what twice returned + 1.
    let mut side = link(|m| match m {
        Message::Request(r) if r.seq == 1 => vec![request(1, 1, call("twice", 21))],
        Message::Reply(r) if r.seq == 1 => match r.outcome {
            Outcome::Ok(Value::Int(v)) => vec![reply(1, v + 1)],
            _ => panic!("twice failed"),
        },
        _ => Vec::new(),
    });
    let out = side
        .call(0, call("f", 0), Some(Duration::from_secs(1)))
        .unwrap();
    assert_eq!(out, Outcome::Ok(Value::Int(43)));
    let sent = &side.link().sent;
    assert_eq!(sent.len(), 2, "the call and the nested reply: {sent:?}");
    assert!(
        matches!(&sent[1], Message::Reply(r) if r.seq == 1 && r.outcome == Outcome::Ok(Value::Int(42)))
    );
}

#[test]
fn time_out_sends_a_cancel_and_a_request_for_the_event_loop_waits_in_the_queue() {
    // Main never replies; it makes a call of its own (not nested) meanwhile.
    let mut side = link(|m| match m {
        Message::Request(r) if r.seq == 1 => vec![request(7, 0, call("twice", 5))],
        _ => Vec::new(),
    });
    let err = side
        .call(0, call("slow", 0), Some(Duration::from_millis(20)))
        .unwrap_err();
    assert!(matches!(err, CallError::Timeout), "{err}");
    assert!(
        side.link()
            .sent
            .iter()
            .any(|m| matches!(m, Message::Cancel { seq: 1 })),
        "a cancel goes to main: {:?}",
        side.link().sent
    );
    // The event loop then serves main's own call.
    assert_eq!(side.serve_pending(None).unwrap(), 1);
    assert!(side.link().sent.iter().any(
        |m| matches!(m, Message::Reply(r) if r.seq == 7 && r.outcome == Outcome::Ok(Value::Int(10)))
    ));
}
