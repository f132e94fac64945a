//! The Rust embedding (feature `embed`): typed, synchronous access to the
//! main thread for Rust code running in a worker, with serde types and no JS
//! codec in the path.
//!
//! ```ignore
//! use bridge_wasm::embed::{main_thread, window, expose, BridgeError};
//!
//! #[derive(serde::Serialize)]
//! struct Order { id: u64, qty: u32 }
//! #[derive(serde::Deserialize)]
//! struct Receipt { total: f64 }
//!
//! // Calls `w.sync.checkout(order, "EUR")` on the main thread and blocks
//! // until it returns (or throws: `Err(BridgeError::Thrown { name, message, .. })`).
//! let r: Receipt = main_thread().call("checkout", &(Order { id: 1, qty: 2 }, "EUR"))?;
//!
//! // Drive the DOM: handles stand for main-thread objects.
//! let doc = window().get("document")?.handle()?;
//! doc.set("title", &"from Rust")?;
//!
//! // Let the main thread call Rust: `await w.sync.add(2, 3)` is 5.
//! expose("add", |(a, b): (f64, f64)| Ok::<_, BridgeError>(a + b));
//!
//! // Async, on the worker's event loop: the page awaits it, and it awaits
//! // main-thread calls without blocking (several in flight).
//! expose_async("both", |(): ()| async {
//!     let a = main_thread().call_async::<_, f64>("a", &());
//!     let b = main_thread().call_async::<_, f64>("b", &());
//!     Ok::<_, BridgeError>(a.await? + b.await?)
//! });
//! ```
//!
//! # Start-up
//!
//! The main thread (bridge-js `BridgeWorker`) posts
//! `{ "worker-bridge": 1, sab, capacity, maxMessage, transport, timeout, ... }`
//! (docs/protocol.md §7). The worker's JS bootstrap loads this wasm, calls
//! [`init_bridge`]`(sab, capacity, maxMessage, timeout)`, runs the Rust code
//! that [`expose`]s functions, posts `{ "worker-bridge": "ready",
//! waitAsync: true }` back, and then calls [`serve_pending`] whenever the
//! `to_worker` mailbox's `WRITTEN` slot changes (it waits with
//! `Atomics.waitAsync`). bridge-js ships that bootstrap as
//! `worker-bridge/rust` (`runRustWorker`; docs/rust.md). On a page without
//! cross-origin isolation the start-up message names the service-worker
//! transport instead, and the bootstrap calls `initBridgeSw`: the same
//! channel host over a synchronous XMLHttpRequest (module `transport_sw`,
//! docs/service-worker.md); the code that uses this API does not change.
//!
//! # Arguments
//!
//! [`MainThread::call`]`(name, &args)` spreads `args` the way JS spreads
//! `f(...args)` when `args` serializes to an array (a tuple, tuple struct,
//! `Vec`, array), and passes it as the one argument otherwise (a struct, a
//! number, a string, a map). To pass one array as a single argument, wrap it
//! in a 1-tuple: `&(vec,)`. `&()` calls with no arguments.
//!
//! A function given to [`expose`] receives its arguments as one value `A`
//! read from the array of arguments: use a tuple `(a, b)` for a fixed list
//! or `Vec<T>` for any number. When that fails and exactly one argument came,
//! `A` is read from that argument alone, so `|x: f64|` works for `f(1.5)`;
//! when none came, from `undefined`, so `|(): ()|` works for `f()`.
//!
//! # References
//!
//! Results of [`JsHandle::get`], [`JsHandle::call_method`] and
//! [`JsHandle::construct`] come by reference (docs/protocol.md "Copy or
//! reference"): primitives as [`Value`]s, objects and functions as
//! [`JsHandle`]s. Typed calls ([`MainThread::call`]) copy plain data; a
//! main-thread object inside such a result (a DOM node, a function) can be
//! read into a `JsHandle` field. A handle is released when its last clone
//! drops: the release rides on the next message (docs/protocol.md §5).
//!
//! The other way, a [`Callback`] (a Rust closure) or a [`RustObject`] (named
//! methods over a state) in a value sent to the main thread goes by
//! reference: the page calls it later (an event listener), Rust runs it, and
//! the page's garbage collector releases it ([`export_stats`]).
//!
//! # Threads
//!
//! The channel, handles and exposed functions are thread-local: everything
//! here lives on the worker thread that called [`init_bridge`]. In the
//! wasm-threads flavour (feature `threads` on a `+atomics` nightly build,
//! module `embed::threads`) other threads of the instance (a wasm-bindgen-rayon pool)
//! call the main thread too: each takes a channel of its own, made in the
//! shared wasm memory by `allocThreadChannels` and adopted by the page, on
//! its first call. A Rust panic in the `release-wasm` profile aborts the
//! wasm instance; an exposed function should return `Err` instead. After a
//! panic the page's pending calls reject with a `ClosedError` that gives the
//! panic's message ([`on_bridge_failure`]).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::Duration;

// The channel host of bridge-core's protocol machine: numbering, the frame
// stack (an outer call's reply that arrives during a nested call is kept for
// it), late replies, cancels and deadlines are all decided there.
use bridge_core::channel::CallError;
use bridge_core::mailbox::Config;
use bridge_core::message::{Key, Op, Outcome, Request};
use bridge_core::refs::{ImportTable, TableStats};
use bridge_core::serde_value::{
    expand_shared, from_value, to_value, DeError, SerError, LOCAL_NEWTYPE, REMOTE_NEWTYPE,
};
use bridge_core::value::{ErrorValue, JsString, JsSymbol, RefKind, Value};
use js_sys::SharedArrayBuffer;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::shm::SabRegion;

// The service-worker transport (docs/service-worker.md): the link the
// channel takes instead of the mailboxes on a page without cross-origin
// isolation, and its start-up export `initBridgeSw`.
#[path = "transport_sw.rs"]
mod transport_sw;
use transport_sw::Link;

/// The embedding's channel: bridge-core's host of the protocol machine over
/// the transport the start-up message chose (the mailboxes in memory `M`, or
/// the service worker).
type WorkerSide<M> = bridge_core::channel::WorkerSide<Link<M>>;

/// The memory a channel of this embedding lives in: the SharedArrayBuffer
/// the main thread made (`initBridge`), or, in the wasm-threads flavour, a
/// region of this instance's own shared linear memory (the channel of a
/// pool thread; see `threads`).
#[derive(Clone, Debug)]
enum Region {
    Sab(SabRegion),
    #[cfg(all(
        feature = "threads",
        target_arch = "wasm32",
        target_feature = "atomics"
    ))]
    Linear(threads::LinearRegion),
}

macro_rules! region_dispatch {
    ($self:ident, $m:ident => $e:expr) => {
        match $self {
            Region::Sab($m) => $e,
            #[cfg(all(
                feature = "threads",
                target_arch = "wasm32",
                target_feature = "atomics"
            ))]
            Region::Linear($m) => $e,
        }
    };
}

impl bridge_core::shm::SharedMemory for Region {
    fn load(&self, slot: usize) -> i32 {
        region_dispatch!(self, m => m.load(slot))
    }
    fn store(&self, slot: usize, value: i32) {
        region_dispatch!(self, m => m.store(slot, value))
    }
    fn compare_exchange(&self, slot: usize, current: i32, new: i32) -> Result<i32, i32> {
        region_dispatch!(self, m => m.compare_exchange(slot, current, new))
    }
    fn wait(
        &self,
        slot: usize,
        expected: i32,
        timeout: Option<Duration>,
    ) -> bridge_core::shm::WaitOutcome {
        region_dispatch!(self, m => m.wait(slot, expected, timeout))
    }
    fn notify(&self, slot: usize, count: u32) -> u32 {
        region_dispatch!(self, m => m.notify(slot, count))
    }
    fn read_bytes(&self, offset: usize, dst: &mut [u8]) {
        region_dispatch!(self, m => m.read_bytes(offset, dst))
    }
    fn write_bytes(&self, offset: usize, src: &[u8]) {
        region_dispatch!(self, m => m.write_bytes(offset, src))
    }
    fn byte_len(&self) -> usize {
        region_dispatch!(self, m => m.byte_len())
    }
    fn now(&self) -> Duration {
        region_dispatch!(self, m => m.now())
    }
    fn can_block(&self) -> bool {
        region_dispatch!(self, m => m.can_block())
    }
    fn pause(&self) {
        region_dispatch!(self, m => m.pause())
    }
}

pub use crate::callback::{export_stats, Callback, ObjectBuilder, RustObject};
pub use bridge_core::serde_value;
pub use bridge_core::value;

