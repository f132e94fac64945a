//! Hostile input: decoding arbitrary bytes never panics, never overflows the
//! stack, never allocates without bound, and fails with the specific error.

use bridge_core::message::{Key, Message, Op, Outcome, Release, Reply, Request};
use bridge_core::value::{ErrorValue, JsString, JsSymbol, TransferredView, Value};
use bridge_core::wire::{
    decode, decode_value, encode, encode_value, DecodeError, DecodeErrorKind, EncodeError, Invalid,
    MAX_DEPTH,
};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

// ------------------------------------------------------------ allocation meter

/// Counts the bytes allocated by the thread that turned metering on, so a test
/// can bound what one decode allocates while other tests run in parallel.
struct Meter;

thread_local! {
    static METERING: Cell<bool> = const { Cell::new(false) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    // try_with: the thread-locals may be gone while a thread shuts down.
    let _ = METERING.try_with(|on| {
        if on.get() {
            let live = LIVE.with(|l| {
                l.set(l.get() + delta);
                l.get()
            });
            PEAK.with(|p| p.set(p.get().max(live)));
        }
    });
}

// SAFETY: every method forwards to `System` unchanged with the same layout
// and pointer; the bookkeeping touches only const-initialised thread-locals
// (no allocation, no re-entry).
unsafe impl GlobalAlloc for Meter {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        // SAFETY: the caller upholds `alloc`'s contract; passed through.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize));
        // SAFETY: `ptr` came from `System` with this layout (all allocations go through it).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize);
        // SAFETY: as for `dealloc`; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Meter = Meter;

/// Runs `f` and returns its result with the peak bytes it held allocated.
fn peak_allocation<T>(f: impl FnOnce() -> T) -> (T, isize) {
    LIVE.with(|l| l.set(0));
    PEAK.with(|p| p.set(0));
    METERING.with(|m| m.set(true));
    let out = f();
    METERING.with(|m| m.set(false));
    (out, PEAK.with(|p| p.get()))
}

// ------------------------------------------------------------ helpers

fn kind_of(r: Result<Value, DecodeError>) -> DecodeErrorKind {
    match r {
        Ok(v) => panic!("decoded hostile bytes as {v:?}"),
        Err(e) => e.kind,
    }
}

fn msg_kind(r: Result<Message, DecodeError>) -> DecodeErrorKind {
    match r {
        Ok(m) => panic!("decoded hostile bytes as {m:?}"),
        Err(e) => e.kind,
    }
}

fn invalid(i: Invalid) -> DecodeErrorKind {
    DecodeErrorKind::Invalid(i)
}

/// Valid messages rich in every variant, the seeds that mutations start from.
fn corpus() -> Vec<Vec<u8>> {
    let err = Value::Error(Box::new(ErrorValue {
        name: "TypeError".into(),
        message: JsString::from_utf16(&[0xd800, 0x61]),
        stack: Some("at f (x.js:1:2)".into()),
        cause: Some(Value::Error(Box::new(ErrorValue::new("Error", "inner")))),
        props: vec![("code".into(), Value::Int(42))],
    }));
    let tree = Value::Array(vec![
        Value::Int(-5),
        Value::Hole,
        Value::Float(0.1),
        Value::BigInt {
            negative: true,
            magnitude: vec![1, 2, 3],
        },
        Value::String("héllo".into()),
        Value::ArrayBuffer(vec![1, 2, 3]),
        Value::TypedArray {
            kind: 8,
            bytes: 1.5f64.to_le_bytes().to_vec(),
        },
        Value::Date(1.7e12),
        Value::RegExp {
            source: "a+b".into(),
            flags: "gi".into(),
        },
        err,
        Value::Object(vec![
            ("self".into(), Value::BackRef(0)),
            ("n".into(), Value::Null),
        ]),
        Value::Map(vec![(Value::Object(vec![]), Value::Bool(true))]),
        Value::Set(vec![Value::Undefined, Value::Local(3)]),
        Value::Remote { kind: 0, id: 9 },
        Value::Symbol(JsSymbol::Registered("polyscript.js_modules".into())),
        Value::Symbol(JsSymbol::Remote {
            id: 4,
            description: Some("tag".into()),
        }),
        Value::Symbol(JsSymbol::Local(2)),
        Value::Symbol(JsSymbol::WellKnown(3)),
    ]);
    let req = |op| {
        Message::Request(Request {
            seq: 7,
            nested_in: 2,
            target: 1,
            op,
            releases: vec![Release { id: 3, count: 2 }],
        })
    };
    let msgs = vec![
        Message::Reply(Reply {
            seq: 7,
            outcome: Outcome::Ok(tree.clone()),
            releases: vec![],
        }),
        Message::Reply(Reply {
            seq: 300,
            outcome: Outcome::Thrown(tree.clone()),
            releases: vec![Release { id: 1, count: 1 }],
        }),
        req(Op::Call {
            name: "compute".into(),
            args: vec![tree.clone(), Value::BackRef(1)],
        }),
        req(Op::Apply {
            this: Value::Undefined,
            args: vec![Value::Int(1), tree.clone()],
        }),
        req(Op::Set {
            key: Key::Symbol(JsSymbol::WellKnown(3)),
            value: tree.clone(),
        }),
        req(Op::DefineProperty {
            key: "k".into(),
            descriptor: Value::Object(vec![("value".into(), Value::Int(1))]),
        }),
        req(Op::Get {
            key: Key::String(JsString::from_utf16(&[0xdc00])),
        }),
        Message::Release(vec![
            Release { id: 1, count: 3 },
            Release {
                id: 70000,
                count: 1,
            },
        ]),
        Message::Cancel { seq: u32::MAX },
    ];
    msgs.iter()
        .map(|m| encode(m).expect("corpus message encodes"))
        .collect()
}

/// Runs `f` on a thread with a small stack: a recursive decoder would overflow it.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("spawn a test thread")
        .join()
        .expect("decoding on a 256 KiB stack panicked or overflowed")
}

// ------------------------------------------------------------ properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&bytes);
        let _ = decode_value(&bytes);
    }

    /// Random bytes behind a plausible prefix reach deeper into the decoder.
    #[test]
    fn random_bytes_after_a_valid_prefix_never_panic(
        prefix in prop::sample::select(vec![vec![1u8, 5, 0], vec![0, 1, 0, 0, 11, 0, 1, 7], vec![0, 1, 0, 0, 9]]),
        // Mostly small bytes: they are valid tags, lengths and kinds.
        tail in prop::collection::vec(prop_oneof![0u8..24, any::<u8>()], 0..256),
    ) {
        let mut bytes = prefix;
        bytes.extend_from_slice(&tail);
        if let Ok(m) = decode(&bytes) {
            // Whatever the decoder accepts, the encoder accepts and writes back.
            let again = encode(&m).expect("a decoded message re-encodes");
            prop_assert!(decode(&again).unwrap().wire_eq(&m));
        }
        let _ = decode_value(&tail);
    }

    #[test]
    fn truncated_encodings_fail_as_truncated(seed in 0usize..9, cut in any::<prop::sample::Index>()) {
        let bytes = &corpus()[seed];
        let cut = cut.index(bytes.len());
        let kind = msg_kind(decode(&bytes[..cut]));
        prop_assert!(
            matches!(kind, DecodeErrorKind::Truncated { .. } | DecodeErrorKind::LengthTooLarge { .. }),
            "a prefix of {} bytes failed with {:?}", cut, kind
        );
    }

    #[test]
    fn flipped_encodings_never_panic(seed in 0usize..9, at in any::<prop::sample::Index>(), mask in 1u8..=255) {
        let mut bytes = corpus()[seed].clone();
        let i = at.index(bytes.len());
        bytes[i] ^= mask;
        if let Ok(m) = decode(&bytes) {
            let again = encode(&m).expect("a decoded message re-encodes");
            prop_assert!(decode(&again).unwrap().wire_eq(&m));
        }
    }

    #[test]
    fn spliced_encodings_never_panic(
        seed in 0usize..9,
        other in 0usize..9,
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
        c in any::<prop::sample::Index>(),
        d in any::<prop::sample::Index>(),
    ) {
        let corpus = corpus();
        let (x, y) = (&corpus[seed], &corpus[other]);
        // Start of one message, then a slice of another, then the end of the first.
        let (i, j) = (a.index(x.len()), b.index(x.len()));
        let (lo, hi) = (i.min(j), i.max(j));
        let (k, l) = (c.index(y.len()), d.index(y.len()));
        let mut bytes = x[..lo].to_vec();
        bytes.extend_from_slice(&y[k.min(l)..k.max(l)]);
        bytes.extend_from_slice(&x[hi..]);
        if let Ok(m) = decode(&bytes) {
            let again = encode(&m).expect("a decoded message re-encodes");
            prop_assert!(decode(&again).unwrap().wire_eq(&m));
        }
    }
}

