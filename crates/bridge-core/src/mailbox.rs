//! The frame protocol of docs/protocol.md §4: a single-producer,
//! single-consumer mailbox in shared memory, one frame at a time.
//!
//! A channel is two mailboxes in one region, `to_main` at offset 0 and
//! `to_worker` right after it ([`Layout`]). Each mailbox is a 32-byte header
//! of i32 slots and `capacity` data bytes:
//!
//! | slot | name | meaning |
//! |---|---|---|
//! | 0 | `WRITTEN` | frames written so far (wrapping) |
//! | 1 | `READ` | frames consumed so far |
//! | 2 | `FRAME_LEN` | bytes in the current frame |
//! | 3 | `MSG_LEN` | bytes of the whole message |
//! | 4 | `FLAGS` | `FIRST`, `LAST`, `ABORT` |
//! | 5 | `CLOSED` | non-zero once either side closed |
//! | 6 | `STATE` | the consumer's wait state ([`state`] bits) |
//!
//! The producer writes a frame only when `READ == WRITTEN`, then publishes it
//! with `store(WRITTEN, WRITTEN + 1)`; the consumer copies it out and frees
//! the slot with `store(READ, WRITTEN)`. `WRITTEN` only grows, so "nothing
//! yet", "an empty message" and "a message whose value is undefined" never
//! share a state value. A producer notifies after a frame unless the
//! consumer's `STATE` has `POLLING` (it clears that bit before its last
//! look at `WRITTEN`, both seq-cst, so one of the two sees the other).
//!
//! Two producer shapes share one frame writer: [`Producer::send`] blocks (a
//! worker), [`OutgoingMessage::poll_write`] never blocks (the main thread:
//! it reports [`Progress::WaitingForSlot`] and the caller resumes it after
//! `Atomics.waitAsync` on [`OutgoingMessage::wait_target`]). The consumer
//! has [`Consumer::try_recv`] (never blocks, assembles messages across calls)
//! and [`Consumer::recv`] (spin, then park, re-check).

use std::time::Duration;

use crate::shm::SharedMemory;

pub use crate::protocol::constants::{
    flag, slot, state, DEFAULT_CAPACITY, DEFAULT_MAX_MESSAGE, HEADER_BYTES, MAX_LEN,
};

/// Byte length of a channel's region: both mailboxes.
pub fn channel_bytes(capacity: usize) -> usize {
    2 * (HEADER_BYTES + capacity)
}

/// Where one mailbox lies in the region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Byte offset of the header (a multiple of 8).
    pub offset: usize,
    /// Data bytes (a multiple of 8).
    pub capacity: usize,
}

impl Layout {
    /// The worker -> main mailbox, first in the region.
    pub fn to_main(capacity: usize) -> Self {
        Layout {
            offset: 0,
            capacity,
        }
    }

    /// The main -> worker mailbox, right after `to_main`.
    pub fn to_worker(capacity: usize) -> Self {
        Layout {
            offset: HEADER_BYTES + capacity,
            capacity,
        }
    }

    /// Absolute i32 index of a header slot, for `SharedMemory` calls.
    pub fn slot(&self, s: usize) -> usize {
        self.offset / 4 + s
    }

    /// Byte offset of the data area.
    pub fn data(&self) -> usize {
        self.offset + HEADER_BYTES
    }

    /// Byte offset just past this mailbox.
    pub fn end(&self) -> usize {
        self.data() + self.capacity
    }
}

/// Sizes and waiting policy of a channel. Both sides should use the same
/// `capacity`; each side enforces its own `max_message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Data bytes per mailbox, a multiple of 8, at least 8.
    pub capacity: usize,
    /// Largest message this side sends or accepts.
    pub max_message: usize,
    /// Checks of a slot (with `pause()` between) before parking.
    pub spin: u32,
    /// Longest single park. A waiter re-checks `CLOSED` at least this
    /// often: `CLOSED` is not the slot it waits on, so a close that lands
    /// between its `CLOSED` check and its `wait` cannot wake it; the
    /// close's notify wakes every waiter already parked.
    pub park_slice: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            capacity: DEFAULT_CAPACITY,
            max_message: DEFAULT_MAX_MESSAGE,
            spin: 100,
            park_slice: Duration::from_millis(50),
        }
    }
}

