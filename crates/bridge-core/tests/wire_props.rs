//! Property tests of the wire codec: every valid message survives
//! encode -> decode unchanged, its length is what docs/protocol.md §1 says, and
//! `Value::number` follows the Int/Float rule.

use bridge_core::message::{
    Key, Message, Op, Outcome, Release, Reply, Request, WELL_KNOWN_SYMBOLS,
};
use bridge_core::value::{
    canonical_f64, ErrorValue, JsString, JsSymbol, TransferredView, TypedArrayKind, Value,
    CANONICAL_NAN_BITS,
};
use bridge_core::wire::{decode, decode_value, encode, encode_into, encode_value};
use proptest::prelude::*;

// ------------------------------------------------------------------ strategies

fn arb_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        1 => prop_oneof![
            Just(f64::NAN),
            Just(-f64::NAN),
            Just(f64::from_bits(0x7ff0_0000_0000_0001)), // a signalling NaN with a payload
            Just(0.0),
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(2147483648.0),
            Just(-2147483648.0),
            Just(0.5),
        ],
        2 => any::<i32>().prop_map(f64::from),
    ]
}

fn arb_js_string() -> BoxedStrategy<JsString> {
    prop_oneof![
        3 => ".{0,12}".prop_map(JsString::Utf8),
        // Arbitrary code units: mostly ill-formed surrogates, picked by from_utf16.
        2 => prop::collection::vec(
            prop_oneof![any::<u16>(), 0xd800u16..0xe000, 0x20u16..0x80],
            0..8
        )
        .prop_map(|u| JsString::from_utf16(&u)),
        // Utf16 carrying well-formed text is unusual but valid.
        1 => prop::collection::vec(0x20u16..0x80, 0..4).prop_map(|u| JsString::Utf16(
            u.iter().flat_map(|x| x.to_le_bytes()).collect()
        )),
    ]
    .boxed()
}

fn arb_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Undefined),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::Int),
        arb_f64().prop_map(Value::Float),
        arb_f64().prop_map(Value::number),
        (any::<bool>(), arb_bytes(20)).prop_map(|(negative, mut magnitude)| {
            while magnitude.last() == Some(&0) {
                magnitude.pop();
            }
            Value::BigInt {
                negative: negative && !magnitude.is_empty(),
                magnitude,
            }
        }),
        arb_js_string().prop_map(Value::String),
        arb_bytes(24).prop_map(Value::ArrayBuffer),
        (0u8..13, 0usize..6).prop_flat_map(|(kind, n)| {
            let size = TypedArrayKind::from_u8(kind).unwrap().element_size();
            prop::collection::vec(any::<u8>(), n * size)
                .prop_map(move |bytes| Value::TypedArray { kind, bytes })
        }),
        arb_f64().prop_map(Value::Date),
        (arb_js_string(), "[dgimsuvy]{0,3}")
            .prop_map(|(source, flags)| Value::RegExp { source, flags }),
        any::<u32>().prop_map(Value::BackRef), // made valid by `fix_refs`
        (0u8..3, any::<u32>()).prop_map(|(kind, id)| Value::Remote { kind, id }),
        any::<u32>().prop_map(Value::Local),
        arb_symbol().prop_map(Value::Symbol),
        Just(Value::Hole), // kept only inside arrays by `fix_refs`
        (
            any::<u32>(),
            prop::option::of((0u8..13, 0u32..1000, 0u32..1000))
        )
            .prop_map(|(buffer, view)| Value::Transferred {
                buffer,
                view: view.map(|(kind, off, len)| {
                    let size = TypedArrayKind::from_u8(kind).unwrap().element_size() as u32;
                    TransferredView {
                        kind,
                        byte_offset: off * size,
                        byte_length: len * size,
                    }
                }),
            }),
    ]
}

fn arb_value_raw() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(5, 96, 6, |inner| {
        let pairs = prop::collection::vec((arb_js_string(), inner.clone()), 0..6);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            pairs.clone().prop_map(Value::Object),
            prop::collection::vec((inner.clone(), inner.clone()), 0..4).prop_map(Value::Map),
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Set),
            // Sparse arrays: increasing indices below the length.
            (
                any::<u32>(),
                prop::collection::btree_map(any::<u32>(), inner.clone(), 0..4)
            )
                .prop_map(|(extra, entries)| {
                    let top = entries.keys().next_back().map_or(0, |&i| u64::from(i) + 1);
                    let length = (top + u64::from(extra % 1000)).min(u64::from(u32::MAX)) as u32;
                    let entries: Vec<(u32, Value)> =
                        entries.into_iter().filter(|(i, _)| *i < length).collect();
                    Value::SparseArray { length, entries }
                }),
            (
                arb_js_string(),
                arb_js_string(),
                prop::option::of(arb_js_string()),
                prop::option::of(inner.clone()),
                pairs
            )
                .prop_map(|(name, message, stack, cause, props)| {
                    Value::Error(Box::new(ErrorValue {
                        name,
                        message,
                        stack,
                        cause,
                        props,
                    }))
                }),
        ]
    })
}

