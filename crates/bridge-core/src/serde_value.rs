//! serde for the wire's [`Value`]: any `T: Serialize` becomes a [`Value`]
//! ([`to_value`]) and a [`Value`] becomes any `T: DeserializeOwned`
//! ([`from_value`]), with no JS in between. This is what the Rust embedding
//! (`bridge-wasm`, feature `embed`) uses for the arguments and results of
//! typed calls.
//!
//! # The mapping
//!
//! It is what a JS user on the other side sees, and matches
//! `serde-wasm-bindgen` (and JSON) where the two can agree:
//!
//! | Rust (serde data model) | [`Value`] / what JS sees |
//! |---|---|
//! | `bool` | `Bool` |
//! | `i8`..`i64`, `u8`..`u64`, `i128`, `u128` | `Int` when it fits an i32; else `Float` when it is a *safe* integer (`abs <= 2^53 - 1`); else `BigInt` |
//! | `f32`, `f64` | a number, as [`Value::number`] writes it (`Int` for integral values in i32 range, else `Float`) |
//! | `char`, `&str`, `String` | `String` |
//! | bytes (`serde_bytes`) | `TypedArray` `Uint8Array` |
//! | `None`, `()`, unit struct | `Null` |
//! | `Some(x)`, newtype struct | `x` |
//! | sequences (`Vec`, arrays, tuples, tuple structs, sets) | `Array` |
//! | maps (`HashMap`, `BTreeMap`) | `Object`; keys must be strings, chars, integers or bools (written as JS writes them as property names) |
//! | struct | `Object`, fields in declaration order (`None` fields are `null`) |
//! | enum unit variant | the variant name as a `String` |
//! | enum newtype / tuple / struct variant | `Object` with one key, the variant name: `{ "Variant": content }` |
//!
//! Integers use the safe-integer band rather than "any f64 that is exactly
//! the integer": JS cannot tell a number above 2^53 from its neighbours, so a
//! Rust integer that JS receives as a `number` is always exact, and anything
//! larger arrives as a `bigint` (`u64::MAX` is `18446744073709551615n`).
//!
//! Reading is lenient where JS is: a number field accepts `Int` or `Float`
//! (an integer type only when the value is integral and in range, exactly),
//! or a `BigInt` in range; an `Option` is `None` for `Null` or `Undefined`;
//! a map or struct accepts an `Object` or a JS `Map`; a sequence accepts an
//! `Array`, a `Set` or a byte array (`Uint8Array`, `ArrayBuffer`); bytes
//! accept a byte array or an `Array` of integers 0..=255. Unknown struct
//! fields are ignored unless the type says `deny_unknown_fields`.
//!
//! An error says where it happened as a path from the top value, such as
//! `at .user.tags[2]: invalid type: string "x", expected u32`.
//!
//! # References
//!
//! A remote object (`Remote`) or a handle of ours going home (`Local`) has
//! no serde data model equivalent. Types that stand for them (the embedding's
//! `JsHandle`) use two reserved newtype-struct names:
//! [`REMOTE_NEWTYPE`] reads a `Remote { kind, id }` as the tuple `(kind, id)`
//! and writes the tuple `(kind, id)` as `Remote { kind, id }` (an object of
//! the sender, already counted in its export table: the embedding's
//! `Callback`), and [`LOCAL_NEWTYPE`] writes a `u32` as `Local(id)`. Every
//! other type meeting a `Remote` gets an error that names the path.

use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::ser::{self, Serialize};

use crate::value::{JsString, TypedArrayKind, Value};

/// Newtype-struct name that reads a `Remote { kind, id }` value as the
/// 2-tuple `(kind: u8, id: u32)`, and writes that 2-tuple as `Remote { kind,
/// id }` (an object the sender exports). Reserved for handle types.
pub const REMOTE_NEWTYPE: &str = "$worker_bridge::Remote";
/// Newtype-struct name that writes its `u32` content as `Value::Local(id)`:
/// a reference to an object of the receiver (0: its global object).
/// Reserved for handle types.
pub const LOCAL_NEWTYPE: &str = "$worker_bridge::Local";

/// The largest integer JS numbers hold exactly together with its neighbours
/// (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: i128 = (1 << 53) - 1;

/// Why a Rust value could not become a [`Value`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot convert to a worker-bridge value{}: {message}", fmt_path(path))]
pub struct SerError {
    /// Where, from the top value (`.field`, `[index]`); empty at the top.
    pub path: String,
    /// What went wrong and what to do.
    pub message: String,
}

/// Why a [`Value`] could not become the Rust type asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the worker-bridge value{}: {message}", fmt_path(path))]
pub struct DeError {
    /// Where, from the top value (`.field`, `[index]`, `["key"]`); empty at the top.
    pub path: String,
    /// What went wrong (serde's wording: "invalid type: ..., expected ...").
    pub message: String,
}