// ------------------------------------------------------------ crafted cases

#[test]
fn a_mebibyte_of_nested_array_tags_fails_without_overflowing_the_stack() {
    let bytes: Vec<u8> = [12u8, 1].repeat(512 * 1024);
    let err = on_small_stack(move || decode_value(&bytes).unwrap_err());
    assert_eq!(err.kind, invalid(Invalid::TooDeep));
    assert_eq!(
        err.offset,
        2 * MAX_DEPTH,
        "fails at the first array past the limit"
    );
    assert_eq!(
        err.to_string(),
        "wire: nesting deeper than 512 at offset 1024"
    );
}

#[test]
fn other_deep_nestings_fail_too() {
    // Error causes: name "", message "", no stack, a cause; repeated.
    let errors: Vec<u8> = [11u8, 0, 0, 0, 0, 0, 1].repeat(100_000);
    // Map keys, Set items and Object values.
    let maps: Vec<u8> = [14u8, 1].repeat(300_000);
    let sets: Vec<u8> = [15u8, 1].repeat(300_000);
    let objects: Vec<u8> = [13u8, 1, 0, 0].repeat(200_000);
    // The same inside a message: a reply of nested arrays.
    let mut reply = vec![1u8, 1, 0];
    reply.extend([12u8, 1].repeat(300_000));
    let kinds = on_small_stack(move || {
        let mut kinds: Vec<_> = [errors, maps, sets, objects]
            .iter()
            .map(|b| kind_of(decode_value(b)))
            .collect();
        kinds.push(msg_kind(decode(&reply)));
        kinds
    });
    for k in kinds {
        assert_eq!(k, invalid(Invalid::TooDeep));
    }
}