/// Makes a generated value valid: a `BackRef` points at an object written
/// before it (or becomes `Null` when there is none), a `Hole` outside an
/// array becomes `Undefined`. `count` is the object index space, shared by
/// all values of one message.
fn fix_refs(v: &mut Value, in_array: bool, count: &mut u32) {
    if v.is_indexed_object() {
        *count += 1;
    }
    match v {
        Value::BackRef(i) => {
            if *count == 0 {
                *v = Value::Null;
            } else {
                *i %= *count;
            }
        }
        Value::Hole if !in_array => *v = Value::Undefined,
        Value::Array(items) => items.iter_mut().for_each(|x| fix_refs(x, true, count)),
        Value::Set(items) => items.iter_mut().for_each(|x| fix_refs(x, false, count)),
        Value::SparseArray { entries, .. } => entries
            .iter_mut()
            .for_each(|(_, x)| fix_refs(x, false, count)),
        Value::Object(pairs) => pairs
            .iter_mut()
            .for_each(|(_, x)| fix_refs(x, false, count)),
        Value::Map(pairs) => pairs.iter_mut().for_each(|(k, x)| {
            fix_refs(k, false, count);
            fix_refs(x, false, count);
        }),
        Value::Error(e) => {
            if let Some(c) = &mut e.cause {
                fix_refs(c, false, count);
            }
            e.props
                .iter_mut()
                .for_each(|(_, x)| fix_refs(x, false, count));
        }
        _ => {}
    }
}

pub fn arb_value() -> impl Strategy<Value = Value> {
    arb_value_raw().prop_map(|mut v| {
        fix_refs(&mut v, false, &mut 0);
        v
    })
}

fn arb_symbol() -> impl Strategy<Value = JsSymbol> {
    prop_oneof![
        (0..WELL_KNOWN_SYMBOLS.len() as u8).prop_map(JsSymbol::WellKnown),
        arb_js_string().prop_map(JsSymbol::Registered),
        (any::<u32>(), prop::option::of(arb_js_string()))
            .prop_map(|(id, description)| JsSymbol::Remote { id, description }),
        any::<u32>().prop_map(JsSymbol::Local),
    ]
}

fn arb_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        arb_js_string().prop_map(Key::String),
        arb_symbol().prop_map(Key::Symbol),
    ]
}

fn arb_releases() -> impl Strategy<Value = Vec<Release>> {
    prop::collection::vec(
        (any::<u32>(), any::<u32>()).prop_map(|(id, count)| Release { id, count }),
        0..4,
    )
}

fn arb_args() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(arb_value_raw(), 0..4)
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        arb_key().prop_map(|key| Op::Get { key }),
        (arb_key(), arb_value_raw()).prop_map(|(key, value)| Op::Set { key, value }),
        arb_key().prop_map(|key| Op::Has { key }),
        arb_key().prop_map(|key| Op::Delete { key }),
        Just(Op::OwnKeys),
        Just(Op::Describe),
        arb_key().prop_map(|key| Op::GetOwnPropertyDescriptor { key }),
        (arb_key(), arb_value_raw())
            .prop_map(|(key, descriptor)| Op::DefineProperty { key, descriptor }),
        Just(Op::GetPrototypeOf),
        arb_value_raw().prop_map(|proto| Op::SetPrototypeOf { proto }),
        (arb_value_raw(), arb_args()).prop_map(|(this, args)| Op::Apply { this, args }),
        arb_args().prop_map(|args| Op::Construct { args }),
        (arb_js_string(), arb_args()).prop_map(|(name, args)| Op::Call { name, args }),
        // The Described prefix, before the three ops it may precede.
        arb_key().prop_map(|key| Op::Described(Box::new(Op::Get { key }))),
        (arb_value_raw(), arb_args())
            .prop_map(|(this, args)| Op::Described(Box::new(Op::Apply { this, args }))),
        arb_args().prop_map(|args| Op::Described(Box::new(Op::Construct { args }))),
    ]
}

