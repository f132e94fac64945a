//! Rust closures and objects the page holds by reference (feature `embed`):
//! [`Callback`] and [`RustObject`], re-exported from [`crate::embed`].
//!
//! Putting one in the arguments of a call to the main thread (or in an
//! exposed function's result) exports it: the page receives a proxy, the
//! same kind of proxy as for a function a JS worker passes. Calling that
//! proxy sends a request to this worker, served like a call of an exposed
//! function (at once when the worker is idle, nested when it is blocked in
//! a call). The counts are bridge-core's export table (`exports.rs`); when
//! the page's proxy is collected, its `FinalizationRegistry` sends the
//! release, and the Rust closure is dropped once no clone of it is left in
//! Rust either.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

use bridge_core::message::{Key, Op, Outcome, Release, Request};
use bridge_core::refs::TableStats;
use bridge_core::serde_value::REMOTE_NEWTYPE;
use bridge_core::value::{RefKind, Value};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::embed::{release_op, release_unread, release_unread_key, run_typed, BridgeError};
use crate::exports::Exports;

type Body = RefCell<Box<dyn FnMut(Vec<Value>) -> Outcome>>;

/// What an export id stands for.
#[derive(Clone)]
enum Export {
    Callback(Rc<CallbackInner>),
    Object(Rc<ObjectInner>),
    /// `obj.name` read by the page: a function that calls that method.
    Method(Rc<ObjectInner>, Rc<str>),
}

thread_local! {
    static EXPORTS: RefCell<Exports<Export>> = RefCell::new(Exports::default());
}

fn new_key() -> u64 {
    EXPORTS.with(|e| e.borrow_mut().new_key())
}

/// Counts one send of `export` and returns its id.
fn export(key: u64, kind: RefKind, make: impl FnOnce() -> Export) -> Result<u32, &'static str> {
    EXPORTS.with(|e| {
        e.try_borrow_mut()
            .map(|mut e| e.export(key, kind, make))
            .map_err(|_| "a Callback or RustObject was serialized while the bridge updates its exports (from a Drop?)")
    })
}

fn thrown(name: &str, message: String) -> Outcome {
    bridge_core::channel::thrown(name, &message)
}

/// A Rust closure that the page calls by reference.
///
/// Pass it in the arguments of a call to the main thread (or return it from
/// an exposed function): the page receives a function, the same proxy a JS
/// worker's function would be, so `addEventListener`, `setTimeout` or any
/// page code can call it. Each call runs the closure on this worker (at
/// once when the worker is idle; nested, while Rust is blocked in a call to
/// the main thread, when the page calls it from inside that call). The
/// page's call returns a Promise of the result; `Err` rejects it.
///
/// Arguments are read as one `A` as for [`expose`](crate::embed::expose): a
/// tuple for a fixed list (`|(ev,): (JsHandle,)|` for an event listener:
/// the `Event` comes by reference), `Vec<T>` for any number.
///
/// The same `Callback` (or a clone) sent again is the same function on the
/// page, so `removeEventListener` finds it. It stays alive while the page
/// holds it: when the page's proxy is garbage-collected, the page sends a
/// release and the closure is dropped (once the Rust clones are dropped
/// too). [`export_stats`](crate::embed::export_stats) counts what the page
/// holds.
///
/// ```no_run
/// use bridge_wasm::embed::{window, BridgeError, Callback, JsHandle};
///
/// fn listen() -> Result<(), BridgeError> {
///     let mut clicks = 0;
///     let on_click = Callback::new(move |(ev,): (JsHandle,)| {
///         clicks += 1;
///         let x: f64 = ev.get_as("clientX")?; // the page's Event, by reference
///         Ok::<_, BridgeError>(format!("click {clicks} at x = {x}"))
///     });
///     // window.addEventListener("click", on_click) on the page.
///     window().call_method("addEventListener", &("click", &on_click))?;
///     Ok(())
/// }
/// ```
///
/// The closure is `FnMut`: a call of the same closure from inside itself
/// (the page calls it again while it runs) rejects with an Error instead of
/// aliasing its state. Only the bridge's serializer may serialize a
/// `Callback` (each serialization counts a send to the page).
#[derive(Clone)]
pub struct Callback(Rc<CallbackInner>);

struct CallbackInner {
    key: u64,
    body: Body,
}

