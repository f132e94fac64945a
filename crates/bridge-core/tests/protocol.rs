//! The sans-IO state machines alone: events in, actions out, time passed in.

use std::time::Duration;

use bridge_core::deadlock::{WaitForTracker, WorkerOptions};
use bridge_core::message::Release;
use bridge_core::protocol::{
    Answer, CallState, Incoming, MainCore, MainStep, PollError, Step, Tracked, WorkerCore,
};
use proptest::prelude::*;

type W = WorkerCore<&'static str, &'static str>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn reply(seq: u32, body: &'static str) -> Incoming<&'static str, &'static str> {
    Incoming::Reply { seq, body }
}

#[test]
fn outer_reply_that_comes_first_is_kept_in_its_frame() {
    let mut w = W::new();
    let outer = w.begin_call(ms(0), None).seq;
    // main nests a request into outer; its handler calls main (inner)
    let step = w.on_message(Incoming::Request {
        seq: 1,
        nested_in: outer,
        body: "inner-req",
    });
    assert_eq!(
        step,
        Step::Serve {
            seq: 1,
            body: "inner-req"
        }
    );
    let inner = w.begin_call(ms(1), None).seq;
    assert_eq!(w.on_message(reply(outer, "outer-reply")), Step::Kept);
    assert_eq!(
        w.poll_call(inner, ms(2)),
        Ok(CallState::Waiting { until: None })
    );
    assert_eq!(
        w.poll_call(outer, ms(2)),
        Err(PollError::NotInnermost {
            seq: outer,
            innermost: inner
        })
    );
    assert_eq!(w.on_message(reply(inner, "inner-reply")), Step::Kept);
    assert_eq!(
        w.poll_call(inner, ms(3)),
        Ok(CallState::Replied("inner-reply"))
    );
    assert!(matches!(w.finish_serve(1), Ok(Answer::Send { .. })));
    assert_eq!(
        w.poll_call(outer, ms(4)),
        Ok(CallState::Replied("outer-reply"))
    );
    assert_eq!(w.stats().late_replies_dropped, 0);
}

#[test]
fn deadline_from_the_hosts_clock_then_late_reply_dropped() {
    let mut w = W::new();
    let seq = w.begin_call(ms(100), Some(ms(50))).seq;
    assert_eq!(
        w.poll_call(seq, ms(149)),
        Ok(CallState::Waiting {
            until: Some(ms(150))
        })
    );
    assert_eq!(w.poll_call(seq, ms(150)), Ok(CallState::TimedOut));
    assert_eq!(w.owed_cancel(), Some(seq));
    w.cancel_sent(seq);
    assert_eq!(w.owed_cancel(), None);
    assert_eq!(w.on_message(reply(seq, "late")), Step::Late("late"));
    let next = w.begin_call(ms(200), None).seq;
    assert_eq!(next, seq + 1);
    assert_eq!(w.stats().late_replies_dropped, 1);
}

#[test]
fn requests_not_nested_wait_in_the_queue_and_cancel_drops_them() {
    let mut w = W::new();
    let _call = w.begin_call(ms(0), None);
    assert_eq!(
        w.on_message(Incoming::Request {
            seq: 7,
            nested_in: 0,
            body: "a"
        }),
        Step::Queued
    );
    assert_eq!(
        w.on_message(Incoming::Request {
            seq: 8,
            nested_in: 99,
            body: "b"
        }),
        Step::Queued
    );
    assert_eq!(
        w.on_message(Incoming::Cancel { seq: 7 }),
        Step::Dropped("a")
    );
    assert_eq!(w.next_queued(), Some((8, "b")));
    // cancelled while being served: the answer is dropped
    assert_eq!(w.on_message(Incoming::Cancel { seq: 8 }), Step::Nothing);
    assert_eq!(w.finish_serve(8), Ok(Answer::Drop));
    assert!(w.finish_serve(8).is_err(), "answered once");
}

#[test]
fn releases_ride_on_the_next_message_merged_per_id_and_come_back_if_unsent() {
    let mut w = W::new();
    w.releases().queue(Release { id: 3, count: 1 });
    w.releases().queue(Release { id: 4, count: 2 });
    w.releases().queue(Release { id: 3, count: 5 });
    let start = w.begin_call(ms(0), None);
    assert_eq!(
        start.releases,
        vec![Release { id: 3, count: 6 }, Release { id: 4, count: 2 }]
    );
    w.abandon_call(start.seq);
    w.releases().restore(start.releases);
    let again = w.begin_call(ms(0), None);
    assert_eq!(again.releases.len(), 2);
}