/// Applies `fix_refs` to a message's values in field order, one index space.
fn fix_message(m: &mut Message) {
    let count = &mut 0;
    match m {
        Message::Request(r) => match &mut r.op {
            Op::Described(op) => match &mut **op {
                Op::Apply { this, args } => {
                    fix_refs(this, false, count);
                    args.iter_mut().for_each(|a| fix_refs(a, false, count));
                }
                Op::Construct { args } => args.iter_mut().for_each(|a| fix_refs(a, false, count)),
                _ => {}
            },
            Op::Set { value: v, .. }
            | Op::DefineProperty { descriptor: v, .. }
            | Op::SetPrototypeOf { proto: v } => fix_refs(v, false, count),
            Op::Apply { this, args } => {
                fix_refs(this, false, count);
                args.iter_mut().for_each(|a| fix_refs(a, false, count));
            }
            Op::Construct { args } | Op::Call { args, .. } => {
                args.iter_mut().for_each(|a| fix_refs(a, false, count))
            }
            _ => {}
        },
        Message::Reply(r) => match &mut r.outcome {
            Outcome::Ok(v) | Outcome::Thrown(v) => fix_refs(v, false, count),
        },
        _ => {}
    }
}

pub fn arb_message() -> impl Strategy<Value = Message> {
    prop_oneof![
        4 => (any::<u32>(), any::<u32>(), any::<u32>(), arb_op(), arb_releases()).prop_map(
            |(seq, nested_in, target, op, releases)| Message::Request(Request { seq, nested_in, target, op, releases })
        ),
        2 => (any::<u32>(), any::<bool>(), arb_value_raw(), arb_releases()).prop_map(|(seq, ok, v, releases)| {
            let outcome = if ok { Outcome::Ok(v) } else { Outcome::Thrown(v) };
            Message::Reply(Reply { seq, outcome, releases })
        }),
        1 => arb_releases().prop_map(Message::Release),
        1 => any::<u32>().prop_map(|seq| Message::Cancel { seq }),
    ]
    .prop_map(|mut m| {
        fix_message(&mut m);
        m
    })
}

// ------------------------------------------------------------------ spec length

/// The encoded length by the rules of docs/protocol.md §1, computed
/// independently of the codec.
fn varint_len(n: u64) -> usize {
    let mut len = 1;
    let mut n = n >> 7;
    while n != 0 {
        len += 1;
        n >>= 7;
    }
    len
}

fn bytes_len(n: usize) -> usize {
    varint_len(n as u64) + n
}

fn js_len(s: &JsString) -> usize {
    1 + match s {
        JsString::Utf8(s) => bytes_len(s.len()),
        JsString::Utf16(b) => bytes_len(b.len()),
    }
}

fn pairs_len(p: &[(JsString, Value)]) -> usize {
    varint_len(p.len() as u64)
        + p.iter()
            .map(|(k, v)| js_len(k) + value_len(v))
            .sum::<usize>()
}

fn list_len(items: &[Value]) -> usize {
    varint_len(items.len() as u64) + items.iter().map(value_len).sum::<usize>()
}

fn value_len(v: &Value) -> usize {
    let tag = varint_len(v.tag() as u64);
    tag + match v {
        Value::Undefined | Value::Null | Value::Hole => 0,
        Value::Bool(_) => 1,
        Value::Int(i) => varint_len((((*i as i64) << 1) ^ ((*i as i64) >> 63)) as u32 as u64),
        Value::Float(_) | Value::Date(_) => 8,
        Value::BigInt { magnitude, .. } => 1 + bytes_len(magnitude.len()),
        Value::String(s) => js_len(s),
        Value::ArrayBuffer(b) => bytes_len(b.len()),
        Value::TypedArray { bytes, .. } => 1 + bytes_len(bytes.len()),
        Value::RegExp { source, flags } => js_len(source) + bytes_len(flags.len()),
        Value::Error(e) => {
            js_len(&e.name)
                + js_len(&e.message)
                + 1
                + e.stack.as_ref().map_or(0, js_len)
                + 1
                + e.cause.as_ref().map_or(0, value_len)
                + pairs_len(&e.props)
        }
        Value::Array(items) | Value::Set(items) => list_len(items),
        Value::Object(p) => pairs_len(p),
        Value::SparseArray { length, entries } => {
            varint_len(u64::from(*length))
                + varint_len(entries.len() as u64)
                + entries
                    .iter()
                    .map(|(i, v)| varint_len(u64::from(*i)) + value_len(v))
                    .sum::<usize>()
        }
        Value::Map(p) => {
            varint_len(p.len() as u64)
                + p.iter()
                    .map(|(k, v)| value_len(k) + value_len(v))
                    .sum::<usize>()
        }
        Value::BackRef(i) | Value::Local(i) => varint_len(*i as u64),
        Value::Remote { id, .. } => 1 + varint_len(*id as u64),
        Value::Transferred { buffer, view } => {
            varint_len(*buffer as u64)
                + 1
                + view.map_or(0, |v| {
                    1 + varint_len(v.byte_offset as u64) + varint_len(v.byte_length as u64)
                })
        }
        Value::Symbol(sym) => symbol_len(sym),
    }
}