impl Callback {
    /// A callback that runs `f` with the page's arguments read as `A`; its
    /// result (or `Err`) goes back to the page's caller.
    pub fn new<A, R, F>(mut f: F) -> Callback
    where
        A: DeserializeOwned,
        R: Serialize,
        F: FnMut(A) -> Result<R, BridgeError> + 'static,
    {
        let body: Box<dyn FnMut(Vec<Value>) -> Outcome> =
            Box::new(move |args| run_typed("Callback", args, &mut f));
        Callback(Rc::new(CallbackInner {
            key: new_key(),
            body: RefCell::new(body),
        }))
    }

    /// True if both are clones of one callback (the same function on the page).
    pub fn same(&self, other: &Callback) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Callback({})", self.0.key)
    }
}

fn run(body: &Body, what: &str, args: Vec<Value>) -> Outcome {
    match body.try_borrow_mut() {
        Ok(mut f) => f(args),
        Err(_) => {
            release_unread(&args);
            thrown(
            "Error",
            format!("worker-bridge: the Rust {what} is already running on the worker (the page called it again from inside itself); a FnMut cannot run twice at once"),
            )
        }
    }
}

/// Serializing a callback exports it: a send counted in the export table,
/// written as `Remote { kind: function, id }`.
impl Serialize for Callback {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_export(s, self.0.key, RefKind::Function, || {
            Export::Callback(self.0.clone())
        })
    }
}

/// Counts a send of export `key` and writes it as `Remote { kind, id }`.
fn serialize_export<S: serde::Serializer>(
    s: S,
    key: u64,
    kind: RefKind,
    make: impl FnOnce() -> Export,
) -> Result<S::Ok, S::Error> {
    let id = export(key, kind, make).map_err(serde::ser::Error::custom)?;
    s.serialize_newtype_struct(REMOTE_NEWTYPE, &(kind as u8, id))
}

/// A Rust object with named methods that the page calls by reference.
///
/// Built from a state `S` and methods that get `&mut S` and their
/// arguments (read as for [`expose`](crate::embed::expose)). Sent to the
/// page (an argument of a call, an exposed function's result) it arrives as
/// a proxy: on the page, reading a method gives a function (a Promise of
/// it, as every read through a worker's proxy), and calling that runs the
/// method on this worker. Counted and released like a [`Callback`].
///
/// ```no_run
/// use bridge_wasm::embed::{main_thread, BridgeError, RustObject};
///
/// struct Counter { n: i64 }
///
/// fn share() -> Result<(), BridgeError> {
///     let counter = RustObject::new(Counter { n: 0 })
///         .method("add", |c: &mut Counter, (k,): (i64,)| { c.n += k; Ok(c.n) })
///         .method("get", |c: &mut Counter, (): ()| Ok(c.n))
///         .build();
///     // The page: w.sync.useCounter = async (c) => await (await c.add)(5);
///     let n: i64 = main_thread().call("useCounter", &(&counter,))?;
///     assert_eq!(n, 5);
///     Ok(())
/// }
/// ```
///
/// A method that the page calls while another method of the same object
/// runs (from inside it) rejects with an Error: the state is borrowed.
#[derive(Clone)]
pub struct RustObject(Rc<ObjectInner>);

struct ObjectInner {
    key: u64,
    methods: BTreeMap<String, Body>,
    /// The export key of each method read so far, so `obj.m` is the same
    /// function on the page while it holds it.
    method_keys: RefCell<BTreeMap<String, u64>>,
}

/// Builds a [`RustObject`]: [`RustObject::new`], then [`method`](Self::method)s, then [`build`](Self::build).
pub struct ObjectBuilder<S> {
    state: Rc<RefCell<S>>,
    methods: BTreeMap<String, Body>,
}

impl RustObject {
    /// Starts an object whose methods share `state`.
    #[allow(clippy::new_ret_no_self)]
    pub fn new<S: 'static>(state: S) -> ObjectBuilder<S> {
        ObjectBuilder {
            state: Rc::new(RefCell::new(state)),
            methods: BTreeMap::new(),
        }
    }

    /// The names of its methods.
    pub fn method_names(&self) -> impl Iterator<Item = &str> {
        self.0.methods.keys().map(String::as_str)
    }

    /// True if both are clones of one object.
    pub fn same(&self, other: &RustObject) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }

    fn call(inner: &ObjectInner, name: &str, args: Vec<Value>) -> Outcome {
        match inner.methods.get(name) {
            Some(body) => run(body, &format!("method {name:?}"), args),
            None => {
                release_unread(&args);
                thrown(
                    "TypeError",
                    format!(
                        "the Rust object has no method {name:?} (it has {:?})",
                        inner.methods.keys().collect::<Vec<_>>()
                    ),
                )
            }
        }
    }
}

