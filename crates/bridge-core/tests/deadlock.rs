//! The wait-for tracker: delivery decisions and "Possible deadlock" errors.

use bridge_core::deadlock::{
    CallRef, CycleLink, DeadlockError, DeadlockReason, Deliver, TrackError, WaitForTracker,
    DEFAULT_MAX_NESTING, MAIN,
};

const A: u32 = 1;
const B: u32 = 2;

fn ctx(worker: u32, seq: u32) -> Option<CallRef> {
    Some(CallRef { worker, seq })
}

#[test]
fn idle_worker_gets_direct_calls() {
    let mut t = WaitForTracker::new(true);
    assert!(!t.is_blocked(A));
    assert_eq!(
        t.call_worker(A, 1, "proxy.compute()", None),
        Ok(Deliver::Direct)
    );
    assert_eq!(t.outstanding(A), 1);
    assert!(t.call_finished(A, 1));
    assert!(!t.call_finished(A, 1), "a call finishes once");
    assert_eq!(t.outstanding(A), 0);
}

#[test]
fn blocked_reentrant_worker_gets_nested_calls_into_its_innermost_call() {
    let mut t = WaitForTracker::new(true);
    t.begin_serving(A, 7, "proxy.main_task()").unwrap();
    assert_eq!(t.blocked_in(A), Some((7, "proxy.main_task()")));
    assert_eq!(t.serving(), vec![CallRef { worker: A, seq: 7 }]);
    // The FAQ example: main_task's handler awaits worker_task.
    assert_eq!(
        t.call_worker(A, 1, "proxy.worker_task()", ctx(A, 7)),
        Ok(Deliver::Nested { into_seq: 7 })
    );
    assert_eq!(t.nesting_depth(A), 1);
    // Serving it, the worker calls main again: the new call is innermost.
    t.begin_serving(A, 8, "proxy.inner()").unwrap();
    assert_eq!(
        t.call_worker(A, 2, "proxy.again()", ctx(A, 8)),
        Ok(Deliver::Nested { into_seq: 8 })
    );
    // Other workers are unaffected.
    assert_eq!(
        t.call_worker(B, 1, "proxy.other()", None),
        Ok(Deliver::Direct)
    );
    // Unwind.
    assert!(t.call_finished(A, 2));
    assert!(t.finish_serving(A, 8));
    assert!(t.call_finished(A, 1));
    assert!(t.finish_serving(A, 7));
    assert!(!t.finish_serving(A, 7));
    assert!(!t.is_blocked(A));
    assert_eq!(
        t.call_worker(A, 3, "proxy.later()", None),
        Ok(Deliver::Direct)
    );
}

#[test]
fn calls_answered_out_of_order_leave_the_innermost_blocked() {
    let mut t = WaitForTracker::new(true);
    t.begin_serving(A, 1, "proxy.outer()").unwrap();
    t.begin_serving(A, 2, "proxy.inner()").unwrap();
    // main's handler for the outer call finishes first.
    assert!(t.finish_serving(A, 1));
    assert_eq!(t.blocked_in(A), Some((2, "proxy.inner()")));
    assert_eq!(
        t.call_worker(A, 1, "proxy.x()", None),
        Ok(Deliver::Nested { into_seq: 2 })
    );
}

#[test]
fn strict_worker_awaited_from_its_own_calls_handler_is_a_deadlock() {
    let mut t = WaitForTracker::new(true);
    t.set_reentrant(A, false);
    assert!(!t.is_reentrant(A));
    t.begin_serving(A, 7, "proxy.main_task()").unwrap();
    let err = t
        .call_worker(A, 1, "proxy.worker_task()", ctx(A, 7))
        .unwrap_err();
    assert_eq!(err.reason, DeadlockReason::NotReentrant);
    assert_eq!(err.worker, A);
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "Possible deadlock: proxy.worker_task() was awaited while the worker is blocked in proxy.main_task()"
        ),
        "{msg}"
    );
    assert!(msg.contains("reentrant: false"), "{msg}");
    assert_eq!(t.outstanding(A), 0, "a refused call is not recorded");
}

