//! The main thread's wait-for tracker ([`bridge_core::deadlock::WaitForTracker`])
//! behind plain `extern "C"` exports, for a JS main thread to ask how to
//! send each call into a worker and to refuse the calls it refuses with the
//! text it writes. bridge-js runs it (`src/main-core.js`, the host).
//!
//! One tracker per module instance (a page has one), so the exports take no
//! handle. Their names are one letter each: the module is shipped inside
//! every page's bundle, and each name appears there twice (the export and
//! the host's use); each export's doc starts with its name.
//!
//! Labels stay in JS: the tracker keeps a `HostLabel` (which call of which
//! worker, or which worker's name) and writes it into its messages as a
//! placeholder, `\u{1}` kind key `\u{2}`, that the JS host replaces with the
//! label it keeps under that key (kind `S`: the worker's request `seq` main
//! serves; `C`: main's call `seq`; `N`: the worker's name, seq 0; key
//! `worker:seq` in decimal). So a call's label is made only when a message
//! names it.
//!
//! Worker ids start at 1; 0 (the main thread) means "none" wherever a
//! context is passed or returned.

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::UnsafeCell;

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

struct Global(UnsafeCell<Tracker>);

// SAFETY: a wasm module instance runs on one thread (this crate is built
// without the atomics feature), so the tracker is never shared.
unsafe impl Sync for Global {}

static TRACKER: Global = Global(UnsafeCell::new(Tracker {
    inner: WaitForTracker::with_labels(true),
    error: Vec::new(),
    seq: 0,
}));

fn tracker() -> &'static mut Tracker {
    // SAFETY: one thread (see `impl Sync for Global`), and an export runs to
    // completion before the next: no other reference to the tracker is live
    // while an export uses this one, and none outlives its export.
    unsafe { &mut *TRACKER.0.get() }
}

fn context(worker: u32, seq: u32) -> Option<CallRef> {
    (worker != 0).then_some(CallRef { worker, seq })
}

/// `a`: registers a worker (`reentrant` 0 or 1, its nesting limit, `named`
/// 1 if the host keeps a name for it under kind `N`); returns its id.
#[export_name = "a"]
pub extern "C" fn wb_add_worker(reentrant: u32, max_nesting: u32, named: u32) -> u32 {
    tracker()
        .inner
        .add_labelled_worker(reentrant != 0, max_nesting as usize, |worker| {
            (named != 0).then_some(HostLabel {
                kind: b'N',
                worker,
                seq: 0,
            })
        })
}

/// `b`: the worker is gone: forget it.
#[export_name = "b"]
pub extern "C" fn wb_remove_worker(worker: u32) {
    tracker().inner.forget_worker(worker);
}

/// `c`: main serves the worker's request `seq` (its label: kind `S`).
#[export_name = "c"]
pub extern "C" fn wb_begin_serving(worker: u32, seq: u32) {
    // A request served twice is a host bug the tracker reports; the JS host
    // serves each request once, so there is nothing to tell it.
    let _ = tracker().inner.begin_serving(
        worker,
        seq,
        HostLabel {
            kind: b'S',
            worker,
            seq,
        },
    );
}

/// `d`: main answered (or gave up on) the worker's request `seq`: 1 if it
/// was being served.
#[export_name = "d"]
pub extern "C" fn wb_finish_serving(worker: u32, seq: u32) -> u32 {
    tracker().inner.finish_serving(worker, seq).into()
}