fn fmt_path(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at {path}")
    }
}

impl ser::Error for SerError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerError {
            path: String::new(),
            message: msg.to_string(),
        }
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            path: String::new(),
            message: msg.to_string(),
        }
    }
}

/// A path segment for a property name: `.name` when it is an identifier,
/// `["na me"]` otherwise.
fn key_segment(key: &str) -> String {
    let ident = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '$');
    if ident {
        format!(".{key}")
    } else {
        format!("[{key:?}]")
    }
}

fn index_segment(i: usize) -> String {
    format!("[{i}]")
}

trait AtPath: Sized {
    fn at(self, segment: impl FnOnce() -> String) -> Self;
}

impl<T> AtPath for Result<T, DeError> {
    fn at(self, segment: impl FnOnce() -> String) -> Self {
        self.map_err(|mut e| {
            e.path.insert_str(0, &segment());
            e
        })
    }
}

impl<T> AtPath for Result<T, SerError> {
    fn at(self, segment: impl FnOnce() -> String) -> Self {
        self.map_err(|mut e| {
            e.path.insert_str(0, &segment());
            e
        })
    }
}

// ---------------------------------------------------------------------------
// Integers <-> Value

/// The [`Value`] for an integer (see the module docs' table).
pub fn integer_value(n: i128) -> Value {
    if let Ok(i) = i32::try_from(n) {
        Value::Int(i)
    } else if n.unsigned_abs() <= MAX_SAFE_INTEGER as u128 {
        Value::Float(n as f64)
    } else {
        bigint_value(n < 0, n.unsigned_abs())
    }
}

fn bigint_value(negative: bool, magnitude: u128) -> Value {
    let mut bytes = magnitude.to_le_bytes().to_vec();
    while bytes.last() == Some(&0) {
        bytes.pop();
    }
    Value::BigInt {
        negative: negative && magnitude != 0,
        magnitude: bytes,
    }
}

/// An integral number value as an `i128`, exactly, or `None`.
fn value_integer(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some(*i as i128),
        Value::Float(f) => {
            // 2^127 as f64 is the first out-of-range value.
            if f.fract() == 0.0 && f.abs() < 1.7014118346046923e38 {
                Some(*f as i128)
            } else {
                None
            }
        }
        Value::BigInt {
            negative,
            magnitude,
        } => {
            if magnitude.len() > 16 {
                return None;
            }
            let mut buf = [0u8; 16];
            buf[..magnitude.len()].copy_from_slice(magnitude);
            let m = u128::from_le_bytes(buf);
            if *negative {
                if m <= i128::MAX as u128 + 1 {
                    Some((m as i128).wrapping_neg())
                } else {
                    None
                }
            } else {
                i128::try_from(m).ok()
            }
        }
        _ => None,
    }
}

