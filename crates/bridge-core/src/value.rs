//! The value model: what a JS value becomes on the wire (docs/protocol.md §2).
//!
//! Variant order is the wire tag order, so do not reorder variants. The types
//! derive `Serialize` only: serialising them with postcard yields exactly the
//! wire bytes (floats are written with NaN canonicalised). There is no derived
//! `Deserialize` on purpose: a derived one has no depth limit and would not
//! enforce the protocol's validation; decode with [`crate::wire`] instead.

use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Serialize, Serializer};

/// The one NaN bit pattern the wire carries (quiet NaN, no payload).
pub const CANONICAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0000;

/// Returns `x`, or the canonical NaN when `x` is any NaN, so that every NaN
/// has one encoding and round trips compare equal by bits.
#[inline]
pub fn canonical_f64(x: f64) -> f64 {
    if x.is_nan() {
        f64::from_bits(CANONICAL_NAN_BITS)
    } else {
        x
    }
}

/// serde helper: writes an `f64` with its NaN canonicalised.
pub(crate) fn ser_f64<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(canonical_f64(*x))
}

/// A JS string, kept exactly: UTF-8 when it is well-formed, raw UTF-16 code
/// units when it has lone surrogates (which UTF-8 cannot represent).
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
pub enum JsString {
    /// 0: a well-formed string.
    Utf8(String),
    /// 1: UTF-16LE code units (even length), used for strings with lone surrogates.
    Utf16(#[serde(with = "serde_bytes")] Vec<u8>),
}

impl JsString {
    /// Builds the wire form of a JS string from its UTF-16 code units:
    /// `Utf8` when they are well-formed, `Utf16` otherwise.
    pub fn from_utf16(units: &[u16]) -> JsString {
        match String::from_utf16(units) {
            Ok(s) => JsString::Utf8(s),
            Err(_) => {
                let mut bytes = Vec::with_capacity(units.len() * 2);
                for u in units {
                    bytes.extend_from_slice(&u.to_le_bytes());
                }
                JsString::Utf16(bytes)
            }
        }
    }

    /// The string's UTF-16 code units (what JS sees). An odd trailing byte of
    /// an invalid `Utf16` (which decode rejects) is ignored.
    pub fn to_utf16(&self) -> Vec<u16> {
        match self {
            JsString::Utf8(s) => s.encode_utf16().collect(),
            JsString::Utf16(b) => b
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect(),
        }
    }

    /// The string as Rust text when it is `Utf8`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsString::Utf8(s) => Some(s),
            JsString::Utf16(_) => None,
        }
    }

    /// The string as Rust text, lone surrogates replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> String {
        match self {
            JsString::Utf8(s) => s.clone(),
            JsString::Utf16(_) => String::from_utf16_lossy(&self.to_utf16()),
        }
    }
}

impl From<&str> for JsString {
    fn from(s: &str) -> Self {
        JsString::Utf8(s.to_owned())
    }
}

impl From<String> for JsString {
    fn from(s: String) -> Self {
        JsString::Utf8(s)
    }
}

impl fmt::Debug for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsString::Utf8(s) => fmt::Debug::fmt(s, f),
            JsString::Utf16(_) => {
                // Like a JS string literal: lone surrogates as \uXXXX.
                f.write_str("\"")?;
                for r in char::decode_utf16(self.to_utf16()) {
                    match r {
                        Ok(c) => write!(f, "{}", c.escape_debug())?,
                        Err(e) => write!(f, "\\u{:04x}", e.unpaired_surrogate())?,
                    }
                }
                f.write_str("\"")
            }
        }
    }
}

impl fmt::Display for JsString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

/// Typed array kinds (`Value::TypedArray.kind`), numbered as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TypedArrayKind {
    Int8Array = 0,
    Uint8Array = 1,
    Uint8ClampedArray = 2,
    Int16Array = 3,
    Uint16Array = 4,
    Int32Array = 5,
    Uint32Array = 6,
    Float32Array = 7,
    Float64Array = 8,
    BigInt64Array = 9,
    BigUint64Array = 10,
    DataView = 11,
    Float16Array = 12,
}

