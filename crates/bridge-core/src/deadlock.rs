//! The wait-for tracker: decides, before a main->worker call is sent, whether
//! it can ever be served (docs/protocol.md §6).
//!
//! Endpoints are the main thread (id [`MAIN`] = 0) and workers (ids 1..).
//! The main thread never blocks; a worker blocks in a synchronous call to
//! main until the reply arrives, and while blocked it still reads its
//! mailbox, so it can serve a request *nested* into that call.
//!
//! # What the main thread observes, and the rule
//!
//! The tracker lives on the main thread and sees only what main can see:
//!
//! - *served calls*: a worker call `(worker, seq)` that main has read and
//!   whose reply it has not written yet. The worker is blocked in it
//!   ([`WaitForTracker::begin_serving`] / [`WaitForTracker::finish_serving`]).
//!   A worker can be blocked in several calls at once: blocked in `a`, it
//!   serves a nested request, whose handler calls main again (`b`); they form
//!   a stack.
//! - *outgoing calls*: main->worker calls main sent and got no reply for
//!   ([`WaitForTracker::call_worker`] / [`WaitForTracker::call_finished`]),
//!   each with its *context*: the served call whose main-side handler issued
//!   it, when the caller knows it (in JS: the handler was running
//!   synchronously when it made the call; after an `await` the context is
//!   lost and is passed as `None`).
//!
//! Waits between them (the edges of the wait-for graph):
//!
//! - a served call waits for the outgoing calls issued in its context (a
//!   handler is assumed to await the calls it makes);
//! - an outgoing call delivered *directly* waits for every call the target
//!   worker is (or becomes) blocked in: either it is queued behind them, or
//!   they were made while serving it;
//! - an outgoing call delivered *nested* into the worker's call `s` waits only
//!   for the calls the worker makes above `s` while serving it.
//!
//! A new call to worker `W` is decided like this:
//!
//! 1. `W` is not blocked: [`Deliver::Direct`]. Nothing waits on anything yet,
//!    so no cycle can close here.
//! 2. `W` is blocked and re-entrant: [`Deliver::Nested`] into its innermost
//!    blocked call, served at once, so it cannot close a cycle either,
//!    unless nesting is already [`DEFAULT_MAX_NESTING`] deep (the limit is
//!    configurable): then [`DeadlockReason::TooDeep`], because calls that
//!    recurse without end would otherwise overflow the worker's stack.
//! 3. `W` is blocked and not re-entrant (strict mode): the call would wait in
//!    `W`'s mailbox until `W`'s calls return. If those calls (through the
//!    edges above) wait for the caller's context, it never will:
//!    [`DeadlockReason::NotReentrant`] when the caller is the handler of `W`'s
//!    own call, [`DeadlockReason::Cycle`] when the cycle runs through other
//!    workers (worker A blocked in `a()`, whose handler awaits worker B, which
//!    is blocked in `b()`, whose handler awaits worker A). Otherwise the call
//!    is sent [`Deliver::Direct`] and served when `W` is free.
//!
//! Cycles close only when a call is made, so checking there finds every
//! cycle the main thread can observe.
//!
//! *Unknown context.* A call made after its handler awaited something other
//! than a bridge call (a timer, `fetch`) has no known context: main cannot
//! tell whether a handler awaits it or an event handler made it. A served
//! call stays served until its handler's promise settles, so while it is
//! served main may be waiting on its behalf. Such a call is *assumed* to be
//! awaited by every call main was serving for other workers when it was made
//! (its *candidates*). Assumed edges never refuse a call at once (that would
//! refuse correct programs); instead a call delivered to a blocked strict
//! worker is checked again later ([`WaitForTracker::suspected_cycle`]): if
//! by then a cycle through assumed edges still stands, nothing in it having
//! moved (the same served calls, none answered), the call is refused with the
//! same [`DeadlockReason::Cycle`] error. The caller picks the delay (bridge-js:
//! docs/deadlocks.md). Calls of the target worker itself are not candidates,
//! so a strict worker whose own handler calls it back after a timer is not
//! recognised (its time-out ends the wait), while a cycle through two or more
//! workers never hangs. The price: a cycle of assumed edges that is not one
//! (two workers blocked in calls whose handlers await something slower than
//! the delay, and calls from elsewhere that close the cycle) is refused as a
//! "possible deadlock". Re-entrant mode (the default) never needs the context.
//!
//! A nested request whose worker-side handler returns a pending promise
//! cannot finish: the worker cannot run its event loop while it is blocked.
//! The worker reports it (it replies with the error built by
//! [`DeadlockError::pending_result`]) and main turns it into the same error
//! for the caller with [`WaitForTracker::nested_pending`].

