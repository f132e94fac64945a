//! Messages between the two ends of a bridge (docs/protocol.md §3).
//!
//! Variant order is the wire tag order; field order is the wire field order.
//! Like [`crate::value`], these derive `Serialize` only: decode with
//! [`crate::wire::decode`], which enforces the protocol's limits.

use crate::value::{JsString, JsSymbol, Value};
use alloc::boxed::Box;
use alloc::vec::Vec;
use serde::Serialize;

/// One message on a mailbox.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Message {
    /// 0
    Request(Request),
    /// 1
    Reply(Reply),
    /// 2: releases with nothing else to ride on.
    Release(Vec<Release>),
    /// 3: the caller gave up on request `seq` (time-out, interrupt).
    Cancel { seq: u32 },
}

/// A call or reflective operation on an object of the receiver.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Request {
    /// The sender's request number: 1, 2, 3 ... (wraps, skipping 0).
    pub seq: u32,
    /// 0, or the seq of the receiver's own blocked call this request nests into.
    pub nested_in: u32,
    /// 0 = the receiver's global object; otherwise an id of the receiver's export table.
    pub target: u32,
    pub op: Op,
    /// Piggybacked releases.
    pub releases: Vec<Release>,
}

/// The answer to the request with the same `seq`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reply {
    pub seq: u32,
    pub outcome: Outcome,
    pub releases: Vec<Release>,
}

/// How a request ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Outcome {
    /// 0
    Ok(Value),
    /// 1: whatever was thrown (an Error or any other value).
    Thrown(Value),
}

/// The importer is done with `count` sends of export `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Release {
    pub id: u32,
    pub count: u32,
}

/// A property key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Key {
    /// 0
    String(JsString),
    /// 1: a symbol: well-known, registered (`Symbol.for`) or unique.
    Symbol(JsSymbol),
}

/// Well-known symbols by `JsSymbol::WellKnown` number (the part after `Symbol.`).
pub const WELL_KNOWN_SYMBOLS: [&str; 15] = [
    "asyncIterator",
    "hasInstance",
    "isConcatSpreadable",
    "iterator",
    "match",
    "matchAll",
    "replace",
    "search",
    "species",
    "split",
    "toPrimitive",
    "toStringTag",
    "unscopables",
    "dispose",
    "asyncDispose",
];

impl From<&str> for Key {
    fn from(s: &str) -> Self {
        Key::String(JsString::from(s))
    }
}

/// What to do with the request's target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Op {
    /// 0
    Get { key: Key },
    /// 1
    Set { key: Key, value: Value },
    /// 2
    Has { key: Key },
    /// 3
    Delete { key: Key },
    /// 4
    OwnKeys,
    /// 5
    GetOwnPropertyDescriptor { key: Key },
    /// 6: `descriptor` is an Object with value/get/set/writable/enumerable/configurable.
    DefineProperty { key: Key, descriptor: Value },
    /// 7
    GetPrototypeOf,
    /// 8
    SetPrototypeOf { proto: Value },
    /// 9: call the target.
    Apply { this: Value, args: Vec<Value> },
    /// 10: `new target(...args)`.
    Construct { args: Vec<Value> },
    /// 11: call the function the receiver exposed as `sync[name]`.
    Call { name: JsString, args: Vec<Value> },
    /// 12: the target's prototype chain and shape in one reply, which the
    /// asker caches briefly (docs/protocol.md §3 "Describe").
    Describe,
    /// 13: a prefix before a `Get`, `Apply` or `Construct` (no other op):
    /// the reply is `[value, snapshot]` (`[value, snapshot, chain]` for an
    /// `Apply`), the snapshot being the Describe reply of the result
    /// (docs/protocol.md §3 "Folded into the reply").
    Described(Box<Op>),
}

impl Message {
    /// Equality as the wire sees it (floats by bits after NaN canonicalisation).
    pub fn wire_eq(&self, other: &Message) -> bool {
        fn list_eq(a: &[Value], b: &[Value]) -> bool {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.wire_eq(y))
        }
        fn op_eq(a: &Op, b: &Op) -> bool {
            match (a, b) {
                (Op::Set { key: k1, value: v1 }, Op::Set { key: k2, value: v2 })
                | (
                    Op::DefineProperty {
                        key: k1,
                        descriptor: v1,
                    },
                    Op::DefineProperty {
                        key: k2,
                        descriptor: v2,
                    },
                ) => k1 == k2 && v1.wire_eq(v2),
                (Op::SetPrototypeOf { proto: a }, Op::SetPrototypeOf { proto: b }) => a.wire_eq(b),
                (Op::Apply { this: t1, args: a1 }, Op::Apply { this: t2, args: a2 }) => {
                    t1.wire_eq(t2) && list_eq(a1, a2)
                }
                (Op::Construct { args: a1 }, Op::Construct { args: a2 }) => list_eq(a1, a2),
                (Op::Call { name: n1, args: a1 }, Op::Call { name: n2, args: a2 }) => {
                    n1 == n2 && list_eq(a1, a2)
                }
                (Op::Described(a), Op::Described(b)) => op_eq(a, b),
                (a, b) => a == b,
            }
        }
        match (self, other) {
            (Message::Request(a), Message::Request(b)) => {
                a.seq == b.seq
                    && a.nested_in == b.nested_in
                    && a.target == b.target
                    && a.releases == b.releases
                    && op_eq(&a.op, &b.op)
            }
            (Message::Reply(a), Message::Reply(b)) => {
                a.seq == b.seq
                    && a.releases == b.releases
                    && match (&a.outcome, &b.outcome) {
                        (Outcome::Ok(x), Outcome::Ok(y))
                        | (Outcome::Thrown(x), Outcome::Thrown(y)) => x.wire_eq(y),
                        _ => false,
                    }
            }
            (a, b) => a == b,
        }
    }
}