impl TypedArrayKind {
    /// Every kind, in wire order.
    pub const ALL: [TypedArrayKind; 13] = [
        Self::Int8Array,
        Self::Uint8Array,
        Self::Uint8ClampedArray,
        Self::Int16Array,
        Self::Uint16Array,
        Self::Int32Array,
        Self::Uint32Array,
        Self::Float32Array,
        Self::Float64Array,
        Self::BigInt64Array,
        Self::BigUint64Array,
        Self::DataView,
        Self::Float16Array,
    ];

    /// The kind with wire number `n`, if there is one.
    pub fn from_u8(n: u8) -> Option<Self> {
        Self::ALL.get(n as usize).copied()
    }

    /// Bytes per element; `bytes.len()` must be a multiple of it (1 for DataView).
    pub fn element_size(self) -> usize {
        use TypedArrayKind::*;
        match self {
            Int8Array | Uint8Array | Uint8ClampedArray | DataView => 1,
            Int16Array | Uint16Array | Float16Array => 2,
            Int32Array | Uint32Array | Float32Array => 4,
            Float64Array | BigInt64Array | BigUint64Array => 8,
        }
    }

    /// The JS constructor name (as used in the golden vectors).
    pub fn js_name(self) -> &'static str {
        use TypedArrayKind::*;
        match self {
            Int8Array => "Int8Array",
            Uint8Array => "Uint8Array",
            Uint8ClampedArray => "Uint8ClampedArray",
            Int16Array => "Int16Array",
            Uint16Array => "Uint16Array",
            Int32Array => "Int32Array",
            Uint32Array => "Uint32Array",
            Float32Array => "Float32Array",
            Float64Array => "Float64Array",
            BigInt64Array => "BigInt64Array",
            BigUint64Array => "BigUint64Array",
            DataView => "DataView",
            Float16Array => "Float16Array",
        }
    }

    /// The kind whose JS constructor name is `name`.
    pub fn from_js_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.js_name() == name)
    }
}

/// Remote reference kinds (`Value::Remote.kind`): they pick the proxy's target
/// so that `typeof` and `Array.isArray` answer as on the owning side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RefKind {
    Function = 0,
    Object = 1,
    Array = 2,
}

impl RefKind {
    /// The kind with wire number `n`, if there is one.
    pub fn from_u8(n: u8) -> Option<Self> {
        match n {
            0 => Some(RefKind::Function),
            1 => Some(RefKind::Object),
            2 => Some(RefKind::Array),
            _ => None,
        }
    }

