//! The protocol's decisions as one sans-IO state machine per side of a
//! channel (docs/protocol.md §3, §5, §6, §7).
//!
//! Like rustls' `Connection` or quinn-proto, the machine does no I/O and
//! reads no clock: the host feeds it what arrived (an [`Incoming`] with the
//! message's header fields and an opaque body the machine stores and hands
//! back) and the time (`now`, a [`Duration`] since any fixed origin), and
//! the machine answers with what to do: send this request with these
//! releases, serve this request now, keep this reply for an outer call,
//! drop this late reply, the call timed out and a cancel is owed. The host
//! does the rest: encoding (the value codec), the mailbox or the
//! service-worker round trip, blocking, promises.
//!
//! The machine owns:
//!
//! - request numbering ([`SeqCounter`]: 1, 2, ... wrapping, never 0);
//! - on the worker ([`WorkerCore`]): the frame stack of blocked calls;
//!   replies kept in their own frame, so a reply to an outer call that
//!   arrives while an inner (nested) call waits is returned to the outer
//!   call once the inner one unwinds; late replies (no frame) dropped;
//!   requests nested into a frame served at once, the others queued for the
//!   event loop; per-call deadlines from the host's `now` and the cancel
//!   owed when one passes;
//! - on the main thread ([`MainCore`]): pending calls with deadlines
//!   ([`MainCore::expire`]), the stack of worker requests being served
//!   (the worker is blocked in each), nesting a call into the innermost one
//!   as the page's wait-for tracker ([`crate::deadlock`]) decides, cancels
//!   and interrupts whose answers are then dropped;
//! - on both: the batch of releases that rides on the next request or reply
//!   ([`ReleaseBatch`], merged per id), put back when a message is not
//!   sent; the export and import counts themselves live in
//!   [`crate::refs`], whose tables the host keeps beside its objects.
//!
//! [`constants`] is the one table of wire tags, op codes and defaults.
//!
//! Hosts: [`crate::channel`] drives both machines over the shared-memory
//! mailboxes (the native tests, the Rust embedding in bridge-wasm);
//! `crates/bridge-core-wasm` exports the worker machine's hot path as a raw
//! wasm module for JS.

pub mod constants;
mod main;
mod releases;
mod seq;
mod serving;
mod worker;

use alloc::vec::Vec;
use core::time::Duration;

pub use main::{MainCore, MainStep, Tracked};
pub use releases::ReleaseBatch;
pub use seq::SeqCounter;
pub use worker::{CallState, PollError, Step, WorkerCore};

use crate::message::Release;

/// A message from the other side, as far as the machine needs to read it.
#[derive(Clone, Debug, PartialEq)]
pub enum Incoming<Q, R> {
    /// A request (tag 0).
    Request {
        /// The sender's seq.
        seq: u32,
        /// 0, or the seq of our blocked call it nests into.
        nested_in: u32,
        /// What the host keeps of it.
        body: Q,
    },
    /// A reply (tag 1).
    Reply {
        /// The seq of our call it answers.
        seq: u32,
        /// What the host keeps of it.
        body: R,
    },
    /// The sender gave up on its request `seq` (tag 3). (Tag 2, a lone
    /// `Release`, carries only releases: see `ReleaseBatch::receive`.)
    Cancel {
        /// The sender's seq.
        seq: u32,
    },
}

/// A call the machine numbered: send a request with these fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallStart {
    /// Its seq.
    pub seq: u32,
    /// 0, or the peer's blocked call it nests into.
    pub nested_in: u32,
    /// Releases that ride on it (put them back if it is not sent).
    pub releases: Vec<Release>,
}

/// What to do with the answer to a request that was served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Send the reply with these releases riding on it.
    Send {
        /// The releases (put them back if the reply is not sent).
        releases: Vec<Release>,
    },
    /// Drop it: the caller cancelled the request (time-out, interrupt).
    Drop,
}

/// `finish_serve` named a request that is not being served.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ServeError {
    /// The seq was never handed out for serving, or was answered already.
    #[error(
        "request seq {seq} is not being served (answered twice, or never handed out to serve)"
    )]
    NotServing {
        /// The seq.
        seq: u32,
    },
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
    /// `Cancel`s owed for calls that timed out or were given up.
    pub cancels_sent: u64,
    /// Answers to requests the caller cancelled (or main interrupted),
    /// dropped instead of sent.
    pub answers_dropped: u64,
}

/// `now + timeout` (saturating), or no deadline when no time-out is given.
fn deadline_after(now: Duration, timeout: Option<Duration>) -> Option<Duration> {
    timeout.map(|t| now.saturating_add(t))
}

/// The answer to a served request, counted: send it with the release batch,
/// or drop it.
fn answer(finished: serving::Finished, stats: &mut Stats, releases: &mut ReleaseBatch) -> Answer {
    stats.served += 1;
    match finished {
        serving::Finished::Send => Answer::Send {
            releases: releases.take(),
        },
        serving::Finished::Drop => {
            stats.answers_dropped += 1;
            Answer::Drop
        }
    }
}
