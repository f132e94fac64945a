//! The call layer over one channel's two mailboxes (docs/protocol.md §3, §6).
//!
//! [`WorkerSide`] may block: [`WorkerSide::call`] sends a request and waits
//! on its inbound mailbox for the reply with the same seq, serving nested
//! requests from the main thread while it waits, dropping late replies of
//! calls that timed out. [`MainSide`] never blocks: [`MainSide::poll`]
//! drains every complete message, answers requests through a handler and
//! writes replies with the non-blocking frame writer; a handler may defer
//! its answer ([`MainSide::reply`] later), which is also how the main thread
//! makes a nested call into a blocked worker before it answers.
//!
//! The browser bridge has the same shape in JS (`endpoint.js`); this is the
//! reference, driven natively by the tests and `examples/native_bridge.rs`.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use crate::mailbox::{
    close_channel, Config, ConfigError, Consumer, Deadline, Layout, OutgoingMessage, Producer,
    Progress, RecvError, SendError, TryRecvError,
};
use crate::message::{Message, Op, Outcome, Release, Reply, Request};
use crate::shm::SharedMemory;
use crate::value::{ErrorValue, Value};
use crate::wire;

/// Request numbers: 1, 2, 3 ... wrapping past `u32::MAX` to 1 (0 means
/// "not nested" in `Request::nested_in`, so it is never a seq).
#[derive(Clone, Debug, Default)]
pub struct SeqCounter(u32);

impl SeqCounter {
    /// A counter whose next seq is `last + 1` (skipping 0).
    pub fn after(last: u32) -> Self {
        SeqCounter(last)
    }

    /// The seq the next [`next`](Self::next) returns.
    pub fn peek(&self) -> u32 {
        self.clone().next()
    }

    /// The next seq.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(1);
        if self.0 == 0 {
            self.0 = 1;
        }
        self.0
    }
}

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

/// Counters a side keeps, so tests and `stats()` can see what happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls this side made.
    pub calls: u64,
    /// Requests of the other side this side answered.
    pub served: u64,
    /// Replies that matched no waiting call (late replies) and were dropped.
    pub late_replies_dropped: u64,
    /// `Cancel`s sent for calls that timed out.
    pub cancels_sent: u64,
}