#[test]
fn main_nests_into_the_request_it_serves_and_expires_its_calls() {
    let mut m = MainCore::new();
    let step = m.on_message::<&str, &str>(
        Incoming::Request {
            seq: 5,
            nested_in: 0,
            body: "outer",
        },
        None,
    );
    assert_eq!(
        step,
        MainStep::Serve {
            seq: 5,
            body: "outer"
        }
    );
    let call = m
        .start_call(ms(0), Some(ms(10)), None, "proxy.inner()", None)
        .unwrap();
    assert_eq!(call.nested_in, 5);
    assert_eq!(m.expire(ms(9), None), Vec::<u32>::new());
    assert_eq!(m.expire(ms(10), None), vec![call.seq]);
    assert_eq!(m.take_cancels(), vec![call.seq]);
    assert_eq!(
        m.on_message::<&str, &str>(
            Incoming::Reply {
                seq: call.seq,
                body: "x"
            },
            None
        ),
        MainStep::Late("x")
    );
    // the worker gives up on 5: main's answer is dropped
    assert_eq!(
        m.on_message::<&str, &str>(Incoming::Cancel { seq: 5 }, None),
        MainStep::Cancelled { seq: 5 }
    );
    assert_eq!(m.finish_serve(5, None), Ok(Answer::Drop));
}

fn tracked(t: &mut WaitForTracker, worker: u32) -> Option<Tracked<'_>> {
    Some(Tracked { tracker: t, worker })
}

#[test]
fn main_with_a_tracker_refuses_past_the_workers_nesting_limit() {
    let mut t = WaitForTracker::new(true);
    let id = t.add_worker(WorkerOptions {
        max_nesting: 1,
        name: Some("calc"),
        ..Default::default()
    });
    let mut m = MainCore::new();
    t.begin_serving(id, 1, "proxy.outer()").unwrap();
    m.on_message::<(), ()>(
        Incoming::Request {
            seq: 1,
            nested_in: 0,
            body: (),
        },
        tracked(&mut t, id),
    );
    let first = m
        .start_call(ms(0), None, tracked(&mut t, id), "proxy.a()", None)
        .unwrap();
    assert_eq!(first.nested_in, 1);
    let err = m
        .start_call(ms(0), None, tracked(&mut t, id), "proxy.b()", None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Possible deadlock: proxy.b() was awaited while the worker is blocked in proxy.outer() \
         (calls between the main thread and this worker are nested 1 deep, the limit (the \
         maxNesting option); they probably recurse without end)"
    );
    // the reply finishes the call in the tracker
    let step = m.on_message::<(), ()>(
        Incoming::Reply {
            seq: first.seq,
            body: (),
        },
        tracked(&mut t, id),
    );
    assert!(matches!(step, MainStep::Replied { .. }));
    assert_eq!(t.outstanding(id), 0);
    assert_eq!(
        m.finish_serve(1, tracked(&mut t, id)),
        Ok(Answer::Send { releases: vec![] })
    );
    assert!(!t.is_blocked(id));
}

#[derive(Clone, Debug)]
enum Ev {
    Call(Option<u8>),
    Reply(u8),
    Request { seq: u8, nested: u8 },
    Cancel(u8),
    Poll,
    Serve,
    Finish(u8),
    Tick(u8),
    Release(u8, u8),
}

fn ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        proptest::option::of(0u8..20).prop_map(Ev::Call),
        (0u8..12).prop_map(Ev::Reply),
        (0u8..12, 0u8..12).prop_map(|(seq, nested)| Ev::Request { seq, nested }),
        (0u8..12).prop_map(Ev::Cancel),
        Just(Ev::Poll),
        Just(Ev::Serve),
        (0u8..12).prop_map(Ev::Finish),
        (0u8..30).prop_map(Ev::Tick),
        (1u8..5, 1u8..4).prop_map(|(i, c)| Ev::Release(i, c)),
    ]
}

