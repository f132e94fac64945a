//! The main thread's side of one channel: the side that never blocks
//! (docs/protocol.md §3, §6, §7).
//!
//! Its calls into the worker are pending until their reply comes (or their
//! deadline passes: [`MainCore::expire`]); the worker requests it serves
//! are a stack (the worker is blocked in each, innermost last), and a call
//! it makes while serving is nested into the innermost one, as the page's
//! wait-for tracker ([`crate::deadlock`]) decides when one is given.

use alloc::vec::Vec;
use core::time::Duration;

use super::releases::ReleaseBatch;
use super::seq::SeqCounter;
use super::serving::{Finished, Serving};
use super::{deadline_after, Answer, CallStart, Incoming, ServeError, Stats};
use crate::deadlock::{CallRef, DeadlockError, Deliver, WaitForTracker};
use crate::message::Release;

/// The page's wait-for tracker and this channel's worker in it, for the
/// operations that keep it up to date. Every channel of a page shares one
/// tracker; a channel without one nests its calls into the innermost
/// request it serves.
pub struct Tracked<'a> {
    /// The page-wide tracker.
    pub tracker: &'a mut WaitForTracker,
    /// This channel's worker id in it.
    pub worker: u32,
}

/// What [`MainCore::on_message`] decided.
#[derive(Debug, PartialEq)]
pub enum MainStep<Q, R> {
    /// Serve this worker request (the worker is blocked in it). Answer it
    /// with [`MainCore::finish_serve`], now or later.
    Serve {
        /// The worker's seq.
        seq: u32,
        /// The request.
        body: Q,
    },
    /// The reply to our call `seq`.
    Replied {
        /// The seq [`MainCore::start_call`] gave.
        seq: u32,
        /// The reply.
        body: R,
        /// The worker call whose handler made our call, when the tracker
        /// knew it (JS carries it across the `await` of this call).
        context: Option<CallRef>,
    },
    /// A reply to no pending call (it timed out or was cancelled): dropped.
    Late(R),
    /// The worker gave up on its request `seq` that we serve: it is no
    /// longer blocked in it, and our answer will be dropped.
    Cancelled {
        /// The worker's seq.
        seq: u32,
    },
    /// Nothing to do (a cancel of a request we do not serve).
    Nothing,
}

#[derive(Debug)]
struct Pending {
    seq: u32,
    deadline: Option<Duration>,
}

/// The main thread's protocol state for one channel. Its
/// [`on_message`](Self::on_message) takes bodies of any type (`Q` for
/// requests, `R` for replies, as in [`super::WorkerCore`]).
#[derive(Debug, Default)]
pub struct MainCore {
    seq: SeqCounter,
    pending: Vec<Pending>,
    /// Worker requests being served, innermost last.
    serving: Serving,
    owed_cancels: Vec<u32>,
    releases: ReleaseBatch,
    stats: Stats,
}

impl MainCore {
    /// A fresh channel: the first call is seq 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts a call into the worker at `now`, giving up after `timeout`.
    /// With a tracker, it decides (and records) how the call goes, or
    /// refuses it with the deadlock error; without one, the call nests into
    /// the innermost request being served. `label` names the call in
    /// deadlock messages (e.g. `proxy.worker_task()`), `context` is the
    /// worker call whose handler makes it, when known.
    pub fn start_call(
        &mut self,
        now: Duration,
        timeout: Option<Duration>,
        tracked: Option<Tracked<'_>>,
        label: &str,
        context: Option<CallRef>,
    ) -> Result<CallStart, DeadlockError> {
        let seq = self.seq.peek();
        let nested_in = match tracked {
            Some(t) => match t.tracker.call_worker(t.worker, seq, label, context)? {
                Deliver::Direct => 0,
                Deliver::Nested { into_seq } => into_seq,
            },
            None => self.serving.stack().last().copied().unwrap_or(0),
        };
        self.seq.next();
        self.stats.calls += 1;
        self.pending.push(Pending {
            seq,
            deadline: deadline_after(now, timeout),
        });
        Ok(CallStart {
            seq,
            nested_in,
            releases: self.releases.take(),
        })
    }

    /// Our call `seq` could not be sent: forget it, put its releases back.
    pub fn call_not_sent(
        &mut self,
        seq: u32,
        releases: Vec<Release>,
        tracked: Option<Tracked<'_>>,
    ) {
        self.pending.retain(|p| p.seq != seq);
        if let Some(t) = tracked {
            t.tracker.call_finished(t.worker, seq);
        }
        self.releases.restore(releases);
    }