extern crate alloc;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// The main thread's endpoint id; workers are 1, 2, ...
pub const MAIN: u32 = 0;

/// How many nested requests may be in progress in one worker at once, unless
/// the worker is added with another limit. Each one is a frame of the
/// worker's stack (plus the handlers in between); 64 is far beyond any
/// legitimate back-and-forth and well inside a browser's stack.
pub use crate::protocol::constants::DEFAULT_MAX_NESTING;

/// What the tracker keeps to name a call or a worker in its messages: the
/// text itself (`String`, the default), or a host's reference to text the
/// host keeps and writes in later (the wasm build for bridge-js keeps its
/// labels in JS, where some are made only when a message needs them).
pub trait Label {
    /// Appends the text (or the host's placeholder for it) to `out`.
    fn write_to(&self, out: &mut String);
}

impl Label for String {
    fn write_to(&self, out: &mut String) {
        out.push_str(self);
    }
}

fn text<L: Label>(label: &L) -> String {
    let mut out = String::new();
    label.write_to(&mut out);
    out
}

/// A worker->main call that main is serving: the worker is blocked in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallRef {
    /// The worker that made the call.
    pub worker: u32,
    /// The worker's request seq.
    pub seq: u32,
}

/// How to send a main->worker call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deliver {
    /// As an ordinary request (`nested_in = 0`): the worker serves it from
    /// its event loop.
    Direct,
    /// As a request with `nested_in = into_seq`: the worker is blocked in its
    /// call `into_seq` and serves it there and then.
    Nested {
        /// The worker's blocked call the request nests into.
        into_seq: u32,
    },
}

/// One hop of a wait cycle: `worker` is blocked in `blocked`, and the
/// handler of that call awaits `awaits` on worker `next`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CycleLink {
    /// The blocked worker.
    pub worker: u32,
    /// Its name in messages: `worker "name"`, or `worker #id`.
    pub worker_name: String,
    /// The name of `next`, the same way.
    pub next_name: String,
    /// The label of the call it is blocked in.
    pub blocked: String,
    /// The label of the call that call's handler awaits.
    pub awaits: String,
    /// The worker that call goes to.
    pub next: u32,
}

/// Why a call can never finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeadlockReason {
    /// The worker was created with `reentrant: false` and the call comes from
    /// the handler of the call the worker is blocked in.
    NotReentrant,
    /// The call closes a cycle through several workers (the links start at
    /// the target worker and end at the caller's context).
    Cycle(Vec<CycleLink>),
    /// Nested requests in the worker are already this deep.
    TooDeep {
        /// The worker's nesting limit.
        limit: usize,
    },
    /// The worker's handler for the nested request returned a pending
    /// promise, which cannot settle while the worker is blocked.
    PendingResult,
}

/// A call that can never finish. Its message starts with "Possible deadlock"
/// and names both calls, e.g. `Possible deadlock: proxy.worker_task() was
/// awaited while the worker is blocked in proxy.main_task() (...)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadlockError {
    /// The worker the refused call was for.
    pub worker: u32,
    /// Label of the call that was awaited (main->worker).
    pub awaited: String,
    /// Label of the call the worker is blocked in (worker->main).
    pub blocked: String,
    /// Why it can never finish.
    pub reason: DeadlockReason,
}

impl DeadlockError {
    /// The error for a nested request whose handler returned a pending
    /// promise. The worker builds it to reply with; main gets the same one
    /// from [`WaitForTracker::nested_pending`].
    pub fn pending_result(worker: u32, awaited: &str, blocked: &str) -> Self {
        Self {
            worker,
            awaited: awaited.into(),
            blocked: blocked.into(),
            reason: DeadlockReason::PendingResult,
        }
    }
}