/// A non-negative BigInt above `i128::MAX` that still fits a u128.
fn value_u128(v: &Value) -> Option<u128> {
    if let Some(i) = value_integer(v) {
        return u128::try_from(i).ok();
    }
    match v {
        Value::BigInt {
            negative: false,
            magnitude,
        } if magnitude.len() <= 16 => {
            let mut buf = [0u8; 16];
            buf[..magnitude.len()].copy_from_slice(magnitude);
            Some(u128::from_le_bytes(buf))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Serializer

/// Converts `value` into a [`Value`] (see the module docs for the mapping).
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, SerError> {
    value.serialize(ValueSerializer)
}

/// The serde `Serializer` that produces [`Value`]s; [`to_value`] uses it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ValueSerializer;

fn variant_object(variant: &str, content: Value) -> Value {
    Value::Object(vec![(JsString::from(variant), content)])
}

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = SerError;
    type SerializeSeq = SeqSer;
    type SerializeTuple = SeqSer;
    type SerializeTupleStruct = SeqSer;
    type SerializeTupleVariant = VariantSeqSer;
    type SerializeMap = MapSer;
    type SerializeStruct = MapSer;
    type SerializeStructVariant = VariantMapSer;

    fn serialize_bool(self, v: bool) -> Result<Value, SerError> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, SerError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i16(self, v: i16) -> Result<Value, SerError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_i32(self, v: i32) -> Result<Value, SerError> {
        Ok(Value::Int(v))
    }
    fn serialize_i64(self, v: i64) -> Result<Value, SerError> {
        Ok(integer_value(v.into()))
    }
    fn serialize_i128(self, v: i128) -> Result<Value, SerError> {
        Ok(integer_value(v))
    }
    fn serialize_u8(self, v: u8) -> Result<Value, SerError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u16(self, v: u16) -> Result<Value, SerError> {
        Ok(Value::Int(v.into()))
    }
    fn serialize_u32(self, v: u32) -> Result<Value, SerError> {
        Ok(integer_value(v.into()))
    }
    fn serialize_u64(self, v: u64) -> Result<Value, SerError> {
        Ok(integer_value(v.into()))
    }
    fn serialize_u128(self, v: u128) -> Result<Value, SerError> {
        match i128::try_from(v) {
            Ok(i) => Ok(integer_value(i)),
            Err(_) => Ok(bigint_value(false, v)),
        }
    }
    fn serialize_f32(self, v: f32) -> Result<Value, SerError> {
        Ok(Value::number(v.into()))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, SerError> {
        Ok(Value::number(v))
    }
    fn serialize_char(self, v: char) -> Result<Value, SerError> {
        Ok(Value::string(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, SerError> {
        Ok(Value::string(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, SerError> {
        Ok(Value::TypedArray {
            kind: TypedArrayKind::Uint8Array as u8,
            bytes: v.to_vec(),
        })
    }
    fn serialize_none(self) -> Result<Value, SerError> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, SerError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, SerError> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value, SerError> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<Value, SerError> {
        Ok(Value::string(variant))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Value, SerError> {
        if name == LOCAL_NEWTYPE {
            return match value.serialize(self)? {
                Value::Int(id) if id >= 0 => Ok(Value::Local(id as u32)),
                Value::Float(f) if f.fract() == 0.0 && f > 0.0 && f <= u32::MAX as f64 => {
                    Ok(Value::Local(f as u32))
                }
                other => Err(ser::Error::custom(format!(
                    "{LOCAL_NEWTYPE} must wrap a u32 id (0 is the global object), got {other:?}"
                ))),
            };
        }
        if name == REMOTE_NEWTYPE {
            let bad = |other: &Value| {
                ser::Error::custom(format!(
                    "{REMOTE_NEWTYPE} must wrap a (kind: u8, id: u32) pair with a known kind and an id other than 0, got {other:?}"
                ))
            };
            // Integers up to 2^31 - 1 serialize as Int, larger ones as Float.
            let index = |v: &Value| match *v {
                Value::Int(n) => u32::try_from(n).ok(),
                Value::Float(f) if f.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&f) => {
                    Some(f as u32)
                }
                _ => None,
            };
            return match value.serialize(self)? {
                Value::Array(pair) => match pair.as_slice() {
                    [kind, id] => match (index(kind).and_then(|k| u8::try_from(k).ok()), index(id))
                    {
                        (Some(kind), Some(id))
                            if id != 0 && crate::value::RefKind::from_u8(kind).is_some() =>
                        {
                            Ok(Value::Remote { kind, id })
                        }
                        _ => Err(bad(&Value::Array(pair))),
                    },
                    _ => Err(bad(&Value::Array(pair))),
                },
                other => Err(bad(&other)),
            };
        }
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, SerError> {
        let content = value.serialize(self).at(|| key_segment(variant))?;
        Ok(variant_object(variant, content))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer, SerError> {
        Ok(SeqSer(Vec::with_capacity(len.unwrap_or(0).min(4096))))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer, SerError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqSer, SerError> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantSeqSer, SerError> {
        Ok(VariantSeqSer {
            variant,
            seq: SeqSer(Vec::with_capacity(len.min(4096))),
        })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSer, SerError> {
        Ok(MapSer {
            entries: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            key: None,
        })
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<MapSer, SerError> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantMapSer, SerError> {
        Ok(VariantMapSer {
            variant,
            map: self.serialize_map(Some(len))?,
        })
    }
}

/// Builds an `Array`.
#[doc(hidden)]
pub struct SeqSer(Vec<Value>);

impl SeqSer {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        let i = self.0.len();
        let v = value.serialize(ValueSerializer).at(|| index_segment(i))?;
        self.0.push(v);
        Ok(())
    }
}

impl ser::SerializeSeq for SeqSer {
    type Ok = Value;
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(Value::Array(self.0))
    }
}

impl ser::SerializeTuple for SeqSer {
    type Ok = Value;
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(Value::Array(self.0))
    }
}

impl ser::SerializeTupleStruct for SeqSer {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.push(value)
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(Value::Array(self.0))
    }
}

/// Builds `{ "Variant": [...] }`.
#[doc(hidden)]
pub struct VariantSeqSer {
    variant: &'static str,
    seq: SeqSer,
}

impl ser::SerializeTupleVariant for VariantSeqSer {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        let variant = self.variant;
        self.seq.push(value).at(|| key_segment(variant))
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(variant_object(self.variant, Value::Array(self.seq.0)))
    }
}

/// Builds an `Object`.
#[doc(hidden)]
pub struct MapSer {
    entries: Vec<(JsString, Value)>,
    key: Option<String>,
}

impl MapSer {
    fn insert<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), SerError> {
        let v = value.serialize(ValueSerializer).at(|| key_segment(&key))?;
        self.entries.push((JsString::Utf8(key), v));
        Ok(())
    }
}

impl ser::SerializeMap for MapSer {
    type Ok = Value;
    type Error = SerError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), SerError> {
        let k = match key.serialize(ValueSerializer)? {
            Value::String(s) => s.to_string_lossy(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::BigInt { .. } => {
                // JS writes a bigint key in decimal too.
                let mut any = None;
                key.serialize(KeyNumber(&mut any))?;
                any.unwrap_or_default()
            }
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(ser::Error::custom(format!(
                    "a map key must be a string, char, integer or bool to become a JS property name, got {other:?}; use a Vec of (key, value) pairs for other keys"
                )))
            }
        };
        self.key = Some(k);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        let key = self
            .key
            .take()
            .ok_or_else(|| ser::Error::custom("serialize_value called before serialize_key"))?;
        self.insert(key, value)
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(Value::Object(self.entries))
    }
}

impl ser::SerializeStruct for MapSer {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        self.insert(key.to_owned(), value)
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(Value::Object(self.entries))
    }
}

/// Builds `{ "Variant": { ... } }`.
#[doc(hidden)]
pub struct VariantMapSer {
    variant: &'static str,
    map: MapSer,
}

impl ser::SerializeStructVariant for VariantMapSer {
    type Ok = Value;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), SerError> {
        let variant = self.variant;
        self.map
            .insert(key.to_owned(), value)
            .at(|| key_segment(variant))
    }
    fn end(self) -> Result<Value, SerError> {
        Ok(variant_object(
            self.variant,
            Value::Object(self.map.entries),
        ))
    }
}

/// Writes a large integer map key in decimal (only the integer methods are
/// reachable: [`MapSer`] calls it after the key became a `BigInt`).
struct KeyNumber<'a>(&'a mut Option<String>);

macro_rules! key_number_int {
    ($($m:ident: $t:ty),*) => {$(
        fn $m(self, v: $t) -> Result<(), SerError> {
            *self.0 = Some(v.to_string());
            Ok(())
        }
    )*};
}

macro_rules! key_number_unreachable {
    ($($m:ident: $t:ty),*) => {$(
        fn $m(self, _v: $t) -> Result<(), SerError> {
            Err(ser::Error::custom("map key changed type between two serializations"))
        }
    )*};
}

impl ser::Serializer for KeyNumber<'_> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = ser::Impossible<(), SerError>;
    type SerializeTuple = ser::Impossible<(), SerError>;
    type SerializeTupleStruct = ser::Impossible<(), SerError>;
    type SerializeTupleVariant = ser::Impossible<(), SerError>;
    type SerializeMap = ser::Impossible<(), SerError>;
    type SerializeStruct = ser::Impossible<(), SerError>;
    type SerializeStructVariant = ser::Impossible<(), SerError>;

    key_number_int!(serialize_i64: i64, serialize_u64: u64, serialize_i128: i128, serialize_u128: u128);
    key_number_unreachable!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_f32: f32, serialize_f64: f64,
        serialize_char: char, serialize_str: &str, serialize_bytes: &[u8]);

    fn serialize_none(self) -> Result<(), SerError> {
        Err(ser::Error::custom(
            "map key changed type between two serializations",
        ))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), SerError> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), SerError> {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), SerError> {
        self.serialize_none()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), SerError> {
        self.serialize_none()
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), SerError> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), SerError> {
        self.serialize_none()
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, SerError> {
        Err(ser::Error::custom(
            "map key changed type between two serializations",
        ))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, SerError> {
        Err(ser::Error::custom(
            "map key changed type between two serializations",
        ))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, SerError> {
        Err(ser::Error::custom(
            "map key changed type between two serializations",
        ))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        Err(ser::Error::custom(
            "map key changed type between two serializations",
        ))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, SerError> {
        Err(ser::Error::custom(
            "map key changed type between two serializations",
        ))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, SerError> {
        Err(ser::Error::custom(
            "map key changed type between two serializations",
        ))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        Err(ser::Error::custom(
            "map key changed type between two serializations",
        ))
    }
}

// ---------------------------------------------------------------------------
// Deserializer

/// Reads a `T` out of `value` (see the module docs for what is accepted).
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, DeError> {
    T::deserialize(ValueDeserializer::new(value))
}

/// The serde `Deserializer` over a borrowed [`Value`]; [`from_value`] uses it.
#[derive(Clone, Copy)]
pub struct ValueDeserializer<'a> {
    value: &'a Value,
}

impl<'a> ValueDeserializer<'a> {
    /// Reads from `value`.
    pub fn new(value: &'a Value) -> Self {
        ValueDeserializer { value }
    }

    fn unexpected(&self) -> de::Unexpected<'a> {
        use de::Unexpected as U;
        match self.value {
            Value::Undefined => U::Other("undefined"),
            Value::Null => U::Other("null"),
            Value::Bool(b) => U::Bool(*b),
            Value::Int(i) => U::Signed(*i as i64),
            Value::Float(f) => U::Float(*f),
            Value::BigInt { .. } => U::Other("a bigint"),
            Value::String(JsString::Utf8(s)) => U::Str(s),
            Value::String(JsString::Utf16(_)) => U::Other("a string with lone surrogates"),
            Value::ArrayBuffer(_) => U::Other("an ArrayBuffer"),
            Value::TypedArray { .. } => U::Other("a typed array"),
            Value::Date(_) => U::Other("a Date"),
            Value::RegExp { .. } => U::Other("a RegExp"),
            Value::Error(_) => U::Other("an Error"),
            Value::Array(_) => U::Seq,
            Value::Object(_) => U::Map,
            Value::Map(_) => U::Other("a Map"),
            Value::Set(_) => U::Other("a Set"),
            Value::BackRef(_) => U::Other("a shared object reference (BackRef)"),
            Value::Remote { .. } => U::Other("a remote object reference (use JsHandle for it)"),
            Value::Local(_) => U::Other("a reference to one of our own objects"),
            Value::Hole => U::Other("an array hole"),
            Value::SparseArray { .. } => U::Other("a sparse array (an array with runs of holes)"),
            Value::Transferred { .. } => U::Other("a transferred ArrayBuffer"),
            Value::Symbol(_) => U::Other("a symbol"),
        }
    }

    fn invalid<T>(&self, exp: &dyn de::Expected) -> Result<T, DeError> {
        Err(de::Error::invalid_type(self.unexpected(), exp))
    }

    fn integer<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match value_integer(self.value) {
            Some(n) => {
                if let Ok(i) = i64::try_from(n) {
                    visitor.visit_i64(i)
                } else if let Ok(u) = u64::try_from(n) {
                    visitor.visit_u64(u)
                } else {
                    visitor.visit_i128(n)
                }
            }
            None => match value_u128(self.value) {
                Some(u) => visitor.visit_u128(u),
                None => match self.value {
                    Value::Float(f) => visitor.visit_f64(*f),
                    _ => self.invalid(&visitor),
                },
            },
        }
    }

    fn bytes_of(&self) -> Option<&'a [u8]> {
        match self.value {
            Value::ArrayBuffer(b) => Some(b),
            Value::TypedArray { kind, bytes }
                if matches!(
                    TypedArrayKind::from_u8(*kind),
                    Some(
                        TypedArrayKind::Uint8Array
                            | TypedArrayKind::Uint8ClampedArray
                            | TypedArrayKind::Int8Array
                            | TypedArrayKind::DataView
                    )
                ) =>
            {
                Some(bytes)
            }
            _ => None,
        }
    }
}

macro_rules! de_integer {
    ($($m:ident),*) => {$(
        fn $m<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.integer(visitor)
        }
    )*};
}