/// What a call into the main thread can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    /// The main thread's function threw an Error; its `name` (`"TypeError"`,
    /// ...), `message` and `stack` are kept.
    #[error("the main thread threw {name}: {message}")]
    Thrown {
        /// The JS error's `name`.
        name: String,
        /// The JS error's `message`.
        message: String,
        /// The JS error's `stack`, when it had one.
        stack: Option<String>,
    },
    /// The main thread threw something that is not an Error (`throw 42`).
    #[error("the main thread threw a value that is not an Error: {0:?}")]
    ThrownValue(Value),
    /// No reply before the time-out; the channel stays usable.
    #[error("the call to the main thread timed out (no reply in time); the channel stays usable: raise the time-out (BridgeWorker `timeout` or MainThread::with_timeout) if the call is slow")]
    Timeout,
    /// The channel is closed (the worker was terminated, or the main side closed it).
    #[error("the bridge to the main thread is closed (terminated or closed by the main thread); no more calls can be made")]
    Closed,
    /// The channel is in use further up this thread's stack in a way that
    /// cannot lend it (a call from a `Drop` or serde impl run by the bridge
    /// itself).
    #[error("the bridge is busy on this thread (called from a Drop or serde impl that the bridge itself is running?); call the main thread from ordinary code")]
    Busy,
    /// [`init_bridge`] was not called on this thread yet.
    #[error("the bridge is not started on this thread: the worker's JS bootstrap must call init_bridge(sab, capacity, maxMessage) with the fields of the main thread's start-up message first")]
    NotStarted,
    /// Threads flavour: this thread (a pool thread) needs a channel of its
    /// own, and every channel `allocThreadChannels` made is taken by other
    /// threads.
    #[error("no free channel for this thread: every channel that allocThreadChannels(count, ...) made is taken by another thread; allocate one per thread that calls the main thread (the rayon pool's size)")]
    NoChannel,
    /// The arguments (or a value to set) cannot become a JS value.
    #[error("the arguments cannot be sent to the main thread: {0}")]
    Encode(#[from] SerError),
    /// The result cannot be read as the Rust type asked for.
    #[error("the main thread's result does not fit the Rust type: {0}")]
    Decode(#[from] DeError),
    /// The value is a main-thread object where data was expected, or data
    /// where a handle was expected.
    #[error("{0}")]
    NotAHandle(String),
    /// The service-worker transport failed (the service worker does not
    /// control this worker, was stopped or unregistered, lost messages).
    #[error("{0}")]
    ServiceWorker(String),
    /// Any other failure of the channel (message too large, protocol violation).
    #[error(transparent)]
    Channel(CallError),
}

impl From<CallError> for BridgeError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Timeout => BridgeError::Timeout,
            CallError::Closed => match transport_sw::take_failure() {
                Some(why) => BridgeError::ServiceWorker(why),
                None => BridgeError::Closed,
            },
            other => BridgeError::Channel(other),
        }
    }
}

impl BridgeError {
    /// An error for an exposed function to return: the main thread's promise
    /// rejects with an Error of this `name` and `message`.
    pub fn thrown(name: impl Into<String>, message: impl Into<String>) -> Self {
        BridgeError::Thrown {
            name: name.into(),
            message: message.into(),
            stack: None,
        }
    }

    fn from_thrown(v: Value) -> Self {
        // Only names and texts are kept: what the value references goes back.
        release_unread(std::slice::from_ref(&v));
        match v {
            Value::Error(e) => BridgeError::Thrown {
                name: e.name.to_string_lossy(),
                message: e.message.to_string_lossy(),
                stack: e.stack.as_ref().map(JsString::to_string_lossy),
            },
            other => BridgeError::ThrownValue(other),
        }
    }

    /// What the main thread sees when an exposed function returns this.
    fn to_outcome(&self) -> Outcome {
        match self {
            BridgeError::Thrown {
                name,
                message,
                stack,
            } => {
                let mut e = ErrorValue::new(name.as_str(), message.as_str());
                e.stack = stack.as_deref().map(JsString::from);
                Outcome::Thrown(Value::Error(Box::new(e)))
            }
            BridgeError::ThrownValue(v) => Outcome::Thrown(v.clone()),
            other => Outcome::Thrown(Value::Error(Box::new(ErrorValue::new(
                "Error",
                other.to_string(),
            )))),
        }
    }
}

// ---------------------------------------------------------------------------
// Thread-local state

type Exposed = Rc<dyn Fn(Vec<Value>) -> Outcome>;
type ExposedAsync = Rc<dyn Fn(Vec<Value>) -> Pin<Box<dyn Future<Output = Outcome>>>>;

thread_local! {
    /// The worker's end of the channel, once started.
    static SIDE: RefCell<Option<WorkerSide<Region>>> = const { RefCell::new(None) };
    /// While the channel serves a request (it holds `SIDE` borrowed then),
    /// the `&mut WorkerSide` it lent to the handler, so that the exposed
    /// function can call the main thread itself (a nested call).
    static CURRENT: Cell<*mut WorkerSide<Region>> = const { Cell::new(std::ptr::null_mut()) };
    /// Main-thread objects we hold handles for, by the main thread's id.
    static IMPORTS: RefCell<ImportTable<Weak<HandleInner>>> = RefCell::new(ImportTable::new());
    /// Functions the main thread may call by name.
    static EXPOSED: RefCell<HashMap<String, Exposed>> = RefCell::new(HashMap::new());
    /// Async functions the main thread may call by name (`expose_async`).
    static EXPOSED_ASYNC: RefCell<HashMap<String, ExposedAsync>> = RefCell::new(HashMap::new());
    /// Default time-out of a call (from the start-up message).
    static DEFAULT_TIMEOUT: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// Runs `f` with the channel: the one lent to the request being served, or
/// the thread's own.
fn with_side<R>(f: impl FnOnce(&mut WorkerSide<Region>) -> R) -> Result<R, BridgeError> {
    let current = CURRENT.with(Cell::get);
    if !current.is_null() {
        // SAFETY: `current` was made from the `&mut WorkerSide` that
        // `WorkerSide::serve` lent to `serve_request`, which is still running
        // further up this thread's stack (it resets CURRENT before it
        // returns, see `CurrentGuard`). `serve_request` does not touch that
        // reference while the exposed function runs, so this is the only
        // live use of it; a nested serve re-lends it and sets CURRENT to the
        // re-lent pointer for its own duration. Only this thread sees CURRENT.
        let side = unsafe { &mut *current };
        flush_releases(side);
        return Ok(f(side));
    }
    SIDE.with(|cell| {
        let mut guard = cell.try_borrow_mut().map_err(|_| BridgeError::Busy)?;
        // A thread without a channel of its own (a wasm-bindgen-rayon pool
        // thread) takes one of the channels the page adopted.
        #[cfg(all(
            feature = "threads",
            target_arch = "wasm32",
            target_feature = "atomics"
        ))]
        if guard.is_none() {
            if let Some((side, timeout)) = threads::take_channel()? {
                *guard = Some(side);
                DEFAULT_TIMEOUT.with(|t| t.set(timeout));
            }
        }
        let side = guard.as_mut().ok_or(BridgeError::NotStarted)?;
        flush_releases(side);
        Ok(f(side))
    })
}

/// Moves the releases of dropped handles onto the next outgoing message.
fn flush_releases(side: &mut WorkerSide<Region>) {
    let pending = IMPORTS.with(|t| t.try_borrow_mut().map(|mut t| t.take_pending()));
    if let Ok(pending) = pending {
        for r in pending {
            side.queue_release(r);
        }
    }
    // Releases the main thread sent for our Callbacks and RustObjects.
    crate::callback::apply_releases(&side.take_releases());
}

/// Restores CURRENT when a served request ends.
struct CurrentGuard(*mut WorkerSide<Region>);

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// bridge-core's request handler: runs an exposed function.
fn serve_request(req: Request, side: &mut WorkerSide<Region>) -> Outcome {
    // Releases that came with the request count before it runs.
    flush_releases(side);
    let previous = CURRENT.with(|c| c.replace(side as *mut _));
    let guard = CurrentGuard(previous);
    let nested_in = req.nested_in;
    let outcome = match async_call(&req) {
        // Only requests nested into a blocked call come here with an async
        // function (`serve_pending` spawns the others): the worker cannot
        // return to its event loop, so the future gets one poll.
        Some((name, f)) => match poll_once(f(call_args(req))) {
            Some(outcome) => outcome,
            None => {
                // The rule of bridge-js's worker: the nested request and the
                // call it is nested in fail, instead of both waiting forever.
                side.abort_call(nested_in);
                BridgeError::thrown(
                    "DeadlockError",
                    format!("Possible deadlock: the page called the async Rust function {name:?} while this Rust worker is blocked in a call to the main thread; it cannot be awaited until that call returns, so both fail. Expose it with expose() (synchronous), or call it only when the worker is not blocked"),
                )
                .to_outcome()
            }
        },
        None => answer(req),
    };
    drop(guard);
    flush_releases(side);
    outcome
}

/// The async function a request calls, if it calls one.
fn async_call(req: &Request) -> Option<(String, ExposedAsync)> {
    match &req.op {
        Op::Call { name, .. } if req.target == 0 => {
            let name = name.to_string_lossy();
            let f = EXPOSED_ASYNC.with(|e| e.borrow().get(&name).cloned())?;
            Some((name, f))
        }
        _ => None,
    }
}

fn call_args(req: Request) -> Vec<Value> {
    match req.op {
        Op::Call { args, .. } => args,
        _ => Vec::new(),
    }
}