    /// Decides what a message from the worker means. Releases it carried go
    /// to [`releases`](Self::releases) first.
    pub fn on_message<Q, R>(
        &mut self,
        msg: Incoming<Q, R>,
        tracked: Option<Tracked<'_>>,
    ) -> MainStep<Q, R> {
        match msg {
            Incoming::Request { seq, body, .. } => {
                self.serving.begin(seq);
                MainStep::Serve { seq, body }
            }
            Incoming::Reply { seq, body } => match self.pending.iter().position(|p| p.seq == seq) {
                Some(i) => {
                    self.pending.remove(i);
                    let context = tracked
                        .and_then(|t| t.tracker.take_call(t.worker, seq))
                        .flatten();
                    MainStep::Replied { seq, body, context }
                }
                None => {
                    self.stats.late_replies_dropped += 1;
                    MainStep::Late(body)
                }
            },
            Incoming::Cancel { seq } => {
                if !self.serving.cancel(seq) {
                    return MainStep::Nothing;
                }
                if let Some(t) = tracked {
                    t.tracker.finish_serving(t.worker, seq);
                }
                MainStep::Cancelled { seq }
            }
        }
    }

    /// The worker request `seq` was served (its handler returned, or its
    /// promise settled): whether to send the answer, with the releases that
    /// ride on it, or drop it (cancelled, interrupted).
    pub fn finish_serve(
        &mut self,
        seq: u32,
        tracked: Option<Tracked<'_>>,
    ) -> Result<Answer, ServeError> {
        let finished = self.serving.finish(seq)?;
        if finished == Finished::Send {
            if let Some(t) = tracked {
                t.tracker.finish_serving(t.worker, seq);
            }
        }
        Ok(super::answer(finished, &mut self.stats, &mut self.releases))
    }

    /// Answers the innermost request being served now instead of its
    /// handler (`BridgeWorker.interrupt()`): returns its seq and the
    /// releases for the reply; the handler's answer is dropped later.
    pub fn interrupt(&mut self, tracked: Option<Tracked<'_>>) -> Option<(u32, Vec<Release>)> {
        let seq = self.serving.cancel_innermost()?;
        if let Some(t) = tracked {
            t.tracker.finish_serving(t.worker, seq);
        }
        Some((seq, self.releases.take()))
    }

    /// Gives up on our call `seq` (a time-out or abort above this layer): a
    /// cancel is owed and its reply, if it still comes, is dropped. False if
    /// it is not pending.
    pub fn cancel_call(&mut self, seq: u32, tracked: Option<Tracked<'_>>) -> bool {
        let Some(i) = self.pending.iter().position(|p| p.seq == seq) else {
            return false;
        };
        self.pending.remove(i);
        if let Some(t) = tracked {
            t.tracker.call_finished(t.worker, seq);
        }
        self.stats.cancels_sent += 1;
        self.owed_cancels.push(seq);
        true
    }

    /// Our calls whose deadline passed by `now`: each is cancelled as by
    /// [`cancel_call`](Self::cancel_call); reject them with a time-out.
    pub fn expire(&mut self, now: Duration, mut tracked: Option<Tracked<'_>>) -> Vec<u32> {
        let due: Vec<u32> = self
            .pending
            .iter()
            .filter(|p| p.deadline.is_some_and(|d| now >= d))
            .map(|p| p.seq)
            .collect();
        for &seq in &due {
            let t = tracked.as_mut().map(|t| Tracked {
                tracker: &mut *t.tracker,
                worker: t.worker,
            });
            self.cancel_call(seq, t);
        }
        due
    }

    /// The earliest deadline of our pending calls (when to call
    /// [`expire`](Self::expire) next).
    pub fn next_deadline(&self) -> Option<Duration> {
        self.pending.iter().filter_map(|p| p.deadline).min()
    }

    /// Takes the cancels to send (`Cancel { seq }` each).
    pub fn take_cancels(&mut self) -> Vec<u32> {
        core::mem::take(&mut self.owed_cancels)
    }

    /// The channel closed: forgets everything and returns our pending calls
    /// to reject.
    pub fn close(&mut self, tracked: Option<Tracked<'_>>) -> Vec<u32> {
        if let Some(t) = tracked {
            t.tracker.remove_worker(t.worker);
        }
        self.serving.clear();
        self.owed_cancels.clear();
        self.releases.take();
        self.pending.drain(..).map(|p| p.seq).collect()
    }

    /// True if our call `seq` waits for its reply.
    pub fn is_pending(&self, seq: u32) -> bool {
        self.pending.iter().any(|p| p.seq == seq)
    }

    /// Our calls without a reply.
    pub fn pending_calls(&self) -> usize {
        self.pending.len()
    }

    /// The seq the next [`start_call`](Self::start_call) will use.
    pub fn peek_seq(&self) -> u32 {
        self.seq.peek()
    }

    /// Worker requests being served (the worker is blocked in each),
    /// innermost last.
    pub fn serving(&self) -> &[u32] {
        self.serving.stack()
    }

    /// The release batch: what rides on the next message, what the peer
    /// sent.
    pub fn releases(&mut self) -> &mut ReleaseBatch {
        &mut self.releases
    }

    /// What happened so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }
}