impl<S: 'static> ObjectBuilder<S> {
    /// Adds method `name`: `f(&mut state, args)`; replaces one of that name.
    pub fn method<A, R, F>(mut self, name: &str, mut f: F) -> Self
    where
        A: DeserializeOwned,
        R: Serialize,
        F: FnMut(&mut S, A) -> Result<R, BridgeError> + 'static,
    {
        let state = self.state.clone();
        let fname = name.to_owned();
        let body: Box<dyn FnMut(Vec<Value>) -> Outcome> = Box::new(move |args| {
            run_typed(&fname, args, |a| {
                match state.try_borrow_mut() {
                Ok(mut s) => f(&mut s, a),
                Err(_) => Err(BridgeError::thrown(
                    "Error",
                    format!("worker-bridge: method {fname:?} of a Rust object was called while another of its methods runs (from inside it); its state is borrowed"),
                )),
            }
            })
        });
        self.methods.insert(name.to_owned(), RefCell::new(body));
        self
    }

    /// The object.
    pub fn build(self) -> RustObject {
        RustObject(Rc::new(ObjectInner {
            key: new_key(),
            methods: self.methods,
            method_keys: RefCell::new(BTreeMap::new()),
        }))
    }
}

impl fmt::Debug for RustObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RustObject({}, methods {:?})",
            self.0.key,
            self.0.methods.keys().collect::<Vec<_>>()
        )
    }
}

/// Serializing an object exports it (see [`Callback`]'s `Serialize`).
impl Serialize for RustObject {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_export(s, self.0.key, RefKind::Object, || {
            Export::Object(self.0.clone())
        })
    }
}

// ---------------------------------------------------------------------------
// The embedding's hooks

/// Serves a request whose target is one of our exports.
pub(crate) fn serve(req: Request) -> Outcome {
    let id = req.target;
    let Some((_, target)) = EXPORTS.with(|e| e.borrow().get(id)) else {
        release_op(&req.op);
        return thrown(
            "TypeError",
            format!(
                "worker-bridge: the Rust worker's object #{id} is not exported (it was released)"
            ),
        );
    };
    // No borrow of the registry is held while Rust code runs: it may call
    // the main thread, which may send more exports.
    // What no Rust code reads is released here: a call's `this`, a symbol
    // key, and every value of a request that is refused.
    match (target, req.op) {
        (Export::Callback(c), Op::Apply { args, this }) => {
            release_unread(std::slice::from_ref(&this));
            run(&c.body, "Callback", args)
        }
        (Export::Method(o, name), Op::Apply { args, this }) => {
            release_unread(std::slice::from_ref(&this));
            RustObject::call(&o, &name, args)
        }
        (Export::Object(o), Op::Call { name, args }) => {
            RustObject::call(&o, &name.to_string_lossy(), args)
        }
        (
            Export::Object(o),
            Op::Get {
                key: Key::String(k),
            },
        ) => {
            let name = k.to_string_lossy();
            if !o.methods.contains_key(&name) {
                return Outcome::Ok(Value::Undefined);
            }
            let key = *o
                .method_keys
                .borrow_mut()
                .entry(name.clone())
                .or_insert_with(new_key);
            let name: Rc<str> = name.into();
            match export(key, RefKind::Function, || Export::Method(o.clone(), name)) {
                Ok(id) => Outcome::Ok(Value::Remote {
                    kind: RefKind::Function as u8,
                    id,
                }),
                Err(e) => thrown("Error", e.to_owned()),
            }
        }
        (
            Export::Object(o),
            Op::Has {
                key: Key::String(k),
            },
        ) => Outcome::Ok(Value::Bool(o.methods.contains_key(&k.to_string_lossy()))),
        // Other reads (a function's `name`, a symbol) find nothing.
        (_, Op::Get { key }) => {
            release_unread_key(&key);
            Outcome::Ok(Value::Undefined)
        }
        (_, Op::Has { key }) => {
            release_unread_key(&key);
            Outcome::Ok(Value::Bool(false))
        }
        (target, op) => {
            release_op(&op);
            let what = match &op {
                Op::Construct { .. } => String::from("new (construct)"),
                Op::Apply { .. } => String::from("a call"),
                _ => bridge_core::channel::request_label(&Request {
                    seq: req.seq,
                    nested_in: req.nested_in,
                    target: id,
                    op,
                    releases: Vec::new(),
                }),
            };
            let (name, supports) = match target {
                Export::Object(_) => (
                    "a RustObject",
                    "reading its methods (await obj.name) and calling them",
                ),
                _ => ("a Callback", "only being called"),
            };
            thrown(
                "TypeError",
                format!("worker-bridge: {name} of the Rust worker supports {supports}; not {what}"),
            )
        }
    }
}

