//! The worker's side of one channel: the side that blocks (docs/protocol.md
//! §3, §6, §7).
//!
//! A worker call pushes a *frame* and the host blocks on its inbound
//! mailbox until [`WorkerCore::poll_call`] says the call is over. Every
//! message the host receives meanwhile goes through
//! [`WorkerCore::on_message`], which decides:
//!
//! - a reply whose seq is a frame on the stack is kept **in that frame**,
//!   whether it is the innermost call's or an outer one's (an outer reply
//!   can arrive first: the main thread answered the outer call while the
//!   worker serves a nested request whose handler made the inner call); the
//!   outer call returns it once the inner frames unwind;
//! - a reply whose seq is no frame is late (its call timed out) and dropped;
//! - a request nested into a frame on the stack is served now
//!   ([`Step::Serve`]); any other request waits in a queue until the worker
//!   is back in its event loop ([`WorkerCore::next_queued`]);
//! - a cancel removes a queued request, or marks one being served so its
//!   reply is dropped ([`WorkerCore::finish_serve`] says [`Answer::Drop`]).

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::time::Duration;

use super::releases::ReleaseBatch;
use super::seq::SeqCounter;
use super::serving::Serving;
use super::{deadline_after, Answer, CallStart, Incoming, ServeError, Stats};

#[derive(Debug)]
struct Frame<R> {
    seq: u32,
    deadline: Option<Duration>,
    reply: Option<R>,
    aborted: bool,
}

/// What [`WorkerCore::on_message`] decided.
#[derive(Debug, PartialEq)]
pub enum Step<Q, R> {
    /// Serve this request now: it is nested into one of our blocked calls.
    /// Answer it with [`WorkerCore::finish_serve`].
    Serve {
        /// The main thread's seq of the request.
        seq: u32,
        /// The request.
        body: Q,
    },
    /// The reply of a blocked call was kept in its frame: poll the call.
    Kept,
    /// A request not nested into a blocked call: it waits for
    /// [`WorkerCore::next_queued`].
    Queued,
    /// A reply that matched no blocked call (its call timed out): dropped.
    /// The body is handed back so the host can let go of what it carries.
    Late(R),
    /// A cancel removed this queued request: it will not be served.
    Dropped(Q),
    /// Nothing to do (a cancel of a request that is not queued; a cancel of
    /// one being served only marks it).
    Nothing,
}

/// Where a blocked call stands, from [`WorkerCore::poll_call`].
#[derive(Debug, PartialEq)]
pub enum CallState<R> {
    /// Its reply; the frame is gone.
    Replied(R),
    /// Its deadline passed: the frame is gone and a cancel is owed
    /// ([`WorkerCore::owed_cancel`]); a late reply will be dropped.
    TimedOut,
    /// A request nested into it could not finish (its handler returned a
    /// pending promise, see [`crate::deadlock`]): the frame is gone and a
    /// cancel is owed; the call fails with the same deadlock error.
    Aborted,
    /// Still waiting: block on the inbound mailbox until `until` (or
    /// without limit when `None`), then feed what arrives to
    /// [`WorkerCore::on_message`] and poll again.
    Waiting {
        /// The call's deadline.
        until: Option<Duration>,
    },
}

/// [`WorkerCore::poll_call`] was asked about a call that cannot be polled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    /// No frame with this seq: the call already ended (or never began).
    #[error("call seq {seq} is not blocked: it already ended or was never made")]
    NoSuchCall {
        /// The seq asked about.
        seq: u32,
    },
    /// The call is blocked under a nested call that has not returned yet.
    #[error("call seq {seq} is not the innermost blocked call (seq {innermost} is): nested calls end first")]
    NotInnermost {
        /// The seq asked about.
        seq: u32,
        /// The innermost blocked call.
        innermost: u32,
    },
}