/// A [`Config`] that cannot describe a valid channel.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `capacity` is 0, not a multiple of 8 or too large.
    #[error("mailbox capacity {0} is invalid: use a multiple of 8 between 8 and {MAX_LEN} bytes")]
    Capacity(usize),
    /// `max_message` is too large for an i32 length slot.
    #[error("max_message {0} is invalid: use at most {MAX_LEN} bytes")]
    MaxMessage(usize),
    /// The region is smaller than the two mailboxes.
    #[error("shared memory of {have} bytes is too small for two mailboxes of capacity {capacity} ({need} bytes); allocate channel_bytes(capacity)")]
    TooSmall {
        /// Bytes available.
        have: usize,
        /// Bytes needed.
        need: usize,
        /// Configured capacity.
        capacity: usize,
    },
}

impl Config {
    /// Checks the sizes; `byte_len` is the region's size.
    pub fn validate(&self, byte_len: usize) -> Result<(), ConfigError> {
        if self.capacity == 0 || self.capacity % 8 != 0 || self.capacity > MAX_LEN {
            return Err(ConfigError::Capacity(self.capacity));
        }
        if self.max_message > MAX_LEN {
            return Err(ConfigError::MaxMessage(self.max_message));
        }
        let need = channel_bytes(self.capacity);
        if byte_len < need {
            return Err(ConfigError::TooSmall {
                have: byte_len,
                need,
                capacity: self.capacity,
            });
        }
        Ok(())
    }
}

/// A point in time on the memory's clock ([`SharedMemory::now`]), or never.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Option<Duration>);

impl Deadline {
    /// Wait without limit.
    pub const NEVER: Deadline = Deadline(None);

    /// The point `at` on the memory's clock (`None`: never).
    pub fn at(at: Option<Duration>) -> Self {
        Deadline(at)
    }

    /// `timeout` from now; `None` is [`Deadline::NEVER`].
    pub fn after<M: SharedMemory + ?Sized>(mem: &M, timeout: Option<Duration>) -> Self {
        Deadline(timeout.map(|t| mem.now().saturating_add(t)))
    }

    /// Time left: `None` for never, `Some(ZERO)` once passed.
    pub fn remaining<M: SharedMemory + ?Sized>(&self, mem: &M) -> Option<Duration> {
        self.0.map(|at| at.saturating_sub(mem.now()))
    }

    /// True once the deadline has passed.
    pub fn expired<M: SharedMemory + ?Sized>(&self, mem: &M) -> bool {
        self.remaining(mem) == Some(Duration::ZERO)
    }

    /// Time left at `now` on the deadline's clock: `None` for never,
    /// `Some(ZERO)` once passed (for a link with a clock of its own, see
    /// `channel::WorkerLink`).
    pub fn remaining_at(&self, now: Duration) -> Option<Duration> {
        self.0.map(|at| at.saturating_sub(now))
    }
}

/// Why a [`Producer::send`] or [`OutgoingMessage::poll_write`] failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The consumer did not free the slot in time.
    #[error("send timed out: the other side did not take the previous frame in time (busy or stuck); retry, or raise the time-out")]
    Timeout,
    /// The channel was closed.
    #[error("channel closed: the other side closed the bridge or terminated; create a new bridge")]
    Closed,
    /// The message exceeds this side's `max_message`; nothing was written.
    #[error("message of {len} bytes exceeds max_message of {max} bytes; raise max_message when creating the bridge, or send less")]
    TooLarge {
        /// Bytes of the message.
        len: usize,
        /// Configured maximum.
        max: usize,
    },
    /// A blocking send on memory whose `can_block()` is false.
    #[error(
        "this thread may not block (a browser main thread); use the non-blocking OutgoingMessage"
    )]
    WouldBlock,
}

