//! The wire codec: [`Message`]s and [`Value`]s <-> postcard bytes
//! (docs/protocol.md §1-§3).
//!
//! Encoding checks the protocol's rules on the value, then serialises with
//! postcard, so the bytes are postcard by construction. Decoding is a
//! hand-written reader of the same format because it must hold up against
//! hostile bytes: it never recurses on the input (containers are decoded with
//! an explicit stack, so nesting cannot overflow the thread's stack), caps every
//! preallocation by the bytes that remain, and applies the same rules as the
//! encoder, so that every implementation agrees on what is invalid.
//!
//! Nesting: Array, Object, Map, Set and Error are containers. A container
//! enclosed by `n` other containers is at level `n + 1`; levels up to
//! [`MAX_DEPTH`] are accepted, a container at level `MAX_DEPTH + 1` is refused.

use crate::message::{Key, Message, Op, Outcome, Release, Reply, Request, WELL_KNOWN_SYMBOLS};
use crate::value::{
    canonical_f64, ErrorValue, JsString, JsSymbol, RefKind, TransferredView, TypedArrayKind, Value,
};
use thiserror::Error;

/// The deepest container nesting the protocol allows.
pub const MAX_DEPTH: usize = 512;

/// Encoders write an array that has this many holes in a row (or more) as a
/// [`Value::SparseArray`], any other as a [`Value::Array`] (docs/protocol.md
/// §2 "Sparse arrays").
pub const HOLE_RUN: u32 = 16;

/// A protocol rule that a value or message breaks; found by the encoder and
/// by the decoder alike.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Invalid {
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("array hole (Value::Hole) outside an array; a hole may only be an Array element")]
    HoleOutsideArray,
    #[error("UTF-16 string data of odd byte length {0}; it must be whole UTF-16LE code units")]
    OddUtf16(usize),
    #[error("unknown typed array kind {0} (known kinds are 0..=12)")]
    UnknownTypedArrayKind(u8),
    #[error("{kind} of {len} bytes: not a multiple of its element size {size}")]
    TypedArrayLength {
        kind: &'static str,
        len: usize,
        size: usize,
    },
    #[error("unknown remote reference kind {0} (0 function, 1 object, 2 array)")]
    UnknownRefKind(u8),
    #[error(
        "non-canonical BigInt: the magnitude has trailing zero bytes, or it is a negative zero"
    )]
    NonCanonicalBigInt,
    #[error("back-reference to object {index}, but only {count} objects come before it")]
    BackRefOutOfRange { index: u32, count: u32 },
    #[error("unknown well-known symbol {0} (known symbols are 0..=14)")]
    UnknownSymbol(u8),
    #[error("sparse array index {index} (previous {previous:?}, length {length}): indices must increase and stay below the length")]
    SparseIndex {
        index: u32,
        previous: Option<u32>,
        length: u32,
    },
    #[error("transferred {kind} at byte offset {offset} of {len} bytes: offset and length must be multiples of its element size {size}")]
    TransferredViewAlignment {
        kind: &'static str,
        offset: u32,
        len: u32,
        size: usize,
    },
    #[error("the Described prefix goes before a Get, Apply or Construct only")]
    DescribedPrefix,
}

/// Why [`encode`] refused a message.
#[derive(Debug, Error)]
pub enum EncodeError {
    #[error("wire: cannot encode: {0}")]
    Invalid(#[from] Invalid),
    #[error(
        "wire: cannot encode: a string, byte or list length of {0} is over the wire's u32 limit"
    )]
    TooLong(usize),
    #[error("wire: postcard failed to serialise: {0}")]
    Postcard(postcard::Error),
}

