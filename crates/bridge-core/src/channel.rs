//! A host of the protocol's state machines ([`crate::protocol`]) over one
//! channel's two mailboxes (docs/protocol.md §3, §6).
//!
//! [`WorkerSide`] may block: [`WorkerSide::call`] sends a request and waits
//! on its inbound mailbox until the worker machine says the call is over,
//! serving nested requests meanwhile. [`MainSide`] never blocks:
//! [`MainSide::poll`] drains every complete message, answers requests
//! through a handler and writes replies with the non-blocking frame writer;
//! a handler may defer its answer ([`MainSide::reply`] later), which is also
//! how the main thread makes a nested call into a blocked worker before it
//! answers. Every decision (numbering, which reply belongs to which call,
//! what is late, what is nested, deadlines, cancels, releases) is the
//! machine's; this module encodes, sends, receives and blocks.
//!
//! bridge-js's `endpoint.js` is a JS host with the same shape; the Rust
//! embedding (bridge-wasm) and the native tests and examples use this one.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::deadlock::{CallRef, DeadlockError, WaitForTracker, WorkerOptions};
use crate::mailbox::{
    close_channel, Config, ConfigError, Consumer, Deadline, Layout, OutgoingMessage, Producer,
    Progress, RecvError, SendError, TryRecvError,
};
use crate::message::{Key, Message, Op, Outcome, Release, Reply, Request};
use crate::protocol::{
    Answer, CallState, Incoming, MainCore, MainStep, ServeError, Step, Tracked, WorkerCore,
};
pub use crate::protocol::{SeqCounter, Stats};
use crate::shm::SharedMemory;
use crate::value::{ErrorValue, JsSymbol, Value};
use crate::wire;