impl DeadlockError {
    /// The error's message: what [`Display`](fmt::Display) writes. Built
    /// without `core::fmt`, so the wasm build of the tracker
    /// (crates/bridge-core-wasm) carries no formatting machinery.
    pub fn message(&self) -> String {
        let mut m = String::from("Possible deadlock: ");
        push(&mut m, &self.awaited);
        push(&mut m, " was awaited while the worker is blocked in ");
        push(&mut m, &self.blocked);
        match &self.reason {
            DeadlockReason::NotReentrant => push(
                &mut m,
                " (the worker was created with reentrant: false, so it cannot serve a call \
                 before its own call returns, and that call's handler awaits this one; \
                 create it with reentrant: true, or do not await worker calls in this handler)",
            ),
            DeadlockReason::Cycle(links) => {
                push(&mut m, " (a wait cycle through several workers:");
                for (i, link) in links.iter().enumerate() {
                    push(&mut m, if i == 0 { " " } else { ", and " });
                    push(&mut m, &link.worker_name);
                    push(&mut m, " is blocked in ");
                    push(&mut m, &link.blocked);
                    push(&mut m, ", whose handler awaits ");
                    push(&mut m, &link.awaits);
                    push(&mut m, " on ");
                    push(&mut m, &link.next_name);
                }
                push(
                    &mut m,
                    "; a worker created with reentrant: false cannot serve calls while it is \
                     blocked: make the workers re-entrant or break the cycle)",
                );
            }
            DeadlockReason::TooDeep { limit } => {
                push(
                    &mut m,
                    " (calls between the main thread and this worker are nested ",
                );
                push_decimal(&mut m, *limit as u64);
                push(
                    &mut m,
                    " deep, the limit (the maxNesting option); they probably recurse without end)",
                );
            }
            DeadlockReason::PendingResult => {
                push(&mut m, ": ");
                push(&mut m, &self.awaited);
                push(
                    &mut m,
                    " returned a Promise, which the blocked worker cannot await. Make that \
                     worker function synchronous, or call it from the main thread only when the \
                     worker is not blocked.",
                );
            }
        }
        m
    }
}

/// `out.push_str(s)`, kept out of line: the messages are many pieces, and
/// one call each keeps the wasm build small.
#[inline(never)]
fn push(out: &mut String, s: &str) {
    out.push_str(s);
}

/// Appends `n` in decimal (without `core::fmt`, for the wasm build's
/// [`Label`]s too).
pub fn push_decimal(out: &mut String, n: u64) {
    // Most significant digit first, by recursion (no digit buffer to index).
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

impl fmt::Display for DeadlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for DeadlockError {}

/// Misuse of the tracker by its caller (a bookkeeping bug, not a deadlock).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrackError {
    /// Endpoint 0 is the main thread, which never blocks.
    #[error("endpoint 0 is the main thread, which never blocks and is never called as a worker; use worker ids from 1")]
    MainIsNotAWorker,
    /// The worker call is already recorded as being served.
    #[error("call seq {seq} of worker {worker} is already being served; each request must be served once")]
    AlreadyServing {
        /// The worker.
        worker: u32,
        /// Its request seq.
        seq: u32,
    },
}

// The tracker's state is three flat tables of small records (the workers'
// options, the served calls, main's outstanding calls), each a `Vec` in
// insertion order scanned linearly: main holds a handful of workers and
// calls, so a scan is as fast as a tree, and one `Vec` per record type keeps
// the wasm build small (docs/benchmarks.md: nested per-worker collections
// cost the module several KB).

/// A worker's options; a worker used without being added has none.
#[derive(Clone, Debug)]
struct WorkerConf<L> {
    id: u32,
    reentrant: Option<bool>,
    /// The worker's own nesting limit (else the tracker's).
    max_nesting: Option<usize>,
    /// `worker "name"` in messages (else `worker #id`).
    name: Option<L>,
}

/// A worker call main serves: the worker is blocked in it. Per worker, the
/// table keeps them oldest first.
#[derive(Clone, Debug)]
struct Served<L> {
    call: CallRef,
    /// When it began (the tracker's counter): the served calls a call with
    /// no known context may have been made for are those that began before
    /// it and are still served (module doc).
    began: u32,
    label: L,
}

/// A main->worker call without a reply (`call`: the worker and main's seq).
#[derive(Clone, Debug)]
struct Outgoing<L> {
    call: CallRef,
    label: L,
    context: Option<CallRef>,
    /// The tracker's counter when it was made.
    made: u32,
    nested_into: Option<u32>,
}