proptest! {
    /// Any sequence of events: no panic; seqs are never 0 and never repeat
    /// while blocked; a reply is handed out at most once and only to its
    /// own call; every call ends exactly once.
    #[test]
    fn worker_machine_holds_its_invariants(events in proptest::collection::vec(ev(), 0..80)) {
        let mut w: WorkerCore<u8, u32> = WorkerCore::new();
        let mut now = Duration::ZERO;
        let mut open: Vec<u32> = Vec::new();
        let mut ended: Vec<u32> = Vec::new();
        for e in events {
            match e {
                Ev::Call(t) => {
                    let s = w.begin_call(now, t.map(|t| ms(t.into()))).seq;
                    prop_assert!(s != 0 && !open.contains(&s) && !ended.contains(&s));
                    open.push(s);
                }
                Ev::Reply(s) => { let _ = w.on_message(Incoming::Reply { seq: s.into(), body: s.into() }); }
                Ev::Request { seq, nested } => {
                    let _ = w.on_message(Incoming::Request { seq: seq.into(), nested_in: nested.into(), body: seq });
                }
                Ev::Cancel(s) => { let _ = w.on_message(Incoming::Cancel { seq: s.into() }); }
                Ev::Poll => {
                    if let Some(&s) = open.last() {
                        match w.poll_call(s, now) {
                            Ok(CallState::Replied(body)) => {
                                prop_assert_eq!(body, s, "a reply went to another call");
                                open.pop();
                                ended.push(s);
                            }
                            Ok(CallState::TimedOut) | Ok(CallState::Aborted) => { open.pop(); ended.push(s); }
                            Ok(CallState::Waiting { .. }) => {}
                            Err(e) => prop_assert!(false, "{e}"),
                        }
                    }
                }
                Ev::Serve => { let _ = w.next_queued(); }
                Ev::Finish(s) => { let _ = w.finish_serve(s.into()); }
                Ev::Tick(d) => now += ms(d.into()),
                Ev::Release(id, c) => w.releases().queue(Release { id: id.into(), count: c.into() }),
            }
            let blocked: Vec<u32> = w.blocked().collect();
            prop_assert_eq!(&blocked, &open, "the frame stack is the calls not ended");
        }
        for s in ended {
            prop_assert_eq!(w.poll_call(s, now), Err(PollError::NoSuchCall { seq: s }));
        }
    }

    /// The main machine: no panic; a reply is handed out once per call.
    #[test]
    fn main_machine_hands_out_each_reply_once(events in proptest::collection::vec(ev(), 0..80)) {
        let mut m = MainCore::new();
        let mut now = Duration::ZERO;
        let mut replied: Vec<u32> = Vec::new();
        for e in events {
            match e {
                Ev::Call(t) => { m.start_call(now, t.map(|t| ms(t.into())), None, "proxy.f()", None).unwrap(); }
                Ev::Reply(s) => {
                    if let MainStep::Replied { seq, .. } = m.on_message::<(), ()>(Incoming::Reply { seq: s.into(), body: () }, None) {
                        prop_assert!(!replied.contains(&seq));
                        replied.push(seq);
                    }
                }
                Ev::Request { seq, .. } => { let _ = m.on_message::<(), ()>(Incoming::Request { seq: seq.into(), nested_in: 0, body: () }, None); }
                Ev::Cancel(s) => { let _ = m.on_message::<(), ()>(Incoming::Cancel { seq: s.into() }, None); }
                Ev::Finish(s) => { let _ = m.finish_serve(s.into(), None); }
                Ev::Tick(d) => {
                    now += ms(d.into());
                    for seq in m.expire(now, None) { prop_assert!(!m.is_pending(seq)); }
                }
                Ev::Poll | Ev::Serve => { let _ = m.interrupt(None); }
                Ev::Release(id, c) => m.releases().queue(Release { id: id.into(), count: c.into() }),
            }
        }
    }
}

/// Calls the worker does not block in (`call_async` of the Rust embedding)
/// end in any order: `poll_started` reads any frame, `poll_call` only the
/// innermost.
#[test]
fn started_calls_end_in_any_order() {
    let mut w = W::new();
    let a = w.begin_call(ms(0), None).seq;
    let b = w.begin_call(ms(0), Some(ms(100))).seq;
    assert!(matches!(
        w.poll_started(a, ms(1)),
        Ok(CallState::Waiting { .. })
    ));
    assert!(matches!(
        w.poll_call(a, ms(1)),
        Err(PollError::NotInnermost { .. })
    ));
    assert!(matches!(w.on_message(reply(a, "A")), Step::Kept));
    assert!(matches!(
        w.poll_started(a, ms(2)),
        Ok(CallState::Replied("A"))
    ));
    assert!(matches!(
        w.poll_started(a, ms(2)),
        Err(PollError::NoSuchCall { .. })
    ));
    // b's time-out passes: it ends with a cancel owed; its late reply drops.
    assert!(matches!(
        w.poll_started(b, ms(150)),
        Ok(CallState::TimedOut)
    ));
    assert_eq!(w.owed_cancel(), Some(b));
    assert!(matches!(w.on_message(reply(b, "B")), Step::Late("B")));
}