/// Why a [`Consumer::try_recv`] failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TryRecvError {
    /// The channel was closed and no frame is pending.
    #[error("channel closed: the other side closed the bridge or terminated; create a new bridge")]
    Closed,
    /// A message over this side's `max_message` arrived; its frames were
    /// discarded and the mailbox is ready for the next message.
    #[error("incoming message of {len} bytes exceeds max_message of {max} bytes and was dropped; raise max_message when creating the bridge")]
    TooLarge {
        /// Bytes the producer announced.
        len: usize,
        /// Configured maximum.
        max: usize,
    },
    /// The header holds values no conforming producer writes.
    #[error("mailbox protocol violation: {0}; both sides must run the same worker-bridge protocol version")]
    Corrupt(&'static str),
}

/// Why a [`Consumer::recv`] failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// Nothing complete arrived before the deadline; a partial message is
    /// kept and the next call continues it.
    #[error(
        "receive timed out: no complete message arrived in time; retry, or raise the time-out"
    )]
    Timeout,
    /// See [`TryRecvError::Closed`].
    #[error("channel closed: the other side closed the bridge or terminated; create a new bridge")]
    Closed,
    /// See [`TryRecvError::TooLarge`].
    #[error("incoming message of {len} bytes exceeds max_message of {max} bytes and was dropped; raise max_message when creating the bridge")]
    TooLarge {
        /// Bytes the producer announced.
        len: usize,
        /// Configured maximum.
        max: usize,
    },
    /// See [`TryRecvError::Corrupt`].
    #[error("mailbox protocol violation: {0}; both sides must run the same worker-bridge protocol version")]
    Corrupt(&'static str),
    /// A blocking receive on memory whose `can_block()` is false.
    #[error(
        "this thread may not block (a browser main thread); use try_recv after Atomics.waitAsync"
    )]
    WouldBlock,
}

impl From<TryRecvError> for RecvError {
    fn from(e: TryRecvError) -> Self {
        match e {
            TryRecvError::Closed => RecvError::Closed,
            TryRecvError::TooLarge { len, max } => RecvError::TooLarge { len, max },
            TryRecvError::Corrupt(what) => RecvError::Corrupt(what),
        }
    }
}

/// Where a non-blocking write stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Every frame is written.
    Done,
    /// The consumer has not taken the last frame yet; wait for `READ` to
    /// change (see [`OutgoingMessage::wait_target`]) and poll again.
    WaitingForSlot,
}

/// Why a blocking wait ended without the slot changing.
enum Stop {
    Timeout,
    Closed,
}

/// Spin, then park in slices, until `slot` no longer holds `seen`.
///
/// Each park is at most `park_slice` long because `CLOSED` is a different
/// slot: a close between our `CLOSED` check and the `wait` cannot wake us,
/// so we re-check it after every slice.
///
/// Waiting for a frame (`WRITTEN`), the consumer says it spins in `STATE`
/// (producers skip the notify meanwhile) and clears that before it parks;
/// it leaves `STATE` at `AWAKE`, which keeps producers notifying, since
/// its caller may wait next without this function (`wait_target`).
fn wait_change<M: SharedMemory + ?Sized>(
    mem: &M,
    layout: &Layout,
    which: usize,
    seen: i32,
    spin: u32,
    park_slice: Duration,
    deadline: Deadline,
) -> Result<(), Stop> {
    let consumer = which == slot::WRITTEN;
    let st = layout.slot(slot::STATE);
    if consumer {
        set_state(mem, st, state::AWAKE | state::POLLING | state::SPINNING);
    }
    let result = park_until_change(mem, layout, which, seen, spin, park_slice, deadline);
    if consumer {
        set_state(mem, st, state::AWAKE);
    }
    result
}

/// Every write to `STATE` is a read-modify-write: `f` of the value there.
/// With the producer's read of `STATE` also an RMW ([`consumer_polls`]),
/// they are ordered in `STATE`'s modification order and form one release
/// sequence even where seq-cst loads and stores are not (loom models them
/// as acquire/release): either the producer sees `POLLING` cleared and
/// notifies, or the consumer's clearing RMW reads (through RMWs only) from
/// the producer's and so sees its `WRITTEN`. JS's `Atomics` are
/// sequentially consistent, so bridge-js uses plain stores. Returns the
/// value replaced.
fn update_state<M: SharedMemory + ?Sized>(mem: &M, st: usize, f: impl Fn(i32) -> i32) -> i32 {
    loop {
        let v = mem.load(st);
        if mem.compare_exchange(st, v, f(v)).is_ok() {
            return v;
        }
    }
}