impl<'a> de::Deserializer<'a> for ValueDeserializer<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Undefined | Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i32(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::BigInt { .. } => match (value_integer(self.value), value_u128(self.value)) {
                (Some(n), _) => match i64::try_from(n) {
                    Ok(i) => visitor.visit_i64(i),
                    Err(_) => match u64::try_from(n) {
                        Ok(u) => visitor.visit_u64(u),
                        Err(_) => visitor.visit_i128(n),
                    },
                },
                (None, Some(u)) => visitor.visit_u128(u),
                _ => Err(de::Error::custom(
                    "a bigint wider than 128 bits has no Rust integer type; read it as a string on the JS side",
                )),
            },
            Value::String(JsString::Utf8(s)) => visitor.visit_borrowed_str(s),
            Value::String(s @ JsString::Utf16(_)) => visitor.visit_string(s.to_string_lossy()),
            Value::ArrayBuffer(b) => visitor.visit_borrowed_bytes(b),
            Value::TypedArray { .. } => match self.bytes_of() {
                Some(b) => visitor.visit_borrowed_bytes(b),
                None => self.invalid(&visitor),
            },
            Value::Date(t) => visitor.visit_f64(*t),
            Value::Array(items) | Value::Set(items) => visitor.visit_seq(SeqDe::new(items)),
            Value::Object(entries) => visitor.visit_map(ObjectDe::new(entries)),
            Value::Map(entries) => visitor.visit_map(MapDe::new(entries)),
            Value::Error(e) => {
                // Read as { name, message, stack? }.
                let mut pairs = vec![
                    ("name".to_owned(), e.name.to_string_lossy()),
                    ("message".to_owned(), e.message.to_string_lossy()),
                ];
                if let Some(stack) = &e.stack {
                    pairs.push(("stack".to_owned(), stack.to_string_lossy()));
                }
                visitor.visit_map(de::value::MapDeserializer::new(pairs.into_iter()))
            }
            Value::RegExp { .. }
            | Value::BackRef(_)
            | Value::Remote { .. }
            | Value::Local(_)
            | Value::Hole
            | Value::SparseArray { .. }
            | Value::Transferred { .. }
            | Value::Symbol(_) => self.invalid(&visitor),
        }
    }

    de_integer!(
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128
    );

    fn deserialize_f32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Int(i) => visitor.visit_f64(*i as f64),
            Value::Float(f) => visitor.visit_f64(*f),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::String(JsString::Utf8(s)) => visitor.visit_borrowed_str(s),
            Value::String(s @ JsString::Utf16(_)) => Err(de::Error::custom(format!(
                "the string {s:?} has lone surrogates, which Rust strings cannot hold; read it as Value or fix it on the JS side (String.prototype.toWellFormed)"
            ))),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Some(b) = self.bytes_of() {
            return visitor.visit_borrowed_bytes(b);
        }
        match self.value {
            Value::Array(items) => visitor.visit_seq(SeqDe::new(items)),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Undefined | Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Undefined | Value::Null => visitor.visit_unit(),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == REMOTE_NEWTYPE {
            return match self.value {
                Value::Remote { kind, id } => visitor.visit_newtype_struct(
                    de::value::SeqDeserializer::new([u32::from(*kind), *id].into_iter()),
                ),
                _ => Err(de::Error::invalid_type(
                    self.unexpected(),
                    &"a remote object reference (the main thread sent a plain value: read it as a Value or a serde type)",
                )),
            };
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Some(b) = self.bytes_of() {
            return visitor.visit_seq(BytesSeq { bytes: b, i: 0 });
        }
        match self.value {
            Value::Array(items) | Value::Set(items) => visitor.visit_seq(SeqDe::new(items)),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Object(entries) => visitor.visit_map(ObjectDe::new(entries)),
            Value::Map(entries) => visitor.visit_map(MapDe::new(entries)),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Value::Object(_) | Value::Map(_) => self.deserialize_map(visitor),
            Value::Error(_) => self.deserialize_any(visitor),
            _ => self.invalid(&visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Value::String(JsString::Utf8(s)) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Object(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                match k {
                    JsString::Utf8(name) => {
                        let segment = key_segment(name);
                        visitor
                            .visit_enum(EnumDe { name, value: v })
                            .at(|| segment)
                    }
                    JsString::Utf16(_) => Err(de::Error::custom(
                        "an enum variant name has lone surrogates",
                    )),
                }
            }
            _ => Err(de::Error::invalid_type(
                self.unexpected(),
                &"an enum: a variant name string, or an object with exactly one key (the variant name)",
            )),
        }
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

/// Elements of an `Array` or `Set`.
struct SeqDe<'a> {
    items: &'a [Value],
    i: usize,
}

impl<'a> SeqDe<'a> {
    fn new(items: &'a [Value]) -> Self {
        SeqDe { items, i: 0 }
    }
}

impl<'a> SeqAccess<'a> for SeqDe<'a> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(item) = self.items.get(self.i) else {
            return Ok(None);
        };
        let i = self.i;
        self.i += 1;
        // A hole reads as undefined, as JS reads it.
        let item = if let Value::Hole = item {
            &Value::Undefined
        } else {
            item
        };
        seed.deserialize(ValueDeserializer::new(item))
            .map(Some)
            .at(|| index_segment(i))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.i)
    }
}