#[test]
fn strict_worker_called_from_elsewhere_is_queued_not_refused() {
    let mut t = WaitForTracker::new(false);
    t.begin_serving(A, 7, "proxy.main_task()").unwrap();
    // Top-level code (no handler context): served when A is free.
    assert_eq!(t.call_worker(A, 1, "proxy.a()", None), Ok(Deliver::Direct));
    // A handler of another worker's call that A does not wait for.
    t.begin_serving(B, 3, "proxy.b_main()").unwrap();
    assert_eq!(
        t.call_worker(A, 2, "proxy.a2()", ctx(B, 3)),
        Ok(Deliver::Direct)
    );
    assert_eq!(t.outstanding(A), 2);
}

/// `err` is the cycle of A (in main_a) and B (in main_b): the call
/// `first_label` went first, `second` (worker, label) closed the cycle.
fn assert_two_link_cycle(err: &DeadlockError, first_label: &str, second: (u32, &str)) {
    let DeadlockReason::Cycle(links) = &err.reason else {
        panic!("expected a cycle, got {err:?}");
    };
    // The links go round: target worker ... caller's context, back to target.
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].worker, second.0);
    assert_eq!(links[0].awaits, first_label);
    assert_eq!(links[1].next, second.0);
    assert_eq!(links[1].awaits, second.1);
    let blocked = if second.0 == A {
        "proxy.main_a()"
    } else {
        "proxy.main_b()"
    };
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!(
            "Possible deadlock: {} was awaited while the worker is blocked in {blocked}",
            second.1
        )),
        "{msg}"
    );
}

#[test]
fn three_party_cycle_through_strict_workers() {
    for second_first in [false, true] {
        let mut t = WaitForTracker::new(false);
        t.begin_serving(A, 10, "proxy.main_a()").unwrap();
        t.begin_serving(B, 20, "proxy.main_b()").unwrap();
        // main_a's handler awaits B; main_b's handler awaits A.
        let (first, second) = if second_first {
            (
                (A, 1, "proxy.a_task()", ctx(B, 20)),
                (B, 1, "proxy.b_task()", ctx(A, 10)),
            )
        } else {
            (
                (B, 1, "proxy.b_task()", ctx(A, 10)),
                (A, 1, "proxy.a_task()", ctx(B, 20)),
            )
        };
        assert_eq!(
            t.call_worker(first.0, first.1, first.2, first.3),
            Ok(Deliver::Direct),
            "one call alone closes no cycle"
        );
        let err = t
            .call_worker(second.0, second.1, second.2, second.3)
            .unwrap_err();
        assert_two_link_cycle(&err, first.2, (second.0, second.2));
        let msg = err.to_string();
        for part in [
            "proxy.main_a()",
            "proxy.main_b()",
            "proxy.a_task()",
            "proxy.b_task()",
            "cycle",
        ] {
            assert!(msg.contains(part), "{part} missing in {msg}");
        }
    }
}

#[test]
fn cycle_closed_by_calls_made_after_a_timer_is_refused_when_checked_again() {
    // Strict A and B block in main_a / main_b; each handler awaits a timer
    // (its context is lost) and then calls the other worker. Each call is
    // assumed to be awaited by the calls main serves for the other workers:
    // not refused at once, but the check made a while later finds the
    // cycle, in either order, instead of a hang.
    for second_first in [false, true] {
        let mut t = WaitForTracker::new(false);
        t.begin_serving(A, 10, "proxy.main_a()").unwrap();
        t.begin_serving(B, 20, "proxy.main_b()").unwrap();
        let (first, second) = if second_first {
            ((A, "proxy.a_task()"), (B, "proxy.b_task()"))
        } else {
            ((B, "proxy.b_task()"), (A, "proxy.a_task()"))
        };
        assert_eq!(
            t.call_worker(first.0, 1, first.1, None),
            Ok(Deliver::Direct)
        );
        assert_eq!(t.suspected_cycle(first.0, 1), None, "no cycle yet");
        assert_eq!(
            t.call_worker(second.0, 1, second.1, None),
            Ok(Deliver::Direct)
        );
        let err = t.suspected_cycle(second.0, 1).expect("the cycle");
        assert_two_link_cycle(&err, first.1, second);
        // Once one handler settles the cycle is gone: nothing to refuse.
        let served = if first.0 == A { (B, 20) } else { (A, 10) };
        assert!(t.finish_serving(served.0, served.1));
        assert_eq!(t.suspected_cycle(second.0, 1), None);
        assert!(t.call_finished(second.0, 1));
        assert_eq!(t.suspected_cycle(second.0, 1), None, "answered");
    }
}

