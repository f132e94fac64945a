//! serde <-> Value: the mapping of docs (what JS sees), round trips, and
//! errors that name the path.

use std::collections::{BTreeMap, HashMap};

use bridge_core::serde_value::{
    expand_shared, from_value, to_value, DeError, LOCAL_NEWTYPE, REMOTE_NEWTYPE,
};
use bridge_core::value::{JsString, TypedArrayKind, Value};
use bridge_core::wire;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Empty,
    Circle(f64),
    Segment(Point, Point),
    Rect { origin: Point, w: u32, h: u32 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Scene {
    name: String,
    shapes: Vec<Shape>,
    tags: BTreeMap<String, i64>,
    by_id: HashMap<u32, String>,
    note: Option<String>,
    #[serde(with = "serde_bytes")]
    blob: Vec<u8>,
    big: u64,
    unit: (),
    pair: (i8, char),
}

fn obj(entries: Vec<(&str, Value)>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (JsString::from(k), v))
            .collect(),
    )
}

fn roundtrip<T>(x: &T) -> T
where
    T: Serialize + serde::de::DeserializeOwned,
{
    let v = to_value(x).expect("serializes");
    // The value must also be valid on the wire: encode and decode it.
    let bytes = wire::encode_value(&v).expect("the produced value encodes");
    let back = wire::decode_value(&bytes).expect("decodes");
    assert!(
        back.wire_eq(&v),
        "wire changed the value: {v:?} -> {back:?}"
    );
    from_value(&back).expect("deserializes")
}

#[test]
fn struct_maps_to_object_in_field_order() {
    let v = to_value(&Point { x: 1.0, y: -0.5 }).unwrap();
    assert!(
        v.wire_eq(&obj(vec![("x", Value::Int(1)), ("y", Value::Float(-0.5))])),
        "{v:?}"
    );
}

#[test]
fn enums_are_externally_tagged() {
    assert!(to_value(&Shape::Empty)
        .unwrap()
        .wire_eq(&Value::string("Empty")));
    assert!(to_value(&Shape::Circle(2.5))
        .unwrap()
        .wire_eq(&obj(vec![("Circle", Value::Float(2.5))])));
    let seg = to_value(&Shape::Segment(
        Point { x: 0.0, y: 0.0 },
        Point { x: 1.0, y: 1.0 },
    ))
    .unwrap();
    match &seg {
        Value::Object(e) => {
            assert_eq!(e.len(), 1);
            assert_eq!(e[0].0, JsString::from("Segment"));
            assert!(matches!(&e[0].1, Value::Array(a) if a.len() == 2));
        }
        other => panic!("expected an object, got {other:?}"),
    }
    let rect = to_value(&Shape::Rect {
        origin: Point { x: 0.0, y: 1.0 },
        w: 3,
        h: 4,
    })
    .unwrap();
    assert!(rect.wire_eq(&obj(vec![(
        "Rect",
        obj(vec![
            (
                "origin",
                obj(vec![("x", Value::Int(0)), ("y", Value::Int(1))])
            ),
            ("w", Value::Int(3)),
            ("h", Value::Int(4)),
        ])
    )])));
}

#[test]
fn scalars_map_like_js() {
    assert!(to_value(&()).unwrap().wire_eq(&Value::Null));
    assert!(to_value(&None::<u8>).unwrap().wire_eq(&Value::Null));
    assert!(to_value(&Some(7u8)).unwrap().wire_eq(&Value::Int(7)));
    assert!(to_value(&'é').unwrap().wire_eq(&Value::string("é")));
    assert!(to_value(&true).unwrap().wire_eq(&Value::Bool(true)));
    assert!(to_value(&-0.0f64).unwrap().wire_eq(&Value::Float(-0.0)));
    assert!(to_value(&3.0f32).unwrap().wire_eq(&Value::Int(3)));
    assert!(to_value(&f64::NAN)
        .unwrap()
        .wire_eq(&Value::Float(f64::NAN)));
    let bytes = to_value(&serde_bytes::Bytes::new(&[1, 2, 3])).unwrap();
    assert!(bytes.wire_eq(&Value::TypedArray {
        kind: TypedArrayKind::Uint8Array as u8,
        bytes: vec![1, 2, 3]
    }));
    // A plain Vec<u8> is a sequence: an Array of numbers, as in JSON.
    assert!(to_value(&vec![1u8, 2])
        .unwrap()
        .wire_eq(&Value::Array(vec![Value::Int(1), Value::Int(2)])));
}