/// Polls a future once with a waker that does nothing.
fn poll_once<F: Future + ?Sized>(mut f: Pin<Box<F>>) -> Option<F::Output> {
    fn raw() -> RawWaker {
        fn clone(_: *const ()) -> RawWaker {
            raw()
        }
        fn noop(_: *const ()) {}
        static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
        RawWaker::new(std::ptr::null(), &VTABLE)
    }
    // SAFETY: the vtable's functions ignore the data pointer.
    let waker = unsafe { Waker::from_raw(raw()) };
    match f.as_mut().poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

fn answer(req: Request) -> Outcome {
    if let Op::Described(op) = req.op {
        // The asker wants the result's Describe snapshot folded into the
        // reply (docs/protocol.md §3 "Folded into the reply"). A Rust worker
        // describes none of its objects (it refuses Describe), so the
        // snapshot, and an apply's chain of `this`, are null: the asker then
        // asks one request at a time, as without the prefix.
        let apply = matches!(*op, Op::Apply { .. });
        return match answer(Request { op: *op, ..req }) {
            Outcome::Ok(value) => Outcome::Ok(Value::Array(if apply {
                vec![value, Value::Null, Value::Null]
            } else {
                vec![value, Value::Null]
            })),
            thrown => thrown,
        };
    }
    if req.target != 0 {
        // A Callback or RustObject the page holds by reference.
        return crate::callback::serve(req);
    }
    let (name, args) = match req.op {
        Op::Call { name, args } => (name, args),
        op => {
            release_op(&op);
            return BridgeError::thrown(
                "TypeError",
                "a Rust worker's global object answers only calls of the functions it exposed (w.sync.name(...))",
            )
            .to_outcome();
        }
    };
    let name = name.to_string_lossy();
    let f = EXPOSED.with(|e| e.borrow().get(&name).cloned());
    match f {
        Some(f) => f(args),
        None => {
            release_unread(&args);
            BridgeError::thrown(
                "TypeError",
                format!("the Rust worker exposes no function {name:?}; expose it with bridge_wasm::embed::expose({name:?}, f) before the main thread calls it"),
            )
            .to_outcome()
        }
    }
}

/// [`release_unread`] for every key and value of a request that is refused.
pub(crate) fn release_op(op: &Op) {
    match op {
        Op::Get { key }
        | Op::Has { key }
        | Op::Delete { key }
        | Op::GetOwnPropertyDescriptor { key } => release_unread_key(key),
        Op::Set { key, value } => {
            release_unread_key(key);
            release_unread(std::slice::from_ref(value));
        }
        Op::DefineProperty { key, descriptor } => {
            release_unread_key(key);
            release_unread(std::slice::from_ref(descriptor));
        }
        Op::SetPrototypeOf { proto } => release_unread(std::slice::from_ref(proto)),
        Op::Apply { this, args } => {
            release_unread(std::slice::from_ref(this));
            release_unread(args);
        }
        Op::Construct { args } | Op::Call { args, .. } => release_unread(args),
        Op::OwnKeys | Op::GetPrototypeOf | Op::Describe => {}
        Op::Described(op) => release_op(op),
    }
}

/// Imports every `Remote` in `values` (counting each receipt) and returns
/// the handles, which keep them alive while the values are read. The main
/// thread's unique symbols count as it sent them too: nothing in Rust keeps
/// one (serde reads no symbol), so each is released with the receipts.
pub(crate) fn import_all(values: &[Value]) -> Vec<JsHandle> {
    fn walk(v: &Value, out: &mut Vec<JsHandle>) {
        match v {
            Value::Remote { kind, id } => out.push(import(*kind, *id)),
            Value::Symbol(JsSymbol::Remote { id, .. }) => {
                out.push(import(RefKind::Object as u8, *id))
            }
            Value::Array(items) | Value::Set(items) => items.iter().for_each(|x| walk(x, out)),
            Value::SparseArray { entries, .. } => entries.iter().for_each(|(_, x)| walk(x, out)),
            Value::Object(entries) => entries.iter().for_each(|(_, x)| walk(x, out)),
            Value::Map(entries) => entries.iter().for_each(|(k, x)| {
                walk(k, out);
                walk(x, out)
            }),
            Value::Error(e) => {
                if let Some(c) = &e.cause {
                    walk(c, out);
                }
                e.props.iter().for_each(|(_, x)| walk(x, out));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    values.iter().for_each(|v| walk(v, &mut out));
    out
}

/// Releases the references in values no Rust code reads (the arguments of
/// a call that fails before it runs, a call's `this`, a symbol key): the
/// main thread counted each as sent.
pub(crate) fn release_unread(values: &[Value]) {
    drop(import_all(values));
}

/// [`release_unread`] for a property key (a unique symbol is a reference).
pub(crate) fn release_unread_key(key: &Key) {
    if let Key::Symbol(s @ JsSymbol::Remote { .. }) = key {
        release_unread(&[Value::Symbol(s.clone())]);
    }
}

fn import(kind: u8, id: u32) -> JsHandle {
    // The global object is id 0 on both sides, never counted nor released
    // (a window listener's `this`, `window` as an argument).
    if id == bridge_core::refs::GLOBAL_ID {
        return JsHandle::global();
    }
    IMPORTS.with(|t| {
        let mut t = t.borrow_mut();
        let mut fresh = None;
        let imported = t.import_with(id, || {
            let rc = Rc::new(HandleInner {
                id,
                kind: RefKind::from_u8(kind).unwrap_or(RefKind::Object),
            });
            let weak = Rc::downgrade(&rc);
            fresh = Some(rc);
            weak
        });
        let rc = match fresh {
            Some(rc) => rc,
            // An entry exists only while a handle lives: its Drop removes it.
            None => imported.proxy.upgrade().unwrap_or_else(|| {
                wasm_bindgen::throw_str(
                    "worker-bridge: import table holds a dead handle (internal error)",
                )
            }),
        };
        JsHandle(rc)
    })
}

/// Reads `T` from values received from the main thread: shared objects are
/// expanded and remote objects imported while `T` is read.
fn read<T: DeserializeOwned>(mut value: Value) -> Result<T, BridgeError> {
    expand_shared(std::slice::from_mut(&mut value))?;
    let _receipts = import_all(std::slice::from_ref(&value));
    Ok(from_value(&value)?)
}

// ---------------------------------------------------------------------------
// Start-up (called by the JS bootstrap)

/// Starts the bridge on this worker thread with the fields of the main
/// thread's start-up message: `initBridge(msg.sab, msg.capacity,
/// msg.maxMessage, msg.timeout)`. `timeout` (ms, 0 or omitted: none) is the
/// default time-out of every call. Throws if the sizes do not fit the
/// buffer, this thread may not block (a main thread), or it was already
/// called.
#[wasm_bindgen(js_name = initBridge)]
pub fn init_bridge(
    sab: &SharedArrayBuffer,
    capacity: u32,
    max_message: u32,
    timeout_ms: Option<f64>,
) -> Result<(), JsError> {
    let region = Region::Sab(SabRegion::from_sab(sab, None));
    if !bridge_core::shm::SharedMemory::can_block(&region) {
        return Err(JsError::new(
            "initBridge: this thread may not block (a browser main thread); the Rust embedding runs in a worker",
        ));
    }
    let config = Config {
        capacity: capacity as usize,
        max_message: max_message as usize,
        ..Config::default()
    };
    let side = Link::atomics(region, &config)
        .map_err(|e| JsError::new(&format!("initBridge: bad start-up message: {e}")))?;
    install_side(side, timeout_ms)
}

/// Makes `side` this thread's channel, with `timeout_ms` as the default
/// time-out of every call.
fn install_side(mut side: WorkerSide<Region>, timeout_ms: Option<f64>) -> Result<(), JsError> {
    side.set_handler(serve_request);
    SIDE.with(|s| {
        let mut s = s
            .try_borrow_mut()
            .map_err(|_| JsError::new("initBridge: called while the bridge is in use"))?;
        if s.is_some() {
            return Err(JsError::new(
                "initBridge: the bridge is already started on this thread; call it once per worker",
            ));
        }
        *s = Some(side);
        Ok(())
    })?;
    DEFAULT_TIMEOUT.with(|t| {
        t.set(
            timeout_ms
                .filter(|ms| *ms > 0.0 && ms.is_finite())
                .map(|ms| Duration::from_secs_f64(ms / 1000.0)),
        )
    });
    Ok(())
}

/// Serves every main-thread call that has arrived, without waiting for more;
/// returns how many were served (an async function, [`expose_async`], counts
/// when it starts; servePending returns right after starting one, so that
/// it runs before the next request). The JS bootstrap calls it whenever the
/// `to_worker` mailbox changes. Throws when the channel is closed (stop
/// waiting then) or broken.
#[wasm_bindgen(js_name = servePending)]
pub fn serve_pending() -> Result<u32, JsError> {
    let timeout = DEFAULT_TIMEOUT.with(Cell::get);
    let served = with_side(|side| -> Result<(u32, bool), CallError> {
        let mut served = 0;
        let mut drained = true;
        while let Some((seq, req)) = side.next_request(timeout)? {
            served += 1;
            if let Some((_, f)) = async_call(&req) {
                // Runs on the event loop; many at once. The reply goes when
                // it finishes (or is dropped if the page gave up meanwhile).
                let fut = f(call_args(req));
                wasm_bindgen_futures::spawn_local(async move {
                    let outcome = fut.await;
                    let sent = with_side(|side| side.answer(seq, outcome, timeout));
                    match sent {
                        Ok(Ok(())) | Ok(Err(CallError::Closed)) => {}
                        Ok(Err(e)) => report(&format!(
                            "the reply of an async Rust function failed: {}",
                            BridgeError::from(e)
                        )),
                        Err(e) => {
                            report(&format!("the reply of an async Rust function failed: {e}"))
                        }
                    }
                });
                // Return to the event loop, so the future starts (its first
                // poll is a microtask) before the page's next request.
                drained = false;
                break;
            } else {
                let outcome = serve_request(req, side);
                side.answer(seq, outcome, timeout)?;
            }
        }
        flush_releases(side);
        Ok((served, drained))
    })
    .map_err(|e| JsError::new(&format!("servePending: {e}")))?
    .map_err(|e| JsError::new(&format!("servePending: {}", BridgeError::from(e))))?;
    let (served, drained) = served;
    if drained {
        // No request received before the releases waits any more: the
        // Callbacks and RustObjects they freed can go.
        crate::callback::drop_freed();
    }
    // Replies to started calls may have come (`call_async`).
    wake_started_calls();
    Ok(served)
}

thread_local! {
    /// The bootstrap's `onBridgeFailure` callback.
    static ON_FAILURE: RefCell<Option<js_sys::Function>> = const { RefCell::new(None) };
}

/// Tells the JS bootstrap why this Rust worker stops serving when it
/// panics: `callback(message)` is called from Rust's panic hook with the
/// panic's message and place, before the panic aborts the wasm instance (a
/// trap, `RuntimeError: unreachable`; wasm32 has no unwinding, so the
/// instance cannot serve again). The bootstrap posts it to the page, which
/// rejects every pending call with a `ClosedError` that says why
/// (docs/rust.md, "When a Rust function fails"). Chains the panic hook that
/// was set before (call it after your crate sets its own).
#[wasm_bindgen(js_name = onBridgeFailure)]
pub fn on_bridge_failure(callback: js_sys::Function) {
    ON_FAILURE.with(|f| *f.borrow_mut() = Some(callback));
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            let callback = ON_FAILURE
                .try_with(|f| f.try_borrow().ok().and_then(|f| f.clone()))
                .ok()
                .flatten();
            if let Some(callback) = callback {
                let message = format!("the Rust worker {info}");
                let _ = callback.call1(&JsValue::NULL, &JsValue::from_str(&message));
            }
        }));
    });
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(s: &str);
}