#[test]
fn unknown_context_waits_only_for_calls_served_when_it_was_made() {
    let mut t = WaitForTracker::new(false);
    t.begin_serving(A, 10, "proxy.main_a()").unwrap();
    t.begin_serving(B, 20, "proxy.main_b()").unwrap();
    // Made while main_a was served: may be main_a's.
    assert_eq!(
        t.call_worker(B, 1, "proxy.b_task()", None),
        Ok(Deliver::Direct)
    );
    // main_a returns; A blocks again in a new call, which cannot be
    // awaiting b_task (it did not exist when b_task was made).
    assert!(t.finish_serving(A, 10));
    t.begin_serving(A, 11, "proxy.main_a2()").unwrap();
    assert_eq!(
        t.call_worker(A, 1, "proxy.a_task()", None),
        Ok(Deliver::Direct)
    );
    assert_eq!(t.suspected_cycle(A, 1), None);
    // A strict worker's own served calls are never candidates: calls to A
    // from elsewhere while only A is blocked are queued, never suspected.
    let mut t = WaitForTracker::new(false);
    t.begin_serving(A, 10, "proxy.main_a()").unwrap();
    assert_eq!(
        t.call_worker(A, 1, "proxy.a_task()", None),
        Ok(Deliver::Direct)
    );
    assert_eq!(t.suspected_cycle(A, 1), None);
    // A known context closing a cycle only through an assumed edge is not
    // refused at once either, but suspected.
    let mut t = WaitForTracker::new(false);
    t.begin_serving(A, 10, "proxy.main_a()").unwrap();
    t.begin_serving(B, 20, "proxy.main_b()").unwrap();
    assert_eq!(
        t.call_worker(B, 1, "proxy.b_task()", None),
        Ok(Deliver::Direct)
    );
    assert_eq!(
        t.call_worker(A, 1, "proxy.a_task()", ctx(B, 20)),
        Ok(Deliver::Direct)
    );
    assert!(matches!(
        t.suspected_cycle(A, 1).map(|e| e.reason),
        Some(DeadlockReason::Cycle(_))
    ));
    // Re-entrant workers are never suspected.
    let mut t = WaitForTracker::new(true);
    t.begin_serving(A, 10, "proxy.main_a()").unwrap();
    t.begin_serving(B, 20, "proxy.main_b()").unwrap();
    t.call_worker(B, 1, "proxy.b_task()", None).unwrap();
    t.call_worker(A, 1, "proxy.a_task()", None).unwrap();
    assert_eq!(t.suspected_cycle(A, 1), None);
}

#[test]
fn cycle_links_name_every_hop() {
    let mut t = WaitForTracker::new(false);
    t.begin_serving(A, 10, "proxy.main_a()").unwrap();
    t.begin_serving(B, 20, "proxy.main_b()").unwrap();
    t.call_worker(B, 5, "proxy.b_task()", ctx(A, 10)).unwrap();
    let err = t
        .call_worker(A, 6, "proxy.a_task()", ctx(B, 20))
        .unwrap_err();
    assert_eq!(
        err.reason,
        DeadlockReason::Cycle(vec![
            CycleLink {
                worker: A,
                worker_name: "worker #1".into(),
                next_name: "worker #2".into(),
                blocked: "proxy.main_a()".into(),
                awaits: "proxy.b_task()".into(),
                next: B,
            },
            CycleLink {
                worker: B,
                worker_name: "worker #2".into(),
                next_name: "worker #1".into(),
                blocked: "proxy.main_b()".into(),
                awaits: "proxy.a_task()".into(),
                next: A,
            },
        ])
    );
}