fn set_state<M: SharedMemory + ?Sized>(mem: &M, st: usize, value: i32) {
    update_state(mem, st, |_| value);
}

/// One heartbeat of a spinning consumer.
fn beat<M: SharedMemory + ?Sized>(mem: &M, st: usize) {
    update_state(mem, st, |v| v.wrapping_add(state::BEAT));
}

/// The producer's read of the consumer's `STATE` after publishing a frame
/// (an RMW that writes the same value): true if the consumer says it
/// polls, so no notify is needed.
fn consumer_polls<M: SharedMemory + ?Sized>(mem: &M, st: usize) -> bool {
    update_state(mem, st, |v| v) & state::POLLING != 0
}

fn park_until_change<M: SharedMemory + ?Sized>(
    mem: &M,
    layout: &Layout,
    which: usize,
    seen: i32,
    spin: u32,
    park_slice: Duration,
    deadline: Deadline,
) -> Result<(), Stop> {
    let s = layout.slot(which);
    let closed = layout.slot(slot::CLOSED);
    let st = layout.slot(slot::STATE);
    let consumer = which == slot::WRITTEN;
    for _ in 0..spin {
        if mem.load(s) != seen {
            return Ok(());
        }
        if consumer {
            beat(mem, st);
        }
        mem.pause();
    }
    if consumer {
        // Parked from here: producers notify (the wait compares atomically).
        set_state(mem, st, 0);
    }
    loop {
        if mem.load(s) != seen {
            return Ok(());
        }
        if mem.load(closed) != 0 {
            return Err(Stop::Closed);
        }
        let slice = match deadline.remaining(mem) {
            Some(Duration::ZERO) => return Err(Stop::Timeout),
            Some(left) => left.min(park_slice),
            None => park_slice,
        };
        mem.wait(s, seen, Some(slice));
    }
}

/// Sets `CLOSED` in one mailbox and wakes everything waiting on it.
fn close_mailbox<M: SharedMemory + ?Sized>(mem: &M, layout: &Layout) {
    mem.store(layout.slot(slot::CLOSED), 1);
    mem.notify(layout.slot(slot::WRITTEN), u32::MAX);
    mem.notify(layout.slot(slot::READ), u32::MAX);
}

/// Closes both mailboxes of a channel (either side may call it): every
/// waiter fails with `Closed` within one park slice.
pub fn close_channel<M: SharedMemory + ?Sized>(mem: &M, capacity: usize) {
    close_mailbox(mem, &Layout::to_main(capacity));
    close_mailbox(mem, &Layout::to_worker(capacity));
}

/// The frame writer both producer shapes share: where in the message we are.
#[derive(Clone, Debug)]
struct FrameWriter {
    pos: usize,
    started: bool,
    abort_first: bool,
}

impl FrameWriter {
    fn new(abort_first: bool) -> Self {
        FrameWriter {
            pos: 0,
            started: false,
            abort_first,
        }
    }

    fn done(&self, len: usize) -> bool {
        !self.abort_first && self.started && self.pos == len
    }

    /// Writes frames while the slot is free (at most one per free slot: the
    /// consumer must take each before the next fits).
    fn step<M: SharedMemory + ?Sized>(
        &mut self,
        mem: &M,
        layout: &Layout,
        bytes: &[u8],
    ) -> Result<Progress, SendError> {
        loop {
            if self.done(bytes.len()) {
                return Ok(Progress::Done);
            }
            if mem.load(layout.slot(slot::CLOSED)) != 0 {
                return Err(SendError::Closed);
            }
            let written = mem.load(layout.slot(slot::WRITTEN));
            if mem.load(layout.slot(slot::READ)) != written {
                return Ok(Progress::WaitingForSlot);
            }
            if self.abort_first {
                write_frame(mem, layout, written, &[], 0, flag::ABORT);
                self.abort_first = false;
                continue;
            }
            let end = bytes.len().min(self.pos + layout.capacity);
            let mut flags = 0;
            if !self.started {
                flags |= flag::FIRST;
            }
            if end == bytes.len() {
                flags |= flag::LAST;
            }
            write_frame(
                mem,
                layout,
                written,
                &bytes[self.pos..end],
                bytes.len(),
                flags,
            );
            self.pos = end;
            self.started = true;
        }
    }
}

