//! Golden wire vectors (tests/vectors/README.md): the one source of truth for
//! the format, shared with the JS codec's tests.
//!
//! `UPDATE_VECTORS=1 cargo test -p bridge-core --test vectors` rewrites
//! tests/vectors/values.json, messages.json and decode.json; otherwise this test asserts the
//! files equal what the code generates, and that each hex decodes to the value
//! its description names, so a format change fails until the vectors are
//! regenerated on purpose.

use bridge_core::message::{
    Key, Message, Op, Outcome, Release, Reply, Request, WELL_KNOWN_SYMBOLS,
};
use bridge_core::value::{
    ErrorValue, JsString, JsSymbol, RefKind, TransferredView, TypedArrayKind, Value,
};
use bridge_core::wire::{decode, decode_value, encode, encode_value};
use serde_json::{json, Value as Json};
use std::path::PathBuf;

// ------------------------------------------------------------------ the lists

fn err(name: &str, message: &str) -> ErrorValue {
    ErrorValue::new(name, message)
}

fn obj(entries: Vec<(&str, Value)>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (JsString::from(k), v))
            .collect(),
    )
}

/// BigInt from an i128 (little-endian magnitude, no trailing zeros).
fn big(n: i128) -> Value {
    let mut magnitude = n.unsigned_abs().to_le_bytes().to_vec();
    while magnitude.last() == Some(&0) {
        magnitude.pop();
    }
    Value::BigInt {
        negative: n < 0,
        magnitude,
    }
}

fn typed(kind: TypedArrayKind, bytes: Vec<u8>) -> Value {
    Value::TypedArray {
        kind: kind as u8,
        bytes,
    }
}