/// What was wrong with the bytes given to [`decode`].
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeErrorKind {
    #[error("message truncated: needed {needed} more bytes")]
    Truncated { needed: usize },
    #[error("varint longer than 5 bytes")]
    VarintTooLong,
    #[error("varint over u32::MAX")]
    VarintOverflow,
    #[error("length {len} is larger than the {remaining} bytes that remain")]
    LengthTooLarge { len: u32, remaining: usize },
    #[error("unknown {what} variant {tag}")]
    UnknownVariant { what: &'static str, tag: u32 },
    #[error("invalid bool byte 0x{0:02x} (must be 0x00 or 0x01)")]
    InvalidBool(u8),
    #[error("invalid Option tag 0x{0:02x} (must be 0x00 or 0x01)")]
    InvalidOption(u8),
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    #[error("{count} trailing bytes after the message")]
    TrailingBytes { count: usize },
    #[error("{0}")]
    Invalid(Invalid),
}

impl Invalid {
    /// The rule's name, as the JS decoder's `WireError.kind` gives it
    /// (tests/vectors/decode.json pins both).
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::TooDeep => "too_deep",
            Invalid::HoleOutsideArray => "hole_outside_array",
            Invalid::OddUtf16(_) => "odd_utf16",
            Invalid::UnknownTypedArrayKind(_) => "unknown_typed_array_kind",
            Invalid::TypedArrayLength { .. } => "typed_array_length",
            Invalid::UnknownRefKind(_) => "unknown_ref_kind",
            Invalid::NonCanonicalBigInt => "non_canonical_bigint",
            Invalid::BackRefOutOfRange { .. } => "backref_out_of_range",
            Invalid::UnknownSymbol(_) => "unknown_symbol",
            Invalid::SparseIndex { .. } => "sparse_index",
            Invalid::TransferredViewAlignment { .. } => "transferred_view_alignment",
            Invalid::DescribedPrefix => "described_prefix",
        }
    }
}

impl DecodeErrorKind {
    /// The kind's name, as the JS decoder's `WireError.kind` gives it
    /// (tests/vectors/decode.json pins both; the texts differ).
    pub fn code(&self) -> &'static str {
        match self {
            DecodeErrorKind::Truncated { .. } => "truncated",
            DecodeErrorKind::VarintTooLong => "varint_too_long",
            DecodeErrorKind::VarintOverflow => "varint_overflow",
            DecodeErrorKind::LengthTooLarge { .. } => "length_too_large",
            DecodeErrorKind::UnknownVariant { .. } => "unknown_variant",
            DecodeErrorKind::InvalidBool(_) => "invalid_bool",
            DecodeErrorKind::InvalidOption(_) => "invalid_option",
            DecodeErrorKind::InvalidUtf8 => "invalid_utf8",
            DecodeErrorKind::TrailingBytes { .. } => "trailing_bytes",
            DecodeErrorKind::Invalid(why) => why.code(),
        }
    }
}

/// A decoding failure: what, and the byte offset of the item that failed
/// (docs/protocol.md §1, "Decode errors").
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("wire: {kind} at offset {offset}")]
pub struct DecodeError {
    pub kind: DecodeErrorKind,
    pub offset: usize,
}

/// Encodes `msg` into a new buffer.
pub fn encode(msg: &Message) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_into(msg, &mut out)?;
    Ok(out)
}

/// Encodes `msg` into `out` (cleared first), reusing its allocation. On error
/// `out` is left empty.
pub fn encode_into(msg: &Message, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    out.clear();
    check_message(msg)?;
    postcard::serialize_with_flavor(msg, VecAppend(out)).map_err(|e| {
        out.clear();
        EncodeError::Postcard(e)
    })
}

/// Encodes a lone value (its own object index space), as in the golden vectors.
pub fn encode_value(value: &Value) -> Result<Vec<u8>, EncodeError> {
    let mut count = 0;
    check_value(value, 0, false, &mut count)?;
    let mut out = Vec::new();
    postcard::serialize_with_flavor(value, VecAppend(&mut out)).map_err(EncodeError::Postcard)?;
    Ok(out)
}

/// Decodes one whole message; bytes after it are an error.
pub fn decode(bytes: &[u8]) -> Result<Message, DecodeError> {
    let mut r = Reader::new(bytes);
    let msg = r.message()?;
    r.finish()?;
    Ok(msg)
}

/// Decodes one whole lone value (see [`encode_value`]).
pub fn decode_value(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = r.value()?;
    r.finish()?;
    Ok(v)
}

/// A postcard output that appends to a borrowed `Vec`, so callers can reuse it.
struct VecAppend<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for VecAppend<'_> {
    type Output = ();

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.0.push(data);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

// ---------------------------------------------------------------- encoding checks

fn check_len(n: usize) -> Result<(), EncodeError> {
    if n > u32::MAX as usize {
        Err(EncodeError::TooLong(n))
    } else {
        Ok(())
    }
}

fn check_js_string(s: &JsString) -> Result<(), EncodeError> {
    match s {
        JsString::Utf8(s) => check_len(s.len()),
        JsString::Utf16(b) => {
            check_len(b.len())?;
            if b.len() % 2 != 0 {
                return Err(Invalid::OddUtf16(b.len()).into());
            }
            Ok(())
        }
    }
}

fn check_key(k: &Key) -> Result<(), EncodeError> {
    match k {
        Key::String(s) => check_js_string(s),
        Key::Symbol(sym) => check_symbol(sym),
    }
}