/// One hop of a wait cycle while it is searched: the handler of served call
/// `node` awaits `awaits` on worker `next` (named in a [`CycleLink`] only
/// when the cycle is found).
struct Hop<'a, L> {
    node: CallRef,
    awaits: &'a L,
    next: u32,
}

/// The main thread's wait-for graph over all its workers, naming calls and
/// workers in its messages with labels of type `L` ([`Label`]).
#[derive(Clone, Debug)]
pub struct WaitForTracker<L = String> {
    default_reentrant: bool,
    max_nesting: usize,
    workers: Vec<WorkerConf<L>>,
    served: Vec<Served<L>>,
    outgoing: Vec<Outgoing<L>>,
    next_id: u32,
    /// Counts begun served calls and made calls (`began`, `made`).
    clock: u32,
}

/// How a worker added with [`WaitForTracker::add_worker`] behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerOptions<'a> {
    /// Serves nested requests while it is blocked (`reentrant`).
    pub reentrant: bool,
    /// Its nesting limit (`maxNesting`; at least 1).
    pub max_nesting: usize,
    /// Its name in messages (`name`): `worker "name"`; else `worker #id`.
    pub name: Option<&'a str>,
}

impl Default for WorkerOptions<'_> {
    fn default() -> Self {
        WorkerOptions {
            reentrant: true,
            max_nesting: DEFAULT_MAX_NESTING,
            name: None,
        }
    }
}

impl Default for WaitForTracker<String> {
    fn default() -> Self {
        Self::new(true)
    }
}

impl WaitForTracker<String> {
    /// A tracker; workers not configured with
    /// [`set_reentrant`](Self::set_reentrant) are re-entrant if
    /// `default_reentrant`.
    pub fn new(default_reentrant: bool) -> Self {
        Self::with_labels(default_reentrant)
    }

    /// Registers a worker with its own options and returns its id (1, 2,
    /// ...; ids already in use are skipped). A worker id used without being
    /// added gets the tracker's defaults.
    pub fn add_worker(&mut self, options: WorkerOptions<'_>) -> u32 {
        let name = options.name.filter(|n| !n.is_empty()).map(String::from);
        self.add_labelled_worker(options.reentrant, options.max_nesting, |_| name)
    }

    /// The innermost call `worker` is blocked in, as `(seq, label)`.
    pub fn blocked_in(&self, worker: u32) -> Option<(u32, &str)> {
        self.served
            .iter()
            .rev()
            .find(|s| s.call.worker == worker)
            .map(|s| (s.call.seq, s.label.as_str()))
    }
}

impl<L: Label + Clone> WaitForTracker<L> {
    /// A tracker whose labels are `L`s (as [`new`](WaitForTracker::new)).
    pub const fn with_labels(default_reentrant: bool) -> Self {
        Self {
            default_reentrant,
            max_nesting: DEFAULT_MAX_NESTING,
            workers: Vec::new(),
            served: Vec::new(),
            outgoing: Vec::new(),
            next_id: 1,
            clock: 0,
        }
    }

    fn conf(&self, worker: u32) -> Option<&WorkerConf<L>> {
        self.workers.iter().find(|w| w.id == worker)
    }

    /// `worker`'s options, added if it had none. Always `Some`: an `Option`
    /// so that no panicking path is compiled in (the wasm build's size).
    fn conf_mut(&mut self, worker: u32) -> Option<&mut WorkerConf<L>> {
        if self.conf(worker).is_none() {
            self.workers.push(WorkerConf {
                id: worker,
                reentrant: None,
                max_nesting: None,
                name: None,
            });
        }
        self.workers.iter_mut().find(|w| w.id == worker)
    }

    /// [`add_worker`](WaitForTracker::add_worker) with the worker's name
    /// made from its id (`None`: it has none).
    pub fn add_labelled_worker(
        &mut self,
        reentrant: bool,
        max_nesting: usize,
        name: impl FnOnce(u32) -> Option<L>,
    ) -> u32 {
        let mut id = self.next_id;
        while id == MAIN || self.conf(id).is_some() {
            id = id.wrapping_add(1);
        }
        self.next_id = id.wrapping_add(1);
        if let Some(conf) = self.conf_mut(id) {
            conf.reentrant = Some(reentrant);
            conf.max_nesting = Some(max_nesting.max(1));
            conf.name = name(id);
        }
        id
    }

