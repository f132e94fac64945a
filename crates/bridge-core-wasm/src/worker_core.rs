//! The worker side's machine ([`bridge_core::protocol::WorkerCore`]) behind
//! raw exports (the crate doc has the conventions).

use alloc::boxed::Box;
use core::time::Duration;

use bridge_core::protocol::{Answer, CallState, Incoming, Step, WorkerCore};

/// The machine, with the body handle of the last reply it handed out.
pub struct Machine {
    core: WorkerCore<u32, u32>,
    last: u32,
}

/// Milliseconds (`performance.now()`) as a `Duration`, in whole
/// microseconds; negative, NaN and absurd values clamp.
fn ms(v: f64) -> Duration {
    let us = v * 1000.0;
    if us > 0.0 && us < 1.0e15 {
        Duration::from_micros(us as u64)
    } else if us >= 1.0e15 {
        Duration::from_micros(1_000_000_000_000_000)
    } else {
        Duration::ZERO
    }
}

/// # Safety
/// `m` must come from [`wb_worker_new`] and be used by one thread at a time.
unsafe fn machine<'a>(m: *mut Machine) -> &'a mut Machine {
    // SAFETY: the caller passes the pointer `wb_worker_new` returned (a
    // leaked Box, never freed, so it stays valid and aligned), and a wasm
    // instance runs one export at a time on one thread, so no other
    // reference to the machine is live while this one is used.
    unsafe { &mut *m }
}

/// A fresh machine; its pointer is the first argument of every export.
#[no_mangle]
pub extern "C" fn wb_worker_new() -> *mut Machine {
    Box::into_raw(Box::new(Machine {
        core: WorkerCore::new(),
        last: 0,
    }))
}

/// Starts a blocking call at `now_ms` with a time-out of `timeout_ms` (0 or
/// less: none); returns its seq.
///
/// # Safety
/// `m` as for every export: from [`wb_worker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_begin_call(m: *mut Machine, now_ms: f64, timeout_ms: f64) -> u32 {
    // SAFETY: `m` comes from `wb_worker_new` (the contract of this export).
    let m = unsafe { machine(m) };
    let timeout = (timeout_ms > 0.0).then(|| ms(timeout_ms));
    let start = m.core.begin_call(ms(now_ms), timeout);
    // The releases would be handed to the host's encoder; none are queued
    // through this interface, so the batch is always empty here.
    debug_assert!(start.releases.is_empty());
    start.seq
}

/// A reply arrived: 1 kept for its call (poll it), 0 late and dropped.
///
/// # Safety
/// `m` as for every export: from [`wb_worker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_on_reply(m: *mut Machine, seq: u32, handle: u32) -> i32 {
    // SAFETY: `m` comes from `wb_worker_new` (the contract of this export).
    let m = unsafe { machine(m) };
    match m.core.on_message(Incoming::Reply { seq, body: handle }) {
        Step::Kept => 1,
        _ => 0,
    }
}

/// A request arrived: 1 serve it now (nested into a blocked call), 2 queued
/// for the event loop.
///
/// # Safety
/// `m` as for every export: from [`wb_worker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_on_request(
    m: *mut Machine,
    seq: u32,
    nested_in: u32,
    handle: u32,
) -> i32 {
    // SAFETY: `m` comes from `wb_worker_new` (the contract of this export).
    let m = unsafe { machine(m) };
    match m.core.on_message(Incoming::Request {
        seq,
        nested_in,
        body: handle,
    }) {
        Step::Serve { .. } => 1,
        _ => 2,
    }
}

/// Where call `seq` stands at `now_ms`: 0 waiting, 1 replied (the reply's
/// handle from [`wb_last_handle`]), 2 timed out (a cancel is owed), 3
/// aborted, -1 not the innermost blocked call.
///
/// # Safety
/// `m` as for every export: from [`wb_worker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_poll(m: *mut Machine, seq: u32, now_ms: f64) -> i32 {
    // SAFETY: `m` comes from `wb_worker_new` (the contract of this export).
    let m = unsafe { machine(m) };
    match m.core.poll_call(seq, ms(now_ms)) {
        Ok(CallState::Waiting { .. }) => 0,
        Ok(CallState::Replied(h)) => {
            m.last = h;
            1
        }
        Ok(CallState::TimedOut) => 2,
        Ok(CallState::Aborted) => 3,
        Err(_) => -1,
    }
}

/// The handle of the last reply [`wb_poll`] handed out.
///
/// # Safety
/// `m` as for every export: from [`wb_worker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_last_handle(m: *mut Machine) -> u32 {
    // SAFETY: `m` comes from `wb_worker_new` (the contract of this export).
    unsafe { machine(m) }.last
}

/// The request `seq` was served: 1 send the reply, 0 drop it (cancelled),
/// -1 it was not being served.
///
/// # Safety
/// `m` as for every export: from [`wb_worker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_finish_serve(m: *mut Machine, seq: u32) -> i32 {
    // SAFETY: `m` comes from `wb_worker_new` (the contract of this export).
    let m = unsafe { machine(m) };
    match m.core.finish_serve(seq) {
        Ok(Answer::Send { .. }) => 1,
        Ok(Answer::Drop) => 0,
        Err(_) => -1,
    }
}

/// The seq of a cancel owed (0: none), marked sent.
///
/// # Safety
/// `m` as for every export: from [`wb_worker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_take_cancel(m: *mut Machine) -> u32 {
    // SAFETY: `m` comes from `wb_worker_new` (the contract of this export).
    let m = unsafe { machine(m) };
    match m.core.owed_cancel() {
        Some(seq) => {
            m.core.cancel_sent(seq);
            seq
        }
        None => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_drive_the_machine() {
        let m = wb_worker_new();
        // SAFETY: `m` comes from `wb_worker_new`; this test is one thread.
        unsafe {
            let outer = wb_begin_call(m, 0.0, 0.0);
            assert_eq!(wb_on_request(m, 9, outer, 0), 1, "nested: serve now");
            let inner = wb_begin_call(m, 1.0, 50.0);
            assert_eq!(wb_on_reply(m, outer, 7), 1, "outer reply kept");
            assert_eq!(wb_poll(m, inner, 2.0), 0);
            assert_eq!(wb_poll(m, inner, 51.0), 2, "timed out");
            assert_eq!(wb_take_cancel(m), inner);
            assert_eq!(wb_on_reply(m, inner, 8), 0, "late");
            assert_eq!(wb_finish_serve(m, 9), 1);
            assert_eq!(wb_poll(m, outer, 60.0), 1);
            assert_eq!(wb_last_handle(m), 7);
        }
    }
}