/// The bytes of a byte array, read as a sequence of `u8`.
struct BytesSeq<'a> {
    bytes: &'a [u8],
    i: usize,
}

impl<'a> SeqAccess<'a> for BytesSeq<'a> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(b) = self.bytes.get(self.i) else {
            return Ok(None);
        };
        let i = self.i;
        self.i += 1;
        seed.deserialize(de::value::U8Deserializer::<DeError>::new(*b))
            .map(Some)
            .at(|| index_segment(i))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.bytes.len() - self.i)
    }
}

/// Properties of an `Object`.
struct ObjectDe<'a> {
    entries: &'a [(JsString, Value)],
    i: usize,
}

impl<'a> ObjectDe<'a> {
    fn new(entries: &'a [(JsString, Value)]) -> Self {
        ObjectDe { entries, i: 0 }
    }
}

impl<'a> MapAccess<'a> for ObjectDe<'a> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((k, _)) = self.entries.get(self.i) else {
            return Ok(None);
        };
        seed.deserialize(KeyDe { key: k })
            .map(Some)
            .at(|| key_segment(&k.to_string_lossy()))
    }
    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (k, v) = &self.entries[self.i];
        self.i += 1;
        seed.deserialize(ValueDeserializer::new(v))
            .at(|| key_segment(&k.to_string_lossy()))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() - self.i)
    }
}