    /// How messages name `worker`: `worker "name"`, or `worker #id`.
    pub fn name_of(&self, worker: u32) -> String {
        let mut out = String::from("worker ");
        match self.conf(worker).and_then(|w| w.name.as_ref()) {
            Some(name) => {
                out.push('"');
                name.write_to(&mut out);
                out.push('"');
            }
            None => {
                out.push('#');
                push_decimal(&mut out, worker.into());
            }
        }
        out
    }

    /// True when main's direct call to `worker` should be checked again
    /// later with [`suspected_cycle`](Self::suspected_cycle): the worker is
    /// strict and blocked.
    pub fn may_cycle(&self, worker: u32) -> bool {
        !self.is_reentrant(worker) && self.is_blocked(worker)
    }

    /// Changes the default nesting limit (at least 1) of workers not added
    /// with a limit of their own.
    pub fn with_max_nesting(mut self, limit: usize) -> Self {
        self.max_nesting = limit.max(1);
        self
    }

    /// The default nesting limit.
    pub fn max_nesting(&self) -> usize {
        self.max_nesting
    }

    /// The nesting limit of `worker`.
    pub fn max_nesting_of(&self, worker: u32) -> usize {
        self.conf(worker)
            .and_then(|w| w.max_nesting)
            .unwrap_or(self.max_nesting)
    }

    /// Whether `worker` serves nested requests while it is blocked.
    pub fn set_reentrant(&mut self, worker: u32, reentrant: bool) {
        if let Some(conf) = self.conf_mut(worker) {
            conf.reentrant = Some(reentrant);
        }
    }

    /// Whether `worker` serves nested requests while it is blocked.
    pub fn is_reentrant(&self, worker: u32) -> bool {
        self.conf(worker)
            .and_then(|w| w.reentrant)
            .unwrap_or(self.default_reentrant)
    }

    fn tick(&mut self) -> u32 {
        self.clock = self.clock.wrapping_add(1);
        self.clock
    }

    /// Main read the worker's request `seq`, labelled `label` (e.g.
    /// `proxy.main_task()`), and serves it: the worker is blocked in it.
    pub fn begin_serving(
        &mut self,
        worker: u32,
        seq: u32,
        label: impl Into<L>,
    ) -> Result<(), TrackError> {
        if worker == MAIN {
            return Err(TrackError::MainIsNotAWorker);
        }
        let call = CallRef { worker, seq };
        if self.served_at(call).is_some() {
            return Err(TrackError::AlreadyServing { worker, seq });
        }
        let began = self.tick();
        self.served.push(Served {
            call,
            began,
            label: label.into(),
        });
        Ok(())
    }

    /// Main wrote the reply to the worker's request `seq` (or gave up on it):
    /// the worker is no longer blocked in it. Returns false if it was not
    /// being served.
    pub fn finish_serving(&mut self, worker: u32, seq: u32) -> bool {
        let call = CallRef { worker, seq };
        let before = self.served.len();
        self.served.retain(|s| s.call != call);
        self.served.len() != before
    }

    /// Decides how to deliver main's call `seq` (labelled `label`) to
    /// `worker`, issued by the handler of `context` if known, and records it
    /// until [`call_finished`](Self::call_finished). A refused call is not
    /// recorded. A `seq` already outstanding for the worker is replaced.
    pub fn call_worker(
        &mut self,
        worker: u32,
        seq: u32,
        label: impl Into<L>,
        context: Option<CallRef>,
    ) -> Result<Deliver, DeadlockError> {
        let label: L = label.into();
        // A context that is no longer served (answered, cancelled) issues
        // nothing any more: the call is made as if from top-level code.
        let context = context.filter(|c| self.served_at(*c).is_some());
        let mut nested_into = None;
        if let Some(innermost) = self.served.iter().rev().find(|s| s.call.worker == worker) {
            if self.is_reentrant(worker) {
                let limit = self.max_nesting_of(worker);
                if self.nesting_depth(worker) >= limit {
                    return Err(DeadlockError {
                        worker,
                        awaited: text(&label),
                        blocked: text(&innermost.label),
                        reason: DeadlockReason::TooDeep { limit },
                    });
                }
                nested_into = Some(innermost.call.seq);
            } else if let Some(ctx) = context {
                if let Some(err) = self.find_cycle(worker, &label, ctx, false) {
                    return Err(err);
                }
            }
        }
        let made = self.tick();
        let record = Outgoing {
            call: CallRef { worker, seq },
            label,
            context,
            made,
            nested_into,
        };
        match self.outgoing.iter_mut().find(|c| c.call == record.call) {
            Some(c) => *c = record,
            None => self.outgoing.push(record),
        }
        Ok(match nested_into {
            None => Deliver::Direct,
            Some(into_seq) => Deliver::Nested { into_seq },
        })
    }