/// Copies one frame in and publishes it (the slot is known to be free).
fn write_frame<M: SharedMemory + ?Sized>(
    mem: &M,
    layout: &Layout,
    written: i32,
    chunk: &[u8],
    msg_len: usize,
    flags: i32,
) {
    mem.write_bytes(layout.data(), chunk);
    // Lengths fit: chunk <= capacity <= MAX_LEN and msg_len <= max_message <= MAX_LEN.
    mem.store(layout.slot(slot::FRAME_LEN), chunk.len() as i32);
    mem.store(layout.slot(slot::MSG_LEN), msg_len as i32);
    mem.store(layout.slot(slot::FLAGS), flags);
    mem.store(layout.slot(slot::WRITTEN), written.wrapping_add(1));
    if !consumer_polls(mem, layout.slot(slot::STATE)) {
        mem.notify(layout.slot(slot::WRITTEN), u32::MAX);
    }
}

/// The sending end of one mailbox.
#[derive(Debug)]
pub struct Producer<M> {
    mem: M,
    layout: Layout,
    max_message: usize,
    spin: u32,
    park_slice: Duration,
    /// A blocking send gave up mid-message: an `ABORT` frame goes first.
    owes_abort: bool,
}

impl<M: SharedMemory> Producer<M> {
    /// A producer for the mailbox at `layout` (sizes from `config`).
    pub fn new(mem: M, layout: Layout, config: &Config) -> Self {
        Producer {
            mem,
            layout,
            max_message: config.max_message,
            spin: config.spin,
            park_slice: config.park_slice,
            owes_abort: false,
        }
    }

    /// The memory this producer writes to.
    pub fn memory(&self) -> &M {
        &self.mem
    }

    /// Sends one message, blocking while the consumer holds the slot.
    ///
    /// Fails with `TooLarge` before writing anything. If the deadline
    /// passes after some frames went out, the consumer gets an `ABORT` frame
    /// before the next message (it then drops the partial one).
    pub fn send(&mut self, bytes: &[u8], deadline: Deadline) -> Result<(), SendError> {
        if bytes.len() > self.max_message {
            return Err(SendError::TooLarge {
                len: bytes.len(),
                max: self.max_message,
            });
        }
        if !self.mem.can_block() {
            return Err(SendError::WouldBlock);
        }
        let mut writer = FrameWriter::new(self.owes_abort);
        loop {
            let progress = writer.step(&self.mem, &self.layout, bytes)?;
            self.owes_abort = writer.abort_first;
            if progress == Progress::Done {
                return Ok(());
            }
            let read = self.mem.load(self.layout.slot(slot::READ));
            let written = self.mem.load(self.layout.slot(slot::WRITTEN));
            if read == written {
                continue; // freed between step() and now
            }
            let stop = wait_change(
                &self.mem,
                &self.layout,
                slot::READ,
                read,
                self.spin,
                self.park_slice,
                deadline,
            );
            match stop {
                Ok(()) => {}
                Err(stop) => {
                    if writer.started {
                        self.owes_abort = true;
                    }
                    return Err(match stop {
                        Stop::Timeout => SendError::Timeout,
                        Stop::Closed => SendError::Closed,
                    });
                }
            }
        }
    }

    /// Starts a non-blocking send (the main thread). Messages must be
    /// written one after the other: finish (or drop) one `OutgoingMessage`
    /// before polling the next for the same mailbox.
    pub fn start(&mut self, bytes: Vec<u8>) -> Result<OutgoingMessage<M>, SendError>
    where
        M: Clone,
    {
        if bytes.len() > self.max_message {
            return Err(SendError::TooLarge {
                len: bytes.len(),
                max: self.max_message,
            });
        }
        let abort_first = std::mem::take(&mut self.owes_abort);
        Ok(OutgoingMessage {
            mem: self.mem.clone(),
            layout: self.layout,
            bytes,
            writer: FrameWriter::new(abort_first),
        })
    }