fn report(message: &str) {
    console_error(&format!("worker-bridge (Rust worker): {message}"));
}

/// Whether [`init_bridge`] ran on this thread.
pub fn is_started() -> bool {
    SIDE.with(|s| s.try_borrow().map_or(true, |s| s.is_some()))
}

// ---------------------------------------------------------------------------
// The public API

/// The main thread, as seen from this worker.
#[derive(Clone, Copy, Debug, Default)]
pub struct MainThread {
    timeout: Option<Option<Duration>>,
}

/// The main thread of the bridge this worker was started with.
pub fn main_thread() -> MainThread {
    MainThread::default()
}

/// The main thread's global object (`window` in a page).
pub fn window() -> JsHandle {
    JsHandle::global()
}

/// Lets the main thread call `f` as `await w.sync[name](...args)`. `f`
/// receives the arguments as one `A` (see the module docs); `Err` makes the
/// main thread's promise reject (with the name and message of a
/// [`BridgeError::Thrown`]). Replaces an earlier function of that name.
pub fn expose<A, R, F>(name: &str, f: F)
where
    A: DeserializeOwned,
    R: Serialize,
    F: Fn(A) -> Result<R, BridgeError> + 'static,
{
    let fname = name.to_owned();
    let wrapped = move |args: Vec<Value>| -> Outcome { run_typed(&fname, args, &f) };
    EXPOSED_ASYNC.with(|e| e.borrow_mut().remove(name));
    EXPOSED.with(|e| e.borrow_mut().insert(name.to_owned(), Rc::new(wrapped)));
}

/// Runs `f` with `args` read as `A` and makes its result the answer of
/// Rust function `fname` (exposed functions, Callbacks, RustObject methods).
pub(crate) fn run_typed<A, R>(
    fname: &str,
    mut args: Vec<Value>,
    f: impl FnOnce(A) -> Result<R, BridgeError>,
) -> Outcome
where
    A: DeserializeOwned,
    R: Serialize,
{
    let run = || -> Result<Value, BridgeError> {
        expand_shared(&mut args)?;
        let _receipts = import_all(&args);
        let a: A = read_args(std::mem::take(&mut args))?;
        let r = f(a)?;
        // A Callback in the result is counted as sent; if the result cannot
        // be written after all, that count is taken back.
        crate::callback::begin_sends();
        let v = to_value(&r);
        let counted = crate::callback::take_sends();
        if v.is_err() {
            crate::callback::take_back(&counted);
        }
        Ok(v?)
    };
    outcome_of(fname, run())
}

/// Removes an exposed function (sync or async); returns whether there was one.
pub fn unexpose(name: &str) -> bool {
    let sync = EXPOSED.with(|e| e.borrow_mut().remove(name).is_some());
    EXPOSED_ASYNC.with(|e| e.borrow_mut().remove(name).is_some()) || sync
}

/// Exposes an async Rust function: the page's `await w.sync.name(...)` runs
/// `f` on this worker's event loop (`wasm_bindgen_futures::spawn_local`),
/// so several run at once and each may await JS promises of the worker
/// (`wasm_bindgen_futures::JsFuture`) or call the main thread. Arguments and
/// errors as in [`expose`]. Replaces a sync function of the same name.
///
/// Called by the page while this worker is blocked in a call to the main
/// thread (nested), `f` cannot be awaited: if its first poll does not
/// finish it, the page's call rejects with a `DeadlockError` and the
/// blocked Rust call fails too (the rule of bridge-js's worker).
pub fn expose_async<A, R, F, Fut>(name: &str, f: F)
where
    A: DeserializeOwned,
    R: Serialize,
    F: Fn(A) -> Fut + 'static,
    Fut: Future<Output = Result<R, BridgeError>> + 'static,
{
    let fname = name.to_owned();
    let f = Rc::new(f);
    let wrapped = move |mut args: Vec<Value>| -> Pin<Box<dyn Future<Output = Outcome>>> {
        let fname = fname.clone();
        let f = f.clone();
        Box::pin(async move {
            let started = (|| -> Result<Fut, BridgeError> {
                expand_shared(&mut args)?;
                let receipts = import_all(&args);
                let a: A = read_args(args)?;
                drop(receipts);
                Ok(f(a))
            })();
            let run = async {
                let r = started?.await?;
                Ok::<_, BridgeError>(to_value(&r)?)
            };
            outcome_of(&fname, run.await)
        })
    };
    EXPOSED.with(|e| e.borrow_mut().remove(name));
    EXPOSED_ASYNC.with(|e| e.borrow_mut().insert(name.to_owned(), Rc::new(wrapped)));
}

/// The answer of exposed function `fname`: arguments or a result that do
/// not fit reject as a `TypeError` naming it.
fn outcome_of(fname: &str, result: Result<Value, BridgeError>) -> Outcome {
    match result {
        Ok(v) => Outcome::Ok(v),
        Err(e @ (BridgeError::Decode(_) | BridgeError::Encode(_))) => {
            BridgeError::thrown("TypeError", format!("Rust function {fname:?}: {e}")).to_outcome()
        }
        Err(e) => e.to_outcome(),
    }
}

/// Reads an exposed function's `A` from its arguments (see [`expose`]).
fn read_args<A: DeserializeOwned>(args: Vec<Value>) -> Result<A, BridgeError> {
    let all = Value::Array(args);
    match from_value(&all) {
        Ok(a) => Ok(a),
        Err(first) => match &all {
            Value::Array(one) if one.len() == 1 => {
                from_value(&one[0]).map_err(|_| BridgeError::Decode(first))
            }
            // `f()` for `|(): ()|` or `|x: Option<T>|`.
            Value::Array(none) if none.is_empty() => {
                from_value(&Value::Undefined).map_err(|_| BridgeError::Decode(first))
            }
            _ => Err(BridgeError::Decode(first)),
        },
    }
}

/// Live handles to main-thread objects (ids and unreleased receipts), so
/// tests can prove that dropped handles were released.
pub fn import_stats() -> TableStats {
    IMPORTS.with(|t| t.borrow().stats())
}

/// Turns `args` into the argument list of a call (see the module docs).
///
/// The sends of Callbacks and RustObjects it counts are noted until the
/// message goes (`request`, `call_async`), so that they are taken back if it
/// does not.
fn arg_list<A: Serialize + ?Sized>(args: &A) -> Result<Vec<Value>, BridgeError> {
    let value = counted_value(args)?;
    Ok(match value {
        Value::Array(items) => items,
        Value::Null if is_unit(args) => Vec::new(),
        one => vec![one],
    })
}

/// `to_value` for a message about to be sent: the Callbacks and RustObjects
/// it counts stay noted for the send (`take_sends`), or are taken back at
/// once if it fails.
fn counted_value<V: Serialize + ?Sized>(value: &V) -> Result<Value, BridgeError> {
    crate::callback::begin_sends();
    let v = to_value(value);
    if v.is_err() {
        crate::callback::take_back(&crate::callback::take_sends());
    }
    Ok(v?)
}

/// True if the message of this call certainly did not reach the main
/// thread (a time-out may have sent it: its counts stay).
fn not_sent<T>(result: &Result<Result<T, CallError>, BridgeError>) -> bool {
    matches!(
        result,
        Err(BridgeError::Busy | BridgeError::NotStarted | BridgeError::NoChannel)
            | Ok(Err(CallError::Encode(_)
                | CallError::OutgoingTooLarge { .. }
                | CallError::WouldBlock
                | CallError::Closed))
    )
}

