//! [`DeadlockTracker`]: the JS face of `bridge_core::deadlock::WaitForTracker`.
//!
//! Numbers and strings in, numbers and strings out, so bridge-js needs no
//! glue objects: `callWorker` returns a number (0 = send directly, n > 0 =
//! send nested into the worker's call n; request seqs skip 0) or a string
//! (the "Possible deadlock: ..." message to reject the call with).

use bridge_core::deadlock::{CallRef, DeadlockError, Deliver, WaitForTracker};
use wasm_bindgen::prelude::*;

/// The main thread's wait-for graph over its workers.
#[wasm_bindgen]
pub struct DeadlockTracker {
    inner: WaitForTracker,
}

#[wasm_bindgen]
impl DeadlockTracker {
    /// `new DeadlockTracker(defaultReentrant, maxNesting?)`; the nesting
    /// limit defaults to 64.
    #[wasm_bindgen(constructor)]
    pub fn new(default_reentrant: bool, max_nesting: Option<u32>) -> DeadlockTracker {
        let mut inner = WaitForTracker::new(default_reentrant);
        if let Some(limit) = max_nesting {
            inner = inner.with_max_nesting(limit as usize);
        }
        DeadlockTracker { inner }
    }

    /// The nesting limit in force.
    #[wasm_bindgen(getter, js_name = maxNesting)]
    pub fn max_nesting(&self) -> u32 {
        self.inner.max_nesting() as u32
    }

    /// Whether `worker` serves nested requests while it is blocked.
    #[wasm_bindgen(js_name = setReentrant)]
    pub fn set_reentrant(&mut self, worker: u32, reentrant: bool) {
        self.inner.set_reentrant(worker, reentrant)
    }

    /// Main read request `seq` of `worker` (labelled e.g. `proxy.main_task()`)
    /// and serves it. Throws on bookkeeping errors (worker 0, served twice).
    #[wasm_bindgen(js_name = beginServing)]
    pub fn begin_serving(&mut self, worker: u32, seq: u32, label: &str) -> Result<(), JsError> {
        self.inner
            .begin_serving(worker, seq, label)
            .map_err(|e| JsError::new(&format!("DeadlockTracker.beginServing: {e}")))
    }

    /// Main wrote the reply to request `seq` of `worker`. False if it was not
    /// being served.
    #[wasm_bindgen(js_name = finishServing)]
    pub fn finish_serving(&mut self, worker: u32, seq: u32) -> bool {
        self.inner.finish_serving(worker, seq)
    }

    /// Decides main's call `seq` to `worker`, made by the handler of the
    /// worker call (`ctxWorker`, `ctxSeq`) if known. Returns 0 (direct), the
    /// seq to nest into, or the deadlock message (a string).
    #[wasm_bindgen(js_name = callWorker)]
    pub fn call_worker(
        &mut self,
        worker: u32,
        seq: u32,
        label: &str,
        ctx_worker: Option<u32>,
        ctx_seq: Option<u32>,
    ) -> JsValue {
        let context = match (ctx_worker, ctx_seq) {
            (Some(worker), Some(seq)) => Some(CallRef { worker, seq }),
            _ => None,
        };
        match self.inner.call_worker(worker, seq, label, context) {
            Ok(Deliver::Direct) => JsValue::from(0),
            Ok(Deliver::Nested { into_seq }) => JsValue::from(into_seq),
            Err(e) => JsValue::from(e.to_string()),
        }
    }

    /// The reply to main's call `seq` arrived, or it timed out / was cancelled.
    #[wasm_bindgen(js_name = callFinished)]
    pub fn call_finished(&mut self, worker: u32, seq: u32) -> bool {
        self.inner.call_finished(worker, seq)
    }

    /// The worker reported that its handler for main's nested call `seq`
    /// returned a pending promise: forgets the call and returns the message
    /// to reject it with (undefined if the call is not outstanding).
    #[wasm_bindgen(js_name = nestedPending)]
    pub fn nested_pending(&mut self, worker: u32, seq: u32) -> Option<String> {
        self.inner
            .nested_pending(worker, seq)
            .map(|e| e.to_string())
    }

    /// The message a worker replies with when its handler for a nested
    /// request returned a pending promise (the same text main produces).
    #[wasm_bindgen(js_name = pendingResultMessage)]
    pub fn pending_result_message(awaited: &str, blocked: &str) -> String {
        DeadlockError::pending_result(0, awaited, blocked).to_string()
    }

    /// The worker is gone: forgets it and returns the seqs of its outstanding
    /// calls, to reject.
    #[wasm_bindgen(js_name = removeWorker)]
    pub fn remove_worker(&mut self, worker: u32) -> Vec<u32> {
        self.inner
            .remove_worker(worker)
            .into_iter()
            .map(|(seq, _)| seq)
            .collect()
    }

    /// True if `worker` is blocked in a call main is serving.
    #[wasm_bindgen(js_name = isBlocked)]
    pub fn is_blocked(&self, worker: u32) -> bool {
        self.inner.is_blocked(worker)
    }

    /// The seq of the innermost call `worker` is blocked in.
    #[wasm_bindgen(js_name = blockedIn)]
    pub fn blocked_in(&self, worker: u32) -> Option<u32> {
        self.inner.blocked_in(worker).map(|(seq, _)| seq)
    }

    /// Nested requests in progress in `worker`.
    #[wasm_bindgen(js_name = nestingDepth)]
    pub fn nesting_depth(&self, worker: u32) -> u32 {
        self.inner.nesting_depth(worker) as u32
    }

    /// main->worker calls to `worker` without a reply.
    pub fn outstanding(&self, worker: u32) -> u32 {
        self.inner.outstanding(worker) as u32
    }
}