/// The worker's protocol state for one channel. `Q` is what the host keeps
/// of a request (a decoded [`crate::message::Request`], or a handle), `R`
/// of a reply; the machine stores them and hands them back, it never looks
/// inside.
#[derive(Debug)]
pub struct WorkerCore<Q, R> {
    seq: SeqCounter,
    /// Our blocked calls, innermost last.
    frames: Vec<Frame<R>>,
    /// Requests not nested into a blocked call, by arrival.
    queued: VecDeque<(u32, Q)>,
    /// Requests being served now, innermost last.
    serving: Serving,
    owed_cancels: VecDeque<u32>,
    releases: ReleaseBatch,
    stats: Stats,
}

impl<Q, R> Default for WorkerCore<Q, R> {
    fn default() -> Self {
        WorkerCore {
            seq: SeqCounter::default(),
            frames: Vec::new(),
            queued: VecDeque::new(),
            serving: Serving::default(),
            owed_cancels: VecDeque::new(),
            releases: ReleaseBatch::default(),
            stats: Stats::default(),
        }
    }
}

impl<Q, R> WorkerCore<Q, R> {
    /// A fresh channel: the first call is seq 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a blocking call at `now` that gives up after `timeout`:
    /// numbers it, pushes its frame and takes the releases that ride on it.
    /// Send the request, then block and [`poll_call`](Self::poll_call);
    /// if it cannot be sent, [`abandon_call`](Self::abandon_call) and
    /// put its releases back ([`ReleaseBatch::restore`]).
    pub fn begin_call(&mut self, now: Duration, timeout: Option<Duration>) -> CallStart {
        let seq = self.seq.next();
        self.stats.calls += 1;
        self.frames.push(Frame {
            seq,
            deadline: deadline_after(now, timeout),
            reply: None,
            aborted: false,
        });
        CallStart {
            seq,
            nested_in: 0,
            releases: self.releases.take(),
        }
    }

    /// Where the innermost blocked call `seq` stands at `now`.
    pub fn poll_call(&mut self, seq: u32, now: Duration) -> Result<CallState<R>, PollError> {
        match self.frames.last() {
            Some(f) if f.seq == seq => {}
            Some(f) if self.frames.iter().any(|g| g.seq == seq) => {
                return Err(PollError::NotInnermost {
                    seq,
                    innermost: f.seq,
                })
            }
            _ => return Err(PollError::NoSuchCall { seq }),
        }
        Ok(self.poll_frame(self.frames.len() - 1, now))
    }

    /// Where call `seq` stands at `now`, whichever frame it is: for calls
    /// the worker does not block in (a Rust future awaiting its reply), which
    /// may end in any order. Blocked calls use [`poll_call`](Self::poll_call).
    pub fn poll_started(&mut self, seq: u32, now: Duration) -> Result<CallState<R>, PollError> {
        let i = self
            .frames
            .iter()
            .position(|f| f.seq == seq)
            .ok_or(PollError::NoSuchCall { seq })?;
        Ok(self.poll_frame(i, now))
    }

    fn poll_frame(&mut self, i: usize, now: Duration) -> CallState<R> {
        let frame = &mut self.frames[i];
        let seq = frame.seq;
        if let Some(reply) = frame.reply.take() {
            self.frames.remove(i);
            return CallState::Replied(reply);
        }
        if frame.aborted {
            self.frames.remove(i);
            self.owe_cancel(seq);
            return CallState::Aborted;
        }
        match frame.deadline {
            Some(d) if now >= d => {
                self.time_out(seq);
                CallState::TimedOut
            }
            until => CallState::Waiting { until },
        }
    }

    /// The host's own wait for call `seq` ran out (its mailbox wait timed
    /// out): the call is over, a cancel is owed. False if it is not blocked.
    pub fn time_out(&mut self, seq: u32) -> bool {
        match self.frames.iter().position(|f| f.seq == seq) {
            Some(i) => {
                self.frames.remove(i);
                self.owe_cancel(seq);
                true
            }
            None => false,
        }
    }