#[test]
fn integers_pick_int_float_or_bigint_by_magnitude() {
    assert!(to_value(&i32::MIN).unwrap().wire_eq(&Value::Int(i32::MIN)));
    assert!(to_value(&(i32::MAX as u32 + 1))
        .unwrap()
        .wire_eq(&Value::Float(2147483648.0)));
    let safe = (1u64 << 53) - 1;
    assert!(to_value(&safe).unwrap().wire_eq(&Value::Float(safe as f64)));
    assert!(to_value(&-(safe as i64))
        .unwrap()
        .wire_eq(&Value::Float(-(safe as f64))));
    // 2^53 is past the safe band: a bigint, so JS never sees a rounded number.
    assert!(to_value(&(1u64 << 53)).unwrap().wire_eq(&Value::BigInt {
        negative: false,
        magnitude: vec![0, 0, 0, 0, 0, 0, 0x20]
    }));
    assert!(to_value(&u64::MAX).unwrap().wire_eq(&Value::BigInt {
        negative: false,
        magnitude: vec![0xff; 8]
    }));
    assert!(to_value(&i64::MIN).unwrap().wire_eq(&Value::BigInt {
        negative: true,
        magnitude: vec![0, 0, 0, 0, 0, 0, 0, 0x80]
    }));
    assert!(to_value(&u128::MAX).unwrap().wire_eq(&Value::BigInt {
        negative: false,
        magnitude: vec![0xff; 16]
    }));
}

#[test]
fn integer_edges_round_trip() {
    for x in [
        0u64,
        1,
        (1 << 31) - 1,
        1 << 31,
        (1 << 53) - 1,
        1 << 53,
        (1 << 53) + 1,
        u64::MAX - 1,
        u64::MAX,
    ] {
        assert_eq!(roundtrip(&x), x);
    }
    for x in [i64::MIN, i64::MIN + 1, -(1 << 53), -1, 0, i64::MAX] {
        assert_eq!(roundtrip(&x), x);
    }
    for x in [i128::MIN, i128::MAX, -1] {
        assert_eq!(roundtrip(&x), x);
    }
    assert_eq!(roundtrip(&u128::MAX), u128::MAX);
}

#[test]
fn nested_scene_round_trips() {
    let mut tags = BTreeMap::new();
    tags.insert("a b".to_owned(), -3);
    tags.insert("huge".to_owned(), i64::MAX);
    let mut by_id = HashMap::new();
    by_id.insert(7, "seven".to_owned());
    by_id.insert(4_000_000_000, "big key".to_owned());
    let scene = Scene {
        name: "s".into(),
        shapes: vec![
            Shape::Empty,
            Shape::Circle(0.25),
            Shape::Segment(Point { x: 1.0, y: 2.0 }, Point { x: 3.5, y: -4.0 }),
            Shape::Rect {
                origin: Point { x: 0.0, y: 0.0 },
                w: u32::MAX,
                h: 0,
            },
        ],
        tags,
        by_id,
        note: None,
        blob: vec![0, 255, 7],
        big: u64::MAX,
        unit: (),
        pair: (-8, 'z'),
    };
    assert_eq!(roundtrip(&scene), scene);
    let with_note = Scene {
        note: Some("n".into()),
        ..scene
    };
    assert_eq!(roundtrip(&with_note), with_note);
}