/// True if `args` serializes as `()` (not `None` or a unit struct, which are
/// a `null` argument).
fn is_unit<A: Serialize + ?Sized>(args: &A) -> bool {
    struct Probe;
    impl serde::Serializer for Probe {
        type Ok = bool;
        type Error = fmt::Error;
        type SerializeSeq = serde::ser::Impossible<bool, fmt::Error>;
        type SerializeTuple = serde::ser::Impossible<bool, fmt::Error>;
        type SerializeTupleStruct = serde::ser::Impossible<bool, fmt::Error>;
        type SerializeTupleVariant = serde::ser::Impossible<bool, fmt::Error>;
        type SerializeMap = serde::ser::Impossible<bool, fmt::Error>;
        type SerializeStruct = serde::ser::Impossible<bool, fmt::Error>;
        type SerializeStructVariant = serde::ser::Impossible<bool, fmt::Error>;
        fn serialize_unit(self) -> Result<bool, fmt::Error> {
            Ok(true)
        }
        fn serialize_bool(self, _: bool) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_i8(self, _: i8) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_i16(self, _: i16) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_i32(self, _: i32) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_i64(self, _: i64) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_u8(self, _: u8) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_u16(self, _: u16) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_u32(self, _: u32) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_u64(self, _: u64) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_f32(self, _: f32) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_f64(self, _: f64) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_char(self, _: char) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_str(self, _: &str) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_bytes(self, _: &[u8]) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_none(self) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
        ) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: &T,
        ) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<bool, fmt::Error> {
            Ok(false)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, fmt::Error> {
            Err(fmt::Error)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, fmt::Error> {
            Err(fmt::Error)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, fmt::Error> {
            Err(fmt::Error)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, fmt::Error> {
            Err(fmt::Error)
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, fmt::Error> {
            Err(fmt::Error)
        }
        fn serialize_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStruct, fmt::Error> {
            Err(fmt::Error)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, fmt::Error> {
            Err(fmt::Error)
        }
    }
    args.serialize(Probe).unwrap_or(false)
}

impl MainThread {
    /// The same main thread, with `timeout` for its calls instead of the
    /// default from the start-up message (`None`: wait without limit).
    pub fn with_timeout(self, timeout: Option<Duration>) -> Self {
        MainThread {
            timeout: Some(timeout),
        }
    }

    fn timeout(&self) -> Option<Duration> {
        self.timeout
            .unwrap_or_else(|| DEFAULT_TIMEOUT.with(Cell::get))
    }

    /// Calls the function the main thread exposed as `w.sync[name]` with
    /// `args` (spread when it serializes to an array: see the module docs)
    /// and blocks until it returns. While it waits, calls the main thread
    /// makes into this worker from inside that function are served.
    pub fn call<A, R>(&self, name: &str, args: &A) -> Result<R, BridgeError>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let args = arg_list(args)?;
        let op = Op::Call {
            name: JsString::from(name),
            args,
        };
        read(self.request(0, op)?)
    }

    /// Sends `op` to `target` (0: the global object) and returns the value
    /// of the reply, or the error it threw.
    /// `call` without blocking: a future of the main function's result, so
    /// this worker keeps its event loop (several calls in flight at once;
    /// the main function may return a Promise, e.g. of a `fetch` made on the
    /// main thread). The call is sent now; the future resolves when its
    /// reply has arrived (replies are read whenever the worker reads its
    /// mailbox: in `servePending`, or while blocked in another call) or its
    /// time-out passed. Awaiting it needs an executor on the worker's event
    /// loop (`wasm_bindgen_futures::spawn_local`, or an `expose_async`
    /// function).
    pub fn call_async<A, R>(
        &self,
        name: &str,
        args: &A,
    ) -> impl Future<Output = Result<R, BridgeError>> + 'static
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned + 'static,
    {
        let timeout = self.timeout();
        let started = arg_list(args).and_then(|args| {
            let op = Op::Call {
                name: JsString::from(name),
                args,
            };
            let counted = crate::callback::take_sends();
            let started = with_side(|side| side.start_call(0, op, timeout));
            if not_sent(&started) {
                crate::callback::take_back(&counted);
            }
            Ok(started??)
        });
        if let (Ok(_), Some(t)) = (&started, timeout) {
            // Wakes the future when the time-out passes, even if nothing
            // arrives.
            wake_after(t);
        }
        StartedCall {
            seq: started,
            _result: std::marker::PhantomData,
        }
    }

    fn request(&self, target: u32, op: Op) -> Result<Value, BridgeError> {
        let timeout = self.timeout();
        let counted = crate::callback::take_sends();
        let result = with_side(|side| side.call(target, op, timeout));
        if not_sent(&result) {
            crate::callback::take_back(&counted);
        }
        // Replies to started calls may have come meanwhile (`call_async`).
        wake_started_calls();
        match result?? {
            Outcome::Ok(v) => Ok(v),
            Outcome::Thrown(v) => Err(BridgeError::from_thrown(v)),
        }
    }

    /// The main thread's global object (`window`).
    pub fn window(&self) -> JsHandle {
        JsHandle::global()
    }
}

thread_local! {
    /// The tasks awaiting a started call, woken each time the worker has
    /// read its mailbox (they look for their reply then).
    static CALL_WAKERS: RefCell<Vec<Waker>> = const { RefCell::new(Vec::new()) };
}

/// Wakes every task awaiting a started call (`call_async`).
fn wake_started_calls() {
    let wakers = CALL_WAKERS.with(|w| std::mem::take(&mut *w.borrow_mut()));
    wakers.into_iter().for_each(Waker::wake);
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout_closure(f: &Closure<dyn FnMut()>, ms: f64);
}

/// Wakes the started calls' tasks after `t` (so a time-out ends a call even
/// if no message comes).
fn wake_after(t: Duration) {
    let f = Closure::once(wake_started_calls);
    set_timeout_closure(&f, t.as_secs_f64() * 1000.0 + 1.0);
    f.forget();
}

/// The future of [`MainThread::call_async`].
struct StartedCall<R> {
    seq: Result<u32, BridgeError>,
    _result: std::marker::PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> Future for StartedCall<R> {
    type Output = Result<R, BridgeError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let seq = match &self.seq {
            Ok(seq) => *seq,
            Err(_) => {
                let e = std::mem::replace(&mut self.seq, Err(BridgeError::Closed));
                return Poll::Ready(Err(e.err().expect("checked")));
            }
        };
        match with_side(|side| side.poll_started(seq)) {
            Ok(Ok(Some(Outcome::Ok(v)))) => Poll::Ready(read(v)),
            Ok(Ok(Some(Outcome::Thrown(v)))) => Poll::Ready(Err(BridgeError::from_thrown(v))),
            Ok(Ok(None)) | Err(BridgeError::Busy) => {
                // Service-worker transport: the reply comes through a wait
                // parked in the service worker.
                if let Ok(Err(why)) = with_side(transport_sw::keep_polling) {
                    return Poll::Ready(Err(BridgeError::ServiceWorker(why)));
                }
                CALL_WAKERS.with(|w| w.borrow_mut().push(cx.waker().clone()));
                Poll::Pending
            }
            Ok(Err(e)) => Poll::Ready(Err(e.into())),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

/// What a reflective operation on a main-thread object returned: a
/// primitive as a [`Value`], an object or function as a [`JsHandle`].
#[derive(Clone, Debug)]
pub enum JsAny {
    /// `undefined`, `null`, a boolean, number, bigint or string.
    Value(Value),
    /// A main-thread object or function.
    Handle(JsHandle),
}

impl JsAny {
    fn from_reply(v: Value) -> Result<JsAny, BridgeError> {
        match v {
            Value::Remote { kind, id } => Ok(JsAny::Handle(import(kind, id))),
            Value::Symbol(JsSymbol::Remote { .. }) => {
                release_unread(std::slice::from_ref(&v));
                Ok(JsAny::Value(v))
            }
            Value::Local(_) => Err(BridgeError::NotAHandle(
                "the main thread returned an object of this worker (a Callback or RustObject it holds); keep the Rust value instead of reading it back".into(),
            )),
            other => Ok(JsAny::Value(other)),
        }
    }

    /// The handle, or an error saying that a primitive came instead.
    pub fn handle(self) -> Result<JsHandle, BridgeError> {
        match self {
            JsAny::Handle(h) => Ok(h),
            JsAny::Value(v) => Err(BridgeError::NotAHandle(format!(
                "expected a main-thread object, got the value {v:?}"
            ))),
        }
    }

    /// The primitive read as `T` (`String`, `f64`, `Option<u32>`, ...).
    pub fn value<T: DeserializeOwned>(self) -> Result<T, BridgeError> {
        match self {
            JsAny::Value(v) => Ok(from_value(&v)?),
            JsAny::Handle(h) => Err(BridgeError::NotAHandle(format!(
                "expected a primitive value, got the main-thread object {h:?}; use .handle()"
            ))),
        }
    }

    /// True for `undefined` and `null`.
    pub fn is_nullish(&self) -> bool {
        matches!(self, JsAny::Value(Value::Undefined | Value::Null))
    }
}

struct HandleInner {
    id: u32,
    kind: RefKind,
}

impl Drop for HandleInner {
    fn drop(&mut self) {
        if self.id == 0 {
            return;
        }
        // The release rides on the next message. If the table is borrowed
        // (a handle dropped while it is being updated: not done here) the
        // receipt is kept, which leaks a main-thread entry but never
        // releases too much.
        IMPORTS.with(|t| {
            if let Ok(mut t) = t.try_borrow_mut() {
                t.release_later(self.id);
            }
        });
    }
}

/// A main-thread object or function. Clones share one reference; the last
/// one to drop releases it (on the next message). Same object, same id:
/// [`JsHandle::same`] tells whether two handles name one object.
#[derive(Clone)]
pub struct JsHandle(Rc<HandleInner>);

impl fmt::Debug for JsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.id == 0 {
            f.write_str("JsHandle(window)")
        } else {
            write!(f, "JsHandle({} #{})", self.0.kind.name(), self.0.id)
        }
    }
}

fn key(k: &str) -> Key {
    Key::String(JsString::from(k))
}

impl JsHandle {
    fn global() -> JsHandle {
        JsHandle(Rc::new(HandleInner {
            id: 0,
            kind: RefKind::Object,
        }))
    }

    /// The main thread's id of the object (0: the global object).
    pub fn id(&self) -> u32 {
        self.0.id
    }

    /// Whether the object is a function, an array or another object.
    pub fn kind(&self) -> RefKind {
        self.0.kind
    }

    /// True if both handles name the same main-thread object.
    pub fn same(&self, other: &JsHandle) -> bool {
        self.0.id == other.0.id
    }

    fn op(&self, op: Op) -> Result<JsAny, BridgeError> {
        JsAny::from_reply(main_thread().request(self.0.id, op)?)
    }

    /// `obj[key]`: a primitive, or a handle for an object.
    pub fn get(&self, k: &str) -> Result<JsAny, BridgeError> {
        self.op(Op::Get { key: key(k) })
    }

    /// `obj[key]` read as `T` (for primitives).
    pub fn get_as<T: DeserializeOwned>(&self, k: &str) -> Result<T, BridgeError> {
        self.get(k)?.value()
    }

    /// `obj[key] = value` (`value` is copied as a plain JS value; a
    /// `JsHandle` inside it goes as the object itself).
    pub fn set<V: Serialize + ?Sized>(&self, k: &str, value: &V) -> Result<(), BridgeError> {
        let value = counted_value(value)?;
        self.op(Op::Set { key: key(k), value }).map(drop)
    }

    /// `key in obj`.
    pub fn has(&self, k: &str) -> Result<bool, BridgeError> {
        self.op(Op::Has { key: key(k) })?.value()
    }

    /// `delete obj[key]`.
    pub fn delete(&self, k: &str) -> Result<bool, BridgeError> {
        self.op(Op::Delete { key: key(k) })?.value()
    }

    /// `obj[name](...args)` with `this` = the object (`args` spread as in
    /// [`MainThread::call`]).
    pub fn call_method<A: Serialize + ?Sized>(
        &self,
        name: &str,
        args: &A,
    ) -> Result<JsAny, BridgeError> {
        let f = self
            .get(name)?
            .handle()
            .map_err(|_| BridgeError::NotAHandle(format!("{self:?}.{name} is not a function")))?;
        let args = arg_list(args)?;
        f.op(Op::Apply {
            this: Value::Local(self.0.id),
            args,
        })
    }

    /// Calls this function with `this` undefined.
    pub fn apply<A: Serialize + ?Sized>(&self, args: &A) -> Result<JsAny, BridgeError> {
        let args = arg_list(args)?;
        self.op(Op::Apply {
            this: Value::Undefined,
            args,
        })
    }

    /// `new Ctor(...args)` where this handle is `Ctor`.
    pub fn construct<A: Serialize + ?Sized>(&self, args: &A) -> Result<JsHandle, BridgeError> {
        let args = arg_list(args)?;
        self.op(Op::Construct { args })?.handle()
    }
}

/// A handle inside a value sent to the main thread is the object itself.
impl Serialize for JsHandle {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_struct(LOCAL_NEWTYPE, &self.0.id)
    }
}

/// A main-thread object inside a received value (a typed call's result, or
/// an exposed function's arguments) can be read into a `JsHandle`.
impl<'de> Deserialize<'de> for JsHandle {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename = "$worker_bridge::Remote")]
        struct Remote((u8, u32));
        let Remote((_, id)) = Remote::deserialize(d)?;
        IMPORTS
            .with(|t| t.borrow().get(id).and_then(Weak::upgrade))
            .map(JsHandle)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "main-thread object #{id} is not imported: JsHandle can be read only from values received through the bridge"
                ))
            })
    }
}