    /// True once either side closed this mailbox.
    pub fn is_closed(&self) -> bool {
        self.mem.load(self.layout.slot(slot::CLOSED)) != 0
    }

    /// Closes this mailbox and wakes its waiters.
    pub fn close(&self) {
        close_mailbox(&self.mem, &self.layout);
    }
}

/// A message being written without blocking, frame by frame as the
/// consumer frees the slot.
#[derive(Debug)]
pub struct OutgoingMessage<M> {
    mem: M,
    layout: Layout,
    bytes: Vec<u8>,
    writer: FrameWriter,
}

impl<M: SharedMemory> OutgoingMessage<M> {
    /// Writes every frame that fits now.
    pub fn poll_write(&mut self) -> Result<Progress, SendError> {
        self.writer.step(&self.mem, &self.layout, &self.bytes)
    }

    /// `(slot, value)` to wait on asynchronously
    /// (`Atomics.waitAsync(i32, slot, value)`) before the next
    /// [`poll_write`](Self::poll_write).
    pub fn wait_target(&self) -> (usize, i32) {
        let s = self.layout.slot(slot::READ);
        (s, self.mem.load(s))
    }

    /// Bytes of the message.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True for a 0-byte message.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// What the consumer is in the middle of.
#[derive(Debug)]
enum RecvState {
    Idle,
    Assembling { buf: Vec<u8>, len: usize },
    Discarding { len: usize },
}

/// The receiving end of one mailbox.
#[derive(Debug)]
pub struct Consumer<M> {
    mem: M,
    layout: Layout,
    max_message: usize,
    spin: u32,
    park_slice: Duration,
    state: RecvState,
}

impl<M: SharedMemory> Consumer<M> {
    /// A consumer for the mailbox at `layout` (sizes from `config`).
    pub fn new(mem: M, layout: Layout, config: &Config) -> Self {
        Consumer {
            mem,
            layout,
            max_message: config.max_message,
            spin: config.spin,
            park_slice: config.park_slice,
            state: RecvState::Idle,
        }
    }

    /// The memory this consumer reads from.
    pub fn memory(&self) -> &M {
        &self.mem
    }

    /// Takes every frame that is there; returns a message once its `LAST`
    /// frame is in, `Ok(None)` if it is still incomplete or nothing came.
    /// Never blocks.
    pub fn try_recv(&mut self) -> Result<Option<Vec<u8>>, TryRecvError> {
        let l = self.layout;
        loop {
            let read = self.mem.load(l.slot(slot::READ));
            let written = self.mem.load(l.slot(slot::WRITTEN));
            if written == read {
                if self.mem.load(l.slot(slot::CLOSED)) != 0 {
                    self.state = RecvState::Idle;
                    return Err(TryRecvError::Closed);
                }
                return Ok(None);
            }
            let frame_len = self.mem.load(l.slot(slot::FRAME_LEN)) as u32 as usize;
            let msg_len = self.mem.load(l.slot(slot::MSG_LEN)) as u32 as usize;
            let flags = self.mem.load(l.slot(slot::FLAGS));
            let result = self.take_frame(frame_len, msg_len, flags);
            // Free the slot only after the bytes are copied out.
            self.mem.store(l.slot(slot::READ), written);
            self.mem.notify(l.slot(slot::READ), u32::MAX);
            match result {
                Ok(None) => continue,
                Ok(Some(_)) => return result,
                Err(_) => {
                    // A refused or broken message is dropped whole; the
                    // next FIRST frame starts afresh.
                    self.state = RecvState::Idle;
                    return result;
                }
            }
        }
    }

