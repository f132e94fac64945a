//! The main thread's wait-for tracker ([`bridge_core::deadlock::WaitForTracker`])
//! behind plain `extern "C"` exports, for a JS main thread to ask how to
//! send each call into a worker and to refuse the calls it refuses with the
//! text it writes (the JS host it was measured with: commit "bridge-js: the
//! main thread's wait-for tracker is bridge-core's", `src/main-core.js`).
//!
//! Labels stay in JS: the tracker keeps a `HostLabel` (which call of which
//! worker, or which worker's name) and writes it into its messages as a
//! placeholder, `\u{1}` kind key `\u{2}`, that the JS host replaces with the
//! label it keeps under that key (kind `S`: the worker's request `seq` main
//! serves; `C`: main's call `seq`; `N`: the worker's name, seq 0; key
//! `worker:seq` in decimal). So a call's label is made only when a message
//! names it.
//!
//! One tracker per [`wb_tracker_new`](crate::main_core::wb_tracker_new), passed back to every export as the
//! pointer it returned. Worker ids start at 1; 0 (the main thread) means
//! "none" wherever a context is passed or returned.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use bridge_core::deadlock::{push_decimal, CallRef, DeadlockError, Deliver, Label, WaitForTracker};

/// A label the JS host keeps, named by kind and key (module doc).
#[derive(Clone, Debug)]
pub struct HostLabel {
    kind: u8,
    worker: u32,
    seq: u32,
}

impl Label for HostLabel {
    fn write_to(&self, out: &mut String) {
        out.push('\u{1}');
        out.push(self.kind as char);
        push_decimal(out, self.worker.into());
        out.push(':');
        push_decimal(out, self.seq.into());
        out.push('\u{2}');
    }
}

/// The tracker, the last error's message (UTF-8, with placeholders) and the
/// second half of the last pair an export returned.
pub struct Tracker {
    inner: WaitForTracker<HostLabel>,
    error: Vec<u8>,
    seq: u32,
}

impl Tracker {
    fn refuse(&mut self, e: DeadlockError) {
        self.error = e.message().into_bytes();
    }
}

/// # Safety
/// `t` must come from [`wb_tracker_new`] and be used by one thread at a time.
unsafe fn tracker<'a>(t: *mut Tracker) -> &'a mut Tracker {
    // SAFETY: the caller passes the pointer `wb_tracker_new` returned (a
    // leaked Box, never freed, so it stays valid and aligned), and a wasm
    // instance runs one export at a time on one thread, so no other
    // reference to the tracker is live while this one is used.
    unsafe { &mut *t }
}

fn context(worker: u32, seq: u32) -> Option<CallRef> {
    (worker != 0).then_some(CallRef { worker, seq })
}

/// A fresh tracker (workers re-entrant unless added otherwise).
#[no_mangle]
pub extern "C" fn wb_tracker_new() -> *mut Tracker {
    Box::into_raw(Box::new(Tracker {
        inner: WaitForTracker::with_labels(true),
        error: Vec::new(),
        seq: 0,
    }))
}

/// Registers a worker (`reentrant` 0 or 1, its nesting limit, `named` 1 if
/// the host keeps a name for it under kind `N`); returns its id.
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_add_worker(
    t: *mut Tracker,
    reentrant: u32,
    max_nesting: u32,
    named: u32,
) -> u32 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    let t = unsafe { tracker(t) };
    t.inner
        .add_labelled_worker(reentrant != 0, max_nesting as usize, |worker| {
            (named != 0).then_some(HostLabel {
                kind: b'N',
                worker,
                seq: 0,
            })
        })
}

/// The worker is gone: forget it.
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_remove_worker(t: *mut Tracker, worker: u32) {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    unsafe { tracker(t) }.inner.remove_worker(worker);
}

/// Main serves the worker's request `seq` (its label: kind `S`).
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_begin_serving(t: *mut Tracker, worker: u32, seq: u32) {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    let t = unsafe { tracker(t) };
    // A request served twice is a host bug the tracker reports; the JS host
    // serves each request once, so there is nothing to tell it.
    let _ = t.inner.begin_serving(
        worker,
        seq,
        HostLabel {
            kind: b'S',
            worker,
            seq,
        },
    );
}

/// Main answered (or gave up on) the worker's request `seq`: 1 if it was
/// being served.
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_finish_serving(t: *mut Tracker, worker: u32, seq: u32) -> u32 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    unsafe { tracker(t) }
        .inner
        .finish_serving(worker, seq)
        .into()
}

/// How main's call `seq` (label: kind `C`) to `worker`, made in the context
/// of served call (`ctx_worker`, `ctx_seq`) (`ctx_worker` 0: unknown), goes:
/// the worker's seq to nest it into, 0 to deliver it directly, or -1: it is
/// refused, with the message [`wb_error_ptr`] points at.
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_call_worker(
    t: *mut Tracker,
    worker: u32,
    seq: u32,
    ctx_worker: u32,
    ctx_seq: u32,
) -> f64 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    let t = unsafe { tracker(t) };
    let label = HostLabel {
        kind: b'C',
        worker,
        seq,
    };
    match t
        .inner
        .call_worker(worker, seq, label, context(ctx_worker, ctx_seq))
    {
        Ok(Deliver::Direct) => 0.0,
        Ok(Deliver::Nested { into_seq }) => f64::from(into_seq),
        Err(e) => {
            t.refuse(e);
            -1.0
        }
    }
}