/// Entries of a JS `Map`.
struct MapDe<'a> {
    entries: &'a [(Value, Value)],
    i: usize,
}

impl<'a> MapDe<'a> {
    fn new(entries: &'a [(Value, Value)]) -> Self {
        MapDe { entries, i: 0 }
    }
}

impl<'a> MapAccess<'a> for MapDe<'a> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((k, _)) = self.entries.get(self.i) else {
            return Ok(None);
        };
        let i = self.i;
        seed.deserialize(ValueDeserializer::new(k))
            .map(Some)
            .at(|| format!("<map key {i}>"))
    }
    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (k, v) = &self.entries[self.i];
        self.i += 1;
        seed.deserialize(ValueDeserializer::new(v)).at(|| match k {
            Value::String(s) => key_segment(&s.to_string_lossy()),
            other => format!("[{other:?}]"),
        })
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() - self.i)
    }
}

/// A property name, readable as a string or (parsed) as a number or bool,
/// since JS property names are always strings.
struct KeyDe<'a> {
    key: &'a JsString,
}

impl KeyDe<'_> {
    fn text(&self) -> Result<&str, DeError> {
        self.key
            .as_str()
            .ok_or_else(|| de::Error::custom("a property name has lone surrogates"))
    }
}

macro_rules! key_parse {
    ($($m:ident => $visit:ident: $t:ty),*) => {$(
        fn $m<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
            let s = self.text()?;
            match s.parse::<$t>() {
                Ok(n) => visitor.$visit(n),
                Err(_) => Err(de::Error::invalid_value(de::Unexpected::Str(s), &visitor)),
            }
        }
    )*};
}