#[test]
fn integer_map_keys_become_property_names() {
    let mut m = BTreeMap::new();
    m.insert(-5i64, true);
    m.insert(u32::MAX as i64 + 1, false);
    let v = to_value(&m).unwrap();
    assert!(
        v.wire_eq(&obj(vec![
            ("-5", Value::Bool(true)),
            ("4294967296", Value::Bool(false))
        ])),
        "{v:?}"
    );
    assert_eq!(from_value::<BTreeMap<i64, bool>>(&v).unwrap(), m);
}

#[test]
fn non_scalar_map_keys_are_refused_with_advice() {
    let mut m = BTreeMap::new();
    m.insert((1, 2), 3);
    let e = to_value(&m).unwrap_err();
    assert!(e.to_string().contains("map key must be a string"), "{e}");
    assert!(e.to_string().contains("Vec of (key, value) pairs"), "{e}");
}

#[test]
fn reading_is_lenient_like_js() {
    // Numbers: Float that is integral reads as an integer; Int reads as f64.
    assert_eq!(from_value::<u8>(&Value::Float(200.0)).unwrap(), 200);
    assert_eq!(from_value::<f64>(&Value::Int(-3)).unwrap(), -3.0);
    assert_eq!(
        from_value::<u64>(&Value::Float(9007199254740991.0)).unwrap(),
        9007199254740991
    );
    // Options: undefined and null are None.
    assert_eq!(from_value::<Option<u8>>(&Value::Undefined).unwrap(), None);
    // A JS Map reads as a map.
    let m = Value::Map(vec![(Value::string("k"), Value::Int(1))]);
    assert_eq!(from_value::<HashMap<String, i32>>(&m).unwrap()["k"], 1);
    // A Set or a Uint8Array reads as a sequence.
    let s = Value::Set(vec![Value::Int(1), Value::Int(2)]);
    assert_eq!(from_value::<Vec<u16>>(&s).unwrap(), vec![1, 2]);
    let ta = Value::TypedArray {
        kind: 1,
        bytes: vec![9, 8],
    };
    assert_eq!(from_value::<Vec<u8>>(&ta).unwrap(), vec![9, 8]);
    let ab = Value::ArrayBuffer(vec![5]);
    assert_eq!(
        from_value::<serde_bytes::ByteBuf>(&ab).unwrap().into_vec(),
        vec![5]
    );
    // Holes read as undefined.
    let holes = Value::Array(vec![Value::Int(1), Value::Hole]);
    assert_eq!(
        from_value::<Vec<Option<i32>>>(&holes).unwrap(),
        vec![Some(1), None]
    );
    // Unknown fields are ignored.
    let p = obj(vec![
        ("x", Value::Int(1)),
        ("extra", Value::Bool(true)),
        ("y", Value::Int(2)),
    ]);
    assert_eq!(from_value::<Point>(&p).unwrap(), Point { x: 1.0, y: 2.0 });
}