#[test]
fn reentrant_workers_break_the_three_party_cycle() {
    let mut t = WaitForTracker::new(true);
    t.begin_serving(A, 10, "proxy.main_a()").unwrap();
    t.begin_serving(B, 20, "proxy.main_b()").unwrap();
    assert_eq!(
        t.call_worker(B, 1, "proxy.b_task()", ctx(A, 10)),
        Ok(Deliver::Nested { into_seq: 20 })
    );
    assert_eq!(
        t.call_worker(A, 1, "proxy.a_task()", ctx(B, 20)),
        Ok(Deliver::Nested { into_seq: 10 })
    );
}

#[test]
fn cycle_through_a_nested_call_in_a_reentrant_worker() {
    // A strict, B re-entrant. main_a's handler awaits B (nested into b1);
    // serving it, B calls main (b2), whose handler awaits A: A waits for the
    // nested call, which waits for b2, which waits for A.
    let mut t = WaitForTracker::new(true);
    t.set_reentrant(A, false);
    t.begin_serving(A, 10, "proxy.main_a()").unwrap();
    t.begin_serving(B, 20, "proxy.main_b()").unwrap();
    assert_eq!(
        t.call_worker(B, 1, "proxy.b_task()", ctx(A, 10)),
        Ok(Deliver::Nested { into_seq: 20 })
    );
    t.begin_serving(B, 21, "proxy.b_inner()").unwrap();
    let err = t
        .call_worker(A, 1, "proxy.a_task()", ctx(B, 21))
        .unwrap_err();
    assert!(matches!(err.reason, DeadlockReason::Cycle(_)), "{err:?}");
    assert!(err.to_string().contains("proxy.b_inner()"), "{err}");

    // But main_b's handler (below the nested call) awaiting A is no cycle:
    // the nested call does not wait for b1, so A becomes free.
    assert_eq!(
        t.call_worker(A, 2, "proxy.a_task()", ctx(B, 20)),
        Ok(Deliver::Direct)
    );
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let mut t = WaitForTracker::new(true).with_max_nesting(3);
    assert_eq!(t.max_nesting(), 3);
    t.begin_serving(A, 1, "proxy.ping(0)").unwrap();
    for depth in 1..=3u32 {
        assert_eq!(
            t.call_worker(A, depth, "proxy.pong()", ctx(A, depth)),
            Ok(Deliver::Nested { into_seq: depth })
        );
        t.begin_serving(A, depth + 1, format!("proxy.ping({depth})"))
            .unwrap();
    }
    let err = t.call_worker(A, 4, "proxy.pong()", ctx(A, 4)).unwrap_err();
    assert_eq!(err.reason, DeadlockReason::TooDeep { limit: 3 });
    let msg = err.to_string();
    assert!(
        msg.starts_with(
            "Possible deadlock: proxy.pong() was awaited while the worker is blocked in proxy.ping(3)"
        ),
        "{msg}"
    );
    assert!(msg.contains("nested 3 deep"), "{msg}");
    // One level unwinds: there is room again.
    assert!(t.call_finished(A, 3));
    assert!(t.finish_serving(A, 4));
    assert_eq!(
        t.call_worker(A, 5, "proxy.pong()", None),
        Ok(Deliver::Nested { into_seq: 3 })
    );
}

#[test]
fn default_nesting_limit_is_64() {
    let mut t = WaitForTracker::default();
    assert_eq!(DEFAULT_MAX_NESTING, 64);
    t.begin_serving(A, 1, "proxy.rec()").unwrap();
    for d in 1..=64u32 {
        assert!(
            t.call_worker(A, d, "proxy.down()", None).is_ok(),
            "depth {d}"
        );
        t.begin_serving(A, d + 1, "proxy.rec()").unwrap();
    }
    assert_eq!(t.nesting_depth(A), 64);
    assert!(matches!(
        t.call_worker(A, 65, "proxy.down()", None),
        Err(DeadlockError {
            reason: DeadlockReason::TooDeep { limit: 64 },
            ..
        })
    ));
}