    /// Checks main's outstanding call `seq` to `worker` again, counting the
    /// assumed edges of calls with no known context (module doc): the error
    /// to refuse it with if it waits in a cycle now, `None` otherwise (also
    /// when it is answered, nested, or the worker is re-entrant). Call it a
    /// while after [`call_worker`](Self::call_worker) delivered a call
    /// directly to a blocked strict worker, while the call is outstanding.
    /// Does not forget the call: the caller does, with
    /// [`call_finished`](Self::call_finished), when it refuses it.
    pub fn suspected_cycle(&self, worker: u32, seq: u32) -> Option<DeadlockError> {
        if self.is_reentrant(worker) {
            return None;
        }
        let call = self.outgoing(worker, seq)?;
        if call.nested_into.is_some() {
            return None;
        }
        // The goals: its context, or (none known) each of its candidates, in
        // the order main serves them.
        self.served
            .iter()
            .filter(|s| match call.context {
                Some(ctx) => s.call == ctx,
                None => call.is_candidate(s),
            })
            .find_map(|s| self.find_cycle(worker, &call.label, s.call, true))
    }

    /// The reply to main's call `seq` arrived (or it timed out, was
    /// cancelled): forget it. Returns false if it was not outstanding.
    pub fn call_finished(&mut self, worker: u32, seq: u32) -> bool {
        self.take_call(worker, seq).is_some()
    }

    /// [`call_finished`](Self::call_finished), returning the call's context
    /// (`None` if it was not outstanding; `Some(None)` if it had none), so
    /// a host can carry the context across the `await` of the call.
    pub fn take_call(&mut self, worker: u32, seq: u32) -> Option<Option<CallRef>> {
        let context = self.outgoing(worker, seq)?.context;
        self.forget_call(worker, seq);
        Some(context)
    }

    /// The worker reported that its handler for main's nested call `seq`
    /// returned a pending promise. Forgets the call and returns the error to
    /// reject it with (`None` if the call is not outstanding).
    pub fn nested_pending(&mut self, worker: u32, seq: u32) -> Option<DeadlockError> {
        let call = self.outgoing(worker, seq)?.clone();
        self.forget_call(worker, seq);
        let mine = self.served.iter().filter(|s| s.call.worker == worker);
        let blocked = call
            .nested_into
            .and_then(|into| mine.clone().find(|s| s.call.seq == into))
            .or(mine.last())
            .map_or_else(
                || String::from("a call to the main thread"),
                |s| text(&s.label),
            );
        Some(DeadlockError::pending_result(
            worker,
            &text(&call.label),
            &blocked,
        ))
    }

    /// The worker is gone (terminated, crashed): forgets it and returns its
    /// outstanding calls as `(seq, label)` so the caller can reject them.
    pub fn remove_worker(&mut self, worker: u32) -> Vec<(u32, L)> {
        let gone = self
            .outgoing
            .iter()
            .filter(|c| c.call.worker == worker)
            .map(|c| (c.call.seq, c.label.clone()))
            .collect();
        self.forget_worker(worker);
        gone
    }

    /// [`remove_worker`](Self::remove_worker) for a host that keeps the
    /// calls' labels itself: forgets the worker and everything it had.
    pub fn forget_worker(&mut self, worker: u32) {
        self.workers.retain(|w| w.id != worker);
        self.served.retain(|s| s.call.worker != worker);
        self.outgoing.retain(|c| c.call.worker != worker);
    }

    /// True if `worker` is blocked in a call main is serving.
    pub fn is_blocked(&self, worker: u32) -> bool {
        self.served.iter().any(|s| s.call.worker == worker)
    }

