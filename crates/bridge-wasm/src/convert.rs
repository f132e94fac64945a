//! JS value <-> wire bytes in Rust (feature `convert`): the same conversion
//! as bridge-js's `encodeValue` / `decodeValue` (src/wire.js), done on the
//! wasm side of the boundary, so that the two can be measured side by side
//! (benches/codec/run.mjs; docs/architecture.md "Decisions and why").
//!
//! Encoding reads the JS value by reflection (js-sys: `Object.keys`,
//! `Reflect.get`, `instanceof`, ...), builds a [`Value`] and writes it with
//! bridge-core's wire codec; decoding reads the bytes with bridge-core and
//! builds the JS value with js-sys. Every property read or object made is a
//! call across the wasm boundary: that is the cost being measured.
//!
//! Scope: plain data, as the by-value mode of docs/protocol.md §2 copies it:
//! undefined, null, booleans, numbers, BigInt, strings (lone surrogates
//! kept), arrays (holes kept), plain objects, ArrayBuffer, typed arrays and
//! DataView, Date, RegExp, Map, Set, errors, with shared and cyclic
//! structure (BackRef). References (functions, class instances, proxies:
//! `Remote` / `Local`), symbols and transferred buffers need the endpoint's tables and
//! are refused here with an error; they are not part of the measurement.
//!
//! Not shipped: bridge-js keeps its JS codec (the measurement says why).

use bridge_core::value::{ErrorValue, JsString as WireString, TypedArrayKind, Value};
use bridge_core::wire::{self, MAX_DEPTH};
use js_sys::{Array, ArrayBuffer, Date, Function, JsString, Object, Reflect, RegExp, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `convertEncodeValue(value) -> Uint8Array`: the wire bytes of `value` as
/// one Value (index space from 0), byte for byte what `encodeValue` in
/// bridge-js/src/wire.js writes.
#[wasm_bindgen(js_name = convertEncodeValue)]
pub fn convert_encode_value(value: &JsValue) -> Result<Vec<u8>, JsError> {
    let mut enc = Encoder::new();
    let v = enc
        .value(value, 0, false)
        .map_err(|e| JsError::new(&format!("convertEncodeValue: {e}")))?;
    wire::encode_value(&v).map_err(|e| JsError::new(&format!("convertEncodeValue: {e}")))
}

/// `convertDecodeValue(bytes) -> any`: the JS value of one wire Value, as
/// `decodeValue` in bridge-js/src/wire.js builds it.
#[wasm_bindgen(js_name = convertDecodeValue)]
pub fn convert_decode_value(bytes: &[u8]) -> Result<JsValue, JsError> {
    let v =
        wire::decode_value(bytes).map_err(|e| JsError::new(&format!("convertDecodeValue: {e}")))?;
    let mut dec = Decoder { objs: Vec::new() };
    dec.value(&v)
        .map_err(|e| JsError::new(&format!("convertDecodeValue: {e}")))
}

fn js_err(e: JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(&e, &JsValue::from_str("message"))
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "a JavaScript operation threw".to_owned())
}

fn get(target: &JsValue, key: &str) -> Result<JsValue, String> {
    Reflect::get(target, &JsValue::from_str(key)).map_err(js_err)
}

/// A JS string as the wire keeps it: UTF-8 when well-formed, else its UTF-16
/// code units.
fn wire_string(s: &JsValue) -> WireString {
    let js: &JsString = s.unchecked_ref();
    if js.is_well_formed() {
        // A well-formed string converts without loss.
        WireString::Utf8(s.as_string().unwrap_or_default())
    } else {
        WireString::from_utf16(&js.iter().collect::<Vec<u16>>())
    }
}

struct Encoder {
    /// object -> its index (pre-order, as the wire numbers [obj] tags).
    seen: js_sys::Map,
    count: u32,
    object_proto: JsValue,
    array_proto: JsValue,
    to_string_tag: JsValue,
}

impl Encoder {
    fn new() -> Self {
        Encoder {
            seen: js_sys::Map::new(),
            count: 0,
            object_proto: Object::get_prototype_of(&Object::new().into()).into(),
            array_proto: Object::get_prototype_of(&Array::new().into()).into(),
            to_string_tag: js_sys::Symbol::to_string_tag().into(),
        }
    }