    /// Applies one frame to the state; `Ok(Some)` completes a message.
    fn take_frame(
        &mut self,
        frame_len: usize,
        msg_len: usize,
        flags: i32,
    ) -> Result<Option<Vec<u8>>, TryRecvError> {
        if flags & flag::ABORT != 0 {
            self.state = RecvState::Idle;
            return Ok(None);
        }
        if frame_len > self.layout.capacity {
            return Err(TryRecvError::Corrupt(
                "FRAME_LEN is larger than the mailbox capacity",
            ));
        }
        if flags & flag::FIRST != 0 {
            if !matches!(self.state, RecvState::Idle) {
                return Err(TryRecvError::Corrupt(
                    "a FIRST frame arrived before the previous message's LAST or ABORT",
                ));
            }
            self.state = if msg_len > self.max_message {
                RecvState::Discarding { len: msg_len }
            } else {
                // MSG_LEN is only a claim of the producer: the buffer grows
                // with the bytes that arrive (see `take_frame` below), so a
                // frame that declares 255 MiB reserves nothing up front.
                RecvState::Assembling {
                    buf: Vec::new(),
                    len: msg_len,
                }
            };
        }
        match &mut self.state {
            RecvState::Idle => Err(TryRecvError::Corrupt(
                "a continuation frame arrived with no message started",
            )),
            RecvState::Discarding { len } => {
                if flags & flag::LAST != 0 {
                    let len = *len;
                    self.state = RecvState::Idle;
                    return Err(TryRecvError::TooLarge {
                        len,
                        max: self.max_message,
                    });
                }
                Ok(None)
            }
            RecvState::Assembling { buf, len } => {
                let at = buf.len();
                if at + frame_len > *len {
                    return Err(TryRecvError::Corrupt(
                        "frames carry more bytes than MSG_LEN",
                    ));
                }
                if buf.capacity() < at + frame_len {
                    // Double, never past MSG_LEN: amortised O(n) copies and
                    // never more memory than twice the bytes that came.
                    let want = (at + frame_len).max(2 * buf.capacity()).min(*len);
                    buf.reserve_exact(want - at);
                }
                buf.resize(at + frame_len, 0);
                self.mem.read_bytes(self.layout.data(), &mut buf[at..]);
                if flags & flag::LAST != 0 {
                    if buf.len() != *len {
                        return Err(TryRecvError::Corrupt(
                            "LAST frame before MSG_LEN bytes arrived",
                        ));
                    }
                    let RecvState::Assembling { buf, .. } =
                        std::mem::replace(&mut self.state, RecvState::Idle)
                    else {
                        unreachable!("matched Assembling above")
                    };
                    return Ok(Some(buf));
                }
                Ok(None)
            }
        }
    }

    /// Blocks until a whole message is in: spins `spin` checks, then parks
    /// in slices of `park_slice` (re-checking `CLOSED` after each) until the
    /// deadline. A time-out keeps a partial message for the next call.
    pub fn recv(&mut self, deadline: Deadline) -> Result<Vec<u8>, RecvError> {
        if !self.mem.can_block() {
            return Err(RecvError::WouldBlock);
        }
        loop {
            if let Some(msg) = self.try_recv()? {
                return Ok(msg);
            }
            let read = self.mem.load(self.layout.slot(slot::READ));
            wait_change(
                &self.mem,
                &self.layout,
                slot::WRITTEN,
                read,
                self.spin,
                self.park_slice,
                deadline,
            )
            .map_err(|stop| match stop {
                Stop::Timeout => RecvError::Timeout,
                Stop::Closed => RecvError::Closed,
            })?;
        }
    }

    /// `(slot, value)` to wait on asynchronously
    /// (`Atomics.waitAsync(i32, slot, value)`) for the next frame. Marks
    /// this consumer parked in `STATE`, so producers notify it from here.
    pub fn wait_target(&self) -> (usize, i32) {
        set_state(&self.mem, self.layout.slot(slot::STATE), 0);
        let s = self.layout.slot(slot::WRITTEN);
        (s, self.mem.load(self.layout.slot(slot::READ)))
    }

    /// Bytes reserved for the message being assembled (0 when none): grows
    /// with the frames that arrived, never with the length a frame declares.
    pub fn assembly_capacity(&self) -> usize {
        match &self.state {
            RecvState::Assembling { buf, .. } => buf.capacity(),
            _ => 0,
        }
    }

    /// True while part of a message has arrived.
    pub fn in_message(&self) -> bool {
        !matches!(self.state, RecvState::Idle)
    }

    /// True once either side closed this mailbox.
    pub fn is_closed(&self) -> bool {
        self.mem.load(self.layout.slot(slot::CLOSED)) != 0
    }

    /// Closes this mailbox and wakes its waiters.
    pub fn close(&self) {
        close_mailbox(&self.mem, &self.layout);
    }
}