const _: () = {
    // The reserved name above must stay the one bridge-core reads.
    let a = REMOTE_NEWTYPE.as_bytes();
    let b = b"$worker_bridge::Remote";
    assert!(a.len() == b.len());
    let mut i = 0;
    while i < a.len() {
        assert!(a[i] == b[i]);
        i += 1;
    }
};

/// Rust functions that exercise this API against a real main thread, for
/// `bridge-js/test/embed.test.js` (feature `embed-selftest`, part of `full`).
#[cfg(feature = "embed-selftest")]
pub mod selftest {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Item {
        name: String,
        qty: u32,
        price: f64,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum Shipping {
        Pickup,
        Post { days: u8 },
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Order {
        id: u64,
        items: Vec<Item>,
        note: Option<String>,
        shipping: Shipping,
        #[serde(with = "serde_bytes")]
        token: Vec<u8>,
        counts: BTreeMap<String, i64>,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Receipt {
        order_id: u64,
        total: f64,
        lines: Vec<String>,
        echo: Order,
        seen_note: Option<String>,
    }

    fn order() -> Order {
        let mut counts = BTreeMap::new();
        counts.insert("small".into(), -7);
        counts.insert("huge".into(), i64::MIN);
        Order {
            id: u64::MAX,
            items: vec![
                Item {
                    name: "tea".into(),
                    qty: 2,
                    price: 1.25,
                },
                Item {
                    name: "cup".into(),
                    qty: 1,
                    price: 4.5,
                },
            ],
            note: None,
            shipping: Shipping::Post { days: 3 },
            token: vec![0, 1, 254, 255],
            counts,
        }
    }

    #[derive(Serialize)]
    struct ThrownReport {
        name: String,
        message: String,
        display: String,
        has_stack: bool,
    }

    fn report(r: Result<serde::de::IgnoredAny, BridgeError>) -> Result<ThrownReport, BridgeError> {
        match r {
            Err(e @ BridgeError::Thrown { .. }) => {
                let display = e.to_string();
                let BridgeError::Thrown {
                    name,
                    message,
                    stack,
                } = e
                else {
                    unreachable!()
                };
                Ok(ThrownReport {
                    name,
                    message,
                    display,
                    has_stack: stack.is_some(),
                })
            }
            Err(other) => Ok(ThrownReport {
                name: "<not Thrown>".into(),
                message: format!("{other:?}"),
                display: other.to_string(),
                has_stack: false,
            }),
            Ok(_) => Err(BridgeError::thrown(
                "Error",
                "expected the main thread to throw",
            )),
        }
    }

    thread_local! {
        /// Open gates' resolve functions, by name (`waitGate` / `openGate`).
        static GATES: RefCell<HashMap<String, js_sys::Function>> = RefCell::new(HashMap::new());
    }

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = setTimeout)]
        fn set_timeout(f: &js_sys::Function, ms: i32);
    }

    /// A promise of this worker that resolves after `ms`.
    async fn sleep(ms: i32) {
        let p = js_sys::Promise::new(&mut |resolve, _| set_timeout(&resolve, ms));
        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    }

    fn install_async() {
        // Resolves when the page calls openGate(name): many calls in flight
        // at once, each finishing when the page says, in any order.
        expose_async("waitGate", |(name,): (String,)| async move {
            let p = js_sys::Promise::new(&mut |resolve, _| {
                GATES.with(|g| g.borrow_mut().insert(name.clone(), resolve));
            });
            wasm_bindgen_futures::JsFuture::from(p)
                .await
                .map_err(|_| BridgeError::thrown("Error", "gate rejected"))?;
            Ok::<_, BridgeError>(format!("{name} passed"))
        });
        expose("openGate", |(name,): (String,)| {
            let resolve = GATES.with(|g| g.borrow_mut().remove(&name));
            match resolve {
                Some(r) => {
                    r.call0(&JsValue::UNDEFINED)
                        .map_err(|_| BridgeError::thrown("Error", "resolve threw"))?;
                    Ok(true)
                }
                None => Ok(false),
            }
        });
        // Awaits a timer of the worker, then calls the main thread (blocking).
        expose_async("sleepThenCallMain", |(ms, x): (i32, f64)| async move {
            sleep(ms).await;
            let doubled: f64 = main_thread().call("double", &(x,))?;
            Ok::<_, BridgeError>(doubled + 1.0)
        });
        // Fails after an await.
        expose_async("asyncFail", |(): ()| async {
            sleep(0).await;
            Err::<(), _>(BridgeError::thrown("RangeError", "async out of range"))
        });
        // Two main-thread calls in flight at once, awaited without blocking.
        expose_async("twoInFlight", |(): ()| async {
            let slow = main_thread().call_async::<_, String>("slowEcho", &(40, "slow"));
            let fast = main_thread().call_async::<_, String>("slowEcho", &(0, "fast"));
            let fast = fast.await?;
            let slow = slow.await?;
            Ok::<_, BridgeError>(vec![slow, fast])
        });
        // A started call's time-out and a thrown error, as Results.
        expose_async("asyncCallErrors", |(): ()| async {
            let timed = main_thread()
                .with_timeout(Some(Duration::from_millis(50)))
                .call_async::<_, ()>("neverSettles", &())
                .await;
            let thrown = main_thread()
                .call_async::<_, ()>("failTypeError", &("x", 1))
                .await;
            Ok::<_, BridgeError>(vec![
                matches!(timed, Err(BridgeError::Timeout)).to_string(),
                thrown.map_or_else(|e| e.to_string(), |_| "returned".into()),
            ])
        });
        // Calls main, whose handler calls back into the async `waitGate`
        // while this worker is blocked: the deadlock rule.
        expose("blockedCallsAsync", |(): ()| {
            match main_thread().call::<_, serde::de::IgnoredAny>("callAsyncBack", &()) {
                Ok(_) => Ok("returned".to_string()),
                Err(e) => Ok(format!("failed: {e}")),
            }
        });
    }