    fn register(&mut self, o: &JsValue) {
        self.seen.set(o, &JsValue::from(self.count));
        self.count += 1;
    }

    fn value(&mut self, v: &JsValue, depth: usize, in_array: bool) -> Result<Value, String> {
        let _ = in_array;
        if let Some(n) = v.as_f64() {
            return Ok(Value::number(n));
        }
        if v.is_string() {
            return Ok(Value::String(wire_string(v)));
        }
        if let Some(b) = v.as_bool() {
            return Ok(Value::Bool(b));
        }
        if v.is_undefined() {
            return Ok(Value::Undefined);
        }
        if v.is_null() {
            return Ok(Value::Null);
        }
        if v.is_bigint() {
            return self.bigint(v);
        }
        if v.is_function() {
            return Err(
                "a function can only cross as a reference, which the wasm conversion does not do"
                    .into(),
            );
        }
        if !v.is_object() {
            return Err("a symbol is not converted here; the wasm conversion covers plain data only (bridge-js's codec sends symbols)".into());
        }
        let index = self.seen.get(v);
        if let Some(i) = index.as_f64() {
            return Ok(Value::BackRef(i as u32));
        }
        let proto: JsValue = Object::get_prototype_of(v).into();
        if proto == self.array_proto || (proto != self.object_proto && Array::is_array(v)) {
            return self.array(v, depth);
        }
        if proto == self.object_proto || proto.is_null() {
            return self.plain(v, depth);
        }
        if ArrayBuffer::is_view(v) {
            self.register(v);
            let name = Reflect::get(v, &self.to_string_tag)
                .map_err(js_err)?
                .as_string()
                .unwrap_or_else(|| "DataView".to_owned());
            let kind = TypedArrayKind::from_js_name(&name)
                .ok_or_else(|| format!("unknown ArrayBuffer view kind {name}"))?;
            let buffer = get(v, "buffer")?;
            let offset = get(v, "byteOffset")?.as_f64().unwrap_or(0.0) as u32;
            let len = get(v, "byteLength")?.as_f64().unwrap_or(0.0) as u32;
            let bytes = Uint8Array::new_with_byte_offset_and_length(&buffer, offset, len).to_vec();
            return Ok(Value::TypedArray {
                kind: kind as u8,
                bytes,
            });
        }
        if v.is_instance_of::<ArrayBuffer>() {
            self.register(v);
            return Ok(Value::ArrayBuffer(Uint8Array::new(v).to_vec()));
        }
        if let Some(d) = v.dyn_ref::<Date>() {
            self.register(v);
            return Ok(Value::Date(d.get_time()));
        }
        if let Some(r) = v.dyn_ref::<RegExp>() {
            self.register(v);
            return Ok(Value::RegExp {
                source: wire_string(&r.source().into()),
                flags: String::from(r.flags()),
            });
        }
        if let Some(m) = v.dyn_ref::<js_sys::Map>() {
            self.register(v);
            Self::enter(depth)?;
            let mut entries = Vec::with_capacity(m.size() as usize);
            let mut err = None;
            m.for_each(&mut |val, key| {
                if err.is_some() {
                    return;
                }
                match (
                    self.value(&key, depth + 1, false),
                    self.value(&val, depth + 1, false),
                ) {
                    (Ok(k), Ok(x)) => entries.push((k, x)),
                    (Err(e), _) | (_, Err(e)) => err = Some(e),
                }
            });
            return match err {
                Some(e) => Err(e),
                None => Ok(Value::Map(entries)),
            };
        }
        if let Some(s) = v.dyn_ref::<js_sys::Set>() {
            self.register(v);
            Self::enter(depth)?;
            let mut items = Vec::with_capacity(s.size() as usize);
            let mut err = None;
            s.for_each(&mut |x, _, _| {
                if err.is_some() {
                    return;
                }
                match self.value(&x, depth + 1, false) {
                    Ok(x) => items.push(x),
                    Err(e) => err = Some(e),
                }
            });
            return match err {
                Some(e) => Err(e),
                None => Ok(Value::Set(items)),
            };
        }
        if v.is_instance_of::<js_sys::Error>() {
            return self.error(v, depth);
        }
        Err("an object that is not plain data (a class instance, DOM node, ...) can only cross as a reference, which the wasm conversion does not do".into())
    }