fn check_symbol(sym: &JsSymbol) -> Result<(), EncodeError> {
    match sym {
        JsSymbol::WellKnown(n) if (*n as usize) < WELL_KNOWN_SYMBOLS.len() => Ok(()),
        JsSymbol::WellKnown(n) => Err(Invalid::UnknownSymbol(*n).into()),
        JsSymbol::Registered(key) => check_js_string(key),
        JsSymbol::Remote {
            description: Some(d),
            ..
        } => check_js_string(d),
        JsSymbol::Remote { .. } | JsSymbol::Local(_) => Ok(()),
    }
}

fn check_message(msg: &Message) -> Result<(), EncodeError> {
    let mut count = 0u32;
    let count = &mut count;
    match msg {
        Message::Request(req) => {
            check_len(req.releases.len())?;
            match &req.op {
                Op::Get { key }
                | Op::Has { key }
                | Op::Delete { key }
                | Op::GetOwnPropertyDescriptor { key } => check_key(key),
                Op::Set { key, value }
                | Op::DefineProperty {
                    key,
                    descriptor: value,
                } => {
                    check_key(key)?;
                    check_value(value, 0, false, count)
                }
                Op::OwnKeys | Op::GetPrototypeOf | Op::Describe => Ok(()),
                Op::SetPrototypeOf { proto } => check_value(proto, 0, false, count),
                Op::Apply { this, args } => {
                    check_value(this, 0, false, count)?;
                    check_list(args, 0, false, count)
                }
                Op::Construct { args } => check_list(args, 0, false, count),
                Op::Call { name, args } => {
                    check_js_string(name)?;
                    check_list(args, 0, false, count)
                }
                Op::Described(op) => match &**op {
                    Op::Get { key } => check_key(key),
                    Op::Apply { this, args } => {
                        check_value(this, 0, false, count)?;
                        check_list(args, 0, false, count)
                    }
                    Op::Construct { args } => check_list(args, 0, false, count),
                    _ => Err(Invalid::DescribedPrefix.into()),
                },
            }
        }
        Message::Reply(rep) => {
            check_len(rep.releases.len())?;
            match &rep.outcome {
                Outcome::Ok(v) | Outcome::Thrown(v) => check_value(v, 0, false, count),
            }
        }
        Message::Release(r) => check_len(r.len()),
        Message::Cancel { .. } => Ok(()),
    }
}

fn check_list(
    items: &[Value],
    level: usize,
    in_array: bool,
    count: &mut u32,
) -> Result<(), EncodeError> {
    check_len(items.len())?;
    items
        .iter()
        .try_for_each(|v| check_value(v, level, in_array, count))
}

fn check_pairs(
    pairs: &[(JsString, Value)],
    level: usize,
    count: &mut u32,
) -> Result<(), EncodeError> {
    check_len(pairs.len())?;
    for (k, v) in pairs {
        check_js_string(k)?;
        check_value(v, level, false, count)?;
    }
    Ok(())
}