    /// The name used in the golden vectors.
    pub fn name(self) -> &'static str {
        match self {
            RefKind::Function => "function",
            RefKind::Object => "object",
            RefKind::Array => "array",
        }
    }

    /// The kind named `name` in the golden vectors.
    pub fn from_name(name: &str) -> Option<Self> {
        [RefKind::Function, RefKind::Object, RefKind::Array]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// A JS symbol, as a value ([`Value::Symbol`]) or a property key
/// (`Key::Symbol`): docs/protocol.md §2 "Symbols".
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum JsSymbol {
    /// 0: a well-known symbol (`Symbol.iterator`, ...), numbered as
    /// [`crate::message::WELL_KNOWN_SYMBOLS`].
    WellKnown(u8),
    /// 1: `Symbol.for(key)`, the same symbol on every side.
    Registered(JsString),
    /// 2: a unique symbol living on the sender's side (its export id, counted
    /// like `Remote`), with its description (`None` for `Symbol()`).
    Remote {
        id: u32,
        description: Option<JsString>,
    },
    /// 3: a unique symbol of the receiver's, going home (an id it exported).
    Local(u32),
}

/// A JS value on the wire. Tag numbers are the variant order; see
/// docs/protocol.md §2 for which tags get an object index (\[obj\]).
///
/// `PartialEq` compares floats as `f64` does (NaN != NaN); use
/// [`Value::wire_eq`] to compare by bits.
#[derive(Clone, PartialEq, Serialize)]
pub enum Value {
    /// 0
    Undefined,
    /// 1
    Null,
    /// 2
    Bool(bool),
    /// 3: an integer in i32 range that is not -0 (see [`Value::number`]).
    Int(i32),
    /// 4: every other number.
    Float(#[serde(serialize_with = "ser_f64")] f64),
    /// 5: little-endian magnitude without trailing zero bytes; 0n is (false, []).
    BigInt {
        negative: bool,
        #[serde(with = "serde_bytes")]
        magnitude: Vec<u8>,
    },
    /// 6
    String(JsString),
    /// 7 \[obj\]
    ArrayBuffer(#[serde(with = "serde_bytes")] Vec<u8>),
    /// 8 \[obj\]: `kind` is a [`TypedArrayKind`] number; the view's bytes only.
    TypedArray {
        kind: u8,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// 9 \[obj\]: the time value; NaN for an invalid date.
    Date(#[serde(serialize_with = "ser_f64")] f64),
    /// 10 \[obj\]
    RegExp { source: JsString, flags: String },
    /// 11 \[obj\]
    Error(Box<ErrorValue>),
    /// 12 \[obj\]: dense order; a hole is [`Value::Hole`].
    Array(Vec<Value>),
    /// 13 \[obj\]: own enumerable string-keyed properties, in order.
    Object(Vec<(JsString, Value)>),
    /// 14 \[obj\]
    Map(Vec<(Value, Value)>),
    /// 15 \[obj\]
    Set(Vec<Value>),
    /// 16: the object with that index, earlier in this message.
    BackRef(u32),
    /// 17: an object living on the sender's side (its export id); `kind` is a [`RefKind`] number.
    Remote { kind: u8, id: u32 },
    /// 18: an object living on the receiver's side (an id the receiver exported).
    Local(u32),
    /// 19: an array hole; valid only as a direct element of an `Array`.
    Hole,
    /// 20 \[obj\]: an `ArrayBuffer` moved beside the message (`transfer(...)`),
    /// not copied into it: entry `buffer` of the buffers that travel with the
    /// message (docs/protocol.md "Transferred buffers"). With `view`, the value
    /// is a typed array / DataView over that buffer.
    Transferred {
        buffer: u32,
        view: Option<TransferredView>,
    },
    /// 21 \[obj\]: an array with runs of holes, by its present elements only:
    /// `length` is the JS length, `entries` the `(index, value)` pairs in
    /// increasing index order, every index below `length`; every other index
    /// is a hole. Its cost is its elements, not its length (docs/protocol.md
    /// §2 "Sparse arrays").
    SparseArray {
        length: u32,
        entries: Vec<(u32, Value)>,
    },
    /// 22: a symbol (not an object: no object index).
    Symbol(JsSymbol),
}

/// A typed array or DataView over a transferred buffer (`Value::Transferred`).
/// `byte_offset` and `byte_length` are multiples of the kind's element size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct TransferredView {
    /// A [`TypedArrayKind`] number.
    pub kind: u8,
    pub byte_offset: u32,
    pub byte_length: u32,
}

/// A JS Error: name, message, stack, cause and other own enumerable properties.
#[derive(Clone, PartialEq, Serialize)]
pub struct ErrorValue {
    pub name: JsString,
    pub message: JsString,
    pub stack: Option<JsString>,
    pub cause: Option<Value>,
    pub props: Vec<(JsString, Value)>,
}

impl ErrorValue {
    /// An error with just a name and a message.
    pub fn new(name: impl Into<JsString>, message: impl Into<JsString>) -> Self {
        ErrorValue {
            name: name.into(),
            message: message.into(),
            stack: None,
            cause: None,
            props: Vec::new(),
        }
    }
}

impl Value {
    /// The wire form of a JS number: `Int` when it is an integer with
    /// `-2^31 <= n < 2^31` and not -0, `Float` otherwise (docs/protocol.md §2).
    pub fn number(n: f64) -> Value {
        // In range first, so the cast is exact exactly for integers (and
        // this needs no `f64::fract`, which core lacks).
        if (-2147483648.0..2147483648.0).contains(&n)
            && f64::from(n as i32) == n
            && !(n == 0.0 && n.is_sign_negative())
        {
            Value::Int(n as i32)
        } else {
            Value::Float(n)
        }
    }

    /// The number this value stands for, when it is `Int` or `Float`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// A well-formed string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(JsString::Utf8(s.into()))
    }

    /// The wire tag number of this variant.
    pub fn tag(&self) -> u32 {
        match self {
            Value::Undefined => 0,
            Value::Null => 1,
            Value::Bool(_) => 2,
            Value::Int(_) => 3,
            Value::Float(_) => 4,
            Value::BigInt { .. } => 5,
            Value::String(_) => 6,
            Value::ArrayBuffer(_) => 7,
            Value::TypedArray { .. } => 8,
            Value::Date(_) => 9,
            Value::RegExp { .. } => 10,
            Value::Error(_) => 11,
            Value::Array(_) => 12,
            Value::Object(_) => 13,
            Value::Map(_) => 14,
            Value::Set(_) => 15,
            Value::BackRef(_) => 16,
            Value::Remote { .. } => 17,
            Value::Local(_) => 18,
            Value::Hole => 19,
            Value::Transferred { .. } => 20,
            Value::SparseArray { .. } => 21,
            Value::Symbol(_) => 22,
        }
    }

    /// True for the tags that get an object index when written (\[obj\]).
    pub fn is_indexed_object(&self) -> bool {
        matches!(self.tag(), 7..=15 | 20 | 21)
    }

    /// Equality as the wire sees it: floats (and dates) compare by bits after
    /// NaN canonicalisation, so `NaN == NaN` and `0.0 != -0.0`.
    pub fn wire_eq(&self, other: &Value) -> bool {
        fn feq(a: f64, b: f64) -> bool {
            canonical_f64(a).to_bits() == canonical_f64(b).to_bits()
        }
        fn pairs_eq(a: &[(JsString, Value)], b: &[(JsString, Value)]) -> bool {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| x.0 == y.0 && x.1.wire_eq(&y.1))
        }
        fn list_eq(a: &[Value], b: &[Value]) -> bool {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.wire_eq(y))
        }
        match (self, other) {
            (Value::Float(a), Value::Float(b)) | (Value::Date(a), Value::Date(b)) => feq(*a, *b),
            (Value::Error(a), Value::Error(b)) => {
                a.name == b.name
                    && a.message == b.message
                    && a.stack == b.stack
                    && match (&a.cause, &b.cause) {
                        (None, None) => true,
                        (Some(x), Some(y)) => x.wire_eq(y),
                        _ => false,
                    }
                    && pairs_eq(&a.props, &b.props)
            }
            (Value::Array(a), Value::Array(b)) | (Value::Set(a), Value::Set(b)) => list_eq(a, b),
            (Value::Object(a), Value::Object(b)) => pairs_eq(a, b),
            (
                Value::SparseArray {
                    length: la,
                    entries: a,
                },
                Value::SparseArray {
                    length: lb,
                    entries: b,
                },
            ) => {
                la == lb
                    && a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.0 == y.0 && x.1.wire_eq(&y.1))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.0.wire_eq(&y.0) && x.1.wire_eq(&y.1))
            }
            (a, b) => a == b,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::string(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::number(n)
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Int(n)
    }
}

fn fmt_float(x: f64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if x.is_nan() {
        f.write_str("NaN")
    } else if x.is_infinite() {
        f.write_str(if x > 0.0 { "Infinity" } else { "-Infinity" })
    } else if x == 0.0 && x.is_sign_negative() {
        f.write_str("-0")
    } else {
        write!(f, "{x:?}")
    }
}

fn fmt_hex(b: &[u8], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    const MAX: usize = 32;
    for x in b.iter().take(MAX) {
        write!(f, "{x:02x}")?;
    }
    if b.len() > MAX {
        write!(f, "...({} bytes)", b.len())?;
    }
    Ok(())
}

/// A JS-like rendering, for logs and test failures.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Undefined => f.write_str("undefined"),
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => fmt_float(*x, f),
            Value::BigInt {
                negative,
                magnitude,
            } => {
                write!(f, "{}0x", if *negative { "-" } else { "" })?;
                if magnitude.is_empty() {
                    f.write_str("0")?;
                }
                for b in magnitude.iter().rev() {
                    write!(f, "{b:02x}")?;
                }
                f.write_str("n")
            }
            Value::String(s) => write!(f, "{s:?}"),
            Value::ArrayBuffer(b) => {
                f.write_str("ArrayBuffer(")?;
                fmt_hex(b, f)?;
                f.write_str(")")
            }
            Value::TypedArray { kind, bytes } => {
                match TypedArrayKind::from_u8(*kind) {
                    Some(k) => write!(f, "{}(", k.js_name())?,
                    None => write!(f, "TypedArray#{kind}(")?,
                }
                fmt_hex(bytes, f)?;
                f.write_str(")")
            }
            Value::Date(x) => {
                f.write_str("Date(")?;
                fmt_float(*x, f)?;
                f.write_str(")")
            }
            Value::RegExp { source, flags } => write!(f, "/{}/{flags}", source.to_string_lossy()),
            Value::Error(e) => fmt::Debug::fmt(e, f),
            Value::Array(items) => f.debug_list().entries(items).finish(),
            Value::Object(entries) => {
                let mut m = f.debug_map();
                for (k, v) in entries {
                    m.entry(k, v);
                }
                m.finish()
            }
            Value::Map(entries) => {
                f.write_str("Map ")?;
                let mut m = f.debug_map();
                for (k, v) in entries {
                    m.entry(k, v);
                }
                m.finish()
            }
            Value::Set(items) => {
                f.write_str("Set ")?;
                f.debug_set().entries(items).finish()
            }
            Value::BackRef(i) => write!(f, "<ref #{i}>"),
            Value::Remote { kind, id } => match RefKind::from_u8(*kind) {
                Some(k) => write!(f, "<remote {} {id}>", k.name()),
                None => write!(f, "<remote kind#{kind} {id}>"),
            },
            Value::Local(id) => write!(f, "<local {id}>"),
            Value::Hole => f.write_str("<hole>"),
            Value::SparseArray { length, entries } => {
                write!(f, "SparseArray({length}) ")?;
                let mut m = f.debug_map();
                for (i, v) in entries {
                    m.entry(i, v);
                }
                m.finish()
            }
            Value::Transferred { buffer, view } => match view {
                None => write!(f, "<transferred #{buffer}>"),
                Some(v) => {
                    match TypedArrayKind::from_u8(v.kind) {
                        Some(k) => write!(f, "<transferred #{buffer} as {}", k.js_name())?,
                        None => write!(f, "<transferred #{buffer} as kind#{}", v.kind)?,
                    }
                    write!(f, " [{}..+{}]>", v.byte_offset, v.byte_length)
                }
            },
            Value::Symbol(s) => fmt::Debug::fmt(s, f),
        }
    }
}

impl fmt::Debug for ErrorValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("name", &self.name).field("message", &self.message);
        if let Some(st) = &self.stack {
            s.field("stack", st);
        }
        if let Some(c) = &self.cause {
            s.field("cause", c);
        }
        if !self.props.is_empty() {
            s.field("props", &self.props);
        }
        s.finish()
    }
}