    fn enter(depth: usize) -> Result<(), String> {
        if depth >= MAX_DEPTH {
            Err(format!("value nested deeper than {MAX_DEPTH} containers"))
        } else {
            Ok(())
        }
    }

    fn bigint(&mut self, v: &JsValue) -> Result<Value, String> {
        let b: &js_sys::BigInt = v.unchecked_ref();
        let hex = String::from(b.to_string(16).map_err(|e| js_err(e.into()))?);
        let (negative, digits) = match hex.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, hex.as_str()),
        };
        if digits == "0" {
            return Ok(Value::BigInt {
                negative: false,
                magnitude: Vec::new(),
            });
        }
        // Little-endian bytes from the hex digits, lowest pair last.
        let d = digits.as_bytes();
        let mut magnitude = Vec::with_capacity(d.len().div_ceil(2));
        let mut end = d.len();
        while end > 0 {
            let start = end.saturating_sub(2);
            let s = std::str::from_utf8(&d[start..end]).map_err(|e| e.to_string())?;
            magnitude.push(u8::from_str_radix(s, 16).map_err(|e| e.to_string())?);
            end = start;
        }
        Ok(Value::BigInt {
            negative,
            magnitude,
        })
    }

    fn array(&mut self, v: &JsValue, depth: usize) -> Result<Value, String> {
        self.register(v);
        Self::enter(depth)?;
        let a: &Array = v.unchecked_ref();
        let n = a.length();
        // docs/protocol.md §2 "Sparse arrays": a run of HOLE_RUN holes makes
        // it a SparseArray, whose cost is its elements, not its length.
        let has = |i: u32| Reflect::has(v, &JsValue::from(i)).map_err(js_err);
        let mut run = 0;
        // A shorter array cannot hold a run.
        let scan = if n >= wire::HOLE_RUN { n } else { 0 };
        for i in 0..scan {
            if has(i)? {
                run = 0;
            } else {
                run += 1;
                if run == wire::HOLE_RUN {
                    return self.sparse(v, n, depth);
                }
            }
        }
        let mut items = Vec::with_capacity(n as usize);
        for i in 0..n {
            let x = a.get(i);
            if x.is_undefined() && !Reflect::has(v, &JsValue::from(i)).map_err(js_err)? {
                items.push(Value::Hole);
            } else {
                items.push(self.value(&x, depth + 1, true)?);
            }
        }
        Ok(Value::Array(items))
    }

    /// An array with a run of holes, by its own index properties.
    fn sparse(&mut self, v: &JsValue, length: u32, depth: usize) -> Result<Value, String> {
        let mut indices: Vec<u32> = Object::get_own_property_names(v.unchecked_ref::<Object>())
            .iter()
            .filter_map(|k| {
                let s = k.as_string()?;
                let i: u32 = s.parse().ok()?;
                (i < length && i.to_string() == s).then_some(i)
            })
            .collect();
        indices.sort_unstable();
        let mut entries = Vec::with_capacity(indices.len());
        for i in indices {
            let x = Reflect::get(v, &JsValue::from(i)).map_err(js_err)?;
            entries.push((i, self.value(&x, depth + 1, false)?));
        }
        Ok(Value::SparseArray { length, entries })
    }

    fn plain(&mut self, v: &JsValue, depth: usize) -> Result<Value, String> {
        self.register(v);
        Self::enter(depth)?;
        let keys = Object::keys(v.unchecked_ref::<Object>());
        let n = keys.length();
        let mut entries = Vec::with_capacity(n as usize);
        for i in 0..n {
            let k = keys.get(i);
            let x = Reflect::get(v, &k).map_err(js_err)?;
            entries.push((wire_string(&k), self.value(&x, depth + 1, false)?));
        }
        Ok(Value::Object(entries))
    }

    fn error(&mut self, v: &JsValue, depth: usize) -> Result<Value, String> {
        self.register(v);
        Self::enter(depth)?;
        let text = |x: JsValue| -> WireString {
            if x.is_string() {
                wire_string(&x)
            } else {
                // String(x), as the JS codec does for name and message.
                wire_string(&JsValue::from(js_sys::JsString::from(x)))
            }
        };
        let name = text(get(v, "name")?);
        let message = text(get(v, "message")?);
        let stack = get(v, "stack")?;
        let stack = if stack.is_string() {
            Some(wire_string(&stack))
        } else {
            None
        };
        let cause = if Reflect::has(v, &JsValue::from_str("cause")).map_err(js_err)? {
            Some(self.value(&get(v, "cause")?, depth + 1, false)?)
        } else {
            None
        };
        let keys = Object::keys(v.unchecked_ref::<Object>());
        let mut props = Vec::new();
        for i in 0..keys.length() {
            let k = keys.get(i);
            let ks = k.as_string().unwrap_or_default();
            if matches!(ks.as_str(), "name" | "message" | "stack" | "cause") {
                continue;
            }
            let x = Reflect::get(v, &k).map_err(js_err)?;
            props.push((wire_string(&k), self.value(&x, depth + 1, false)?));
        }
        Ok(Value::Error(Box::new(ErrorValue {
            name,
            message,
            stack,
            cause,
            props,
        })))
    }
}