impl<'a> de::Deserializer<'a> for KeyDe<'a> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.key {
            JsString::Utf8(s) => visitor.visit_borrowed_str(s),
            JsString::Utf16(_) => visitor.visit_string(self.key.to_string_lossy()),
        }
    }

    key_parse!(
        deserialize_i8 => visit_i8: i8, deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32, deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8, deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32, deserialize_u64 => visit_u64: u64,
        deserialize_u128 => visit_u128: u128,
        deserialize_f32 => visit_f32: f32, deserialize_f64 => visit_f64: f64,
        deserialize_bool => visit_bool: bool
    );

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_enum(self.text()?.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        <W: Visitor<'a>>
        char str string bytes byte_buf option unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

/// `{ "Variant": content }`.
struct EnumDe<'a> {
    name: &'a str,
    value: &'a Value,
}

impl<'a> EnumAccess<'a> for EnumDe<'a> {
    type Error = DeError;
    type Variant = ValueDeserializer<'a>;
    fn variant_seed<V: DeserializeSeed<'a>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let de: de::value::BorrowedStrDeserializer<'a, DeError> =
            de::value::BorrowedStrDeserializer::new(self.name);
        let v = seed.deserialize(de)?;
        Ok((v, ValueDeserializer::new(self.value)))
    }
}