#[test]
fn errors_name_the_path() {
    let v = obj(vec![
        ("name", Value::string("s")),
        (
            "shapes",
            Value::Array(vec![
                Value::string("Empty"),
                obj(vec![(
                    "Rect",
                    obj(vec![
                        (
                            "origin",
                            obj(vec![("x", Value::Int(0)), ("y", Value::Int(0))]),
                        ),
                        ("w", Value::Float(1.5)),
                        ("h", Value::Int(1)),
                    ]),
                )]),
            ]),
        ),
    ]);
    let e: DeError = from_value::<Scene>(&v).unwrap_err();
    assert_eq!(e.path, ".shapes[1].Rect.w", "{e}");
    assert!(
        e.message.contains("invalid type: floating point `1.5`"),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("cannot read the worker-bridge value at .shapes[1].Rect.w:"),
        "{e}"
    );

    // A missing field is reported at the struct that misses it.
    let e =
        from_value::<Vec<Point>>(&Value::Array(vec![obj(vec![("x", Value::Int(1))])])).unwrap_err();
    assert_eq!(e.path, "[0]");
    assert!(e.message.contains("missing field `y`"), "{e}");

    // Out of range integers say so.
    let e = from_value::<u8>(&Value::Int(256)).unwrap_err();
    assert!(e.message.contains("256"), "{e}");
    let e = from_value::<u32>(&Value::Float(0.5)).unwrap_err();
    assert!(e.message.contains("0.5"), "{e}");

    // Property names that are not identifiers are quoted.
    let e = from_value::<HashMap<String, u8>>(&obj(vec![("a b", Value::Bool(true))])).unwrap_err();
    assert_eq!(e.path, "[\"a b\"]");

    // A remote object where data was expected.
    let e = from_value::<String>(&Value::Remote { kind: 1, id: 4 }).unwrap_err();
    assert!(e.message.contains("remote object"), "{e}");

    // Lone surrogates cannot become a Rust String.
    let lone = Value::String(JsString::from_utf16(&[0xd800]));
    let e = from_value::<String>(&lone).unwrap_err();
    assert!(e.message.contains("lone surrogates"), "{e}");
}

#[test]
fn reserved_newtypes_carry_references() {
    #[derive(Debug, PartialEq, Deserialize)]
    struct Holder {
        r: RemoteRef,
    }
    #[derive(Debug, PartialEq)]
    struct RemoteRef(u8, u32);
    impl<'de> Deserialize<'de> for RemoteRef {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            #[derive(Deserialize)]
            #[serde(rename = "$worker_bridge::Remote")]
            struct Inner((u8, u32));
            let Inner((k, id)) = Inner::deserialize(d)?;
            Ok(RemoteRef(k, id))
        }
    }
    assert_eq!(REMOTE_NEWTYPE, "$worker_bridge::Remote");
    let v = obj(vec![("r", Value::Remote { kind: 2, id: 77 })]);
    assert_eq!(
        from_value::<Holder>(&v).unwrap(),
        Holder {
            r: RemoteRef(2, 77)
        }
    );
    let e = from_value::<Holder>(&obj(vec![("r", Value::Int(1))])).unwrap_err();
    assert_eq!(e.path, ".r");

    struct Local(u32);
    impl Serialize for Local {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_newtype_struct(LOCAL_NEWTYPE, &self.0)
        }
    }
    assert!(to_value(&vec![Local(3)])
        .unwrap()
        .wire_eq(&Value::Array(vec![Value::Local(3)])));
    assert!(
        to_value(&Local(0)).unwrap().wire_eq(&Value::Local(0)),
        "0 is the receiver's global object"
    );
    struct BadLocal;
    impl Serialize for BadLocal {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_newtype_struct(LOCAL_NEWTYPE, "not an id")
        }
    }
    let e = to_value(&BadLocal).unwrap_err();
    assert!(e.message.contains("must wrap a u32 id"), "{e}");

    // An object of the sender (a Rust Callback) is written as Remote.
    struct Exported(u8, u32);
    impl Serialize for Exported {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_newtype_struct(REMOTE_NEWTYPE, &(self.0, self.1))
        }
    }
    assert!(to_value(&(Exported(0, 5), Exported(1, u32::MAX)))
        .unwrap()
        .wire_eq(&Value::Array(vec![
            Value::Remote { kind: 0, id: 5 },
            Value::Remote {
                kind: 1,
                id: u32::MAX
            }
        ])));
    // Read back as the tuple it was written from.
    assert_eq!(
        from_value::<RemoteRef>(&to_value(&Exported(2, 9)).unwrap()).unwrap(),
        RemoteRef(2, 9)
    );
    for (bad, why) in [(Exported(3, 1), "kind 3"), (Exported(0, 0), "id 0")] {
        let e = to_value(&bad).unwrap_err();
        assert!(
            e.message.contains("must wrap a (kind: u8, id: u32) pair"),
            "{why}: {e}"
        );
    }
}