/// Runs `f` on the registry. Its borrows are short and run no user code
/// (only `make` closures that clone an `Rc`), so it is never found borrowed
/// here; if it were, `None`.
fn with_exports<R>(f: impl FnOnce(&mut Exports<Export>) -> R) -> Option<R> {
    EXPORTS.with(|e| e.try_borrow_mut().ok().map(|mut e| f(&mut e)))
}

/// Applies releases the page sent.
pub(crate) fn apply_releases(releases: &[Release]) {
    if !releases.is_empty() {
        with_exports(|e| e.apply_releases(releases));
    }
}

/// No request received earlier waits: drops what releases freed (outside
/// the registry's borrow: a closure's captures may be anything).
pub(crate) fn drop_freed() {
    drop(with_exports(Exports::drain_freed));
}

/// A message is being built: note the sends it counts.
pub(crate) fn begin_sends() {
    with_exports(Exports::begin);
}

/// The sends counted since [`begin_sends`].
pub(crate) fn take_sends() -> Vec<u32> {
    with_exports(Exports::take_journal).unwrap_or_default()
}

/// The message that counted `ids` was not sent.
pub(crate) fn take_back(ids: &[u32]) {
    if !ids.is_empty() {
        with_exports(|e| e.take_back(ids));
    }
}

/// Rust closures and objects the page holds now: live ids and the sends
/// not yet released. Back to zero when the page dropped them all and its
/// garbage collector ran (the releases ride on the next message).
pub fn export_stats() -> TableStats {
    EXPORTS.with(|e| e.borrow().stats())
}

/// Rust functions that exercise Callbacks and RustObjects against a real
/// page, for `tests/e2e/rust/refs.test.mjs` (feature `embed-selftest`).
#[cfg(feature = "embed-selftest")]
pub mod selftest {
    use std::cell::{Cell, RefCell};

    use serde::Serialize;
    use wasm_bindgen::prelude::*;

    use super::{export_stats, Callback, RustObject};
    use crate::embed::{expose, import_stats, main_thread, window, BridgeError, JsHandle};

    thread_local! {
        /// What the click listeners saw, oldest first.
        static CLICKS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
        /// The body listener, kept to remove it again.
        static BODY_LISTENER: RefCell<Option<Callback>> = const { RefCell::new(None) };
        /// Closures and objects dropped (their captured guard ran).
        static DROPPED: Cell<u32> = const { Cell::new(0) };
    }

    /// Captured by every closure and object here: counts drops.
    struct Guard;
    impl Drop for Guard {
        fn drop(&mut self) {
            DROPPED.with(|d| d.set(d.get() + 1));
        }
    }

    fn listener(place: &'static str) -> Callback {
        let guard = Guard;
        Callback::new(move |(ev,): (JsHandle,)| {
            let _ = &guard;
            let kind: String = ev.get_as("type")?;
            let target = ev.get("target")?.handle()?;
            let id: String = target.get_as("id")?;
            let x: f64 = ev.get_as("clientX")?;
            let trusted: bool = ev.get_as("isTrusted")?;
            CLICKS.with(|c| {
                c.borrow_mut().push(format!(
                    "{place}:{kind}:{id}:{}{}",
                    x.round(),
                    if trusted { ":trusted" } else { "" }
                ))
            });
            Ok::<_, BridgeError>(())
        })
    }

    #[derive(Serialize)]
    struct Stats {
        live: usize,
        count: u64,
        dropped: u32,
        imports: usize,
    }

    struct Counter {
        n: i64,
        _guard: Guard,
    }

    /// An object with methods `add(k)` and `get()`.
    fn counter() -> RustObject {
        RustObject::new(Counter {
            n: 0,
            _guard: Guard,
        })
        .method("add", |c: &mut Counter, (k,): (i64,)| {
            c.n += k;
            Ok(c.n)
        })
        .method("get", |c: &mut Counter, (): ()| Ok(c.n))
        .build()
    }