/// An `Outcome` that throws an Error with `name` and `message`.
pub fn thrown(name: &str, message: &str) -> Outcome {
    Outcome::Thrown(Value::Error(Box::new(ErrorValue::new(name, message))))
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
pub type WorkerHandler<M> = Arc<dyn Fn(Request, &mut WorkerSide<M>) -> Outcome + Send + Sync>;

/// The worker's end of a channel: it may block.
pub struct WorkerSide<M: SharedMemory> {
    tx: Producer<M>,
    rx: Consumer<M>,
    capacity: usize,
    max_message: usize,
    seq: SeqCounter,
    /// Seqs of our calls that are waiting for a reply, innermost last.
    blocked: Vec<u32>,
    /// Requests not nested in a blocked call, for `serve_pending`.
    queued: VecDeque<Request>,
    handler: WorkerHandler<M>,
    owed_cancels: Vec<u32>,
    releases_out: Vec<Release>,
    releases_in: Vec<Release>,
    stats: Stats,
}

impl<M: SharedMemory> WorkerSide<M> {
    /// The worker's end: sends on `to_main`, receives on `to_worker`.
    pub fn new(mem: M, config: &Config) -> Result<Self, ConfigError>
    where
        M: Clone,
    {
        config.validate(mem.byte_len())?;
        Ok(WorkerSide {
            tx: Producer::new(mem.clone(), Layout::to_main(config.capacity), config),
            rx: Consumer::new(mem, Layout::to_worker(config.capacity), config),
            capacity: config.capacity,
            max_message: config.max_message,
            seq: SeqCounter::default(),
            blocked: Vec::new(),
            queued: VecDeque::new(),
            handler: Arc::new(|req, _| {
                thrown("Error", &format!("the worker exposes nothing: request {} has no handler; set one with WorkerSide::set_handler", req.seq))
            }),
            owed_cancels: Vec::new(),
            releases_out: Vec::new(),
            releases_in: Vec::new(),
            stats: Stats::default(),
        })
    }

    /// Sets what answers the main thread's requests (nested ones while a
    /// call waits, the others in [`serve_pending`](Self::serve_pending)).
    pub fn set_handler(
        &mut self,
        handler: impl Fn(Request, &mut WorkerSide<M>) -> Outcome + Send + Sync + 'static,
    ) {
        self.handler = Arc::new(handler);
    }

    /// Calls `op` on `target` of the main thread and waits for the reply.
    ///
    /// While waiting it serves requests nested in this call and drops
    /// replies to other seqs. On time-out it sends `Cancel { seq }` (or
    /// queues it for the next call when the mailbox is busy).
    pub fn call(
        &mut self,
        target: u32,
        op: Op,
        timeout: Option<Duration>,
    ) -> Result<Outcome, CallError> {
        let deadline = Deadline::after(self.tx.memory(), timeout);
        self.send_owed_cancels(deadline)?;
        let seq = self.seq.next();
        self.stats.calls += 1;
        let request = Message::Request(Request {
            seq,
            nested_in: 0,
            target,
            op,
            releases: std::mem::take(&mut self.releases_out),
        });
        let bytes = wire::encode(&request)?;
        self.tx.send(&bytes, deadline)?;
        self.blocked.push(seq);
        let result = self.wait_reply(seq, deadline);
        self.blocked.pop();
        if let Err(CallError::Timeout) = result {
            self.cancel(seq);
        }
        result
    }

    fn wait_reply(&mut self, seq: u32, deadline: Deadline) -> Result<Outcome, CallError> {
        loop {
            let bytes = self.rx.recv(deadline)?;
            match wire::decode(&bytes)? {
                Message::Reply(reply) if reply.seq == seq => {
                    self.releases_in.extend(reply.releases);
                    return Ok(reply.outcome);
                }
                message => self.dispatch(message, deadline)?,
            }
        }
    }

    /// Handles a message that is not the awaited reply.
    fn dispatch(&mut self, message: Message, deadline: Deadline) -> Result<(), CallError> {
        match message {
            Message::Reply(reply) => {
                self.releases_in.extend(reply.releases);
                self.stats.late_replies_dropped += 1;
            }
            Message::Request(req)
                if req.nested_in != 0 && self.blocked.contains(&req.nested_in) =>
            {
                self.serve(req, deadline)?;
            }
            Message::Request(req) => self.queued.push_back(req),
            Message::Cancel { seq } => self.queued.retain(|r| r.seq != seq),
            Message::Release(releases) => self.releases_in.extend(releases),
        }
        Ok(())
    }

    fn serve(&mut self, mut req: Request, deadline: Deadline) -> Result<(), CallError> {
        self.releases_in.append(&mut req.releases);
        let seq = req.seq;
        let handler = self.handler.clone();
        let outcome = handler(req, self);
        self.stats.served += 1;
        let bytes = encode_reply(
            seq,
            outcome,
            std::mem::take(&mut self.releases_out),
            self.max_message,
        );
        self.tx.send(&bytes, deadline)?;
        Ok(())
    }

    /// Sends `Cancel` now if the slot is free, else on the next call.
    fn cancel(&mut self, seq: u32) {
        self.stats.cancels_sent += 1;
        self.owed_cancels.push(seq);
        let now = Deadline::after(self.tx.memory(), Some(Duration::ZERO));
        let _ = self.send_owed_cancels(now);
    }

    fn send_owed_cancels(&mut self, deadline: Deadline) -> Result<(), CallError> {
        while let Some(&seq) = self.owed_cancels.first() {
            let bytes = wire::encode(&Message::Cancel { seq })?;
            self.tx.send(&bytes, deadline)?;
            self.owed_cancels.remove(0);
        }
        Ok(())
    }

    /// Serves every request that is queued or has arrived, without waiting
    /// for more; late replies are dropped. Returns how many were served.
    pub fn serve_pending(&mut self, timeout: Option<Duration>) -> Result<usize, CallError> {
        let deadline = Deadline::after(self.tx.memory(), timeout);
        let mut served = 0;
        loop {
            if let Some(req) = self.queued.pop_front() {
                self.serve(req, deadline)?;
                served += 1;
                continue;
            }
            match self.rx.try_recv()? {
                Some(bytes) => self.dispatch(wire::decode(&bytes)?, deadline)?,
                None => return Ok(served),
            }
        }
    }

    /// Waits until a request arrives (or the time-out) and serves it.
    pub fn serve_one(&mut self, timeout: Option<Duration>) -> Result<(), CallError> {
        let deadline = Deadline::after(self.tx.memory(), timeout);
        while self.queued.is_empty() {
            let bytes = self.rx.recv(deadline)?;
            self.dispatch(wire::decode(&bytes)?, deadline)?;
        }
        let req = self.queued.pop_front().expect("checked non-empty");
        self.serve(req, deadline)
    }

    /// Adds a release to piggyback on the next message.
    pub fn queue_release(&mut self, release: Release) {
        self.releases_out.push(release);
    }

    /// Releases received from the main thread since the last call.
    pub fn take_releases(&mut self) -> Vec<Release> {
        std::mem::take(&mut self.releases_in)
    }

    /// What happened so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Closes the channel: every waiter on either side fails with `Closed`.
    pub fn close(&self) {
        close_channel(self.tx.memory(), self.capacity);
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
    /// [`MainSide::reply`] is still allowed (the worker drops it).
    Cancelled {
        /// The worker's seq.
        seq: u32,
    },
}

/// The main thread's end of a channel: it never blocks.
pub struct MainSide<M: SharedMemory + Clone> {
    tx: Producer<M>,
    rx: Consumer<M>,
    capacity: usize,
    max_message: usize,
    outbox: VecDeque<OutgoingMessage<M>>,
    seq: SeqCounter,
    /// Our calls into the worker that have no reply yet.
    pending: HashSet<u32>,
    /// Worker requests whose handler deferred the answer: the worker is
    /// blocked in each of them (input for the deadlock tracker).
    deferred: HashSet<u32>,
    releases_out: Vec<Release>,
    releases_in: Vec<Release>,
    /// Events of a poll that ended in an error, returned by the next one.
    events: Vec<MainEvent>,
    stats: Stats,
}

impl<M: SharedMemory + Clone> MainSide<M> {
    /// The main thread's end: sends on `to_worker`, receives on `to_main`.
    pub fn new(mem: M, config: &Config) -> Result<Self, ConfigError> {
        config.validate(mem.byte_len())?;
        Ok(MainSide {
            tx: Producer::new(mem.clone(), Layout::to_worker(config.capacity), config),
            rx: Consumer::new(mem, Layout::to_main(config.capacity), config),
            capacity: config.capacity,
            max_message: config.max_message,
            outbox: VecDeque::new(),
            seq: SeqCounter::default(),
            pending: HashSet::new(),
            deferred: HashSet::new(),
            releases_out: Vec::new(),
            releases_in: Vec::new(),
            events: Vec::new(),
            stats: Stats::default(),
        })
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
            match wire::decode(&bytes)? {
                Message::Request(mut req) => {
                    self.releases_in.append(&mut req.releases);
                    let seq = req.seq;
                    match handler(req) {
                        Some(outcome) => self.reply(seq, outcome)?,
                        None => {
                            self.deferred.insert(seq);
                        }
                    }
                }
                Message::Reply(reply) => {
                    self.releases_in.extend(reply.releases);
                    if self.pending.remove(&reply.seq) {
                        self.events.push(MainEvent::Reply {
                            seq: reply.seq,
                            outcome: reply.outcome,
                        });
                    } else {
                        self.stats.late_replies_dropped += 1;
                    }
                }
                Message::Cancel { seq } => {
                    if self.deferred.contains(&seq) {
                        self.events.push(MainEvent::Cancelled { seq });
                    }
                }
                Message::Release(releases) => self.releases_in.extend(releases),
            }
        }
        self.flush()?;
        Ok(std::mem::take(&mut self.events))
    }

    /// Answers the worker's request `seq` (now, or after deferring it).
    pub fn reply(&mut self, seq: u32, outcome: Outcome) -> Result<(), CallError> {
        self.deferred.remove(&seq);
        self.stats.served += 1;
        let bytes = encode_reply(
            seq,
            outcome,
            std::mem::take(&mut self.releases_out),
            self.max_message,
        );
        self.enqueue(bytes)
    }

    /// Starts a call into the worker; its reply comes from a later
    /// [`poll`](Self::poll) as [`MainEvent::Reply`]. `nested_in` is the
    /// seq of the worker's blocked call this one nests into, or 0.
    pub fn start_call(&mut self, target: u32, op: Op, nested_in: u32) -> Result<u32, CallError> {
        let seq = self.seq.next();
        let request = Message::Request(Request {
            seq,
            nested_in,
            target,
            op,
            releases: std::mem::take(&mut self.releases_out),
        });
        self.enqueue(wire::encode(&request)?)?;
        self.pending.insert(seq);
        self.stats.calls += 1;
        Ok(seq)
    }

    /// The seq the next [`start_call`](Self::start_call) will use, so a
    /// deadlock tracker can record the call before it is sent.
    pub fn peek_seq(&self) -> u32 {
        self.seq.peek()
    }

    /// Gives up on our call `seq` (a time-out above this layer): tells the
    /// worker, and drops its reply if it still comes.
    pub fn cancel_call(&mut self, seq: u32) -> Result<(), CallError> {
        if self.pending.remove(&seq) {
            self.stats.cancels_sent += 1;
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
    /// in each one).
    pub fn deferred(&self) -> impl Iterator<Item = u32> + '_ {
        self.deferred.iter().copied()
    }

    /// Adds a release to piggyback on the next message.
    pub fn queue_release(&mut self, release: Release) {
        self.releases_out.push(release);
    }

    /// Releases received from the worker since the last call.
    pub fn take_releases(&mut self) -> Vec<Release> {
        std::mem::take(&mut self.releases_in)
    }

    /// What happened so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Closes the channel: every waiter on either side fails with `Closed`.
    pub fn close(&self) {
        close_channel(self.tx.memory(), self.capacity);
    }
}