#[test]
fn shared_objects_expand_and_cycles_are_refused() {
    // [{ a: o, b: o }] as JS writes it: o is object #1 (the outer object is #0).
    let o = obj(vec![("n", Value::Int(1))]);
    let mut values = vec![obj(vec![("a", o.clone()), ("b", Value::BackRef(1))])];
    expand_shared(&mut values).unwrap();
    assert!(
        values[0].wire_eq(&obj(vec![("a", o.clone()), ("b", o.clone())])),
        "{values:?}"
    );

    // Across the arguments of one message: the second argument refers to the first.
    let mut args = vec![Value::Array(vec![Value::Int(5)]), Value::BackRef(0)];
    expand_shared(&mut args).unwrap();
    assert!(args[1].wire_eq(&Value::Array(vec![Value::Int(5)])));

    // A cycle: { self: <the object itself> }.
    let mut cyclic = vec![obj(vec![("x", Value::Array(vec![Value::BackRef(0)]))])];
    let e = expand_shared(&mut cyclic).unwrap_err();
    assert_eq!(e.path, ".x[0]");
    assert!(e.message.contains("cycle"), "{e}");

    // A dangling back-reference.
    let mut dangling = vec![Value::Array(vec![Value::BackRef(9)])];
    let e = expand_shared(&mut dangling).unwrap_err();
    assert!(e.message.contains("#9"), "{e}");

    // A doubling chain: 2^25 leaves from a few dozen nodes is refused.
    // Level k's array is object #(25 - k) in pre-order; its second element
    // repeats the array inside it, so each level doubles the tree.
    fn build(level: u32) -> Value {
        if level == 0 {
            Value::Array(vec![Value::Int(0), Value::Int(0)])
        } else {
            Value::Array(vec![build(level - 1), Value::BackRef(25 - level + 1)])
        }
    }
    let mut bomb = vec![build(25)];
    let e = expand_shared(&mut bomb).unwrap_err();
    assert!(e.message.contains("expand to more than"), "{e}");
}

#[test]
fn untyped_reading_sees_js_shapes() {
    let v = obj(vec![
        (
            "a",
            Value::Array(vec![Value::Int(1), Value::Float(1.5), Value::Null]),
        ),
        (
            "b",
            Value::BigInt {
                negative: false,
                magnitude: vec![0xff; 8],
            },
        ),
    ]);
    let j: serde_json::Value = from_value(&v).unwrap();
    assert_eq!(j, serde_json::json!({ "a": [1, 1.5, null], "b": u64::MAX }));
    // and serde_json values serialize back to the same JS shape
    let back = to_value(&serde_json::json!({ "a": [1, 1.5, null] })).unwrap();
    assert!(back.wire_eq(&obj(vec![(
        "a",
        Value::Array(vec![Value::Int(1), Value::Float(1.5), Value::Null])
    )])));
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Rec {
    a: i64,
    b: Option<String>,
    c: Vec<(u16, bool)>,
    d: BTreeMap<String, u64>,
    e: f64,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_integer_round_trips(x in any::<i64>(), y in any::<u64>(), z in any::<i128>()) {
        prop_assert_eq!(roundtrip(&x), x);
        prop_assert_eq!(roundtrip(&y), y);
        prop_assert_eq!(roundtrip(&z), z);
    }

    #[test]
    fn records_round_trip(
        a in any::<i64>(),
        b in proptest::option::of(".{0,8}"),
        c in proptest::collection::vec((any::<u16>(), any::<bool>()), 0..5),
        d in proptest::collection::btree_map(".{0,5}", any::<u64>(), 0..4),
        e in any::<f64>().prop_filter("NaN != NaN", |e| !e.is_nan()),
    ) {
        let r = Rec { a, b, c, d, e };
        let back = roundtrip(&r);
        prop_assert_eq!(back.e.to_bits(), r.e.to_bits());
        prop_assert_eq!(back, r);
    }
}