    /// Ends call `seq` without a reply and without a cancel (it could not
    /// be sent, or the channel broke). Returns a reply kept for it, if any.
    pub fn abandon_call(&mut self, seq: u32) -> Option<R> {
        let i = self.frames.iter().position(|f| f.seq == seq)?;
        self.frames.remove(i).reply
    }

    /// A request nested into our call `into` cannot finish (its handler
    /// returned a pending promise): that call fails at its next poll.
    /// False if `into` is not blocked.
    pub fn abort_call(&mut self, into: u32) -> bool {
        match self.frames.iter_mut().find(|f| f.seq == into) {
            Some(f) => {
                f.aborted = true;
                true
            }
            None => false,
        }
    }

    /// Decides what a message from the main thread means. Releases it
    /// carried go to [`releases`](Self::releases) first.
    pub fn on_message(&mut self, msg: Incoming<Q, R>) -> Step<Q, R> {
        match msg {
            Incoming::Reply { seq, body } => {
                match self.frames.iter_mut().find(|f| f.seq == seq) {
                    Some(f) if f.reply.is_none() => {
                        f.reply = Some(body);
                        Step::Kept
                    }
                    // No blocked call of that seq, or a second reply to one:
                    // late, dropped.
                    _ => {
                        self.stats.late_replies_dropped += 1;
                        Step::Late(body)
                    }
                }
            }
            Incoming::Request {
                seq,
                nested_in,
                body,
            } => {
                if nested_in != 0 && self.frames.iter().any(|f| f.seq == nested_in) {
                    self.serving.begin(seq);
                    Step::Serve { seq, body }
                } else {
                    self.queued.push_back((seq, body));
                    Step::Queued
                }
            }
            Incoming::Cancel { seq } => {
                if let Some(i) = self.queued.iter().position(|(s, _)| *s == seq) {
                    let (_, body) = self.queued.remove(i).expect("index from position");
                    return Step::Dropped(body);
                }
                self.serving.cancel(seq);
                Step::Nothing
            }
        }
    }

    /// The next queued request to serve (the worker is back in its event
    /// loop, or serves what is pending). Answer it with
    /// [`finish_serve`](Self::finish_serve).
    pub fn next_queued(&mut self) -> Option<(u32, Q)> {
        let (seq, body) = self.queued.pop_front()?;
        self.serving.begin(seq);
        Some((seq, body))
    }

    /// True if requests wait in the queue.
    pub fn has_queued(&self) -> bool {
        !self.queued.is_empty()
    }

    /// The request `seq` was served: whether to send its reply (with the
    /// releases that ride on it) or drop it (main cancelled it meanwhile).
    pub fn finish_serve(&mut self, seq: u32) -> Result<Answer, ServeError> {
        let finished = self.serving.finish(seq)?;
        Ok(super::answer(finished, &mut self.stats, &mut self.releases))
    }

    fn owe_cancel(&mut self, seq: u32) {
        self.stats.cancels_sent += 1;
        self.owed_cancels.push_back(seq);
    }

    /// The oldest cancel still to send (for a call that timed out). Send
    /// `Cancel { seq }` and confirm with [`cancel_sent`](Self::cancel_sent);
    /// if the mailbox is busy, try again before the next call.
    pub fn owed_cancel(&self) -> Option<u32> {
        self.owed_cancels.front().copied()
    }

    /// The cancel for `seq` went out.
    pub fn cancel_sent(&mut self, seq: u32) {
        if let Some(i) = self.owed_cancels.iter().position(|s| *s == seq) {
            self.owed_cancels.remove(i);
        }
    }

    /// The release batch: what rides on the next message, what the peer
    /// sent.
    pub fn releases(&mut self) -> &mut ReleaseBatch {
        &mut self.releases
    }

    /// Seqs of our blocked calls, innermost last.
    pub fn blocked(&self) -> impl Iterator<Item = u32> + '_ {
        self.frames.iter().map(|f| f.seq)
    }

    /// The deadline of the innermost blocked call.
    pub fn innermost_deadline(&self) -> Option<Duration> {
        self.frames.last().and_then(|f| f.deadline)
    }

    /// What happened so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }
}