    /// Exposes the self-test functions to the main thread.
    #[wasm_bindgen(js_name = installEmbedSelftest)]
    pub fn install() {
        install_async();
        // A serde struct to main and back, then the typed reply back again.
        expose("roundTrip", |(): ()| {
            let sent = order();
            let receipt: Receipt = main_thread().call("checkout", &(sent.clone(), "EUR"))?;
            if receipt.echo != sent {
                return Err(BridgeError::thrown(
                    "Error",
                    format!(
                        "the order came back changed: {:?} != {sent:?}",
                        receipt.echo
                    ),
                ));
            }
            main_thread().call::<_, ()>("report", &(receipt.clone(),))?;
            Ok(receipt)
        });
        // Thrown errors keep name and message.
        expose("errors", |(): ()| {
            let type_error = report(main_thread().call("failTypeError", &("bad", 1)))?;
            let plain = report(main_thread().call("failValue", &()))?;
            let missing = report(main_thread().call("noSuchFunction", &()))?;
            let decode = match main_thread().call::<_, u8>("giveString", &()) {
                Err(e @ BridgeError::Decode(_)) => e.to_string(),
                other => format!("unexpected: {other:?}"),
            };
            let thrown_value = match main_thread().call::<_, ()>("throw42", &()) {
                Err(BridgeError::ThrownValue(Value::Int(n))) => n,
                _ => -1,
            };
            Ok((type_error, plain, missing, decode, thrown_value))
        });
        // Plain functions the main thread calls.
        expose("add", |(a, b): (f64, f64)| Ok(a + b));
        expose("double", |x: i64| Ok(x * 2));
        expose("describe", |(o,): (Order,)| {
            Ok(format!("order {} with {} items", o.id, o.items.len()))
        });
        // A handler that cannot return: a panic (a trap in wasm) and a JS
        // exception thrown through Rust. Either ends this worker's serving;
        // the page's pending calls reject with a ClosedError that says why.
        expose("panics", |(what,): (String,)| -> Result<(), BridgeError> {
            panic!("selftest panic: {what}")
        });
        expose(
            "throwsThrough",
            |(what,): (String,)| -> Result<(), BridgeError> {
                wasm_bindgen::throw_str(&format!("selftest throw: {what}"))
            },
        );
        expose_async("panicsLater", |(what,): (String,)| async move {
            sleep(10).await;
            if what.is_empty() {
                return Ok::<(), BridgeError>(());
            }
            panic!("selftest async panic: {what}")
        });
        expose("fail", |(): ()| -> Result<(), _> {
            Err(BridgeError::thrown(
                "RangeError",
                "Rust says the value is out of range",
            ))
        });
        // Served while Rust is itself called: calls main inside the call.
        expose("nested", |(n,): (i32,)| {
            let m: i32 = main_thread().call("inc", &(n,))?;
            Ok(m * 10)
        });
        // Main answers by calling back into this (blocked) worker: the
        // request arrives nested in our call and is served inside it.
        expose("reentry", |(name, x): (String, i32)| {
            let r: i32 = main_thread().call("callBack", &(name, x))?;
            Ok(r)
        });
        // The DOM-like object API on main's globals.
        expose("dom", |(): ()| {
            let doc = window().get("testDoc")?.handle()?;
            let before: String = doc.get_as("title")?;
            doc.set("title", &format!("{before} + Rust"))?;
            let list = window().get("testObj")?.handle()?.get("list")?.handle()?;
            let len: u32 = list.get_as("length")?;
            let product: f64 = window()
                .get("testObj")?
                .handle()?
                .call_method("method", &(6, 7))?
                .value()?;
            let again = window().get("testDoc")?.handle()?;
            let same = again.same(&doc);
            let date = window().get("TestClass")?.handle()?.construct(&(5,))?;
            let v: i32 = date.get_as("value")?;
            // Pass a handle back: main checks it is its own object.
            let is_doc: bool = main_thread().call("isTestDoc", &(doc.clone(),))?;
            let missing = window().get("noSuchGlobal")?.is_nullish();
            let live_inside = import_stats().live;
            Ok((before, len, product, same, v, is_doc, missing, live_inside))
        });
        // The real DOM (browsers only): build an element and append it.
        expose("realDom", |(text,): (String,)| {
            let doc = window().get("document")?.handle()?;
            let p = doc.call_method("createElement", &("p",))?.handle()?;
            p.set("id", &"from-rust")?;
            p.set("textContent", &text)?;
            doc.get("body")?
                .handle()?
                .call_method("append", &(p.clone(),))?;
            let found = doc
                .call_method("getElementById", &("from-rust",))?
                .handle()?;
            let title: String = doc.get_as("title")?;
            Ok((found.same(&p), title))
        });
        // A main-thread object inside a typed result.
        expose("handleInResult", |(): ()| {
            #[derive(Deserialize)]
            struct WithHandle {
                label: String,
                target: JsHandle,
            }
            let w: WithHandle = main_thread().call("giveHandle", &())?;
            let title: String = w.target.get_as("title")?;
            Ok((w.label, title))
        });
        expose("importStats", |(): ()| {
            let s = import_stats();
            Ok((s.live, s.count))
        });
        // A call with a time-out that the main thread does not meet.
        expose("timeout", |(ms,): (f64,)| {
            let r = main_thread()
                .with_timeout(Some(Duration::from_secs_f64(ms / 1000.0)))
                .call::<_, ()>("slow", &());
            let after: i32 = main_thread().call("inc", &(1,))?;
            Ok((matches!(r, Err(BridgeError::Timeout)), after))
        });
    }
}

/// The wasm-threads flavour (feature `threads`, nightly only): the channel
/// lives in this instance's own linear memory, which is a
/// `SharedArrayBuffer` when the crate is built with `+atomics`, so
/// bridge-core's mailbox uses the wasm atomic instructions directly (no
/// `Atomics` calls through js-sys, no copies between buffers).
///
/// Every thread that calls the main thread has a channel of its own:
/// the worker's own thread the one the page made (`initBridge`), every
/// other thread (a wasm-bindgen-rayon pool thread) one of the channels
/// [`alloc_thread_channels`] made in linear memory, which the worker's JS
/// posts to the page (`"adopt"`; bridge-js `adopt.js` serves them). A
/// thread takes its channel on its first call, so [`main_thread`],
/// [`window`](super::window) and the handles work on pool threads as on
/// the worker's own.
///
/// [`main_thread`]: super::main_thread
///
/// Build: nightly with `-Z build-std=panic_abort,std` and
/// `+atomics,+bulk-memory,+mutable-globals` plus the linker flags for a
/// shared, imported memory (the full command is in docs/rust.md;
/// `cargo xtask build --threads` builds the demo `demo/mandelbrot`).
/// `tests/e2e/rust/threads.e2e.mjs` runs the demo in Chromium;
/// `tests/e2e/rust/threads-check.mjs` runs a `LinearPort` against the JS
/// mailbox over `memory.buffer`.
#[cfg(all(
    feature = "threads",
    target_arch = "wasm32",
    target_feature = "atomics"
))]
pub mod threads {
    use core::arch::wasm32::{memory_atomic_notify, memory_atomic_wait32};
    use std::sync::atomic::{AtomicI32, Ordering::SeqCst};
    use std::time::Duration;

    use bridge_core::mailbox::{channel_bytes, Config, Consumer, Deadline, Layout, Producer};
    use std::sync::atomic::AtomicUsize;