    /// Exposes the functions `tests/e2e/rust/refs-page.js` calls.
    #[wasm_bindgen(js_name = installRefsSelftest)]
    pub fn install_refs_selftest() {
        // window.addEventListener("click", f, { once: true }) with no Rust
        // clone of f left, and document.body.addEventListener("click", g)
        // with g kept here (to remove it).
        expose("listen", |(): ()| {
            let once = listener("window");
            window().call_method("addEventListener", &("click", &once, once_option()))?;
            drop(once);
            let body = window().get("document")?.handle()?.get("body")?.handle()?;
            let kept = listener("body");
            body.call_method("addEventListener", &("click", &kept))?;
            BODY_LISTENER.with(|b| *b.borrow_mut() = Some(kept));
            Ok::<_, BridgeError>(())
        });
        expose("clicks", |(): ()| {
            Ok::<_, BridgeError>(CLICKS.with(|c| std::mem::take(&mut *c.borrow_mut())))
        });
        // Blocked in a call to the page, whose function dispatches a click:
        // the listener runs nested, before the call returns.
        expose("clickWhileBlocked", |(x,): (f64,)| {
            main_thread().call::<_, ()>("clickTarget", &(x,))?;
            Ok::<_, BridgeError>(CLICKS.with(|c| std::mem::take(&mut *c.borrow_mut())))
        });
        expose("unlisten", |(): ()| {
            let kept = BODY_LISTENER.with(|b| b.borrow_mut().take());
            let Some(kept) = kept else {
                return Err(BridgeError::thrown("Error", "not listening"));
            };
            let body = window().get("document")?.handle()?.get("body")?.handle()?;
            // The same Callback is the same function on the page.
            body.call_method("removeEventListener", &("click", &kept))?;
            Ok(())
        });
        // The same callback twice in one call, and twice in two calls: the
        // page sees one function.
        expose("identity", |(): ()| {
            let guard = Guard;
            let cb = Callback::new(move |(): ()| {
                let _ = &guard;
                Ok::<_, BridgeError>(1)
            });
            let twice: bool = main_thread().call("same", &(&cb, &cb))?;
            let kept: bool = main_thread().call("keep", &(&cb,))?;
            let again: bool = main_thread().call("isKept", &(&cb,))?;
            let obj = counter();
            let methods_same: bool = main_thread().call("sameMethod", &(&obj,))?;
            main_thread().call::<_, ()>("forget", &())?;
            Ok::<_, BridgeError>((twice, kept, again, methods_same))
        });
        // n closures (and n / 10 objects) passed to the page, which calls
        // each once and drops it.
        expose("churn", |(n,): (u32,)| {
            let mut sum = 0i64;
            for i in 0..n {
                let guard = Guard;
                let cb = Callback::new(move |(x,): (i64,)| {
                    let _ = &guard;
                    Ok::<_, BridgeError>(x * 2)
                });
                sum += main_thread().call::<_, i64>("takeCallback", &(&cb, i))?;
                if i % 10 == 0 {
                    let obj = counter();
                    sum += main_thread().call::<_, i64>("takeObject", &(&obj, i))?;
                }
            }
            Ok::<_, BridgeError>(sum)
        });
        // A message that cannot be written takes its count back; a closure
        // the page calls again from inside itself rejects; `new` on it too.
        expose("errors", |(): ()| {
            let before = export_stats();
            let guard = Guard;
            let cb = Callback::new(move |(): ()| {
                let _ = &guard;
                Ok::<_, BridgeError>(())
            });
            let bad = std::collections::BTreeMap::from([(vec![1u8], 1)]);
            let unsent = main_thread().call::<_, ()>("keep", &(&cb, bad));
            let taken_back = export_stats() == before;
            let encode_error = matches!(unsent, Err(BridgeError::Encode(_)));
            let reentered =
                Callback::new(|(): ()| main_thread().call::<_, Vec<String>>("callAgain", &()));
            let messages: Vec<String> = main_thread().call("reenter", &(&reentered,))?;
            Ok::<_, BridgeError>((encode_error, taken_back, messages))
        });
        expose("refStats", |(): ()| {
            let s = export_stats();
            Ok::<_, BridgeError>(Stats {
                live: s.live,
                count: s.count,
                dropped: DROPPED.with(Cell::get),
                imports: import_stats().live,
            })
        });
    }

    /// `{ once: true }`.
    fn once_option() -> std::collections::BTreeMap<&'static str, bool> {
        std::collections::BTreeMap::from([("once", true)])
    }
}