struct Decoder {
    /// Objects in wire index order, for BackRef.
    objs: Vec<JsValue>,
}

fn js_string(s: &WireString) -> JsValue {
    match s {
        WireString::Utf8(s) => JsValue::from_str(s),
        WireString::Utf16(_) => {
            let units = s.to_utf16();
            JsValue::from(JsString::from_char_code(&units))
        }
    }
}

fn define(
    target: &JsValue,
    key: &JsValue,
    value: &JsValue,
    enumerable: bool,
) -> Result<(), String> {
    let desc = Object::new();
    Reflect::set(&desc, &JsValue::from_str("value"), value).map_err(js_err)?;
    Reflect::set(&desc, &JsValue::from_str("writable"), &JsValue::TRUE).map_err(js_err)?;
    Reflect::set(
        &desc,
        &JsValue::from_str("enumerable"),
        &JsValue::from_bool(enumerable),
    )
    .map_err(js_err)?;
    Reflect::set(&desc, &JsValue::from_str("configurable"), &JsValue::TRUE).map_err(js_err)?;
    Reflect::define_property(target.unchecked_ref::<Object>(), key, &desc).map_err(js_err)?;
    Ok(())
}

impl Decoder {
    fn global_ctor(name: &str) -> Result<Function, String> {
        Reflect::get(&js_sys::global(), &JsValue::from_str(name))
            .map_err(js_err)?
            .dyn_into::<Function>()
            .map_err(|_| format!("this JavaScript runtime lacks {name}"))
    }