#[test]
fn nesting_to_exactly_max_depth_is_accepted() {
    let mut bytes = [12u8, 1].repeat(MAX_DEPTH - 1);
    bytes.extend([13u8, 0]); // an empty object at level 512
    let v = on_small_stack(move || decode_value(&bytes).expect("512 levels are allowed"));
    let mut levels = 0;
    let mut cur = &v;
    loop {
        levels += 1;
        match cur {
            Value::Array(items) => cur = &items[0],
            Value::Object(e) if e.is_empty() => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(levels, MAX_DEPTH);
}

#[test]
fn a_four_gib_length_with_ten_bytes_fails_fast_without_allocating() {
    let huge = [0xffu8, 0xff, 0xff, 0xff, 0x0f]; // u32::MAX
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("ArrayBuffer", [&[7u8][..], &huge, &[0; 10]].concat(), false),
        (
            "String",
            [&[6u8, 0][..], &huge, &[b'a'; 10]].concat(),
            false,
        ),
        ("Array", [&[12u8][..], &huge, &[0; 10]].concat(), false),
        ("Map", [&[14u8][..], &huge, &[0; 10]].concat(), false),
        ("Object", [&[13u8][..], &huge, &[0; 10]].concat(), false),
        (
            "TypedArray",
            [&[8u8, 1][..], &huge, &[0; 10]].concat(),
            false,
        ),
        ("Release list", [&[2u8][..], &huge, &[1; 10]].concat(), true),
        (
            "Construct args",
            [&[0u8, 1, 0, 0, 10][..], &huge, &[0; 10]].concat(),
            true,
        ),
    ];
    for (name, bytes, is_message) in cases {
        let start = std::time::Instant::now();
        let (kind, peak) = peak_allocation(|| {
            if is_message {
                decode(&bytes).map(|_| ()).unwrap_err().kind
            } else {
                decode_value(&bytes).map(|_| ()).unwrap_err().kind
            }
        });
        assert!(
            matches!(
                kind,
                DecodeErrorKind::LengthTooLarge {
                    len: u32::MAX,
                    remaining: 10
                }
            ),
            "{name}: {kind:?}"
        );
        assert!(
            peak < 1024 * 1024,
            "{name}: decoding allocated {peak} bytes at its peak"
        );
        assert!(
            start.elapsed().as_millis() < 1000,
            "{name}: took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn a_plausible_length_preallocates_no_more_than_the_input_supports() {
    // 100_000 undefined elements announced and present: the allocation follows
    // the input, about size_of::<Value>() per input byte, not the announced length.
    let mut bytes = vec![12u8, 0xa0, 0x8d, 0x06]; // Array(100_000)
    bytes.resize(bytes.len() + 100_000, 0);
    let (v, peak) = peak_allocation(|| decode_value(&bytes).unwrap());
    assert!(matches!(&v, Value::Array(items) if items.len() == 100_000));
    let items = 100_000 * std::mem::size_of::<Value>() as isize;
    assert!(
        peak >= items,
        "the meter saw {peak} bytes, less than the items themselves"
    );
    assert!(peak <= 2 * items, "peak {peak} over {}", 2 * items);
    drop(v);
}

#[test]
fn overlong_varints_are_refused() {
    // Int with a six-byte varint.
    let e = decode_value(&[3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]).unwrap_err();
    assert_eq!((e.kind, e.offset), (DecodeErrorKind::VarintTooLong, 1));
    // Five bytes but over u32::MAX.
    let e = decode_value(&[3, 0xff, 0xff, 0xff, 0xff, 0x1f]).unwrap_err();
    assert_eq!((e.kind, e.offset), (DecodeErrorKind::VarintOverflow, 1));
    // The tag itself.
    assert_eq!(
        kind_of(decode_value(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01])),
        DecodeErrorKind::VarintTooLong
    );
    // u32::MAX exactly is fine (a Local id).
    assert_eq!(
        decode_value(&[18, 0xff, 0xff, 0xff, 0xff, 0x0f]),
        Ok(Value::Local(u32::MAX))
    );
    // A varint cut short.
    assert_eq!(
        kind_of(decode_value(&[3, 0x80])),
        DecodeErrorKind::Truncated { needed: 1 }
    );
}

#[test]
fn invalid_utf8_is_refused() {
    let e = decode_value(&[6, 0, 2, 0xc3, 0x28]).unwrap_err();
    assert_eq!((e.kind, e.offset), (DecodeErrorKind::InvalidUtf8, 2));
    // In an object key, RegExp flags and a Call name.
    assert_eq!(
        kind_of(decode_value(&[13, 1, 0, 1, 0xff, 0])),
        DecodeErrorKind::InvalidUtf8
    );
    assert_eq!(
        kind_of(decode_value(&[10, 0, 0, 1, 0x80])),
        DecodeErrorKind::InvalidUtf8
    );
    assert_eq!(
        msg_kind(decode(&[0, 1, 0, 0, 11, 0, 1, 0xfe, 0, 0])),
        DecodeErrorKind::InvalidUtf8
    );
    // A lone surrogate encoded as UTF-8 (CESU) is not UTF-8 either.
    assert_eq!(
        kind_of(decode_value(&[6, 0, 3, 0xed, 0xa0, 0x80])),
        DecodeErrorKind::InvalidUtf8
    );
}

#[test]
fn odd_utf16_is_refused() {
    let e = decode_value(&[6, 1, 3, 0x00, 0xd8, 0x61]).unwrap_err();
    assert_eq!((e.kind, e.offset), (invalid(Invalid::OddUtf16(3)), 2));
    // Even length with lone surrogates is the point of Utf16.
    assert_eq!(
        decode_value(&[6, 1, 2, 0x00, 0xd8]),
        Ok(Value::String(JsString::from_utf16(&[0xd800])))
    );
}

#[test]
fn trailing_bytes_are_refused() {
    let e = decode_value(&[1, 0, 0]).unwrap_err();
    assert_eq!(
        (e.kind, e.offset),
        (DecodeErrorKind::TrailingBytes { count: 2 }, 1)
    );
    let mut m = encode(&Message::Cancel { seq: 5 }).unwrap();
    m.push(0);
    assert_eq!(
        msg_kind(decode(&m)),
        DecodeErrorKind::TrailingBytes { count: 1 }
    );
    assert_eq!(
        decode(&m).unwrap_err().to_string(),
        "wire: 1 trailing bytes after the message at offset 2"
    );
}

#[test]
fn unknown_variants_are_refused() {
    let unknown = |what, tag| DecodeErrorKind::UnknownVariant { what, tag };
    assert_eq!(kind_of(decode_value(&[23])), unknown("Value", 23));
    assert_eq!(kind_of(decode_value(&[22, 4, 0])), unknown("Symbol", 4));
    assert_eq!(
        kind_of(decode_value(&[0xff, 0xff, 0xff, 0xff, 0x0f])),
        unknown("Value", u32::MAX)
    );
    assert_eq!(kind_of(decode_value(&[6, 2, 0])), unknown("JsString", 2));
    assert_eq!(msg_kind(decode(&[4])), unknown("Message", 4));
    assert_eq!(msg_kind(decode(&[1, 1, 2, 0, 0])), unknown("Outcome", 2));
    assert_eq!(msg_kind(decode(&[0, 1, 0, 0, 14])), unknown("Op", 14));
    // Op 13 is the Described prefix; another one right after it is unknown.
    assert_eq!(msg_kind(decode(&[0, 1, 0, 0, 13, 13])), unknown("Op", 13));
    assert_eq!(msg_kind(decode(&[0, 1, 0, 0, 0, 2, 0])), unknown("Key", 2));
    let e = decode(&[0, 1, 0, 0, 0, 1, 0, 15, 0]).unwrap_err();
    assert_eq!((e.kind, e.offset), (invalid(Invalid::UnknownSymbol(15)), 7));
    let e = decode_value(&[22, 0, 15]).unwrap_err();
    assert_eq!((e.kind, e.offset), (invalid(Invalid::UnknownSymbol(15)), 2));
    assert_eq!(
        kind_of(decode_value(&[22, 2, 1, 2])),
        DecodeErrorKind::InvalidOption(2),
        "a unique symbol's description is an Option"
    );
}

#[test]
fn invalid_values_are_refused_with_the_rule_they_break() {
    let cases: Vec<(&str, Vec<u8>, DecodeErrorKind, usize)> = vec![
        (
            "sparse array index not below the length",
            vec![21, 5, 1, 5, 0],
            invalid(Invalid::SparseIndex {
                index: 5,
                previous: None,
                length: 5,
            }),
            3,
        ),
        (
            "sparse array indices not increasing",
            vec![21, 9, 2, 4, 0, 4, 0],
            invalid(Invalid::SparseIndex {
                index: 4,
                previous: Some(4),
                length: 9,
            }),
            5,
        ),
        (
            "hole in a sparse array",
            vec![21, 9, 1, 0, 19],
            invalid(Invalid::HoleOutsideArray),
            4,
        ),
        (
            "typed array kind 13",
            vec![8, 13, 0],
            invalid(Invalid::UnknownTypedArrayKind(13)),
            1,
        ),
        (
            "Float64Array of 7 bytes",
            [&[8u8, 8, 7][..], &[0; 7]].concat(),
            invalid(Invalid::TypedArrayLength {
                kind: "Float64Array",
                len: 7,
                size: 8,
            }),
            1,
        ),
        (
            "Int16Array of 1 byte",
            vec![8, 3, 1, 0],
            invalid(Invalid::TypedArrayLength {
                kind: "Int16Array",
                len: 1,
                size: 2,
            }),
            1,
        ),
        (
            "remote kind 3",
            vec![17, 3, 1],
            invalid(Invalid::UnknownRefKind(3)),
            1,
        ),
        (
            "transferred view kind 13",
            vec![20, 0, 1, 13, 0, 0],
            invalid(Invalid::UnknownTypedArrayKind(13)),
            3,
        ),
        (
            "transferred Float64Array at a misaligned offset",
            vec![20, 0, 1, 8, 4, 8],
            invalid(Invalid::TransferredViewAlignment {
                kind: "Float64Array",
                offset: 4,
                len: 8,
                size: 8,
            }),
            3,
        ),
        (
            "transferred Int32Array of 6 bytes",
            vec![20, 2, 1, 5, 0, 6],
            invalid(Invalid::TransferredViewAlignment {
                kind: "Int32Array",
                offset: 0,
                len: 6,
                size: 4,
            }),
            3,
        ),
        (
            "transferred with a bad Option tag",
            vec![20, 0, 2],
            DecodeErrorKind::InvalidOption(2),
            2,
        ),
        (
            "hole at top level",
            vec![19],
            invalid(Invalid::HoleOutsideArray),
            0,
        ),
        (
            "hole in an object",
            vec![13, 1, 0, 1, b'a', 19],
            invalid(Invalid::HoleOutsideArray),
            5,
        ),
        (
            "hole in a set",
            vec![15, 1, 19],
            invalid(Invalid::HoleOutsideArray),
            2,
        ),
        (
            "hole as a map key",
            vec![14, 1, 19, 0],
            invalid(Invalid::HoleOutsideArray),
            2,
        ),
        (
            "hole as an error cause",
            vec![11, 0, 0, 0, 0, 0, 1, 19],
            invalid(Invalid::HoleOutsideArray),
            7,
        ),
        (
            "bigint with a trailing zero byte",
            vec![5, 0, 2, 1, 0],
            invalid(Invalid::NonCanonicalBigInt),
            2,
        ),
        (
            "bigint zero with magnitude [0]",
            vec![5, 0, 1, 0],
            invalid(Invalid::NonCanonicalBigInt),
            2,
        ),
        (
            "negative zero bigint",
            vec![5, 1, 0],
            invalid(Invalid::NonCanonicalBigInt),
            2,
        ),
        (
            "backref with no object before it",
            vec![16, 0],
            invalid(Invalid::BackRefOutOfRange { index: 0, count: 0 }),
            0,
        ),
        (
            "backref to a later object",
            vec![12, 2, 16, 1, 12, 0],
            invalid(Invalid::BackRefOutOfRange { index: 1, count: 1 }),
            2,
        ),
        (
            "bool byte 2",
            vec![2, 2],
            DecodeErrorKind::InvalidBool(2),
            1,
        ),
        (
            "option byte 2 in an error stack",
            vec![11, 0, 0, 0, 0, 2],
            DecodeErrorKind::InvalidOption(2),
            5,
        ),
        (
            "float cut short",
            vec![4, 0, 0, 0],
            DecodeErrorKind::Truncated { needed: 5 },
            1,
        ),
        (
            "empty input",
            vec![],
            DecodeErrorKind::Truncated { needed: 1 },
            0,
        ),
    ];
    for (name, bytes, kind, offset) in cases {
        let e = decode_value(&bytes).expect_err(name);
        assert_eq!((&e.kind, e.offset), (&kind, offset), "{name}");
        assert!(e.to_string().starts_with("wire: "), "{name}: {e}");
    }
    // A hole is fine as an array element, and a backref to an enclosing array too.
    assert_eq!(
        decode_value(&[12, 1, 19]),
        Ok(Value::Array(vec![Value::Hole]))
    );
    assert_eq!(
        decode_value(&[12, 1, 16, 0]),
        Ok(Value::Array(vec![Value::BackRef(0)]))
    );
}

#[test]
fn the_encoder_refuses_what_the_decoder_refuses() {
    let bad: Vec<(&str, Value, Invalid)> = vec![
        ("hole", Value::Hole, Invalid::HoleOutsideArray),
        (
            "hole in a sparse array",
            Value::SparseArray {
                length: 3,
                entries: vec![(1, Value::Hole)],
            },
            Invalid::HoleOutsideArray,
        ),
        (
            "sparse index past the length",
            Value::SparseArray {
                length: 3,
                entries: vec![(3, Value::Null)],
            },
            Invalid::SparseIndex {
                index: 3,
                previous: None,
                length: 3,
            },
        ),
        (
            "sparse indices out of order",
            Value::SparseArray {
                length: 9,
                entries: vec![(4, Value::Null), (2, Value::Null)],
            },
            Invalid::SparseIndex {
                index: 2,
                previous: Some(4),
                length: 9,
            },
        ),
        (
            "hole in set",
            Value::Set(vec![Value::Hole]),
            Invalid::HoleOutsideArray,
        ),
        (
            "odd utf16",
            Value::String(JsString::Utf16(vec![1, 2, 3])),
            Invalid::OddUtf16(3),
        ),
        (
            "kind 13",
            Value::TypedArray {
                kind: 13,
                bytes: vec![],
            },
            Invalid::UnknownTypedArrayKind(13),
        ),
        (
            "f32 of 6 bytes",
            Value::TypedArray {
                kind: 7,
                bytes: vec![0; 6],
            },
            Invalid::TypedArrayLength {
                kind: "Float32Array",
                len: 6,
                size: 4,
            },
        ),
        (
            "ref kind 3",
            Value::Remote { kind: 3, id: 1 },
            Invalid::UnknownRefKind(3),
        ),
        (
            "transferred view kind 13",
            Value::Transferred {
                buffer: 0,
                view: Some(TransferredView {
                    kind: 13,
                    byte_offset: 0,
                    byte_length: 0,
                }),
            },
            Invalid::UnknownTypedArrayKind(13),
        ),
        (
            "transferred Uint16Array at odd offset",
            Value::Transferred {
                buffer: 0,
                view: Some(TransferredView {
                    kind: 4,
                    byte_offset: 1,
                    byte_length: 2,
                }),
            },
            Invalid::TransferredViewAlignment {
                kind: "Uint16Array",
                offset: 1,
                len: 2,
                size: 2,
            },
        ),
        (
            "bigint 0 byte",
            Value::BigInt {
                negative: false,
                magnitude: vec![5, 0],
            },
            Invalid::NonCanonicalBigInt,
        ),
        (
            "bigint -0",
            Value::BigInt {
                negative: true,
                magnitude: vec![],
            },
            Invalid::NonCanonicalBigInt,
        ),
        (
            "dangling backref",
            Value::Array(vec![Value::BackRef(1)]),
            Invalid::BackRefOutOfRange { index: 1, count: 1 },
        ),
    ];
    for (name, v, why) in bad {
        match encode_value(&v) {
            Err(EncodeError::Invalid(got)) => assert_eq!(got, why, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    let m = Message::Request(Request {
        seq: 1,
        nested_in: 0,
        target: 0,
        op: Op::Get {
            key: Key::Symbol(JsSymbol::WellKnown(15)),
        },
        releases: vec![],
    });
    assert!(matches!(
        encode(&m),
        Err(EncodeError::Invalid(Invalid::UnknownSymbol(15)))
    ));
    let mut deep = Value::Null;
    for _ in 0..=MAX_DEPTH {
        deep = Value::Error(Box::new(ErrorValue {
            cause: Some(deep),
            ..ErrorValue::new("E", "")
        }));
    }
    let e = encode_value(&deep).unwrap_err();
    assert_eq!(
        e.to_string(),
        "wire: cannot encode: nesting deeper than 512"
    );
}

#[test]
fn error_messages_say_what_happened() {
    let e = decode_value(&[4, 0, 0, 0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "wire: message truncated: needed 5 more bytes at offset 1"
    );
    let e = decode_value(&[7, 100, 1]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "wire: length 100 is larger than the 1 bytes that remain at offset 1"
    );
}