fn values() -> Vec<(&'static str, Value)> {
    use TypedArrayKind as K;
    let utf16 = |u: &[u16]| Value::String(JsString::from_utf16(u));
    let mut v: Vec<(&'static str, Value)> = vec![
        ("undefined", Value::Undefined),
        ("null", Value::Null),
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        ("int 0", Value::Int(0)),
        ("int -1", Value::Int(-1)),
        ("int 63", Value::Int(63)),
        ("int 64", Value::Int(64)),
        ("int i32::MIN", Value::Int(i32::MIN)),
        ("int i32::MAX", Value::Int(i32::MAX)),
        ("float -0", Value::Float(-0.0)),
        ("float NaN", Value::Float(f64::NAN)),
        ("float Infinity", Value::Float(f64::INFINITY)),
        ("float -Infinity", Value::Float(f64::NEG_INFINITY)),
        ("float 0.1", Value::Float(0.1)),
        ("float 2^31", Value::Float(2147483648.0)),
        ("float 1e300", Value::Float(1e300)),
        ("float 5e-324", Value::Float(5e-324)),
        ("bigint 0", big(0)),
        ("bigint -1", big(-1)),
        ("bigint 2^64+1", big((1i128 << 64) + 1)),
        (
            "bigint -(2^300-1)",
            Value::BigInt {
                negative: true,
                magnitude: {
                    let mut m = vec![0xff; 37];
                    m.push(0x0f); // 37*8 + 4 = 300 bits, all ones
                    m
                },
            },
        ),
        ("string empty", Value::string("")),
        ("string ascii", Value::string("hello, world")),
        ("string héllo", Value::string("héllo")),
        ("string emoji", Value::string("🦀 ok")),
        ("string lone high surrogate", utf16(&[0x61, 0xd83e])),
        ("string lone low surrogate", utf16(&[0xdd80, 0x62])),
        ("string reversed pair", utf16(&[0xdd80, 0xd83e])),
    ];
    for k in TypedArrayKind::ALL {
        let n = k.element_size();
        let bytes: Vec<u8> = (1..=(2 * n) as u8).collect();
        v.push((k.js_name(), typed(k, bytes)));
    }
    v.extend([
        ("Float64Array empty", typed(K::Float64Array, vec![])),
        ("ArrayBuffer empty", Value::ArrayBuffer(vec![])),
        (
            "ArrayBuffer 3 bytes",
            Value::ArrayBuffer(vec![0, 0x7f, 0xff]),
        ),
        ("date", Value::Date(1700000000000.0)),
        ("date invalid", Value::Date(f64::NAN)),
        (
            "regexp",
            Value::RegExp {
                source: JsString::from("^a+b?$"),
                flags: "gimsuy".into(),
            },
        ),
        (
            "regexp lone surrogate source",
            Value::RegExp {
                source: JsString::from_utf16(&[0xd800]),
                flags: String::new(),
            },
        ),
        ("error plain", Value::Error(Box::new(err("Error", "boom")))),
        (
            "error with stack, cause and props",
            Value::Error(Box::new(ErrorValue {
                stack: Some("TypeError: bad\n    at f (app.js:1:2)".into()),
                cause: Some(Value::string("why")),
                props: vec![
                    ("code".into(), Value::string("E_BAD")),
                    ("errno".into(), Value::Int(-2)),
                ],
                ..err("TypeError", "bad")
            })),
        ),
        (
            "error cause chain",
            Value::Error(Box::new(ErrorValue {
                cause: Some(Value::Error(Box::new(ErrorValue {
                    cause: Some(Value::Error(Box::new(err("RangeError", "root")))),
                    ..err("Error", "middle")
                }))),
                ..err("Error", "top")
            })),
        ),
        ("array empty", Value::Array(vec![])),
        (
            "array mixed",
            Value::Array(vec![
                Value::Int(1),
                Value::string("two"),
                Value::Null,
                Value::Float(3.5),
            ]),
        ),
        (
            "array with a hole",
            Value::Array(vec![Value::Int(1), Value::Hole, Value::Int(3)]),
        ),
        ("array cyclic", Value::Array(vec![Value::BackRef(0)])),
        (
            "object shared twice",
            Value::Array(vec![obj(vec![("a", Value::Int(1))]), Value::BackRef(1)]),
        ),
        ("object empty", Value::Object(vec![])),
        (
            "object nested",
            obj(vec![
                (
                    "a",
                    obj(vec![(
                        "b",
                        obj(vec![("c", Value::Array(vec![Value::Bool(true)]))]),
                    )]),
                ),
                ("", Value::Undefined),
            ]),
        ),
        (
            "object lone surrogate key",
            Value::Object(vec![(JsString::from_utf16(&[0xdc00]), Value::Int(1))]),
        ),
        (
            "map with object keys",
            Value::Map(vec![
                (obj(vec![]), Value::string("first")),
                (Value::Array(vec![]), Value::Int(2)),
                (Value::string("k"), Value::BackRef(1)),
            ]),
        ),
        (
            "set",
            Value::Set(vec![Value::Int(1), Value::string("1"), big(1)]),
        ),
        (
            "remote function",
            Value::Remote {
                kind: RefKind::Function as u8,
                id: 1,
            },
        ),
        (
            "remote object",
            Value::Remote {
                kind: RefKind::Object as u8,
                id: 7,
            },
        ),
        (
            "remote array",
            Value::Remote {
                kind: RefKind::Array as u8,
                id: 300,
            },
        ),
        ("local", Value::Local(7)),
        (
            "symbol well-known Symbol.iterator",
            Value::Symbol(JsSymbol::WellKnown(3)),
        ),
        (
            "every well-known symbol",
            Value::Array(
                (0..WELL_KNOWN_SYMBOLS.len() as u8)
                    .map(|n| Value::Symbol(JsSymbol::WellKnown(n)))
                    .collect(),
            ),
        ),
        (
            "symbol registered",
            Value::Symbol(JsSymbol::Registered("polyscript.js_modules".into())),
        ),
        (
            "symbol registered, lone surrogate key",
            Value::Symbol(JsSymbol::Registered(JsString::from_utf16(&[0xd800]))),
        ),
        (
            "symbol unique remote",
            Value::Symbol(JsSymbol::Remote {
                id: 5,
                description: Some("tag".into()),
            }),
        ),
        (
            "symbol unique remote without description",
            Value::Symbol(JsSymbol::Remote {
                id: 300,
                description: None,
            }),
        ),
        ("symbol unique local", Value::Symbol(JsSymbol::Local(2))),
        (
            "array of symbols",
            Value::Array(vec![
                Value::Symbol(JsSymbol::Registered("a".into())),
                Value::Symbol(JsSymbol::Remote {
                    id: 6,
                    description: Some("".into()),
                }),
                Value::Symbol(JsSymbol::Remote {
                    id: 6,
                    description: Some("".into()),
                }),
                Value::Symbol(JsSymbol::Registered("a".into())),
            ]),
        ),
        (
            "transferred buffer",
            Value::Transferred {
                buffer: 0,
                view: None,
            },
        ),
        (
            "transferred Float64Array view",
            Value::Transferred {
                buffer: 1,
                view: Some(TransferredView {
                    kind: TypedArrayKind::Float64Array as u8,
                    byte_offset: 8,
                    byte_length: 16,
                }),
            },
        ),
        (
            "transferred buffer, a view of it and a backref",
            Value::Array(vec![
                Value::Transferred {
                    buffer: 0,
                    view: None,
                },
                Value::Transferred {
                    buffer: 0,
                    view: Some(TransferredView {
                        kind: TypedArrayKind::DataView as u8,
                        byte_offset: 3,
                        byte_length: 5,
                    }),
                },
                Value::BackRef(1),
            ]),
        ),
        // Sparse arrays (docs/protocol.md §2): a run of 15 holes stays an
        // Array, 16 make a SparseArray, whatever the length.
        (
            "array with a run of 15 holes (still dense)",
            Value::Array(
                std::iter::once(Value::Int(1))
                    .chain(std::iter::repeat(Value::Hole).take(15))
                    .chain(std::iter::once(Value::Int(2)))
                    .collect(),
            ),
        ),
        (
            "sparse array: a run of 16 holes",
            Value::SparseArray {
                length: 18,
                entries: vec![(0, Value::Int(1)), (17, Value::Int(2))],
            },
        ),
        (
            "sparse array: new Array(20), holes only",
            Value::SparseArray {
                length: 20,
                entries: vec![],
            },
        ),
        (
            "sparse array: one element in a length of 1e8",
            Value::SparseArray {
                length: 100_000_000,
                entries: vec![(50_000_000, Value::Int(7))],
            },
        ),
        (
            "sparse array of length 2^32-1: an object, itself and the object again",
            Value::SparseArray {
                length: u32::MAX,
                entries: vec![
                    (0, obj(vec![("a", Value::Int(1))])),
                    (1000, Value::BackRef(0)),
                    (4_294_967_294, Value::BackRef(1)),
                ],
            },
        ),
    ]);
    v
}