    fn value(&mut self, v: &Value) -> Result<JsValue, String> {
        Ok(match v {
            Value::Undefined | Value::Hole => JsValue::UNDEFINED,
            Value::Null => JsValue::NULL,
            Value::Bool(b) => JsValue::from_bool(*b),
            Value::Int(i) => JsValue::from(*i),
            Value::Float(x) => JsValue::from_f64(*x),
            Value::BigInt {
                negative,
                magnitude,
            } => {
                let mut hex = String::with_capacity(3 + magnitude.len() * 2);
                if *negative {
                    hex.push('-');
                }
                hex.push_str("0x");
                if magnitude.is_empty() {
                    hex.push('0');
                }
                for b in magnitude.iter().rev() {
                    hex.push_str(&format!("{b:02x}"));
                }
                // BigInt("-0x..") is a SyntaxError: negate after parsing.
                let abs = js_sys::BigInt::new(&JsValue::from_str(hex.trim_start_matches('-')))
                    .map_err(|e| js_err(e.into()))?;
                if *negative {
                    JsValue::from(-abs)
                } else {
                    abs.into()
                }
            }
            Value::String(s) => js_string(s),
            Value::ArrayBuffer(b) => {
                let out = Uint8Array::from(b.as_slice()).buffer();
                self.objs.push(out.clone().into());
                out.into()
            }
            Value::TypedArray { kind, bytes } => {
                let k = TypedArrayKind::from_u8(*kind).ok_or("unknown typed array kind")?;
                let buffer = Uint8Array::from(bytes.as_slice()).buffer();
                let out = if k == TypedArrayKind::Uint8Array {
                    Uint8Array::new(&buffer).into()
                } else {
                    let ctor = Self::global_ctor(k.js_name())?;
                    let args = Array::of1(&buffer);
                    Reflect::construct(&ctor, &args).map_err(js_err)?
                };
                self.objs.push(out.clone());
                out
            }
            Value::Date(t) => {
                let d: JsValue = Date::new(&JsValue::from_f64(*t)).into();
                self.objs.push(d.clone());
                d
            }
            Value::RegExp { source, flags } => {
                // Through the constructor with a JS string: the source may
                // hold lone surrogates, which a Rust &str cannot.
                let ctor = Self::global_ctor("RegExp")?;
                let args = Array::of2(&js_string(source), &JsValue::from_str(flags));
                let re = Reflect::construct(&ctor, &args).map_err(js_err)?;
                self.objs.push(re.clone());
                re
            }
            Value::Array(items) => {
                let a = Array::new();
                self.objs.push(a.clone().into());
                for (i, x) in items.iter().enumerate() {
                    if let Value::Hole = x {
                        a.set_length(i as u32 + 1);
                    } else {
                        let x = self.value(x)?;
                        a.push(&x);
                    }
                }
                a.into()
            }
            Value::SparseArray { length, entries } => {
                let a = Array::new();
                self.objs.push(a.clone().into());
                for (i, x) in entries {
                    let x = self.value(x)?;
                    a.set(*i, x);
                }
                a.set_length(*length);
                a.into()
            }
            Value::Object(entries) => {
                let o: JsValue = Object::new().into();
                self.objs.push(o.clone());
                for (k, x) in entries {
                    let key = js_string(k);
                    let x = self.value(x)?;
                    if k.as_str() == Some("__proto__") {
                        define(&o, &key, &x, true)?;
                    } else {
                        Reflect::set(&o, &key, &x).map_err(js_err)?;
                    }
                }
                o
            }
            Value::Map(entries) => {
                let m = js_sys::Map::new();
                self.objs.push(m.clone().into());
                for (k, x) in entries {
                    let k = self.value(k)?;
                    let x = self.value(x)?;
                    m.set(&k, &x);
                }
                m.into()
            }
            Value::Set(items) => {
                let s = js_sys::Set::new(&JsValue::UNDEFINED);
                self.objs.push(s.clone().into());
                for x in items {
                    let x = self.value(x)?;
                    s.add(&x);
                }
                s.into()
            }
            Value::Error(e) => {
                let name = js_string(&e.name);
                let message = js_string(&e.message);
                let name_s = name.as_string().unwrap_or_default();
                let known = matches!(
                    name_s.as_str(),
                    "Error"
                        | "EvalError"
                        | "RangeError"
                        | "ReferenceError"
                        | "SyntaxError"
                        | "TypeError"
                        | "URIError"
                );
                let ctor = Self::global_ctor(if known { &name_s } else { "Error" })?;
                let err = Reflect::construct(&ctor, &Array::of1(&message)).map_err(js_err)?;
                if !known {
                    define(&err, &JsValue::from_str("name"), &name, false)?;
                }
                match &e.stack {
                    Some(s) => define(&err, &JsValue::from_str("stack"), &js_string(s), false)?,
                    None => {
                        Reflect::delete_property(err.unchecked_ref::<Object>(), &JsValue::from_str("stack"))
                            .map_err(js_err)?;
                    }
                }
                self.objs.push(err.clone());
                if let Some(c) = &e.cause {
                    let c = self.value(c)?;
                    define(&err, &JsValue::from_str("cause"), &c, false)?;
                }
                for (k, x) in &e.props {
                    let x = self.value(x)?;
                    define(&err, &js_string(k), &x, true)?;
                }
                err
            }
            Value::BackRef(i) => self
                .objs
                .get(*i as usize)
                .cloned()
                .ok_or("BackRef to an object not yet seen")?,
            Value::Remote { .. } | Value::Local(_) | Value::Transferred { .. } => {
                return Err("references and transferred buffers need the endpoint's tables; the wasm conversion covers plain data only".into())
            }
            Value::Symbol(_) => {
                return Err("symbols (unique ones are references) are not converted here; the wasm conversion covers plain data only".into())
            }
        })
    }
}