/// `e`: how main's call `seq` (label: kind `C`) to `worker`, made in the
/// context of served call (`ctx_worker`, `ctx_seq`) (`ctx_worker` 0:
/// unknown), goes: the worker's seq to nest it into, 0 to deliver it
/// directly, or -1: it is refused, with the message [`wb_error_ptr`] points
/// at.
#[export_name = "e"]
pub extern "C" fn wb_call_worker(worker: u32, seq: u32, ctx_worker: u32, ctx_seq: u32) -> f64 {
    let t = tracker();
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

/// `f`: 1 if a direct call to `worker` should be checked again later
/// ([`wb_suspected_cycle`]).
#[export_name = "f"]
pub extern "C" fn wb_may_cycle(worker: u32) -> u32 {
    tracker().inner.may_cycle(worker).into()
}

/// `g`: main's outstanding call `seq` checked again with the assumed edges:
/// 1 if it is to be refused (the message at [`wb_error_ptr`]), else 0.
#[export_name = "g"]
pub extern "C" fn wb_suspected_cycle(worker: u32, seq: u32) -> u32 {
    let t = tracker();
    match t.inner.suspected_cycle(worker, seq) {
        Some(e) => {
            t.refuse(e);
            1
        }
        None => 0,
    }
}

/// `h`: main's call `seq` got its reply or was given up: forgets it and
/// returns its context's worker (0: none), whose seq [`wb_seq`] then gives.
#[export_name = "h"]
pub extern "C" fn wb_take_call(worker: u32, seq: u32) -> u32 {
    let t = tracker();
    match t.inner.take_call(worker, seq).flatten() {
        Some(ctx) => {
            t.seq = ctx.seq;
            ctx.worker
        }
        None => 0,
    }
}

/// `i`: the seq of the pair the last [`wb_take_call`] returned.
#[export_name = "i"]
pub extern "C" fn wb_seq() -> u32 {
    tracker().seq
}

/// `j`: nested requests in progress in `worker` (tests, stats).
#[export_name = "j"]
pub extern "C" fn wb_nesting_depth(worker: u32) -> u32 {
    tracker().inner.nesting_depth(worker) as u32
}

/// `k`: where the last refusal's message starts in the module's memory
/// (UTF-8, [`wb_error_len`] bytes).
#[export_name = "k"]
pub extern "C" fn wb_error_ptr() -> *const u8 {
    tracker().error.as_ptr()
}

/// `l`: the length in bytes of the last refusal's message.
#[export_name = "l"]
pub extern "C" fn wb_error_len() -> u32 {
    tracker().error.len() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> String {
        let (ptr, len) = (wb_error_ptr(), wb_error_len());
        // SAFETY: the pointer and length describe the tracker's error bytes.
        String::from_utf8(unsafe { core::slice::from_raw_parts(ptr, len as usize) }.to_vec())
            .unwrap()
    }

    // One test: the exports share the module's one tracker.
    #[test]
    fn exports_decide_and_name_labels_by_key() {
        let w = wb_add_worker(1, 1, 0);
        assert_eq!(wb_call_worker(w, 1, 0, 0), 0.0, "not blocked: direct");
        wb_begin_serving(w, 5);
        assert_eq!(wb_call_worker(w, 2, w, 5), 5.0, "nested into 5");
        assert_eq!(wb_nesting_depth(w), 1);
        assert_eq!(wb_call_worker(w, 3, w, 5), -1.0, "limit 1");
        let (key, blocked) = (alloc::format!("{w}:3"), alloc::format!("{w}:5"));
        assert_eq!(
            message(),
            alloc::format!(
                "Possible deadlock: \u{1}C{key}\u{2} was awaited while the worker is blocked in \u{1}S{blocked}\u{2} \
                 (calls between the main thread and this worker are nested 1 deep, the limit (the maxNesting option); \
                 they probably recurse without end)"
            )
        );
        assert_eq!(wb_take_call(w, 2), w, "its context");
        assert_eq!(wb_seq(), 5);
        assert_eq!(wb_finish_serving(w, 5), 1);
        assert_eq!(wb_may_cycle(w), 0);
        let strict = wb_add_worker(0, 64, 1);
        wb_begin_serving(strict, 1);
        assert_eq!(wb_may_cycle(strict), 1);
        assert_eq!(
            wb_call_worker(strict, 4, strict, 1),
            -1.0,
            "its own handler"
        );
        assert!(message().contains("reentrant: false"), "{}", message());
        assert!(
            message().contains(&alloc::format!("\u{1}S{strict}:1\u{2}")),
            "{}",
            message()
        );
        assert_eq!(
            wb_call_worker(strict, 5, 0, 0),
            0.0,
            "unknown context: direct"
        );
        assert_eq!(wb_suspected_cycle(strict, 5), 0);
        wb_remove_worker(strict);
        assert_eq!(wb_may_cycle(strict), 0, "forgotten");
    }
}