fn messages() -> Vec<(&'static str, Message)> {
    let req = |op: Op| Request {
        seq: 1,
        nested_in: 0,
        target: 0,
        op,
        releases: vec![],
    };
    let r = |id, count| Release { id, count };
    let name_key = Key::String("title".into());
    vec![
        (
            "get",
            Message::Request(req(Op::Get {
                key: name_key.clone(),
            })),
        ),
        (
            "set",
            Message::Request(Request {
                target: 5,
                ..req(Op::Set {
                    key: Key::String("textContent".into()),
                    value: Value::string("hi"),
                })
            }),
        ),
        (
            "has symbol",
            Message::Request(req(Op::Has {
                key: Key::Symbol(JsSymbol::WellKnown(3)),
            })),
        ),
        (
            "delete",
            Message::Request(req(Op::Delete {
                key: Key::String(JsString::from_utf16(&[0xd800])),
            })),
        ),
        ("own_keys", Message::Request(req(Op::OwnKeys))),
        (
            "get_own_property_descriptor",
            Message::Request(req(Op::GetOwnPropertyDescriptor {
                key: Key::Symbol(JsSymbol::WellKnown(11)),
            })),
        ),
        (
            "get registered symbol key",
            Message::Request(req(Op::Get {
                key: Key::Symbol(JsSymbol::Registered("polyscript.js_modules".into())),
            })),
        ),
        (
            "set unique symbol key to a symbol",
            Message::Request(Request {
                target: 3,
                ..req(Op::Set {
                    key: Key::Symbol(JsSymbol::Remote {
                        id: 8,
                        description: Some("private".into()),
                    }),
                    value: Value::Symbol(JsSymbol::Registered("x".into())),
                })
            }),
        ),
        (
            "delete local symbol key",
            Message::Request(req(Op::Delete {
                key: Key::Symbol(JsSymbol::Local(4)),
            })),
        ),
        (
            "define_property",
            Message::Request(req(Op::DefineProperty {
                key: name_key.clone(),
                descriptor: obj(vec![
                    ("value", Value::Int(1)),
                    ("writable", Value::Bool(true)),
                    ("enumerable", Value::Bool(false)),
                    ("configurable", Value::Bool(true)),
                ]),
            })),
        ),
        (
            "get_prototype_of",
            Message::Request(req(Op::GetPrototypeOf)),
        ),
        (
            "set_prototype_of",
            Message::Request(req(Op::SetPrototypeOf { proto: Value::Null })),
        ),
        (
            "describe",
            Message::Request(Request {
                target: 4,
                ..req(Op::Describe)
            }),
        ),
        (
            "apply",
            Message::Request(Request {
                target: 12,
                ..req(Op::Apply {
                    this: Value::Local(3),
                    args: vec![Value::Int(1), Value::Float(0.5)],
                })
            }),
        ),
        (
            "construct",
            Message::Request(req(Op::Construct {
                args: vec![Value::Int(2024), Value::Int(0), Value::Int(1)],
            })),
        ),
        // The Described prefix (docs/protocol.md §3 "Folded into the
        // reply"): before a Get, an Apply or a Construct.
        (
            "described get",
            Message::Request(Request {
                target: 6,
                ..req(Op::Described(Box::new(Op::Get {
                    key: Key::String("body".into()),
                })))
            }),
        ),
        (
            "described apply",
            Message::Request(Request {
                target: 9,
                ..req(Op::Described(Box::new(Op::Apply {
                    this: Value::Remote { kind: 1, id: 4 },
                    args: vec![Value::string("p")],
                })))
            }),
        ),
        (
            "described construct",
            Message::Request(Request {
                target: 2,
                ..req(Op::Described(Box::new(Op::Construct { args: vec![] })))
            }),
        ),
        (
            "call with releases",
            Message::Request(Request {
                seq: 300,
                releases: vec![r(1, 1), r(7, 3), r(70000, 200)],
                ..req(Op::Call {
                    name: "compute".into(),
                    args: vec![Value::Int(1), Value::Int(2)],
                })
            }),
        ),
        (
            "call sharing an object across arguments",
            Message::Request(req(Op::Call {
                name: "f".into(),
                args: vec![
                    obj(vec![("x", Value::Int(1))]),
                    Value::BackRef(0),
                    Value::Remote { kind: 0, id: 4 },
                ],
            })),
        ),
        (
            "call with a transferred buffer",
            Message::Request(req(Op::Call {
                name: "process".into(),
                args: vec![
                    obj(vec![(
                        "data",
                        Value::Transferred {
                            buffer: 0,
                            view: Some(TransferredView {
                                kind: TypedArrayKind::Uint8Array as u8,
                                byte_offset: 0,
                                byte_length: 1024,
                            }),
                        },
                    )]),
                    Value::Transferred {
                        buffer: 1,
                        view: None,
                    },
                ],
            })),
        ),
        (
            "nested request",
            Message::Request(Request {
                seq: 2,
                nested_in: 9,
                target: 0,
                ..req(Op::Call {
                    name: "cb".into(),
                    args: vec![],
                })
            }),
        ),
        (
            "seq max",
            Message::Request(Request {
                seq: u32::MAX,
                nested_in: u32::MAX,
                target: u32::MAX,
                ..req(Op::OwnKeys)
            }),
        ),
        (
            "reply ok undefined",
            Message::Reply(Reply {
                seq: 1,
                outcome: Outcome::Ok(Value::Undefined),
                releases: vec![],
            }),
        ),
        (
            "reply ok remote with releases",
            Message::Reply(Reply {
                seq: 2,
                outcome: Outcome::Ok(Value::Remote { kind: 1, id: 2 }),
                releases: vec![r(5, 1)],
            }),
        ),
        (
            "reply thrown error",
            Message::Reply(Reply {
                seq: 3,
                outcome: Outcome::Thrown(Value::Error(Box::new(ErrorValue {
                    stack: Some("Error: nope\n    at main.js:3:9".into()),
                    ..err("Error", "nope")
                }))),
                releases: vec![],
            }),
        ),
        (
            "reply thrown string",
            Message::Reply(Reply {
                seq: 4,
                outcome: Outcome::Thrown(Value::string("oops")),
                releases: vec![],
            }),
        ),
        ("release", Message::Release(vec![r(1, 2), r(3, 4)])),
        ("release empty", Message::Release(vec![])),
        ("cancel", Message::Cancel { seq: 42 }),
    ]
}