/// Checks `v` against the protocol's rules. `level` is the number of
/// containers around `v`; `count` the object indices handed out so far.
/// Recursion stops at [`MAX_DEPTH`], so this never runs deeper than that.
fn check_value(
    v: &Value,
    level: usize,
    in_array: bool,
    count: &mut u32,
) -> Result<(), EncodeError> {
    if v.is_indexed_object() {
        *count = count.saturating_add(1);
        if matches!(
            v,
            Value::Error(_)
                | Value::Array(_)
                | Value::Object(_)
                | Value::Map(_)
                | Value::Set(_)
                | Value::SparseArray { .. }
        ) && level >= MAX_DEPTH
        {
            return Err(Invalid::TooDeep.into());
        }
    }
    let inner = level + 1;
    match v {
        Value::Undefined
        | Value::Null
        | Value::Bool(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::Date(_)
        | Value::Local(_) => Ok(()),
        Value::BigInt {
            negative,
            magnitude,
        } => {
            check_len(magnitude.len())?;
            match magnitude.last() {
                Some(0) => Err(Invalid::NonCanonicalBigInt.into()),
                None if *negative => Err(Invalid::NonCanonicalBigInt.into()),
                _ => Ok(()),
            }
        }
        Value::String(s) => check_js_string(s),
        Value::ArrayBuffer(b) => check_len(b.len()),
        Value::TypedArray { kind, bytes } => {
            check_len(bytes.len())?;
            check_typed_array(*kind, bytes.len()).map_err(Into::into)
        }
        Value::RegExp { source, flags } => {
            check_js_string(source)?;
            check_len(flags.len())
        }
        Value::Error(e) => {
            check_js_string(&e.name)?;
            check_js_string(&e.message)?;
            if let Some(s) = &e.stack {
                check_js_string(s)?;
            }
            if let Some(c) = &e.cause {
                check_value(c, inner, false, count)?;
            }
            check_pairs(&e.props, inner, count)
        }
        Value::Array(items) => check_list(items, inner, true, count),
        Value::SparseArray { length, entries } => {
            check_len(entries.len())?;
            let mut previous = None;
            for (index, v) in entries {
                check_sparse_index(*index, previous, *length)?;
                previous = Some(*index);
                check_value(v, inner, false, count)?;
            }
            Ok(())
        }
        Value::Set(items) => check_list(items, inner, false, count),
        Value::Object(pairs) => check_pairs(pairs, inner, count),
        Value::Map(pairs) => {
            check_len(pairs.len())?;
            for (k, v) in pairs {
                check_value(k, inner, false, count)?;
                check_value(v, inner, false, count)?;
            }
            Ok(())
        }
        Value::BackRef(index) => {
            if *index < *count {
                Ok(())
            } else {
                Err(Invalid::BackRefOutOfRange {
                    index: *index,
                    count: *count,
                }
                .into())
            }
        }
        Value::Remote { kind, .. } => match RefKind::from_u8(*kind) {
            Some(_) => Ok(()),
            None => Err(Invalid::UnknownRefKind(*kind).into()),
        },
        Value::Hole if in_array => Ok(()),
        Value::Hole => Err(Invalid::HoleOutsideArray.into()),
        Value::Transferred { view, .. } => match view {
            None => Ok(()),
            Some(v) => check_transferred_view(v).map_err(Into::into),
        },
        Value::Symbol(sym) => check_symbol(sym),
    }
}

/// A sparse array's indices increase strictly and stay below its length.
fn check_sparse_index(index: u32, previous: Option<u32>, length: u32) -> Result<(), Invalid> {
    if index >= length || previous.is_some_and(|p| index <= p) {
        return Err(Invalid::SparseIndex {
            index,
            previous,
            length,
        });
    }
    Ok(())
}

fn check_transferred_view(v: &TransferredView) -> Result<(), Invalid> {
    let k = TypedArrayKind::from_u8(v.kind).ok_or(Invalid::UnknownTypedArrayKind(v.kind))?;
    let size = k.element_size();
    if v.byte_offset as usize % size != 0 || v.byte_length as usize % size != 0 {
        return Err(Invalid::TransferredViewAlignment {
            kind: k.js_name(),
            offset: v.byte_offset,
            len: v.byte_length,
            size,
        });
    }
    Ok(())
}

fn check_typed_array(kind: u8, len: usize) -> Result<(), Invalid> {
    let k = TypedArrayKind::from_u8(kind).ok_or(Invalid::UnknownTypedArrayKind(kind))?;
    let size = k.element_size();
    if len % size != 0 {
        return Err(Invalid::TypedArrayLength {
            kind: k.js_name(),
            len,
            size,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------- decoding

type DResult<T> = Result<T, DecodeError>;

/// A container being decoded: the explicit stack replaces recursion.
enum Frame {
    Array {
        items: Vec<Value>,
        left: usize,
    },
    Set {
        items: Vec<Value>,
        left: usize,
    },
    /// `key` is the key of the entry whose value comes next.
    Object {
        entries: Vec<(JsString, Value)>,
        left: usize,
        key: JsString,
    },
    /// `index` is the index of the entry whose value comes next.
    Sparse {
        length: u32,
        entries: Vec<(u32, Value)>,
        left: usize,
        index: u32,
    },
    /// `key` is `Some` while the entry's value comes next.
    Map {
        entries: Vec<(Value, Value)>,
        left: usize,
        key: Option<Value>,
    },
    /// While `in_cause`, the error's `cause` comes next (`left` and `key`
    /// unused); then the value of property `key`, with `left` props to go.
    Error {
        err: Box<ErrorValue>,
        left: usize,
        key: JsString,
        in_cause: bool,
    },
}

/// A placeholder key that owns no allocation.
const EMPTY: JsString = JsString::Utf8(String::new());

/// The value of a complete container.
fn close(frame: Frame) -> Value {
    match frame {
        Frame::Array { items, .. } => Value::Array(items),
        Frame::Set { items, .. } => Value::Set(items),
        Frame::Object { entries, .. } => Value::Object(entries),
        Frame::Map { entries, .. } => Value::Map(entries),
        Frame::Sparse {
            length, entries, ..
        } => Value::SparseArray { length, entries },
        Frame::Error { err, .. } => Value::Error(err),
    }
}

/// What the start of a value turned out to be.
enum Start {
    Done(Value),
    Open(Frame),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Object indices handed out so far in this message.
    objects: u32,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            objects: 0,
        }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn fail<T>(&self, offset: usize, kind: DecodeErrorKind) -> DResult<T> {
        Err(DecodeError { kind, offset })
    }

    fn finish(&self) -> DResult<()> {
        match self.remaining() {
            0 => Ok(()),
            count => self.fail(self.pos, DecodeErrorKind::TrailingBytes { count }),
        }
    }

    fn take(&mut self, n: usize) -> DResult<&'a [u8]> {
        if n > self.remaining() {
            return self.fail(
                self.pos,
                DecodeErrorKind::Truncated {
                    needed: n - self.remaining(),
                },
            );
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> DResult<u8> {
        match self.buf.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => self.fail(self.pos, DecodeErrorKind::Truncated { needed: 1 }),
        }
    }

    fn bool(&mut self) -> DResult<bool> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => self.fail(at, DecodeErrorKind::InvalidBool(b)),
        }
    }

    /// Reads an Option tag: whether a value follows.
    fn option(&mut self) -> DResult<bool> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => self.fail(at, DecodeErrorKind::InvalidOption(b)),
        }
    }

    fn u32(&mut self) -> DResult<u32> {
        let at = self.pos;
        let mut out = 0u32;
        for i in 0..5 {
            let b = match self.buf.get(self.pos) {
                Some(&b) => b,
                None => return self.fail(at, DecodeErrorKind::Truncated { needed: 1 }),
            };
            self.pos += 1;
            if i == 4 {
                if b & 0x80 != 0 {
                    return self.fail(at, DecodeErrorKind::VarintTooLong);
                }
                if b > 0x0f {
                    return self.fail(at, DecodeErrorKind::VarintOverflow);
                }
            }
            out |= ((b & 0x7f) as u32) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(out);
            }
        }
        // The fifth byte always returns above.
        self.fail(at, DecodeErrorKind::VarintTooLong)
    }

    fn i32(&mut self) -> DResult<i32> {
        let z = self.u32()?;
        Ok(((z >> 1) as i32) ^ -((z & 1) as i32))
    }

    fn f64(&mut self) -> DResult<f64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(canonical_f64(f64::from_le_bytes(a)))
    }

    /// Reads a length whose items take at least one byte each, refusing one
    /// that the remaining input cannot hold (this bounds every preallocation).
    fn len(&mut self) -> DResult<usize> {
        let at = self.pos;
        let len = self.u32()?;
        if len as usize > self.remaining() {
            return self.fail(
                at,
                DecodeErrorKind::LengthTooLarge {
                    len,
                    remaining: self.remaining(),
                },
            );
        }
        Ok(len as usize)
    }

    fn bytes(&mut self) -> DResult<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }

    fn string(&mut self) -> DResult<String> {
        let at = self.pos;
        let b = self.bytes()?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => self.fail(at, DecodeErrorKind::InvalidUtf8),
        }
    }

    fn tag(&mut self, what: &'static str, max: u32) -> DResult<u32> {
        let at = self.pos;
        let t = self.u32()?;
        if t > max {
            return self.fail(at, DecodeErrorKind::UnknownVariant { what, tag: t });
        }
        Ok(t)
    }

    fn invalid<T>(&self, at: usize, why: Invalid) -> DResult<T> {
        self.fail(at, DecodeErrorKind::Invalid(why))
    }

    fn js_string(&mut self) -> DResult<JsString> {
        match self.tag("JsString", 1)? {
            0 => Ok(JsString::Utf8(self.string()?)),
            _ => {
                let at = self.pos;
                let b = self.bytes()?;
                if b.len() % 2 != 0 {
                    return self.invalid(at, Invalid::OddUtf16(b.len()));
                }
                Ok(JsString::Utf16(b.to_vec()))
            }
        }
    }

    fn release(&mut self) -> DResult<Release> {
        Ok(Release {
            id: self.u32()?,
            count: self.u32()?,
        })
    }

    fn releases(&mut self) -> DResult<Vec<Release>> {
        let n = self.len()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.release()?);
        }
        Ok(out)
    }

    fn key(&mut self) -> DResult<Key> {
        match self.tag("Key", 1)? {
            0 => Ok(Key::String(self.js_string()?)),
            _ => Ok(Key::Symbol(self.symbol()?)),
        }
    }

    fn symbol(&mut self) -> DResult<JsSymbol> {
        Ok(match self.tag("Symbol", 3)? {
            0 => {
                let at = self.pos;
                let n = self.u8()?;
                if n as usize >= WELL_KNOWN_SYMBOLS.len() {
                    return self.invalid(at, Invalid::UnknownSymbol(n));
                }
                JsSymbol::WellKnown(n)
            }
            1 => JsSymbol::Registered(self.js_string()?),
            2 => JsSymbol::Remote {
                id: self.u32()?,
                description: if self.option()? {
                    Some(self.js_string()?)
                } else {
                    None
                },
            },
            _ => JsSymbol::Local(self.u32()?),
        })
    }

    fn values(&mut self) -> DResult<Vec<Value>> {
        let n = self.len()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.value()?);
        }
        Ok(out)
    }

    fn message(&mut self) -> DResult<Message> {
        Ok(match self.tag("Message", 3)? {
            0 => {
                let seq = self.u32()?;
                let nested_in = self.u32()?;
                let target = self.u32()?;
                let op = self.op(false)?;
                let releases = self.releases()?;
                Message::Request(Request {
                    seq,
                    nested_in,
                    target,
                    op,
                    releases,
                })
            }
            1 => {
                let seq = self.u32()?;
                let outcome = match self.tag("Outcome", 1)? {
                    0 => Outcome::Ok(self.value()?),
                    _ => Outcome::Thrown(self.value()?),
                };
                let releases = self.releases()?;
                Message::Reply(Reply {
                    seq,
                    outcome,
                    releases,
                })
            }
            2 => Message::Release(self.releases()?),
            _ => Message::Cancel { seq: self.u32()? },
        })
    }

    /// `prefixed`: the op follows a Described prefix, where another prefix
    /// is an unknown op (docs/protocol.md §1 "Decode errors").
    fn op(&mut self, prefixed: bool) -> DResult<Op> {
        Ok(match self.tag("Op", if prefixed { 12 } else { 13 })? {
            0 => Op::Get { key: self.key()? },
            1 => Op::Set {
                key: self.key()?,
                value: self.value()?,
            },
            2 => Op::Has { key: self.key()? },
            3 => Op::Delete { key: self.key()? },
            4 => Op::OwnKeys,
            5 => Op::GetOwnPropertyDescriptor { key: self.key()? },
            6 => Op::DefineProperty {
                key: self.key()?,
                descriptor: self.value()?,
            },
            7 => Op::GetPrototypeOf,
            8 => Op::SetPrototypeOf {
                proto: self.value()?,
            },
            9 => Op::Apply {
                this: self.value()?,
                args: self.values()?,
            },
            10 => Op::Construct {
                args: self.values()?,
            },
            11 => Op::Call {
                name: self.js_string()?,
                args: self.values()?,
            },
            12 => Op::Describe,
            _ => {
                let at = self.pos;
                match self.op(true)? {
                    op @ (Op::Get { .. } | Op::Apply { .. } | Op::Construct { .. }) => {
                        Op::Described(Box::new(op))
                    }
                    _ => return self.invalid(at, Invalid::DescribedPrefix),
                }
            }
        })
    }

    /// Decodes one value (not an array element) without recursion.
    fn value(&mut self) -> DResult<Value> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            let in_array = matches!(stack.last(), Some(Frame::Array { .. }));
            let mut done = match self.value_start(stack.len(), in_array)? {
                Start::Done(v) => v,
                Start::Open(frame) => {
                    stack.push(frame);
                    continue;
                }
            };
            // Hand the finished value to the container above it, closing
            // every container it completes.
            loop {
                let Some(top) = stack.last_mut() else {
                    return Ok(done);
                };
                if !self.feed(top, done)? {
                    break;
                }
                match stack.pop() {
                    Some(frame) => done = close(frame),
                    None => unreachable!("the stack had a top frame just above"),
                }
            }
        }
    }

    /// Adds the finished child `v` to the open container `top`, reading what
    /// comes before its next child. Returns true when `top` is complete.
    fn feed(&mut self, top: &mut Frame, v: Value) -> DResult<bool> {
        Ok(match top {
            Frame::Array { items, left } | Frame::Set { items, left } => {
                items.push(v);
                *left -= 1;
                *left == 0
            }
            Frame::Object { entries, left, key } => {
                *left -= 1;
                if *left == 0 {
                    entries.push((std::mem::replace(key, EMPTY), v));
                    true
                } else {
                    let next = self.js_string()?;
                    entries.push((std::mem::replace(key, next), v));
                    false
                }
            }
            Frame::Sparse {
                length,
                entries,
                left,
                index,
            } => {
                entries.push((*index, v));
                *left -= 1;
                if *left == 0 {
                    true
                } else {
                    *index = self.sparse_index(Some(*index), *length)?;
                    false
                }
            }
            Frame::Map { entries, left, key } => match key.take() {
                None => {
                    *key = Some(v);
                    false
                }
                Some(k) => {
                    entries.push((k, v));
                    *left -= 1;
                    *left == 0
                }
            },
            Frame::Error {
                err,
                left,
                key,
                in_cause: in_cause @ true,
            } => {
                err.cause = Some(v);
                *in_cause = false;
                let n = self.len()?;
                if n == 0 {
                    true
                } else {
                    err.props = Vec::with_capacity(n);
                    *key = self.js_string()?;
                    *left = n;
                    false
                }
            }
            Frame::Error { err, left, key, .. } => {
                *left -= 1;
                if *left == 0 {
                    err.props.push((std::mem::replace(key, EMPTY), v));
                    true
                } else {
                    let next = self.js_string()?;
                    err.props.push((std::mem::replace(key, next), v));
                    false
                }
            }
        })
    }

    /// Reads a sparse array's next index: above `previous`, below `length`.
    fn sparse_index(&mut self, previous: Option<u32>, length: u32) -> DResult<u32> {
        let at = self.pos;
        let index = self.u32()?;
        if let Err(why) = check_sparse_index(index, previous, length) {
            return self.invalid(at, why);
        }
        Ok(index)
    }

    /// Reads an error's props count and first key.
    fn error_props(&mut self, mut err: Box<ErrorValue>) -> DResult<Start> {
        let n = self.len()?;
        if n == 0 {
            return Ok(Start::Done(Value::Error(err)));
        }
        err.props = Vec::with_capacity(n);
        let key = self.js_string()?;
        Ok(Start::Open(Frame::Error {
            err,
            left: n,
            key,
            in_cause: false,
        }))
    }

    /// Reads a value's tag and everything up to its first child. `depth` is
    /// the number of open containers around it.
    fn value_start(&mut self, depth: usize, in_array: bool) -> DResult<Start> {
        let at = self.pos;
        let tag = self.tag("Value", 22)?;
        if matches!(tag, 7..=15 | 20 | 21) {
            if matches!(tag, 11..=15 | 21) && depth >= MAX_DEPTH {
                return self.invalid(at, Invalid::TooDeep);
            }
            self.objects = self.objects.saturating_add(1);
        }
        let v = match tag {
            0 => Value::Undefined,
            1 => Value::Null,
            2 => Value::Bool(self.bool()?),
            3 => Value::Int(self.i32()?),
            4 => Value::Float(self.f64()?),
            5 => {
                let negative = self.bool()?;
                let mag_at = self.pos;
                let magnitude = self.bytes()?;
                if magnitude.last() == Some(&0) || (negative && magnitude.is_empty()) {
                    return self.invalid(mag_at, Invalid::NonCanonicalBigInt);
                }
                Value::BigInt {
                    negative,
                    magnitude: magnitude.to_vec(),
                }
            }
            6 => Value::String(self.js_string()?),
            7 => Value::ArrayBuffer(self.bytes()?.to_vec()),
            8 => {
                let kind_at = self.pos;
                let kind = self.u8()?;
                let bytes = self.bytes()?;
                if let Err(why) = check_typed_array(kind, bytes.len()) {
                    return self.invalid(kind_at, why);
                }
                Value::TypedArray {
                    kind,
                    bytes: bytes.to_vec(),
                }
            }
            9 => Value::Date(self.f64()?),
            10 => Value::RegExp {
                source: self.js_string()?,
                flags: self.string()?,
            },
            11 => {
                let name = self.js_string()?;
                let message = self.js_string()?;
                let stack = if self.option()? {
                    Some(self.js_string()?)
                } else {
                    None
                };
                let err = Box::new(ErrorValue {
                    name,
                    message,
                    stack,
                    cause: None,
                    props: Vec::new(),
                });
                if self.option()? {
                    return Ok(Start::Open(Frame::Error {
                        err,
                        left: 0,
                        key: EMPTY,
                        in_cause: true,
                    }));
                }
                return self.error_props(err);
            }
            12 | 15 => {
                let n = self.len()?;
                let items = Vec::with_capacity(n);
                match (n, tag) {
                    (0, 12) => Value::Array(items),
                    (0, _) => Value::Set(items),
                    (_, 12) => return Ok(Start::Open(Frame::Array { items, left: n })),
                    _ => return Ok(Start::Open(Frame::Set { items, left: n })),
                }
            }
            13 => {
                let n = self.len()?;
                let entries = Vec::with_capacity(n);
                if n == 0 {
                    Value::Object(entries)
                } else {
                    let key = self.js_string()?;
                    return Ok(Start::Open(Frame::Object {
                        entries,
                        left: n,
                        key,
                    }));
                }
            }
            14 => {
                let n = self.len()?;
                // Each entry takes at least two bytes.
                let entries = Vec::with_capacity(n / 2);
                if n == 0 {
                    Value::Map(entries)
                } else {
                    return Ok(Start::Open(Frame::Map {
                        entries,
                        left: n,
                        key: None,
                    }));
                }
            }
            16 => {
                let index = self.u32()?;
                // The count includes no object started after this point, so
                // an index must be strictly below it.
                if index >= self.objects {
                    return self.invalid(
                        at,
                        Invalid::BackRefOutOfRange {
                            index,
                            count: self.objects,
                        },
                    );
                }
                Value::BackRef(index)
            }
            17 => {
                let kind_at = self.pos;
                let kind = self.u8()?;
                if RefKind::from_u8(kind).is_none() {
                    return self.invalid(kind_at, Invalid::UnknownRefKind(kind));
                }
                Value::Remote {
                    kind,
                    id: self.u32()?,
                }
            }
            18 => Value::Local(self.u32()?),
            19 => {
                if !in_array {
                    return self.invalid(at, Invalid::HoleOutsideArray);
                }
                Value::Hole
            }
            21 => {
                let length = self.u32()?;
                let n = self.len()?;
                if n == 0 {
                    Value::SparseArray {
                        length,
                        entries: Vec::new(),
                    }
                } else {
                    let index = self.sparse_index(None, length)?;
                    return Ok(Start::Open(Frame::Sparse {
                        length,
                        // Each entry takes at least two bytes.
                        entries: Vec::with_capacity(n / 2),
                        left: n,
                        index,
                    }));
                }
            }
            22 => Value::Symbol(self.symbol()?),
            _ => {
                let buffer = self.u32()?;
                let view = if self.option()? {
                    let kind_at = self.pos;
                    let v = TransferredView {
                        kind: self.u8()?,
                        byte_offset: self.u32()?,
                        byte_length: self.u32()?,
                    };
                    if let Err(why) = check_transferred_view(&v) {
                        return self.invalid(kind_at, why);
                    }
                    Some(v)
                } else {
                    None
                };
                Value::Transferred { buffer, view }
            }
        };
        Ok(Start::Done(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_limits() {
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x0f]).u32(),
            Ok(u32::MAX)
        );
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x10])
                .u32()
                .unwrap_err()
                .kind,
            DecodeErrorKind::VarintOverflow
        );
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x8f, 0x00])
                .u32()
                .unwrap_err()
                .kind,
            DecodeErrorKind::VarintTooLong
        );
        let mut r = Reader::new(&[0x80, 0x00]);
        assert_eq!(
            r.u32(),
            Ok(0),
            "a non-minimal varint is accepted, as postcard does"
        );
    }

    #[test]
    fn zigzag() {
        for n in [0, -1, 1, i32::MIN, i32::MAX, 12345, -12345] {
            let bytes = postcard::to_allocvec(&n).unwrap();
            assert_eq!(Reader::new(&bytes).i32(), Ok(n));
        }
    }

    #[test]
    fn depth_boundary() {
        fn nest(levels: usize) -> Value {
            let mut v = Value::Null;
            for _ in 0..levels {
                v = Value::Array(vec![v]);
            }
            v
        }
        let ok = nest(MAX_DEPTH);
        let bytes = encode_value(&ok).unwrap();
        assert!(decode_value(&bytes).unwrap().wire_eq(&ok));
        let deep = nest(MAX_DEPTH + 1);
        assert!(matches!(
            encode_value(&deep),
            Err(EncodeError::Invalid(Invalid::TooDeep))
        ));
        let mut bytes = vec![12, 1];
        bytes.extend_from_slice(&encode_value(&ok).unwrap());
        let e = decode_value(&bytes).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::Invalid(Invalid::TooDeep));
        assert_eq!(
            e.offset,
            2 * MAX_DEPTH,
            "the offset is that of the 513th array's tag"
        );
    }
}