#[test]
fn nested_handler_returning_a_pending_promise_is_a_deadlock_for_both_sides() {
    let mut t = WaitForTracker::new(true);
    t.begin_serving(A, 7, "proxy.main_task()").unwrap();
    assert_eq!(
        t.call_worker(A, 3, "proxy.worker_task()", ctx(A, 7)),
        Ok(Deliver::Nested { into_seq: 7 })
    );
    // The worker sees its handler return a pending promise and reports it.
    let worker_side = DeadlockError::pending_result(A, "proxy.worker_task()", "proxy.main_task()");
    let main_side = t.nested_pending(A, 3).expect("the call is outstanding");
    assert_eq!(main_side, worker_side, "both sides raise the same error");
    assert_eq!(main_side.reason, DeadlockReason::PendingResult);
    let msg = main_side.to_string();
    assert!(
        msg.starts_with(
            "Possible deadlock: proxy.worker_task() was awaited while the worker is blocked in proxy.main_task()"
        ),
        "{msg}"
    );
    // The text bridge-js's worker replies with (endpoint.js), word for word.
    assert_eq!(
        msg,
        "Possible deadlock: proxy.worker_task() was awaited while the worker is blocked in \
         proxy.main_task(): proxy.worker_task() returned a Promise, which the blocked worker \
         cannot await. Make that worker function synchronous, or call it from the main thread \
         only when the worker is not blocked."
    );
    assert_eq!(t.outstanding(A), 0, "the call is over");
    assert_eq!(t.nested_pending(A, 3), None);
}

#[test]
fn bookkeeping_misuse_is_reported() {
    let mut t = WaitForTracker::new(true);
    assert_eq!(
        t.begin_serving(MAIN, 1, "x()"),
        Err(TrackError::MainIsNotAWorker)
    );
    t.begin_serving(A, 1, "x()").unwrap();
    let dup = t.begin_serving(A, 1, "x()").unwrap_err();
    assert_eq!(dup, TrackError::AlreadyServing { worker: A, seq: 1 });
    assert!(dup.to_string().contains("seq 1 of worker 1"), "{dup}");
    assert!(!t.finish_serving(B, 1));
}

#[test]
fn removing_a_worker_hands_back_its_outstanding_calls() {
    let mut t = WaitForTracker::new(true);
    t.call_worker(A, 1, "proxy.one()", None).unwrap();
    t.call_worker(A, 2, "proxy.two()", None).unwrap();
    t.begin_serving(A, 9, "proxy.blocked()").unwrap();
    let gone = t.remove_worker(A);
    assert_eq!(
        gone,
        vec![
            (1, "proxy.one()".to_string()),
            (2, "proxy.two()".to_string())
        ]
    );
    assert!(!t.is_blocked(A));
    assert_eq!(t.outstanding(A), 0);
    assert!(t.remove_worker(A).is_empty());
}

/// The three-party cycle of bridge-js/test/deadlock.test.js, named workers
/// and all: the same sentence, word for word.
#[test]
fn cycle_text_is_the_one_bridge_js_writes() {
    use bridge_core::deadlock::WorkerOptions;
    let mut t = WaitForTracker::new(true);
    let strict = |name| WorkerOptions {
        reentrant: false,
        name: Some(name),
        ..WorkerOptions::default()
    };
    let a = t.add_worker(strict("A"));
    let b = t.add_worker(strict("B"));
    t.begin_serving(a, 1, "proxy.run()").unwrap();
    t.begin_serving(a, 2, "proxy.a()").unwrap();
    t.finish_serving(a, 1);
    // a's handler awaits B.run(); B blocks in b(); b's handler awaits A.worker_task().
    assert_eq!(
        t.call_worker(b, 1, "proxy.run()", ctx(a, 2)),
        Ok(Deliver::Direct)
    );
    t.begin_serving(b, 7, "proxy.b()").unwrap();
    let err = t
        .call_worker(a, 2, "proxy.worker_task()", ctx(b, 7))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Possible deadlock: proxy.worker_task() was awaited while the worker is blocked in proxy.a() \
         (a wait cycle through several workers: worker \"A\" is blocked in proxy.a(), whose handler awaits proxy.run() on worker \"B\", \
         and worker \"B\" is blocked in proxy.b(), whose handler awaits proxy.worker_task() on worker \"A\"; \
         a worker created with reentrant: false cannot serve calls while it is blocked: make the workers re-entrant or break the cycle)"
    );
}