fn symbol_len(sym: &JsSymbol) -> usize {
    1 + match sym {
        JsSymbol::WellKnown(_) => 1,
        JsSymbol::Registered(key) => js_len(key),
        JsSymbol::Remote { id, description } => {
            varint_len(*id as u64) + 1 + description.as_ref().map_or(0, js_len)
        }
        JsSymbol::Local(id) => varint_len(*id as u64),
    }
}

fn key_len(k: &Key) -> usize {
    1 + match k {
        Key::String(s) => js_len(s),
        Key::Symbol(sym) => symbol_len(sym),
    }
}

fn releases_len(r: &[Release]) -> usize {
    varint_len(r.len() as u64)
        + r.iter()
            .map(|r| varint_len(r.id as u64) + varint_len(r.count as u64))
            .sum::<usize>()
}

fn message_len(m: &Message) -> usize {
    1 + match m {
        Message::Request(r) => {
            varint_len(r.seq as u64)
                + varint_len(r.nested_in as u64)
                + varint_len(r.target as u64)
                + op_len(&r.op)
                + releases_len(&r.releases)
        }
        Message::Reply(r) => {
            let v = match &r.outcome {
                Outcome::Ok(v) | Outcome::Thrown(v) => v,
            };
            varint_len(r.seq as u64) + 1 + value_len(v) + releases_len(&r.releases)
        }
        Message::Release(r) => releases_len(r),
        Message::Cancel { seq } => varint_len(*seq as u64),
    }
}

/// An op's variant and fields (a Described prefix: its variant, then the op's).
fn op_len(op: &Op) -> usize {
    varint_len(op_tag(op))
        + match op {
            Op::Get { key }
            | Op::Has { key }
            | Op::Delete { key }
            | Op::GetOwnPropertyDescriptor { key } => key_len(key),
            Op::Set { key, value: v } | Op::DefineProperty { key, descriptor: v } => {
                key_len(key) + value_len(v)
            }
            Op::OwnKeys | Op::GetPrototypeOf | Op::Describe => 0,
            Op::SetPrototypeOf { proto } => value_len(proto),
            Op::Apply { this, args } => value_len(this) + list_len(args),
            Op::Construct { args } => list_len(args),
            Op::Call { name, args } => js_len(name) + list_len(args),
            Op::Described(op) => op_len(op),
        }
}

fn op_tag(op: &Op) -> u64 {
    match op {
        Op::Get { .. } => 0,
        Op::Set { .. } => 1,
        Op::Has { .. } => 2,
        Op::Delete { .. } => 3,
        Op::OwnKeys => 4,
        Op::GetOwnPropertyDescriptor { .. } => 5,
        Op::DefineProperty { .. } => 6,
        Op::GetPrototypeOf => 7,
        Op::SetPrototypeOf { .. } => 8,
        Op::Apply { .. } => 9,
        Op::Construct { .. } => 10,
        Op::Call { .. } => 11,
        Op::Describe => 12,
        Op::Described(_) => 13,
    }
}

/// Every float in the encoding of `v` is written with the canonical NaN.
fn floats_canonical(bytes: &[u8], v: &Value) -> bool {
    match v {
        Value::Float(x) | Value::Date(x) if x.is_nan() => {
            bytes.len() == 9 && bytes[1..] == CANONICAL_NAN_BITS.to_le_bytes()
        }
        _ => true,
    }
}