impl<'a> VariantAccess<'a> for ValueDeserializer<'a> {
    type Error = DeError;
    fn unit_variant(self) -> Result<(), DeError> {
        match self.value {
            Value::Null | Value::Undefined => Ok(()),
            _ => self.invalid(&"null for a unit variant"),
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }
    fn struct_variant<V: Visitor<'a>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

// ---------------------------------------------------------------------------
// Shared objects

/// Most nodes [`expand_shared`] builds before it gives up (a small message
/// whose shared objects nest in each other can stand for a huge tree).
pub const MAX_EXPANDED_NODES: usize = 1 << 20;

/// Replaces every `BackRef(i)` in `values` (the values of one message, in
/// wire order) by a copy of the object it names, so that serde types, which
/// have no notion of sharing, can read them. JS writes a `BackRef` when one
/// object appears twice in a message (`{ a: o, b: o }`).
///
/// A cycle (an object that contains itself) has no tree form: that is an
/// error naming the path, as is a `BackRef` to no object and an expansion of
/// more than [`MAX_EXPANDED_NODES`] nodes.
pub fn expand_shared(values: &mut [Value]) -> Result<(), DeError> {
    fn has_backref(v: &Value) -> bool {
        match v {
            Value::BackRef(_) => true,
            Value::Array(items) | Value::Set(items) => items.iter().any(has_backref),
            Value::SparseArray { entries, .. } => entries.iter().any(|(_, v)| has_backref(v)),
            Value::Object(entries) => entries.iter().any(|(_, v)| has_backref(v)),
            Value::Map(entries) => entries
                .iter()
                .any(|(k, v)| has_backref(k) || has_backref(v)),
            Value::Error(e) => {
                e.cause.as_ref().is_some_and(has_backref)
                    || e.props.iter().any(|(_, v)| has_backref(v))
            }
            _ => false,
        }
    }
    if !values.iter().any(has_backref) {
        return Ok(());
    }

    // Pre-order numbering of the [obj] tags, as the wire assigns it.
    fn number<'v>(v: &'v Value, table: &mut Vec<&'v Value>) {
        if v.is_indexed_object() {
            table.push(v);
        }
        match v {
            Value::Array(items) | Value::Set(items) => items.iter().for_each(|x| number(x, table)),
            Value::SparseArray { entries, .. } => {
                entries.iter().for_each(|(_, x)| number(x, table))
            }
            Value::Object(entries) => entries.iter().for_each(|(_, x)| number(x, table)),
            Value::Map(entries) => entries.iter().for_each(|(k, x)| {
                number(k, table);
                number(x, table)
            }),
            Value::Error(e) => {
                if let Some(c) = &e.cause {
                    number(c, table);
                }
                e.props.iter().for_each(|(_, x)| number(x, table));
            }
            _ => {}
        }
    }

    struct Expander<'v> {
        table: Vec<&'v Value>,
        open: Vec<*const Value>,
        nodes: usize,
    }

    impl<'v> Expander<'v> {
        fn expand(&mut self, v: &'v Value) -> Result<Value, DeError> {
            self.nodes += 1;
            if self.nodes > MAX_EXPANDED_NODES {
                return Err(de::Error::custom(format!(
                    "the shared objects in this message expand to more than {MAX_EXPANDED_NODES} values; send a tree instead of a graph of shared objects"
                )));
            }
            let v = match v {
                Value::BackRef(i) => match self.table.get(*i as usize) {
                    Some(target) => *target,
                    None => {
                        return Err(de::Error::custom(format!(
                            "back-reference to object #{i}, which the message does not contain"
                        )))
                    }
                },
                v => v,
            };
            let ptr = v as *const Value;
            if self.open.contains(&ptr) {
                return Err(de::Error::custom(
                    "the value contains itself (a cycle); serde types hold trees only: break the cycle on the JS side or read it as a remote object",
                ));
            }
            self.open.push(ptr);
            let out = match v {
                Value::Array(items) => Value::Array(self.list(items)?),
                Value::Set(items) => Value::Set(self.list(items)?),
                Value::Object(entries) => {
                    let mut out = Vec::with_capacity(entries.len());
                    for (k, x) in entries {
                        let x = self.expand(x).at(|| key_segment(&k.to_string_lossy()))?;
                        out.push((k.clone(), x));
                    }
                    Value::Object(out)
                }
                Value::Map(entries) => {
                    let mut out = Vec::with_capacity(entries.len());
                    for (i, (k, x)) in entries.iter().enumerate() {
                        let k = self.expand(k).at(|| format!("<map key {i}>"))?;
                        let x = self.expand(x).at(|| format!("<map value {i}>"))?;
                        out.push((k, x));
                    }
                    Value::Map(out)
                }
                Value::Error(e) => {
                    let mut e2 = (**e).clone();
                    if let Some(c) = &e.cause {
                        e2.cause = Some(self.expand(c).at(|| ".cause".to_owned())?);
                    }
                    let mut props = Vec::with_capacity(e.props.len());
                    for (k, x) in &e.props {
                        props.push((
                            k.clone(),
                            self.expand(x).at(|| key_segment(&k.to_string_lossy()))?,
                        ));
                    }
                    e2.props = props;
                    Value::Error(Box::new(e2))
                }
                other => other.clone(),
            };
            self.open.pop();
            Ok(out)
        }

        fn list(&mut self, items: &'v [Value]) -> Result<Vec<Value>, DeError> {
            let mut out = Vec::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                out.push(self.expand(x).at(|| index_segment(i))?);
            }
            Ok(out)
        }
    }

    let expanded = {
        let mut table = Vec::new();
        values.iter().for_each(|v| number(v, &mut table));
        let mut ex = Expander {
            table,
            open: Vec::new(),
            nodes: 0,
        };
        let mut out = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            let r = ex.expand(v);
            out.push(if values.len() > 1 {
                r.at(|| format!("<argument {i}>"))?
            } else {
                r?
            });
        }
        out
    };
    for (slot, v) in values.iter_mut().zip(expanded) {
        *slot = v;
    }
    Ok(())
}