/// 1 if a direct call to `worker` should be checked again later
/// ([`wb_suspected_cycle`]).
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_may_cycle(t: *mut Tracker, worker: u32) -> u32 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    unsafe { tracker(t) }.inner.may_cycle(worker).into()
}

/// Main's outstanding call `seq` checked again with the assumed edges: 1 if
/// it is to be refused (the message at [`wb_error_ptr`]), else 0.
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_suspected_cycle(t: *mut Tracker, worker: u32, seq: u32) -> u32 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    let t = unsafe { tracker(t) };
    match t.inner.suspected_cycle(worker, seq) {
        Some(e) => {
            t.refuse(e);
            1
        }
        None => 0,
    }
}

/// Main's call `seq` got its reply or was given up: forgets it and returns
/// its context's worker (0: none), whose seq [`wb_seq`] then gives.
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_take_call(t: *mut Tracker, worker: u32, seq: u32) -> u32 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    let t = unsafe { tracker(t) };
    match t.inner.take_call(worker, seq).flatten() {
        Some(ctx) => {
            t.seq = ctx.seq;
            ctx.worker
        }
        None => 0,
    }
}

/// The seq of the pair the last [`wb_take_call`] or [`wb_serving_at`] returned.
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_seq(t: *mut Tracker) -> u32 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    unsafe { tracker(t) }.seq
}

/// Nested requests in progress in `worker` (tests, stats).
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_nesting_depth(t: *mut Tracker, worker: u32) -> u32 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    unsafe { tracker(t) }.inner.nesting_depth(worker) as u32
}

/// How many worker calls main serves (tests).
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_serving_count(t: *mut Tracker) -> u32 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    unsafe { tracker(t) }.inner.serving().len() as u32
}

/// The `i`th worker call main serves: its worker (its seq: [`wb_seq`]), 0
/// past the end.
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_serving_at(t: *mut Tracker, i: u32) -> u32 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    let t = unsafe { tracker(t) };
    match t.inner.serving().get(i as usize) {
        Some(c) => {
            t.seq = c.seq;
            c.worker
        }
        None => 0,
    }
}

/// Where the last refusal's message starts in the module's memory (UTF-8,
/// [`wb_error_len`] bytes).
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_error_ptr(t: *mut Tracker) -> *const u8 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    unsafe { tracker(t) }.error.as_ptr()
}

/// The length in bytes of the last refusal's message.
///
/// # Safety
/// `t` as for every export: from [`wb_tracker_new`].
#[no_mangle]
pub unsafe extern "C" fn wb_error_len(t: *mut Tracker) -> u32 {
    // SAFETY: `t` comes from `wb_tracker_new` (the contract of this export).
    unsafe { tracker(t) }.error.len() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(t: *mut Tracker) -> String {
        // SAFETY: `t` comes from `wb_tracker_new`; this test is one thread.
        let (ptr, len) = unsafe { (wb_error_ptr(t), wb_error_len(t)) };
        // SAFETY: the pointer and length describe the tracker's error bytes.
        String::from_utf8(unsafe { core::slice::from_raw_parts(ptr, len as usize) }.to_vec())
            .unwrap()
    }

    #[test]
    fn exports_decide_and_name_labels_by_key() {
        let t = wb_tracker_new();
        // SAFETY: `t` comes from `wb_tracker_new`; this test is one thread.
        unsafe {
            let w = wb_add_worker(t, 1, 1, 0);
            assert_eq!(wb_call_worker(t, w, 1, 0, 0), 0.0, "not blocked: direct");
            wb_begin_serving(t, w, 5);
            assert_eq!(wb_serving_count(t), 1);
            assert_eq!((wb_serving_at(t, 0), wb_seq(t)), (w, 5));
            assert_eq!(wb_call_worker(t, w, 2, w, 5), 5.0, "nested into 5");
            assert_eq!(wb_nesting_depth(t, w), 1);
            assert_eq!(wb_call_worker(t, w, 3, w, 5), -1.0, "limit 1");
            let (key, blocked) = (alloc::format!("{w}:3"), alloc::format!("{w}:5"));
            assert_eq!(
                message(t),
                alloc::format!(
                    "Possible deadlock: \u{1}C{key}\u{2} was awaited while the worker is blocked in \u{1}S{blocked}\u{2} \
                     (calls between the main thread and this worker are nested 1 deep, the limit (the maxNesting option); \
                     they probably recurse without end)"
                )
            );
            assert_eq!(wb_take_call(t, w, 2), w, "its context");
            assert_eq!(wb_seq(t), 5);
            assert_eq!(wb_finish_serving(t, w, 5), 1);
            assert_eq!(wb_may_cycle(t, w), 0);
            let strict = wb_add_worker(t, 0, 64, 1);
            wb_begin_serving(t, strict, 1);
            assert_eq!(wb_may_cycle(t, strict), 1);
            assert_eq!(
                wb_call_worker(t, strict, 4, strict, 1),
                -1.0,
                "its own handler"
            );
            assert!(message(t).contains("reentrant: false"), "{}", message(t));
            assert_eq!(
                wb_call_worker(t, strict, 5, 0, 0),
                0.0,
                "unknown context: direct"
            );
            assert_eq!(wb_suspected_cycle(t, strict, 5), 0);
            wb_remove_worker(t, strict);
            assert_eq!(wb_serving_count(t), 0);
        }
    }
}