// ------------------------------------------------------------------ properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn value_round_trips(v in arb_value()) {
        let bytes = encode_value(&v).unwrap();
        prop_assert_eq!(bytes.len(), value_len(&v), "spec length of {:?}", v);
        prop_assert!(floats_canonical(&bytes, &v));
        let back = decode_value(&bytes).unwrap();
        prop_assert!(back.wire_eq(&v), "{:?} came back as {:?}", v, back);
        // Encoding the decoded value gives the same bytes (the format is canonical
        // for everything the encoder writes).
        prop_assert_eq!(encode_value(&back).unwrap(), bytes);
    }

    #[test]
    fn message_round_trips(m in arb_message()) {
        let bytes = encode(&m).unwrap();
        prop_assert_eq!(bytes.len(), message_len(&m), "spec length of {:?}", m);
        let back = decode(&bytes).unwrap();
        prop_assert!(back.wire_eq(&m), "{:?} came back as {:?}", m, back);
        // encode_into reuses a dirty buffer and gives the same bytes.
        let mut buf = vec![0xaa; 7];
        encode_into(&m, &mut buf).unwrap();
        prop_assert_eq!(buf, bytes);
    }

    #[test]
    fn number_picks_int_exactly_by_the_rule(n in arb_f64()) {
        // Stated differently from the implementation: `as i32` saturates
        // (and maps NaN to 0), so only in-range integers survive the trip.
        let is_int_rule = (n as i32) as f64 == n && !(n == 0.0 && n.is_sign_negative());
        match Value::number(n) {
            Value::Int(i) => {
                prop_assert!(is_int_rule, "{} became Int", n);
                prop_assert_eq!(i as f64, n);
            }
            Value::Float(x) => {
                prop_assert!(!is_int_rule, "{} became Float", n);
                prop_assert_eq!(canonical_f64(x).to_bits(), canonical_f64(n).to_bits());
            }
            other => prop_assert!(false, "number({}) gave {:?}", n, other),
        }
    }

    #[test]
    fn js_string_from_utf16_round_trips(units in prop::collection::vec(any::<u16>(), 0..16)) {
        let s = JsString::from_utf16(&units);
        prop_assert_eq!(s.to_utf16(), units.clone());
        prop_assert_eq!(matches!(s, JsString::Utf8(_)), String::from_utf16(&units).is_ok());
    }
}

#[test]
fn number_edges() {
    let int = |n: f64| match Value::number(n) {
        Value::Int(i) => Some(i),
        Value::Float(_) => None,
        other => panic!("number({n}) gave {other:?}"),
    };
    assert_eq!(int(0.0), Some(0));
    assert_eq!(int(-0.0), None, "-0 must stay a Float");
    assert_eq!(int(-1.0), Some(-1));
    assert_eq!(int(2147483647.0), Some(i32::MAX));
    assert_eq!(int(2147483648.0), None, "2^31 is out of i32 range");
    assert_eq!(int(-2147483648.0), Some(i32::MIN));
    assert_eq!(int(-2147483649.0), None);
    assert_eq!(int(0.5), None);
    assert_eq!(int(f64::NAN), None);
    assert_eq!(int(f64::INFINITY), None);
    assert_eq!(int(f64::NEG_INFINITY), None);
    assert_eq!(int(1e300), None);
    assert!(matches!(Value::number(-0.0), Value::Float(x) if x.to_bits() == (-0.0f64).to_bits()));
}

#[test]
fn nan_payloads_are_canonicalised() {
    for bits in [
        0x7ff0_0000_0000_0001u64,
        0xfff8_0000_0000_0000,
        0x7fff_ffff_ffff_ffff,
    ] {
        let v = Value::Date(f64::from_bits(bits));
        let bytes = encode_value(&v).unwrap();
        assert_eq!(
            bytes[1..],
            CANONICAL_NAN_BITS.to_le_bytes(),
            "NaN 0x{bits:016x} written as-is"
        );
        // The decoder canonicalises NaNs it reads, whatever the payload.
        let mut raw = vec![4];
        raw.extend_from_slice(&bits.to_le_bytes());
        match decode_value(&raw).unwrap() {
            Value::Float(x) => assert_eq!(x.to_bits(), CANONICAL_NAN_BITS),
            other => panic!("decoded {other:?}"),
        }
    }
}

#[test]
fn shared_objects_share_one_index_space_across_a_message() {
    let obj = Value::Object(vec![("x".into(), Value::Int(1))]);
    let m = Message::Request(Request {
        seq: 1,
        nested_in: 0,
        target: 0,
        op: Op::Call {
            name: "f".into(),
            args: vec![obj, Value::BackRef(0)],
        },
        releases: vec![],
    });
    assert!(decode(&encode(&m).unwrap()).unwrap().wire_eq(&m));
    // A back-reference to an object of a later argument is refused by both sides.
    let bad = Message::Request(Request {
        seq: 1,
        nested_in: 0,
        target: 0,
        op: Op::Call {
            name: "f".into(),
            args: vec![Value::BackRef(0), Value::Object(vec![])],
        },
        releases: vec![],
    });
    assert!(encode(&bad).is_err());
}