/// Why a call (or serving a request) failed. The channel stays usable after
/// every error except `Closed` and `Corrupt`.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No reply before the deadline; a `Cancel` was sent and a late reply
    /// will be dropped.
    #[error("call timed out: no reply in time (the other side is busy, stuck or waiting on us); the channel stays usable; raise the time-out if the call is slow")]
    Timeout,
    /// The channel was closed.
    #[error("channel closed: the other side closed the bridge or terminated; create a new bridge")]
    Closed,
    /// Our own message is over our `max_message`; nothing was sent.
    #[error("outgoing message of {len} bytes exceeds max_message of {max} bytes; raise max_message when creating the bridge, or send less")]
    OutgoingTooLarge {
        /// Bytes of the encoded message.
        len: usize,
        /// Configured maximum.
        max: usize,
    },
    /// An incoming message was over our `max_message` and was dropped.
    #[error("incoming message of {len} bytes exceeds max_message of {max} bytes and was dropped; raise max_message when creating the bridge")]
    IncomingTooLarge {
        /// Bytes the other side announced.
        len: usize,
        /// Configured maximum.
        max: usize,
    },
    /// Our message could not be encoded (a value breaks a protocol rule).
    #[error(transparent)]
    Encode(#[from] wire::EncodeError),
    /// The other side sent bytes that are not a message.
    #[error("the other side sent an undecodable message ({0}); both sides must run the same worker-bridge protocol version")]
    Decode(#[from] wire::DecodeError),
    /// The mailbox header broke the frame protocol.
    #[error("mailbox protocol violation: {0}; both sides must run the same worker-bridge protocol version")]
    Corrupt(&'static str),
    /// A blocking call on a thread that may not block.
    #[error("this thread may not block (a browser main thread): synchronous calls work only from a worker")]
    WouldBlock,
    /// The page's wait-for tracker refused a main->worker call: it could
    /// never finish ("Possible deadlock ...").
    #[error(transparent)]
    Deadlock(#[from] DeadlockError),
    /// A request nested into this call could not finish, so neither can
    /// this call.
    #[error("Possible deadlock: a request nested into this call could not finish (its handler returned a pending result), so this call fails too")]
    NestedAborted,
    /// An answer to a request that is not being served (a bookkeeping bug
    /// of the caller: answered twice, or a seq never handed out).
    #[error(transparent)]
    Serve(#[from] ServeError),
}

impl From<SendError> for CallError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Timeout => CallError::Timeout,
            SendError::Closed => CallError::Closed,
            SendError::TooLarge { len, max } => CallError::OutgoingTooLarge { len, max },
            SendError::WouldBlock => CallError::WouldBlock,
        }
    }
}

impl From<RecvError> for CallError {
    fn from(e: RecvError) -> Self {
        match e {
            RecvError::Timeout => CallError::Timeout,
            RecvError::Closed => CallError::Closed,
            RecvError::TooLarge { len, max } => CallError::IncomingTooLarge { len, max },
            RecvError::Corrupt(what) => CallError::Corrupt(what),
            RecvError::WouldBlock => CallError::WouldBlock,
        }
    }
}

impl From<TryRecvError> for CallError {
    fn from(e: TryRecvError) -> Self {
        CallError::from(RecvError::from(e))
    }
}

/// An `Outcome` that throws an Error with `name` and `message`.
pub fn thrown(name: &str, message: &str) -> Outcome {
    Outcome::Thrown(Value::Error(Box::new(ErrorValue::new(name, message))))
}

/// A served request's name in deadlock messages, as bridge-js names it:
/// `proxy.main_task()` for a sync function, `window.x (set)` and the like
/// for a proxy operation.
pub fn request_label(req: &Request) -> String {
    let base = if req.target == 0 {
        String::from("window")
    } else {
        format!("<object #{}>", req.target)
    };
    let key = |k: &Key| match k {
        Key::String(s) => format!(".{}", s.to_string_lossy()),
        // As bridge-js labels them: `[description]`.
        Key::Symbol(JsSymbol::WellKnown(n)) => format!(
            "[Symbol.{}]",
            crate::message::WELL_KNOWN_SYMBOLS
                .get(*n as usize)
                .copied()
                .unwrap_or("?")
        ),
        Key::Symbol(JsSymbol::Registered(k)) => format!("[{}]", k.to_string_lossy()),
        Key::Symbol(JsSymbol::Remote { description, .. }) => format!(
            "[{}]",
            description
                .as_ref()
                .map(|d| d.to_string_lossy())
                .unwrap_or_default()
        ),
        Key::Symbol(JsSymbol::Local(id)) => format!("[<symbol #{id}>]"),
    };
    // A Described prefix labels as the op it goes before.
    let op = match &req.op {
        Op::Described(op) => &**op,
        op => op,
    };
    match op {
        Op::Call { name, .. } => format!("proxy.{}()", name.to_string_lossy()),
        Op::Get { key: k } => format!("{base}{}", key(k)),
        Op::Set { key: k, .. } => format!("{base}{} (set)", key(k)),
        Op::Has { key: k } => format!("{base}{} (has)", key(k)),
        Op::Delete { key: k } => format!("{base}{} (delete)", key(k)),
        Op::GetOwnPropertyDescriptor { key: k } => {
            format!("{base}{} (get_own_property_descriptor)", key(k))
        }
        Op::DefineProperty { key: k, .. } => format!("{base}{} (define_property)", key(k)),
        Op::OwnKeys => format!("{base} (own_keys)"),
        Op::GetPrototypeOf => format!("{base} (get_prototype_of)"),
        Op::Describe => format!("{base} (describe)"),
        Op::SetPrototypeOf { .. } => format!("{base} (set_prototype_of)"),
        Op::Apply { .. } | Op::Construct { .. } | Op::Described(_) => base,
    }
}

/// Encodes a reply. A value that cannot be encoded, or a reply over
/// `max_message`, becomes a thrown error, so the caller always gets an
/// answer instead of waiting for one that never comes.
fn encode_reply(seq: u32, outcome: Outcome, releases: Vec<Release>, max_message: usize) -> Vec<u8> {
    let reply = Message::Reply(Reply {
        seq,
        outcome,
        releases: releases.clone(),
    });
    let problem = match wire::encode(&reply) {
        Ok(bytes) if bytes.len() <= max_message => return bytes,
        Ok(bytes) => thrown(
            "RangeError",
            &format!(
                "the result of {} bytes exceeds max_message of {max_message} bytes; raise max_message when creating the bridge, or return less",
                bytes.len()
            ),
        ),
        Err(e) => thrown("DataCloneError", &e.to_string()),
    };
    let fallback = Message::Reply(Reply {
        seq,
        outcome: problem,
        releases,
    });
    wire::encode(&fallback).expect("a reply carrying a plain Error always encodes")
}

/// A worker's request handler: answers one request from the main thread.
/// It gets the `WorkerSide` so it can call the main thread itself (a
/// nested request whose handler calls main again: the calls form a stack);
/// it is `Fn` because such a call may run it again, re-entrantly.
pub type WorkerHandler<L> = Arc<dyn Fn(Request, &mut WorkerSide<L>) -> Outcome + Send + Sync>;

/// How a [`WorkerSide`] moves whole messages and blocks: the channel's two
/// mailboxes in shared memory ([`Mailboxes`], the Atomics transport), or
/// another blocking wait (bridge-wasm's service-worker transport, a
/// synchronous XMLHttpRequest). The protocol's decisions stay in
/// [`WorkerSide`] and its machine whichever link carries the bytes.
pub trait WorkerLink {
    /// The clock deadlines are measured on.
    fn now(&self) -> Duration;
    /// Sends one message to the main thread (may wait for room until `deadline`).
    fn send(&mut self, bytes: &[u8], deadline: Deadline) -> Result<(), SendError>;
    /// Waits until one whole message from the main thread arrives, or `deadline`.
    fn recv(&mut self, deadline: Deadline) -> Result<Vec<u8>, RecvError>;
    /// One whole message from the main thread if one is there, without waiting.
    fn try_recv(&mut self) -> Result<Option<Vec<u8>>, TryRecvError>;
    /// Closes the channel for both sides.
    fn close(&self);
}

/// The Atomics transport's link: sends on `to_main`, receives on
/// `to_worker` (docs/protocol.md §4).
pub struct Mailboxes<M: SharedMemory> {
    tx: Producer<M>,
    rx: Consumer<M>,
    capacity: usize,
}

impl<M: SharedMemory + Clone> Mailboxes<M> {
    /// The worker's two mailboxes of the channel in `mem`.
    pub fn new(mem: M, config: &Config) -> Result<Self, ConfigError> {
        config.validate(mem.byte_len())?;
        Ok(Mailboxes {
            tx: Producer::new(mem.clone(), Layout::to_main(config.capacity), config),
            rx: Consumer::new(mem, Layout::to_worker(config.capacity), config),
            capacity: config.capacity,
        })
    }
}

impl<M: SharedMemory> WorkerLink for Mailboxes<M> {
    fn now(&self) -> Duration {
        self.tx.memory().now()
    }
    fn send(&mut self, bytes: &[u8], deadline: Deadline) -> Result<(), SendError> {
        self.tx.send(bytes, deadline)
    }
    fn recv(&mut self, deadline: Deadline) -> Result<Vec<u8>, RecvError> {
        self.rx.recv(deadline)
    }
    fn try_recv(&mut self) -> Result<Option<Vec<u8>>, TryRecvError> {
        self.rx.try_recv()
    }
    fn close(&self) {
        close_channel(self.tx.memory(), self.capacity);
    }
}

/// The worker's end of a channel: it may block. A host of
/// [`WorkerCore`]: the machine decides, this sends, receives and blocks
/// through its [`WorkerLink`].
pub struct WorkerSide<L: WorkerLink> {
    link: L,
    max_message: usize,
    core: WorkerCore<Request, Reply>,
    handler: WorkerHandler<L>,
}

impl<M: SharedMemory + Clone> WorkerSide<Mailboxes<M>> {
    /// The worker's end on the Atomics transport: sends on `to_main`,
    /// receives on `to_worker`.
    pub fn new(mem: M, config: &Config) -> Result<Self, ConfigError> {
        Ok(WorkerSide::with_link(
            Mailboxes::new(mem, config)?,
            config.max_message,
        ))
    }
}

impl<L: WorkerLink> WorkerSide<L> {
    /// The worker's end over `link`; replies over `max_message` bytes
    /// become thrown errors.
    pub fn with_link(link: L, max_message: usize) -> Self {
        WorkerSide {
            link,
            max_message,
            core: WorkerCore::new(),
            handler: Arc::new(|req, _| {
                thrown("Error", &format!("the worker exposes nothing: request {} has no handler; set one with WorkerSide::set_handler", req.seq))
            }),
        }
    }

    /// The link (the transport's own state).
    pub fn link(&mut self) -> &mut L {
        &mut self.link
    }

    fn deadline(&self, timeout: Option<Duration>) -> Deadline {
        Deadline::at(timeout.map(|t| self.link.now().saturating_add(t)))
    }

    /// Sets what answers the main thread's requests (nested ones while a
    /// call waits, the others in [`serve_pending`](Self::serve_pending)).
    pub fn set_handler(
        &mut self,
        handler: impl Fn(Request, &mut WorkerSide<L>) -> Outcome + Send + Sync + 'static,
    ) {
        self.handler = Arc::new(handler);
    }

    fn now(&self) -> Duration {
        self.link.now()
    }

    /// Calls `op` on `target` of the main thread and waits for the reply.
    ///
    /// While waiting it serves requests nested in this call, keeps replies
    /// of outer calls for them and drops late replies. On time-out it sends
    /// `Cancel { seq }` (or queues it for the next call when the mailbox is
    /// busy).
    pub fn call(
        &mut self,
        target: u32,
        op: Op,
        timeout: Option<Duration>,
    ) -> Result<Outcome, CallError> {
        let seq = self.start_call(target, op, timeout)?;
        let result = self.wait_reply(seq);
        if result.is_err() {
            // Timed out, aborted: the machine ended the frame already;
            // anything else (closed, corrupt): end it here.
            self.core.abandon_call(seq);
        }
        result
    }

    /// Sends a call to the main thread without waiting for its reply;
    /// returns its seq. The reply is kept for it (replies, nested requests
    /// and cancels are handled by whatever receives next: a blocking
    /// [`call`](Self::call), [`serve_pending`](Self::serve_pending),
    /// [`next_request`](Self::next_request)); read it with
    /// [`poll_started`](Self::poll_started). Many may be in flight.
    pub fn start_call(
        &mut self,
        target: u32,
        op: Op,
        timeout: Option<Duration>,
    ) -> Result<u32, CallError> {
        let deadline = self.deadline(timeout);
        self.send_owed_cancels(deadline)?;
        let start = self.core.begin_call(self.now(), timeout);
        let seq = start.seq;
        let request = Message::Request(Request {
            seq,
            nested_in: 0,
            target,
            op,
            releases: start.releases,
        });
        let sent = match wire::encode(&request) {
            Ok(bytes) => self.link.send(&bytes, deadline).map_err(CallError::from),
            Err(e) => Err(e.into()),
        };
        if let Err(e) = sent {
            self.core.abandon_call(seq);
            if let Message::Request(r) = request {
                self.core.releases().restore(r.releases);
            }
            return Err(e);
        }
        Ok(seq)
    }

    /// The state of a call from [`start_call`](Self::start_call), without
    /// waiting: its outcome once the reply came (the call is then over),
    /// `Ok(None)` while it is pending, `Err(Timeout)` when its time-out
    /// passed (a cancel is sent).
    pub fn poll_started(&mut self, seq: u32) -> Result<Option<Outcome>, CallError> {
        match self
            .core
            .poll_started(seq, self.now())
            .map_err(|_| CallError::Corrupt("a started call lost its frame"))?
        {
            CallState::Replied(reply) => Ok(Some(reply.outcome)),
            CallState::TimedOut => {
                self.try_send_cancels();
                Err(CallError::Timeout)
            }
            CallState::Aborted => {
                self.try_send_cancels();
                Err(CallError::NestedAborted)
            }
            CallState::Waiting { .. } => Ok(None),
        }
    }

    fn wait_reply(&mut self, seq: u32) -> Result<Outcome, CallError> {
        loop {
            let until = match self
                .core
                .poll_call(seq, self.now())
                .map_err(|_| CallError::Corrupt("a blocked call lost its frame"))?
            {
                CallState::Replied(reply) => return Ok(reply.outcome),
                CallState::TimedOut => {
                    self.try_send_cancels();
                    return Err(CallError::Timeout);
                }
                CallState::Aborted => {
                    self.try_send_cancels();
                    return Err(CallError::NestedAborted);
                }
                CallState::Waiting { until } => Deadline::at(until),
            };
            let bytes = match self.link.recv(until) {
                Ok(bytes) => bytes,
                Err(RecvError::Timeout) => {
                    self.core.time_out(seq);
                    self.try_send_cancels();
                    return Err(CallError::Timeout);
                }
                Err(e) => return Err(e.into()),
            };
            self.dispatch(wire::decode(&bytes)?, until)?;
        }
    }

    /// Feeds a message to the machine and does what it says.
    fn dispatch(&mut self, message: Message, deadline: Deadline) -> Result<(), CallError> {
        let step = match message {
            Message::Reply(mut reply) => {
                self.core
                    .releases()
                    .receive(std::mem::take(&mut reply.releases));
                self.core.on_message(Incoming::Reply {
                    seq: reply.seq,
                    body: reply,
                })
            }
            Message::Request(mut req) => {
                self.core
                    .releases()
                    .receive(std::mem::take(&mut req.releases));
                self.core.on_message(Incoming::Request {
                    seq: req.seq,
                    nested_in: req.nested_in,
                    body: req,
                })
            }
            Message::Cancel { seq } => self.core.on_message(Incoming::Cancel { seq }),
            Message::Release(releases) => {
                self.core.releases().receive(releases);
                Step::Nothing
            }
        };
        if let Step::Serve { seq, body } = step {
            self.serve(seq, body, deadline)?;
        }
        Ok(())
    }

    fn serve(&mut self, seq: u32, req: Request, deadline: Deadline) -> Result<(), CallError> {
        let handler = self.handler.clone();
        let outcome = handler(req, self);
        self.send_answer(seq, outcome, deadline)
    }

    fn send_answer(
        &mut self,
        seq: u32,
        outcome: Outcome,
        deadline: Deadline,
    ) -> Result<(), CallError> {
        match self.core.finish_serve(seq)? {
            Answer::Send { releases } => {
                let bytes = encode_reply(seq, outcome, releases, self.max_message);
                self.link.send(&bytes, deadline)?;
            }
            Answer::Drop => {}
        }
        Ok(())
    }

    /// The next request to serve from the event loop (queued, or arrived
    /// now; requests nested into a blocked call never come here), without
    /// waiting; None when there is none. The caller serves it when it likes,
    /// several at once if it wants (an async handler), and answers each with
    /// [`answer`](Self::answer). [`serve_pending`](Self::serve_pending) is
    /// this loop with the handler.
    pub fn next_request(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<(u32, Request)>, CallError> {
        let deadline = self.deadline(timeout);
        loop {
            if let Some(next) = self.core.next_queued() {
                return Ok(Some(next));
            }
            match self.link.try_recv()? {
                Some(bytes) => self.dispatch(wire::decode(&bytes)?, deadline)?,
                None => return Ok(None),
            }
        }
    }

    /// Answers request `seq` handed out by [`next_request`](Self::next_request)
    /// (dropped if the main thread cancelled it meanwhile).
    pub fn answer(
        &mut self,
        seq: u32,
        outcome: Outcome,
        timeout: Option<Duration>,
    ) -> Result<(), CallError> {
        let deadline = self.deadline(timeout);
        self.send_answer(seq, outcome, deadline)
    }

    /// A request nested into our blocked call `into` cannot finish while we
    /// block (its handler would have to wait for the event loop): that call
    /// fails with [`CallError::NestedAborted`]. False if `into` is not blocked.
    pub fn abort_call(&mut self, into: u32) -> bool {
        self.core.abort_call(into)
    }

    /// Sends owed cancels now if the slot is free; the rest go before the
    /// next call.
    fn try_send_cancels(&mut self) {
        let now = self.deadline(Some(Duration::ZERO));
        let _ = self.send_owed_cancels(now);
    }

    fn send_owed_cancels(&mut self, deadline: Deadline) -> Result<(), CallError> {
        while let Some(seq) = self.core.owed_cancel() {
            let bytes = wire::encode(&Message::Cancel { seq })?;
            self.link.send(&bytes, deadline)?;
            self.core.cancel_sent(seq);
        }
        Ok(())
    }

    /// Serves every request that is queued or has arrived, without waiting
    /// for more; late replies are dropped. Returns how many were served.
    pub fn serve_pending(&mut self, timeout: Option<Duration>) -> Result<usize, CallError> {
        let deadline = self.deadline(timeout);
        let mut served = 0;
        while let Some((seq, req)) = self.next_request(timeout)? {
            self.serve(seq, req, deadline)?;
            served += 1;
        }
        Ok(served)
    }

    /// Waits until a request arrives (or the time-out) and serves it.
    pub fn serve_one(&mut self, timeout: Option<Duration>) -> Result<(), CallError> {
        let deadline = self.deadline(timeout);
        while !self.core.has_queued() {
            let bytes = self.link.recv(deadline)?;
            self.dispatch(wire::decode(&bytes)?, deadline)?;
        }
        let (seq, req) = self.core.next_queued().expect("checked non-empty");
        self.serve(seq, req, deadline)
    }

    /// Adds a release to piggyback on the next message.
    pub fn queue_release(&mut self, release: Release) {
        self.core.releases().queue(release);
    }

    /// Releases received from the main thread since the last call.
    pub fn take_releases(&mut self) -> Vec<Release> {
        self.core.releases().take_received()
    }

    /// What happened so far.
    pub fn stats(&self) -> Stats {
        self.core.stats()
    }

    /// Closes the channel: every waiter on either side fails with `Closed`.
    pub fn close(&self) {
        self.link.close();
    }
}

/// What [`MainSide::poll`] surfaces besides the requests it handles.
#[derive(Clone, Debug, PartialEq)]
pub enum MainEvent {
    /// The reply to our call `seq` (from [`MainSide::start_call`]).
    Reply {
        /// The seq `start_call` returned.
        seq: u32,
        /// How it ended.
        outcome: Outcome,
    },
    /// The worker gave up on its request `seq` that we deferred; a later
    /// [`MainSide::reply`] to it is dropped.
    Cancelled {
        /// The worker's seq.
        seq: u32,
    },
}

/// A call [`MainSide::start_call`] sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Started {
    /// Its seq (its reply comes as [`MainEvent::Reply`] with this seq).
    pub seq: u32,
    /// 0, or the worker's blocked call it was nested into.
    pub nested_in: u32,
}

/// The page's wait-for tracker, shared by every [`MainSide`] of a thread.
pub type SharedTracker = Arc<Mutex<WaitForTracker>>;

/// The main thread's end of a channel: it never blocks. A host of
/// [`MainCore`].
pub struct MainSide<M: SharedMemory + Clone> {
    tx: Producer<M>,
    rx: Consumer<M>,
    capacity: usize,
    max_message: usize,
    outbox: VecDeque<OutgoingMessage<M>>,
    core: MainCore,
    /// The page's tracker and this worker's id in it.
    tracker: Option<(SharedTracker, u32)>,
    /// Events of a poll that ended in an error, returned by the next one.
    events: Vec<MainEvent>,
}

/// Runs `f` with the machine and, when there is one, the locked tracker.
macro_rules! tracked {
    ($self:ident, |$core:ident, $t:ident| $body:expr) => {{
        match &$self.tracker {
            Some((shared, worker)) => {
                let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
                let $t = Some(Tracked {
                    tracker: &mut guard,
                    worker: *worker,
                });
                let $core = &mut $self.core;
                $body
            }
            None => {
                let $t: Option<Tracked<'_>> = None;
                let $core = &mut $self.core;
                $body
            }
        }
    }};
}

impl<M: SharedMemory + Clone> MainSide<M> {
    /// The main thread's end: sends on `to_worker`, receives on `to_main`.
    /// Without a tracker, a call made while a worker request is deferred is
    /// nested into it.
    pub fn new(mem: M, config: &Config) -> Result<Self, ConfigError> {
        config.validate(mem.byte_len())?;
        Ok(MainSide {
            tx: Producer::new(mem.clone(), Layout::to_worker(config.capacity), config),
            rx: Consumer::new(mem, Layout::to_main(config.capacity), config),
            capacity: config.capacity,
            max_message: config.max_message,
            outbox: VecDeque::new(),
            core: MainCore::new(),
            tracker: None,
            events: Vec::new(),
        })
    }

    /// [`new`](Self::new), with the worker added to the page's wait-for
    /// tracker: deferred requests are tracked as calls the worker is blocked
    /// in, and the tracker decides (or refuses) every call into the worker.
    pub fn with_tracker(
        mem: M,
        config: &Config,
        tracker: SharedTracker,
        options: WorkerOptions<'_>,
    ) -> Result<Self, ConfigError> {
        let mut side = Self::new(mem, config)?;
        let id = tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .add_worker(options);
        side.tracker = Some((tracker, id));
        Ok(side)
    }

    /// This worker's id in the tracker (0 without one).
    pub fn worker_id(&self) -> u32 {
        self.tracker.as_ref().map_or(0, |(_, id)| *id)
    }

    /// Drains every complete message: requests go to `handler`, which
    /// answers now (`Some`) or later (`None`, then [`reply`](Self::reply));
    /// replies to our calls and cancels come back as events. Writes what
    /// fits of the outgoing queue. Never blocks.
    ///
    /// An error leaves the side usable unless it is `Closed` or `Corrupt`;
    /// events gathered before it are kept for the next poll.
    pub fn poll<H>(&mut self, mut handler: H) -> Result<Vec<MainEvent>, CallError>
    where
        H: FnMut(Request) -> Option<Outcome>,
    {
        self.flush()?;
        while let Some(bytes) = self.rx.try_recv()? {
            let step = match wire::decode(&bytes)? {
                Message::Request(mut req) => {
                    self.core
                        .releases()
                        .receive(std::mem::take(&mut req.releases));
                    if let Some((shared, worker)) = &self.tracker {
                        let label = request_label(&req);
                        let mut t = shared.lock().unwrap_or_else(|e| e.into_inner());
                        // A seq served twice is the worker's bookkeeping bug;
                        // the tracker keeps the first.
                        let _ = t.begin_serving(*worker, req.seq, &label);
                    }
                    let msg = Incoming::Request {
                        seq: req.seq,
                        nested_in: req.nested_in,
                        body: req,
                    };
                    tracked!(self, |core, t| core.on_message(msg, t))
                }
                Message::Reply(mut reply) => {
                    self.core
                        .releases()
                        .receive(std::mem::take(&mut reply.releases));
                    let msg = Incoming::Reply {
                        seq: reply.seq,
                        body: reply,
                    };
                    tracked!(self, |core, t| core.on_message(msg, t))
                }
                Message::Cancel { seq } => {
                    tracked!(self, |core, t| core
                        .on_message::<Request, Reply>(Incoming::Cancel { seq }, t))
                }
                Message::Release(releases) => {
                    self.core.releases().receive(releases);
                    MainStep::Nothing
                }
            };
            match step {
                MainStep::Serve { seq, body } => {
                    if let Some(outcome) = handler(body) {
                        self.reply(seq, outcome)?;
                    }
                }
                MainStep::Replied { seq, body, .. } => self.events.push(MainEvent::Reply {
                    seq,
                    outcome: body.outcome,
                }),
                MainStep::Cancelled { seq } => self.events.push(MainEvent::Cancelled { seq }),
                MainStep::Late(_) | MainStep::Nothing => {}
            }
        }
        self.flush()?;
        Ok(std::mem::take(&mut self.events))
    }

    /// Answers the worker's request `seq` (now, or after deferring it). An
    /// answer to a request the worker cancelled is dropped.
    pub fn reply(&mut self, seq: u32, outcome: Outcome) -> Result<(), CallError> {
        match tracked!(self, |core, t| core.finish_serve(seq, t))? {
            Answer::Send { releases } => {
                let bytes = encode_reply(seq, outcome, releases, self.max_message);
                self.enqueue(bytes)
            }
            Answer::Drop => Ok(()),
        }
    }

    /// Starts a call into the worker; its reply comes from a later
    /// [`poll`](Self::poll) as [`MainEvent::Reply`]. The machine (and the
    /// tracker, when there is one) decides whether it is nested into a
    /// deferred request; `label` names it in deadlock messages (e.g.
    /// `proxy.worker_task()`), `context` is the deferred worker request
    /// whose handling makes it, when known. A refused call fails with
    /// [`CallError::Deadlock`] and sends nothing.
    pub fn start_call(
        &mut self,
        target: u32,
        op: Op,
        label: &str,
        context: Option<CallRef>,
    ) -> Result<Started, CallError> {
        let now = self.tx.memory().now();
        let start = tracked!(self, |core, t| core
            .start_call(now, None, t, label, context))?;
        let request = Message::Request(Request {
            seq: start.seq,
            nested_in: start.nested_in,
            target,
            op,
            releases: start.releases,
        });
        match wire::encode(&request)
            .map_err(CallError::from)
            .and_then(|b| self.enqueue(b))
        {
            Ok(()) => Ok(Started {
                seq: start.seq,
                nested_in: start.nested_in,
            }),
            Err(e) => {
                let Message::Request(r) = request else {
                    unreachable!("built as a request above")
                };
                tracked!(self, |core, t| core.call_not_sent(start.seq, r.releases, t));
                Err(e)
            }
        }
    }

    /// The seq the next [`start_call`](Self::start_call) will use.
    pub fn peek_seq(&self) -> u32 {
        self.core.peek_seq()
    }

    /// Gives up on our call `seq` (a time-out above this layer): tells the
    /// worker, and drops its reply if it still comes.
    pub fn cancel_call(&mut self, seq: u32) -> Result<(), CallError> {
        tracked!(self, |core, t| core.cancel_call(seq, t));
        for seq in self.core.take_cancels() {
            self.enqueue(wire::encode(&Message::Cancel { seq })?)?;
        }
        Ok(())
    }

    fn enqueue(&mut self, bytes: Vec<u8>) -> Result<(), CallError> {
        let out = self.tx.start(bytes)?;
        self.outbox.push_back(out);
        self.flush()
    }

    /// Writes queued messages in order while the worker frees the slot.
    fn flush(&mut self) -> Result<(), CallError> {
        while let Some(front) = self.outbox.front_mut() {
            match front.poll_write()? {
                Progress::Done => {
                    self.outbox.pop_front();
                }
                Progress::WaitingForSlot => break,
            }
        }
        Ok(())
    }

    /// True while outgoing messages wait for the worker to take frames.
    pub fn has_outgoing(&self) -> bool {
        !self.outbox.is_empty()
    }

    /// `(slot, value)` pairs to wait on asynchronously before the next
    /// poll: an incoming frame, and the slot freeing if output is queued.
    pub fn wait_targets(&self) -> Vec<(usize, i32)> {
        let mut targets = vec![self.rx.wait_target()];
        if let Some(out) = self.outbox.front() {
            targets.push(out.wait_target());
        }
        targets
    }

    /// Worker requests deferred and not answered yet (the worker is blocked
    /// in each one), innermost last.
    pub fn deferred(&self) -> impl Iterator<Item = u32> + '_ {
        self.core.serving().iter().copied()
    }

    /// Adds a release to piggyback on the next message.
    pub fn queue_release(&mut self, release: Release) {
        self.core.releases().queue(release);
    }

    /// Releases received from the worker since the last call.
    pub fn take_releases(&mut self) -> Vec<Release> {
        self.core.releases().take_received()
    }

    /// What happened so far.
    pub fn stats(&self) -> Stats {
        self.core.stats()
    }

    /// Closes the channel: every waiter on either side fails with `Closed`.
    pub fn close(&self) {
        close_channel(self.tx.memory(), self.capacity);
    }
}