// ------------------------------------------------------------------ descriptions

/// A float as a string that JS `Number(v)` turns back into the same number.
fn float_str(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if x == 0.0 && x.is_sign_negative() {
        "-0".into()
    } else {
        // Shortest round-trip digits; drop Rust's ".0" on integers.
        let s = format!("{x:?}");
        s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
    }
}

/// A little-endian magnitude as decimal digits.
fn decimal(magnitude: &[u8]) -> String {
    let mut limbs: Vec<u8> = magnitude.iter().rev().copied().collect(); // big-endian
    let mut digits = Vec::new();
    while limbs.iter().any(|&b| b != 0) {
        let mut rem = 0u32;
        for b in limbs.iter_mut() {
            let cur = (rem << 8) | *b as u32;
            *b = (cur / 10) as u8;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn js_str(s: &JsString) -> Json {
    match s {
        JsString::Utf8(s) => json!(s),
        JsString::Utf16(_) => json!({ "units": s.to_utf16() }),
    }
}

fn pairs(p: &[(JsString, Value)]) -> Json {
    Json::Array(p.iter().map(|(k, v)| json!([js_str(k), desc(v)])).collect())
}

fn desc(v: &Value) -> Json {
    match v {
        Value::Undefined => json!({"t": "undefined"}),
        Value::Null => json!({"t": "null"}),
        Value::Bool(b) => json!({"t": "bool", "v": b}),
        Value::Int(i) => json!({"t": "int", "v": i}),
        Value::Float(x) => json!({"t": "float", "v": float_str(*x)}),
        Value::BigInt {
            negative,
            magnitude,
        } => {
            let sign = if *negative { "-" } else { "" };
            json!({"t": "bigint", "v": format!("{sign}{}", decimal(magnitude))})
        }
        Value::String(JsString::Utf8(s)) => json!({"t": "string", "v": s}),
        Value::String(s) => json!({"t": "string", "units": s.to_utf16()}),
        Value::ArrayBuffer(b) => json!({"t": "arraybuffer", "hex": hex(b)}),
        Value::TypedArray { kind, bytes } => json!({
            "t": "typedarray",
            "kind": TypedArrayKind::from_u8(*kind).expect("valid kind").js_name(),
            "hex": hex(bytes),
        }),
        Value::Date(x) => json!({"t": "date", "v": float_str(*x)}),
        Value::RegExp { source, flags } => {
            json!({"t": "regexp", "source": js_str(source), "flags": flags})
        }
        Value::Error(e) => json!({
            "t": "error",
            "name": js_str(&e.name),
            "message": js_str(&e.message),
            "stack": e.stack.as_ref().map_or(Json::Null, js_str),
            "cause": e.cause.as_ref().map_or(Json::Null, desc),
            "props": pairs(&e.props),
        }),
        Value::Array(items) => {
            json!({"t": "array", "items": items.iter().map(desc).collect::<Vec<_>>()})
        }
        Value::Object(p) => json!({"t": "object", "entries": pairs(p)}),
        Value::Map(p) => {
            json!({"t": "map", "entries": p.iter().map(|(k, v)| json!([desc(k), desc(v)])).collect::<Vec<_>>()})
        }
        Value::Set(items) => {
            json!({"t": "set", "items": items.iter().map(desc).collect::<Vec<_>>()})
        }
        Value::BackRef(i) => json!({"t": "backref", "index": i}),
        Value::Remote { kind, id } => {
            json!({"t": "remote", "kind": RefKind::from_u8(*kind).expect("valid kind").name(), "id": id})
        }
        Value::Local(id) => json!({"t": "local", "id": id}),
        Value::Symbol(sym) => json!({"t": "symbol", "symbol": sym_desc(sym)}),
        Value::Hole => json!({"t": "hole"}),
        Value::SparseArray { length, entries } => json!({
            "t": "sparse",
            "length": length,
            "entries": entries.iter().map(|(i, v)| json!([i, desc(v)])).collect::<Vec<_>>(),
        }),
        Value::Transferred { buffer, view } => json!({
            "t": "transferred",
            "buffer": buffer,
            "view": view.map(|v| json!({
                "kind": TypedArrayKind::from_u8(v.kind).expect("valid kind").js_name(),
                "byte_offset": v.byte_offset,
                "byte_length": v.byte_length,
            })),
        }),
    }
}

fn sym_desc(sym: &JsSymbol) -> Json {
    match sym {
        JsSymbol::WellKnown(n) => {
            json!({"t": "well_known", "v": n, "name": WELL_KNOWN_SYMBOLS[*n as usize]})
        }
        JsSymbol::Registered(key) => json!({"t": "registered", "key": js_str(key)}),
        JsSymbol::Remote { id, description } => json!({
            "t": "remote",
            "id": id,
            "description": description.as_ref().map_or(Json::Null, js_str),
        }),
        JsSymbol::Local(id) => json!({"t": "local", "id": id}),
    }
}

fn key_desc(k: &Key) -> Json {
    match k {
        Key::String(s) => json!({"t": "string", "v": js_str(s)}),
        Key::Symbol(sym) => json!({"t": "symbol", "symbol": sym_desc(sym)}),
    }
}

fn args(a: &[Value]) -> Json {
    Json::Array(a.iter().map(desc).collect())
}

fn op_desc(op: &Op) -> Json {
    match op {
        Op::Get { key } => json!({"t": "get", "key": key_desc(key)}),
        Op::Set { key, value } => json!({"t": "set", "key": key_desc(key), "value": desc(value)}),
        Op::Has { key } => json!({"t": "has", "key": key_desc(key)}),
        Op::Delete { key } => json!({"t": "delete", "key": key_desc(key)}),
        Op::OwnKeys => json!({"t": "own_keys"}),
        Op::GetOwnPropertyDescriptor { key } => {
            json!({"t": "get_own_property_descriptor", "key": key_desc(key)})
        }
        Op::DefineProperty { key, descriptor } => {
            json!({"t": "define_property", "key": key_desc(key), "descriptor": desc(descriptor)})
        }
        Op::GetPrototypeOf => json!({"t": "get_prototype_of"}),
        Op::SetPrototypeOf { proto } => json!({"t": "set_prototype_of", "proto": desc(proto)}),
        Op::Apply { this, args: a } => json!({"t": "apply", "this": desc(this), "args": args(a)}),
        Op::Construct { args: a } => json!({"t": "construct", "args": args(a)}),
        Op::Call { name, args: a } => json!({"t": "call", "name": js_str(name), "args": args(a)}),
        Op::Describe => json!({"t": "describe"}),
        Op::Described(op) => json!({"t": "described", "op": op_desc(op)}),
    }
}

fn releases(r: &[Release]) -> Json {
    Json::Array(r.iter().map(|r| json!([r.id, r.count])).collect())
}

fn msg_desc(m: &Message) -> Json {
    match m {
        Message::Request(r) => json!({
            "t": "request",
            "seq": r.seq,
            "nested_in": r.nested_in,
            "target": r.target,
            "op": op_desc(&r.op),
            "releases": releases(&r.releases),
        }),
        Message::Reply(r) => {
            let (t, v) = match &r.outcome {
                Outcome::Ok(v) => ("ok", v),
                Outcome::Thrown(v) => ("thrown", v),
            };
            json!({"t": "reply", "seq": r.seq, "outcome": {"t": t, "value": desc(v)}, "releases": releases(&r.releases)})
        }
        Message::Release(r) => json!({"t": "release", "releases": releases(r)}),
        Message::Cancel { seq } => json!({"t": "cancel", "seq": seq}),
    }
}

/// Bytes no encoder writes, and what a decoder must make of them
/// (tests/vectors/decode.json). Every enum variant is a u32 varint
/// (docs/protocol.md §1): a non-minimal varint is read as its value, and an
/// unknown variant of 128 or more is named by its value, not by its first byte.
/// Malformed bytes: one case at least for every kind of decode error, with
/// the offset both decoders must report (docs/protocol.md §1 "Decode
/// errors"), several where the item that failed is not one byte long.
/// Each case is `Ok(message)` or `Err((kind code, offset))`.
#[allow(clippy::type_complexity)]
fn decode_cases() -> Vec<(
    &'static str,
    Vec<u8>,
    Result<Message, (&'static str, usize)>,
)> {
    let get = |key: Key| {
        Message::Request(Request {
            seq: 1,
            nested_in: 0,
            target: 0,
            op: Op::Get { key },
            releases: vec![],
        })
    };
    // Request (0), seq 1, nested_in 0, target 0, Get (0): the Key starts at byte 5.
    let head = [0u8, 1, 0, 0, 0];
    let title = [5u8, b't', b'i', b't', b'l', b'e'];
    let with = |parts: &[&[u8]]| -> Vec<u8> {
        let mut b = head.to_vec();
        parts.iter().for_each(|p| b.extend_from_slice(p));
        b
    };
    vec![
        (
            "Key::Symbol as the two-byte varint 0x81 0x00",
            // Key 1, JsSymbol 0 (well-known), 3 (Symbol.iterator), no releases.
            with(&[&[0x81, 0x00], &[0, 3], &[0]]),
            Ok(get(Key::Symbol(JsSymbol::WellKnown(3)))),
        ),
        (
            "Key::String and JsString::Utf8 as two-byte varints",
            with(&[&[0x80, 0x00], &[0x80, 0x00], &title, &[0]]),
            Ok(get(Key::String("title".into()))),
        ),
        (
            "Key variant 300 (0xac 0x02)",
            with(&[&[0xac, 0x02], &[0], &title, &[0]]),
            Err(("unknown_variant", 5)),
        ),
        (
            "JsString variant 300 (0xac 0x02) in a Key",
            with(&[&[0], &[0xac, 0x02], &title, &[0]]),
            Err(("unknown_variant", 6)),
        ),
        // The Described prefix (Op 13) at byte 4, the op it goes before at 5.
        (
            "the Described prefix as 0x8d 0x00 before a Get",
            vec![
                0, 1, 0, 0, 0x8d, 0x00, 0, 0, 0, 5, b't', b'i', b't', b'l', b'e', 0,
            ],
            Ok(Message::Request(Request {
                seq: 1,
                nested_in: 0,
                target: 0,
                op: Op::Described(Box::new(Op::Get {
                    key: Key::String("title".into()),
                })),
                releases: vec![],
            })),
        ),
        (
            "the Described prefix before a Set",
            // Set (1): Key::String "title", Undefined.
            vec![
                0, 1, 0, 0, 13, 1, 0, 0, 5, b't', b'i', b't', b'l', b'e', 0, 0,
            ],
            Err(("described_prefix", 5)),
        ),
        (
            "the Described prefix before another",
            vec![
                0, 1, 0, 0, 13, 13, 0, 0, 0, 5, b't', b'i', b't', b'l', b'e', 0,
            ],
            Err(("unknown_variant", 5)),
        ),
    ]
    .into_iter()
    .chain(malformed_cases())
    .collect()
}

/// Malformed messages for decode.json: mostly a Reply whose value starts
/// at byte 3 (Reply 1, seq 1, Ok 0; no releases after it).
#[allow(clippy::type_complexity)]
fn malformed_cases() -> Vec<(
    &'static str,
    Vec<u8>,
    Result<Message, (&'static str, usize)>,
)> {
    let reply = |v: &[u8]| -> Vec<u8> {
        let mut b = vec![1u8, 1, 0];
        b.extend_from_slice(v);
        b.push(0);
        b
    };
    // Arrays nested `n` deep around `inner`.
    let nest = |n: usize, inner: &[u8]| -> Vec<u8> {
        let mut b = [12u8, 1].repeat(n);
        b.extend_from_slice(inner);
        b
    };
    vec![
        ("empty input", vec![], Err(("truncated", 0))),
        // The offset of a varint cut short is the varint's first byte.
        (
            "an Int's varint cut short",
            vec![1, 1, 0, 3, 0x80, 0x80],
            Err(("truncated", 4)),
        ),
        (
            "a Float cut short",
            vec![1, 1, 0, 4, 0, 0, 0],
            Err(("truncated", 4)),
        ),
        ("a seq cut short", vec![3], Err(("truncated", 1))),
        (
            "a varint of six bytes",
            reply(&[3, 0xff, 0xff, 0xff, 0xff, 0x8f, 0x00]),
            Err(("varint_too_long", 4)),
        ),
        (
            "a varint over u32::MAX",
            reply(&[3, 0xff, 0xff, 0xff, 0xff, 0x10]),
            Err(("varint_overflow", 4)),
        ),
        (
            "a varint of six bytes as the Message tag",
            vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
            Err(("varint_too_long", 0)),
        ),
        // A length is refused at its first byte, not after it.
        (
            "a string longer than the input",
            reply(&[6, 0, 100]),
            Err(("length_too_large", 5)),
        ),
        (
            "a two-byte string length longer than the input",
            reply(&[6, 0, 0x80, 0x01]),
            Err(("length_too_large", 5)),
        ),
        (
            "an Array count longer than the input",
            vec![1, 1, 0, 12, 50],
            Err(("length_too_large", 4)),
        ),
        (
            "a release list longer than the input",
            vec![2, 5],
            Err(("length_too_large", 1)),
        ),
        (
            "a BigInt magnitude longer than the input",
            vec![1, 1, 0, 5, 0, 9, 1],
            Err(("length_too_large", 5)),
        ),
        // Unknown variants at their first byte, one-byte and two-byte.
        ("Message variant 4", vec![4], Err(("unknown_variant", 0))),
        (
            "Message variant 300 (0xac 0x02)",
            vec![0xac, 0x02],
            Err(("unknown_variant", 0)),
        ),
        (
            "Outcome variant 2",
            vec![1, 1, 2, 0, 0],
            Err(("unknown_variant", 2)),
        ),
        (
            "Outcome variant 2 as 0x82 0x00",
            vec![1, 1, 0x82, 0x00, 0, 0],
            Err(("unknown_variant", 2)),
        ),
        ("Value tag 23", reply(&[23]), Err(("unknown_variant", 3))),
        (
            "Value tag 300 (0xac 0x02)",
            reply(&[0xac, 0x02]),
            Err(("unknown_variant", 3)),
        ),
        (
            "Op variant 14",
            vec![0, 1, 0, 0, 14, 0],
            Err(("unknown_variant", 4)),
        ),
        (
            "Op variant 300 (0xac 0x02)",
            vec![0, 1, 0, 0, 0xac, 0x02, 0],
            Err(("unknown_variant", 4)),
        ),
        (
            "Symbol variant 4 in a Key",
            vec![0, 1, 0, 0, 0, 1, 4, 0],
            Err(("unknown_variant", 6)),
        ),
        (
            "Symbol variant 300 in a Value",
            reply(&[22, 0xac, 0x02]),
            Err(("unknown_variant", 4)),
        ),
        ("bool byte 2", reply(&[2, 2]), Err(("invalid_bool", 4))),
        (
            "Option byte 2 for an Error's stack",
            reply(&[11, 0, 0, 0, 0, 2]),
            Err(("invalid_option", 8)),
        ),
        (
            "Option byte 2 for a Symbol's description",
            reply(&[22, 2, 7, 2]),
            Err(("invalid_option", 6)),
        ),
        // Invalid UTF-8 at the string's length, after its JsString tag.
        (
            "invalid UTF-8 in a string",
            reply(&[6, 0, 2, 0xc3, 0x28]),
            Err(("invalid_utf8", 5)),
        ),
        (
            "invalid UTF-8 in a RegExp's flags",
            reply(&[10, 0, 0, 1, 0xff]),
            Err(("invalid_utf8", 6)),
        ),
        (
            "a byte after a Cancel",
            vec![3, 5, 0],
            Err(("trailing_bytes", 2)),
        ),
        (
            "two bytes after a Reply",
            vec![1, 1, 0, 0, 0, 7, 7],
            Err(("trailing_bytes", 5)),
        ),
        // Depth: refused at the tag of the container at level 513.
        (
            "Arrays 513 deep",
            reply(&nest(513, &[0])),
            Err(("too_deep", 3 + 2 * 512)),
        ),
        (
            "an Error at level 513",
            reply(&nest(512, &[11, 0, 0, 0, 0, 0, 0, 0])),
            Err(("too_deep", 3 + 2 * 512)),
        ),
        (
            "an Object at level 513 with a count longer than the input",
            reply(&nest(512, &[13, 100])),
            Err(("too_deep", 3 + 2 * 512)),
        ),
        (
            "a Hole as the reply's value",
            reply(&[19]),
            Err(("hole_outside_array", 3)),
        ),
        (
            "a Hole as 0x93 0x00 in a Set",
            reply(&[15, 1, 0x93, 0x00]),
            Err(("hole_outside_array", 5)),
        ),
        (
            "a UTF-16 string of 3 bytes",
            reply(&[6, 1, 3, 0x61, 0, 0x62]),
            Err(("odd_utf16", 5)),
        ),
        (
            "TypedArray kind 13",
            reply(&[8, 13, 0]),
            Err(("unknown_typed_array_kind", 4)),
        ),
        (
            "a Float64Array of 3 bytes",
            reply(&[8, 8, 3, 1, 2, 3]),
            Err(("typed_array_length", 4)),
        ),
        (
            "Remote kind 3",
            reply(&[17, 3, 1]),
            Err(("unknown_ref_kind", 4)),
        ),
        (
            "a BigInt magnitude ending in 0x00",
            reply(&[5, 0, 2, 1, 0]),
            Err(("non_canonical_bigint", 5)),
        ),
        (
            "a BigInt negative zero",
            reply(&[5, 1, 0]),
            Err(("non_canonical_bigint", 5)),
        ),
        (
            "BackRef(0) with no object before it",
            reply(&[16, 0]),
            Err(("backref_out_of_range", 3)),
        ),
        (
            "BackRef(1) inside the only object",
            reply(&[12, 1, 16, 1]),
            Err(("backref_out_of_range", 5)),
        ),
        (
            "well-known Symbol 15",
            reply(&[22, 0, 15]),
            Err(("unknown_symbol", 5)),
        ),
        (
            "a SparseArray index that does not increase",
            reply(&[21, 10, 2, 5, 0, 3, 0]),
            Err(("sparse_index", 8)),
        ),
        (
            "a SparseArray index at its length",
            reply(&[21, 2, 1, 2, 0]),
            Err(("sparse_index", 6)),
        ),
        (
            "a transferred Float64Array at byte offset 4",
            reply(&[20, 0, 1, 8, 4, 8]),
            Err(("transferred_view_alignment", 6)),
        ),
        (
            "a transferred view of kind 13",
            reply(&[20, 0, 1, 13, 0, 0]),
            Err(("unknown_typed_array_kind", 6)),
        ),
    ]
}

// ------------------------------------------------------------------ files

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

fn generate_values() -> Json {
    Json::Array(
        values()
            .iter()
            .map(|(name, v)| {
                let bytes = encode_value(v).unwrap_or_else(|e| panic!("{name}: {e}"));
                json!({"name": name, "value": desc(v), "hex": hex(&bytes)})
            })
            .collect(),
    )
}

fn generate_messages() -> Json {
    Json::Array(
        messages()
            .iter()
            .map(|(name, m)| {
                let bytes = encode(m).unwrap_or_else(|e| panic!("{name}: {e}"));
                json!({"name": name, "message": msg_desc(m), "hex": hex(&bytes)})
            })
            .collect(),
    )
}

fn generate_decode() -> Json {
    Json::Array(
        decode_cases()
            .iter()
            .map(|(name, bytes, _)| match decode(bytes) {
                Ok(m) => json!({"name": name, "hex": hex(bytes), "message": msg_desc(&m)}),
                Err(e) => json!({
                    "name": name,
                    "hex": hex(bytes),
                    "kind": e.kind.code(),
                    "error": e.kind.to_string(),
                    "offset": e.offset,
                }),
            })
            .collect(),
    )
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn pretty(j: &Json) -> String {
    let mut s = serde_json::to_string_pretty(j).unwrap();
    s.push('\n');
    s
}

/// Writes the file when UPDATE_VECTORS=1, else checks it equals `generated`.
fn check_file(file: &str, generated: &Json) -> Json {
    let path = vectors_dir().join(file);
    let text = pretty(generated);
    if std::env::var("UPDATE_VECTORS").as_deref() == Ok("1") {
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e}; run `UPDATE_VECTORS=1 cargo test -p bridge-core --test vectors`",
            path.display()
        )
    });
    assert!(
        on_disk == text,
        "tests/vectors/{file} differs from what the code generates: the wire format or the vector list changed. \
         If that is deliberate, run `UPDATE_VECTORS=1 cargo test -p bridge-core --test vectors` and say why in the commit."
    );
    serde_json::from_str(&on_disk).expect("vectors file is JSON")
}

#[test]
fn values_match_the_golden_file() {
    let file = check_file("values.json", &generate_values());
    let entries = file.as_array().unwrap();
    assert_eq!(entries.len(), values().len());
    for e in entries {
        let name = e["name"].as_str().unwrap();
        let bytes = unhex(e["hex"].as_str().unwrap());
        let v = decode_value(&bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(
            desc(&v),
            e["value"],
            "{name}: the hex decodes to another value"
        );
        assert_eq!(
            encode_value(&v).unwrap(),
            bytes,
            "{name}: re-encoding differs"
        );
    }
}

#[test]
fn messages_match_the_golden_file() {
    let file = check_file("messages.json", &generate_messages());
    let entries = file.as_array().unwrap();
    assert_eq!(entries.len(), messages().len());
    for e in entries {
        let name = e["name"].as_str().unwrap();
        let bytes = unhex(e["hex"].as_str().unwrap());
        let m = decode(&bytes).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(
            msg_desc(&m),
            e["message"],
            "{name}: the hex decodes to another message"
        );
        assert_eq!(encode(&m).unwrap(), bytes, "{name}: re-encoding differs");
    }
}

#[test]
fn decode_cases_match_the_golden_file() {
    let file = check_file("decode.json", &generate_decode());
    assert_eq!(file.as_array().unwrap().len(), decode_cases().len());
    for (name, bytes, expected) in decode_cases() {
        match (decode(&bytes), expected) {
            (Ok(m), Ok(want)) => assert_eq!(m, want, "{name}"),
            (Err(e), Err((kind, offset))) => {
                assert_eq!((e.kind.code(), e.offset), (kind, offset), "{name}: {e}")
            }
            (got, want) => panic!("{name}: decoded to {got:?}, the case says {want:?}"),
        }
    }
}

#[test]
fn the_lists_cover_every_variant() {
    let mut tags = [false; 23];
    fn walk(v: &Value, tags: &mut [bool; 23]) {
        tags[v.tag() as usize] = true;
        match v {
            Value::Array(x) | Value::Set(x) => x.iter().for_each(|v| walk(v, tags)),
            Value::Object(p) => p.iter().for_each(|(_, v)| walk(v, tags)),
            Value::SparseArray { entries, .. } => entries.iter().for_each(|(_, v)| walk(v, tags)),
            Value::Map(p) => p.iter().for_each(|(k, v)| {
                walk(k, tags);
                walk(v, tags)
            }),
            Value::Error(e) => {
                e.cause.iter().for_each(|v| walk(v, tags));
                e.props.iter().for_each(|(_, v)| walk(v, tags));
            }
            _ => {}
        }
    }
    values().iter().for_each(|(_, v)| walk(v, &mut tags));
    assert!(tags.iter().all(|&t| t), "value tags not covered: {tags:?}");
    let kinds: Vec<u8> = values()
        .iter()
        .filter_map(|(_, v)| match v {
            Value::TypedArray { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert!((0..13).all(|k| kinds.contains(&k)));
    let symbols: std::collections::BTreeSet<&str> = values()
        .iter()
        .flat_map(|(_, v)| match v {
            Value::Array(items) => items.clone(),
            v => vec![v.clone()],
        })
        .filter_map(|v| match v {
            Value::Symbol(s) => Some(sym_desc(&s)["t"].as_str().unwrap().to_owned()),
            _ => None,
        })
        .map(|t| match t.as_str() {
            "well_known" => "well_known",
            "registered" => "registered",
            "remote" => "remote",
            _ => "local",
        })
        .collect();
    assert_eq!(symbols.len(), 4, "symbol variants covered: {symbols:?}");
    let ops: std::collections::BTreeSet<String> = messages()
        .iter()
        .filter_map(|(_, m)| match m {
            Message::Request(r) => Some(op_desc(&r.op)["t"].as_str().unwrap().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(ops.len(), 14, "ops covered: {ops:?}");
    let msg_tags: std::collections::BTreeSet<&str> = messages()
        .iter()
        .map(|(_, m)| match m {
            Message::Request(_) => "request",
            Message::Reply(r) if matches!(r.outcome, Outcome::Ok(_)) => "ok",
            Message::Reply(_) => "thrown",
            Message::Release(_) => "release",
            Message::Cancel { .. } => "cancel",
        })
        .collect();
    assert_eq!(msg_tags.len(), 5);
}

#[test]
fn descriptions_helpers() {
    assert_eq!(decimal(&[]), "0");
    assert_eq!(
        decimal(&[1, 0, 0, 0, 0, 0, 0, 0, 1]),
        "18446744073709551617"
    );
    assert_eq!(decimal(&255u64.to_le_bytes()[..1]), "255");
    assert_eq!(float_str(2147483648.0), "2147483648");
    assert_eq!(float_str(0.1), "0.1");
    assert_eq!(float_str(1e300), "1e300");
    assert_eq!(float_str(-0.0), "-0");
    // Spot-check bytes against docs/protocol.md by hand, independent of postcard:
    // Int(-1) is tag 3, zigzag 1.
    assert_eq!(encode_value(&Value::Int(-1)).unwrap(), [3, 1]);
    // Float(NaN) is tag 4 then 0x7ff8000000000000 little-endian.
    assert_eq!(
        encode_value(&Value::Float(f64::NAN)).unwrap(),
        [4, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f]
    );
    // A lone high surrogate: tag 6, JsString 1, length 2, 0xd800 LE.
    assert_eq!(
        encode_value(&Value::String(JsString::from_utf16(&[0xd800]))).unwrap(),
        [6, 1, 2, 0x00, 0xd8]
    );
    // Cancel { seq: 300 }: tag 3, varint 300 = ac 02.
    assert_eq!(
        encode(&Message::Cancel { seq: 300 }).unwrap(),
        [3, 0xac, 0x02]
    );
}