    /// Every worker call main is serving (oldest first).
    pub fn serving(&self) -> Vec<CallRef> {
        self.served.iter().map(|s| s.call).collect()
    }

    /// Nested requests in progress in `worker`.
    pub fn nesting_depth(&self, worker: u32) -> usize {
        self.outgoing
            .iter()
            .filter(|c| c.call.worker == worker && c.nested_into.is_some())
            .count()
    }

    /// main->worker calls to `worker` without a reply.
    pub fn outstanding(&self, worker: u32) -> usize {
        self.outgoing
            .iter()
            .filter(|c| c.call.worker == worker)
            .count()
    }

    fn forget_call(&mut self, worker: u32, seq: u32) {
        let call = CallRef { worker, seq };
        self.outgoing.retain(|c| c.call != call);
    }

    fn served_at(&self, call: CallRef) -> Option<&Served<L>> {
        self.served.iter().find(|s| s.call == call)
    }

    fn outgoing(&self, worker: u32, seq: u32) -> Option<&Outgoing<L>> {
        let call = CallRef { worker, seq };
        self.outgoing.iter().find(|c| c.call == call)
    }

    /// Looks for a path from a call `target` is blocked in to `ctx`, through
    /// the edges of the module doc. Depth-first with a visited set, so each
    /// served call is expanded once and the search ends on any graph.
    fn find_cycle(
        &self,
        target: u32,
        label: &L,
        ctx: CallRef,
        assumed: bool,
    ) -> Option<DeadlockError> {
        let mut visited = Vec::new();
        for start in self.served.iter().filter(|s| s.call.worker == target) {
            let mut path = Vec::new();
            if !self.reaches(start.call, ctx, &mut visited, &mut path, assumed) {
                continue;
            }
            let reason = if path.is_empty() {
                DeadlockReason::NotReentrant
            } else {
                // Close the cycle: the caller's own call awaits this one.
                path.push(Hop {
                    node: ctx,
                    awaits: label,
                    next: target,
                });
                DeadlockReason::Cycle(
                    path.iter()
                        .map(|hop| CycleLink {
                            worker: hop.node.worker,
                            worker_name: self.name_of(hop.node.worker),
                            next_name: self.name_of(hop.next),
                            blocked: self
                                .served_at(hop.node)
                                .map(|s| text(&s.label))
                                .unwrap_or_default(),
                            awaits: text(hop.awaits),
                            next: hop.next,
                        })
                        .collect(),
                )
            };
            return Some(DeadlockError {
                worker: target,
                awaited: text(label),
                blocked: text(&start.label),
                reason,
            });
        }
        None
    }

    fn reaches<'a>(
        &'a self,
        node: CallRef,
        goal: CallRef,
        visited: &mut Vec<CallRef>,
        path: &mut Vec<Hop<'a, L>>,
        assumed: bool,
    ) -> bool {
        if node == goal {
            return true;
        }
        if visited.contains(&node) {
            return false;
        }
        let Some(node_served) = self.served_at(node) else {
            return false;
        };
        visited.push(node);
        for call in &self.outgoing {
            let awaited = match call.context {
                Some(ctx) => ctx == node,
                None => assumed && call.is_candidate(node_served),
            };
            if !awaited {
                continue;
            }
            let next_worker = call.call.worker;
            // The served calls this call waits for: every call of its worker,
            // or, nested into `s`, those above `s` (all of them if `s` was
            // answered: everything the worker is blocked in now was made
            // while serving it).
            let above = call.nested_into.and_then(|seq| {
                let into = CallRef {
                    worker: next_worker,
                    seq,
                };
                self.served.iter().position(|s| s.call == into)
            });
            for (i, b) in self.served.iter().enumerate() {
                if b.call.worker != next_worker || above.is_some_and(|a| i <= a) {
                    continue;
                }
                path.push(Hop {
                    node,
                    awaits: &call.label,
                    next: next_worker,
                });
                if self.reaches(b.call, goal, visited, path, assumed) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
}

impl<L> Outgoing<L> {
    /// Whether served call `s` is one this call, made with no known context,
    /// may have been made for: a call of another worker that main was
    /// serving when it was made (and still is, since `s` is served).
    fn is_candidate(&self, s: &Served<L>) -> bool {
        self.context.is_none() && s.call.worker != self.call.worker && s.began < self.made
    }
}