    use super::{serve_request, BridgeError, Link, Region, WorkerSide};
    use bridge_core::shm::{SharedMemory, WaitOutcome};
    use js_sys::{Atomics, Int32Array, SharedArrayBuffer};
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = performance, js_name = now)]
        fn performance_now() -> f64;
    }

    /// Regions made by [`LinearRegion::allocate`]: (address, bytes).
    static REGIONS: std::sync::Mutex<Vec<(usize, usize)>> = std::sync::Mutex::new(Vec::new());

    /// A channel made by [`alloc_thread_channels`] that no thread took yet.
    struct Spare {
        offset: usize,
        config: Config,
        timeout: Option<Duration>,
    }

    /// Channels for threads, adopted by the page, not yet taken.
    static SPARE: std::sync::Mutex<Vec<Spare>> = std::sync::Mutex::new(Vec::new());
    /// How many channels [`alloc_thread_channels`] made in all.
    static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

    /// Allocates `count` channels for threads in this instance's shared
    /// linear memory and returns their byte offsets in `memory.buffer`.
    /// The JS bootstrap posts them to the page (`{ "worker-bridge":
    /// "adopt", memory: memory.buffer, channels, capacity, maxMessage }`),
    /// whose `BridgeWorker` then serves each like its own channel. A
    /// thread without a channel of its own (a wasm-bindgen-rayon pool
    /// thread) takes a free one on its first call and keeps it for life.
    /// `capacity` and `maxMessage` as in the start-up message (capacity a
    /// multiple of 8); `timeoutMs`: the default time-out of those threads'
    /// calls (0 or omitted: none).
    #[wasm_bindgen(js_name = allocThreadChannels)]
    pub fn alloc_thread_channels(
        count: u32,
        capacity: u32,
        max_message: u32,
        timeout_ms: Option<f64>,
    ) -> Result<Vec<u32>, JsError> {
        let config = channel_config(capacity, max_message, "allocThreadChannels")?;
        let timeout = timeout_ms
            .filter(|ms| *ms > 0.0 && ms.is_finite())
            .map(|ms| Duration::from_secs_f64(ms / 1000.0));
        let mut offsets = Vec::with_capacity(count as usize);
        let mut spare = SPARE.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..count {
            let region = LinearRegion::allocate(config.capacity);
            offsets.push(region.byte_offset() as u32);
            spare.push(Spare {
                offset: region.byte_offset(),
                config: config.clone(),
                timeout,
            });
        }
        ALLOCATED.fetch_add(count as usize, SeqCst);
        Ok(offsets)
    }

    /// How many channels for threads are not taken yet.
    #[wasm_bindgen(js_name = freeThreadChannels)]
    pub fn free_thread_channels() -> u32 {
        SPARE.lock().unwrap_or_else(|e| e.into_inner()).len() as u32
    }

    /// The channel for a thread that has none: `Ok(None)` when no channels
    /// for threads were ever allocated (the thread is simply not started),
    /// `Err(NoChannel)` when all are taken.
    pub(super) fn take_channel(
    ) -> Result<Option<(WorkerSide<Region>, Option<Duration>)>, BridgeError> {
        let taken = SPARE.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let Some(spare) = taken else {
            return if ALLOCATED.load(SeqCst) == 0 {
                Ok(None)
            } else {
                Err(BridgeError::NoChannel)
            };
        };
        let region = LinearRegion::attach(spare.offset, spare.config.capacity)
            .ok_or(BridgeError::NoChannel)?;
        // The sizes were validated when the channel was allocated.
        let mut side = Link::atomics(Region::Linear(region), &spare.config).map_err(|_| {
            BridgeError::Channel(bridge_core::channel::CallError::Corrupt(
                "a channel for a thread does not fit its region",
            ))
        })?;
        side.set_handler(serve_request);
        Ok(Some((side, spare.timeout)))
    }

    /// The main thread of a page may not block; a worker may.
    fn probe_can_block() -> bool {
        let probe = Int32Array::new(&SharedArrayBuffer::new(4));
        Atomics::wait_with_timeout(&probe, 0, 1, 0.0).is_ok()
    }

    /// A channel region inside this instance's shared linear memory: i32
    /// slots are `AtomicI32`s, waits are `memory.atomic.wait32`.
    #[derive(Clone, Copy, Debug)]
    pub struct LinearRegion {
        slots: &'static [AtomicI32],
        can_block: bool,
    }

    impl LinearRegion {
        /// Allocates (and leaks: a channel lives as long as the instance)
        /// a zeroed, 8-byte aligned region for two mailboxes of `capacity`
        /// bytes, and registers it so that other threads can
        /// [`attach`](Self::attach) to it.
        pub fn allocate(capacity: usize) -> LinearRegion {
            let bytes = channel_bytes(capacity);
            let layout = std::alloc::Layout::from_size_align(bytes, 8)
                .expect("channel_bytes of a validated capacity fits a Layout");
            // SAFETY: `layout` has a non-zero size (two 32-byte headers at
            // least). Zeroed memory is a valid `[AtomicI32]` (all slots 0),
            // the alignment (8) satisfies AtomicI32's (4), and the block is
            // never freed, so the `'static` slice stays valid.
            let slots = unsafe {
                let ptr = std::alloc::alloc_zeroed(layout);
                if ptr.is_null() {
                    std::alloc::handle_alloc_error(layout);
                }
                std::slice::from_raw_parts(ptr as *const AtomicI32, bytes / 4)
            };
            REGIONS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((slots.as_ptr() as usize, bytes));
            LinearRegion {
                slots,
                can_block: probe_can_block(),
            }
        }

        /// The region that [`allocate`](Self::allocate) made at
        /// `byte_offset` (on any thread of this shared memory), or `None`.
        pub fn attach(byte_offset: usize, capacity: usize) -> Option<LinearRegion> {
            let bytes = channel_bytes(capacity);
            let known = REGIONS
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&(byte_offset, bytes));
            if !known {
                return None;
            }
            // SAFETY: (byte_offset, bytes) is a block `allocate` allocated
            // zeroed with alignment 8 and leaked, in this shared linear
            // memory, so it is a valid `'static [AtomicI32]` on every thread.
            let slots =
                unsafe { std::slice::from_raw_parts(byte_offset as *const AtomicI32, bytes / 4) };
            Some(LinearRegion {
                slots,
                can_block: probe_can_block(),
            })
        }

        /// Byte address of the region in linear memory (`memory.buffer`
        /// offset for the JS side).
        pub fn byte_offset(&self) -> usize {
            self.slots.as_ptr() as usize
        }

        fn base(&self) -> *mut u8 {
            self.slots.as_ptr() as *mut u8
        }

        fn check(&self, offset: usize, len: usize) {
            let total = self.byte_len();
            assert!(
                offset <= total && len <= total - offset,
                "LinearRegion: byte copy of {len} bytes at offset {offset} is outside the {total}-byte region"
            );
        }
    }

    impl SharedMemory for LinearRegion {
        fn load(&self, slot: usize) -> i32 {
            self.slots[slot].load(SeqCst)
        }
        fn store(&self, slot: usize, value: i32) {
            self.slots[slot].store(value, SeqCst)
        }
        fn compare_exchange(&self, slot: usize, current: i32, new: i32) -> Result<i32, i32> {
            self.slots[slot].compare_exchange(current, new, SeqCst, SeqCst)
        }
        fn wait(&self, slot: usize, expected: i32, timeout: Option<Duration>) -> WaitOutcome {
            let ns = timeout.map_or(-1, |t| i64::try_from(t.as_nanos()).unwrap_or(i64::MAX));
            // SAFETY: the pointer is the address of a live, aligned
            // `AtomicI32` of the leaked region (bounds-checked by indexing);
            // `memory.atomic.wait32` only reads it atomically. The caller
            // checked `can_block` (the mailbox does before it waits), so this
            // thread may block.
            let r = unsafe { memory_atomic_wait32(self.slots[slot].as_ptr(), expected, ns) };
            match r {
                0 => WaitOutcome::Woken,
                1 => WaitOutcome::NotEqual,
                _ => WaitOutcome::TimedOut,
            }
        }
        fn notify(&self, slot: usize, count: u32) -> u32 {
            // SAFETY: as in `wait`: the address of a live `AtomicI32`;
            // notify does not access the value.
            unsafe { memory_atomic_notify(self.slots[slot].as_ptr(), count) }
        }
        fn read_bytes(&self, offset: usize, dst: &mut [u8]) {
            self.check(offset, dst.len());
            // SAFETY: the range is inside the region (checked above) and
            // `dst` is a distinct Rust buffer. The protocol guarantees that
            // the other side does not write these bytes while we copy them
            // (the slot stores/loads, SeqCst, order the copies).
            unsafe {
                core::ptr::copy_nonoverlapping(self.base().add(offset), dst.as_mut_ptr(), dst.len())
            }
        }
        fn write_bytes(&self, offset: usize, src: &[u8]) {
            self.check(offset, src.len());
            // SAFETY: as in `read_bytes`; the bytes live in `AtomicI32`s
            // (UnsafeCell), so writing through a shared reference is allowed.
            unsafe {
                core::ptr::copy_nonoverlapping(src.as_ptr(), self.base().add(offset), src.len())
            }
        }
        fn byte_len(&self) -> usize {
            self.slots.len() * 4
        }
        fn now(&self) -> Duration {
            Duration::from_secs_f64(performance_now().max(0.0) / 1000.0)
        }
        fn can_block(&self) -> bool {
            self.can_block
        }
    }

    /// A worker's end of a channel that lives in the shared linear memory
    /// (bridge-core's mailbox over [`LinearRegion`]): the JS side of the
    /// channel uses `memory.buffer` at [`byteOffset`](Self::byte_offset).
    #[wasm_bindgen]
    pub struct LinearPort {
        region: LinearRegion,
        tx: Producer<LinearRegion>,
        rx: Consumer<LinearRegion>,
    }

    /// The mailbox configuration of a channel in linear memory, validated;
    /// errors name `who` (the JS-facing function).
    fn channel_config(capacity: u32, max_message: u32, who: &str) -> Result<Config, JsError> {
        let config = Config {
            capacity: capacity as usize,
            max_message: max_message as usize,
            ..Config::default()
        };
        config
            .validate(usize::MAX)
            .map_err(|e| JsError::new(&format!("{who}: {e}")))?;
        Ok(config)
    }

    fn port_deadline(region: &LinearRegion, timeout_ms: Option<f64>) -> Deadline {
        Deadline::after(
            region,
            timeout_ms.map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1000.0)),
        )
    }

    #[wasm_bindgen]
    impl LinearPort {
        /// Allocates a channel of two `capacity`-byte mailboxes in linear
        /// memory; this end sends on `to_main` and receives on `to_worker`.
        #[wasm_bindgen(constructor)]
        pub fn new(capacity: u32, max_message: u32) -> Result<LinearPort, JsError> {
            // Sizes first (channel_bytes of a bad capacity could overflow).
            let config = channel_config(capacity, max_message, "LinearPort")?;
            let region = LinearRegion::allocate(config.capacity);
            Ok(LinearPort {
                region,
                tx: Producer::new(region, Layout::to_main(config.capacity), &config),
                rx: Consumer::new(region, Layout::to_worker(config.capacity), &config),
            })
        }

        /// The channel's byte offset in `memory.buffer`.
        #[wasm_bindgen(getter, js_name = byteOffset)]
        pub fn byte_offset(&self) -> u32 {
            self.region.byte_offset() as u32
        }

        /// Sends one message, waiting for the slot up to `timeoutMs`.
        pub fn send(&mut self, bytes: &[u8], timeout_ms: Option<f64>) -> Result<(), JsError> {
            let d = port_deadline(&self.region, timeout_ms);
            self.tx
                .send(bytes, d)
                .map_err(|e| JsError::new(&format!("LinearPort.send: {e}")))
        }

        /// Receives one whole message, waiting up to `timeoutMs`
        /// (`memory.atomic.wait32`).
        pub fn recv(&mut self, timeout_ms: Option<f64>) -> Result<Vec<u8>, JsError> {
            let d = port_deadline(&self.region, timeout_ms);
            self.rx
                .recv(d)
                .map_err(|e| JsError::new(&format!("LinearPort.recv: {e}")))
        }

        /// Whether a region allocated at `byteOffset` for `capacity` exists
        /// in this memory (another thread made it).
        #[wasm_bindgen(js_name = isRegion)]
        pub fn is_region(byte_offset: u32, capacity: u32) -> bool {
            LinearRegion::attach(byte_offset as usize, capacity as usize).is_some()
        }
    }
}
