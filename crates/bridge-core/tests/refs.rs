//! Export/import tables: the counting rule of docs/protocol.md §5.

use bridge_core::message::Release;
use bridge_core::refs::{
    ExportTable, ImportTable, PendingReleases, ReleaseError, Released, TableStats,
};
use proptest::prelude::*;
use std::collections::{BTreeMap, VecDeque};

#[test]
fn ids_start_at_one_and_identity_holds_while_exported() {
    let mut t = ExportTable::new();
    let a = t.export(&"a");
    let b = t.export(&"b");
    assert_eq!(a, 1);
    assert_eq!(b, 2);
    assert_eq!(t.export(&"a"), a, "same object, same id");
    assert_eq!(t.count(a), 2);
    assert_eq!(t.count(b), 1);
    assert_eq!(t.get(a), Some(&"a"));
    assert_eq!(t.id_of(&"b"), Some(b));
    assert_eq!(t.stats(), TableStats { live: 2, count: 3 });
}

#[test]
fn release_race_keeps_entry_until_in_flight_send_is_released() {
    let mut t = ExportTable::new();
    // Three sends; the importer has received two of them when it releases.
    let id = t.export(&"doc");
    t.export(&"doc");
    t.export(&"doc"); // third send still in flight
    assert_eq!(t.release(id, 2), Ok(Released::Kept { remaining: 1 }));
    assert_eq!(t.get(id), Some(&"doc"), "in-flight send keeps the entry");
    // The third receipt makes a fresh proxy on the far side, later released with 1.
    assert_eq!(t.release(id, 1), Ok(Released::Freed("doc")));
    assert_eq!(t.get(id), None);
    assert!(t.is_empty());
    assert_eq!(t.stats(), TableStats::default());
}

#[test]
fn freed_ids_are_not_reused_and_object_gets_a_new_id() {
    let mut t = ExportTable::new();
    let id = t.export(&7u32);
    assert_eq!(t.release(id, 1), Ok(Released::Freed(7)));
    let again = t.export(&7u32);
    assert_ne!(again, id, "a freed id is not handed out again");
    assert_eq!(
        t.release(id, 1),
        Err(ReleaseError::UnknownId { id, count: 1 })
    );
}

#[test]
fn counter_wraps_skipping_zero_and_live_ids() {
    let mut t = ExportTable::new();
    assert_eq!(t.export(&"one"), 1);
    assert_eq!(t.export(&"two"), 2);
    // Pretend 2^32 - 5 more ids were handed out and freed.
    t.set_next_id(u32::MAX - 1);
    assert_eq!(t.export(&"x"), u32::MAX - 1);
    assert_eq!(t.export(&"y"), u32::MAX);
    // Wraps: 0 is the global object, 1 and 2 are still live.
    assert_eq!(t.export(&"z"), 3);
    assert_eq!(t.get(1), Some(&"one"));
    assert_eq!(t.get(2), Some(&"two"));
    assert_eq!(t.len(), 5);
    // Moving the counter onto a live id cannot duplicate it either.
    t.set_next_id(0);
    assert_eq!(t.export(&"w"), 4);
    assert_eq!(t.id_of(&"one"), Some(1));
}

#[test]
fn invalid_releases_are_refused_and_leave_the_table_unchanged() {
    let mut t = ExportTable::new();
    let id = t.export(&"a");
    t.export(&"a");
    let before = t.stats();

    let over = t.release(id, 3).unwrap_err();
    assert_eq!(
        over,
        ReleaseError::OverRelease {
            id,
            count: 3,
            exported: 2
        }
    );
    let msg = over.to_string();
    assert!(msg.contains("count 3") && msg.contains("only 2"), "{msg}");

    let unknown = t.release(99, 1).unwrap_err();
    assert_eq!(unknown, ReleaseError::UnknownId { id: 99, count: 1 });
    assert!(
        unknown.to_string().contains("unknown export id 99"),
        "{unknown}"
    );

    assert_eq!(t.release(0, 1), Err(ReleaseError::GlobalId));
    assert!(ReleaseError::GlobalId.to_string().contains("global object"));
    assert_eq!(t.release(id, 0), Err(ReleaseError::ZeroCount { id }));

    assert_eq!(t.stats(), before);
    assert_eq!(t.count(id), 2);
}

#[test]
fn import_keeps_identity_and_releases_whole_count() {
    let mut t: ImportTable<String> = ImportTable::new();
    let mut made = 0;
    let first = t.import_with(5, || {
        made += 1;
        "proxy5".to_string()
    });
    assert!(first.is_new);
    assert_eq!(first.count, 1);
    let first_ptr: *const String = first.proxy;
    let second = t.import_with(5, || {
        made += 1;
        "other".to_string()
    });
    assert!(!second.is_new);
    assert_eq!(second.count, 2);
    assert!(
        std::ptr::eq(first_ptr, second.proxy),
        "the one proxy is returned"
    );
    assert_eq!(made, 1);
    assert_eq!(t.get(5).map(String::as_str), Some("proxy5"));

    assert_eq!(t.release(5), Some(Release { id: 5, count: 2 }));
    assert_eq!(t.release(5), None, "a second release is harmless");
    assert!(t.is_empty());

    let again = t.import_with(5, || "fresh".to_string());
    assert!(again.is_new);
    assert_eq!(again.count, 1);
    assert_eq!(again.proxy, "fresh");
}

#[test]
fn release_later_batches_and_merges_per_id() {
    let mut t: ImportTable<u32> = ImportTable::new();
    t.import_with(1, || 1);
    t.import_with(1, || 1);
    t.import_with(2, || 2);
    assert!(t.release_later(1));
    assert!(!t.release_later(1));
    t.import_with(1, || 11);
    assert!(t.release_later(1));
    assert!(t.release_later(2));
    assert_eq!(
        t.pending().as_slice(),
        &[Release { id: 1, count: 3 }, Release { id: 2, count: 1 }]
    );
    assert_eq!(t.take_pending().len(), 2);
    assert!(t.pending().is_empty());
}

#[test]
fn pending_releases_never_overflow_a_count() {
    let mut p = PendingReleases::new();
    p.push(Release {
        id: 4,
        count: u32::MAX - 1,
    });
    p.push(Release { id: 4, count: 1 });
    p.push(Release { id: 4, count: 5 });
    p.push(Release { id: 9, count: 0 });
    assert_eq!(
        p.as_slice(),
        &[
            Release {
                id: 4,
                count: u32::MAX
            },
            Release { id: 4, count: 5 }
        ]
    );
}

#[test]
fn import_count_at_limit_releases_early_and_keeps_one() {
    let mut t: ImportTable<&str> = ImportTable::with_count_limit(3);
    let mut e: ExportTable<&str> = ExportTable::new();
    let id = e.export(&"o");
    t.import_with(id, || "p");
    for _ in 0..4 {
        let id2 = e.export(&"o");
        assert_eq!(id2, id);
        t.import_with(id, || "p");
    }
    // 5 receipts with a limit of 3: 2 released early, 3 still held.
    assert_eq!(t.count(id), 3);
    let early = t.take_pending();
    assert_eq!(early, vec![Release { id, count: 2 }]);
    for r in early {
        assert_eq!(
            e.release(r.id, r.count),
            Ok(Released::Kept { remaining: 3 })
        );
    }
    let last = t.release(id).unwrap();
    assert_eq!(e.release(last.id, last.count), Ok(Released::Freed("o")));
}

// ---------------------------------------------------------------------------
// Randomised model: two sides exchange references both ways.

#[derive(Debug, Clone)]
enum Op {
    /// Side `from` sends a reference to its object `obj`.
    Send { from: usize, obj: u8 },
    /// Side `to` receives the oldest message addressed to it.
    Deliver { to: usize },
    /// Side `side` drops one of the proxies it holds (picked by `pick`).
    Drop { side: usize, pick: usize },
    /// Side `from` sends its pending releases alone.
    Flush { from: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize, 0..4u8).prop_map(|(from, obj)| Op::Send { from, obj }),
        (0..2usize).prop_map(|to| Op::Deliver { to }),
        (0..2usize, any::<usize>()).prop_map(|(side, pick)| Op::Drop { side, pick }),
        (0..2usize).prop_map(|from| Op::Flush { from }),
    ]
}

/// A proxy: the id it stands for and which receipt created it.
#[derive(Debug, Clone, PartialEq)]
struct Proxy {
    id: u32,
    serial: u64,
}

#[derive(Debug, Default)]
struct Msg {
    remotes: Vec<(u32, u8)>,
    releases: Vec<Release>,
}

struct Side {
    exports: ExportTable<u8>,
    imports: ImportTable<Proxy>,
    /// What the far side's object id stands for, for each held proxy.
    held: BTreeMap<u32, u8>,
}

struct World {
    sides: [Side; 2],
    /// `queues[i]`: messages to side `i`, in order.
    queues: [VecDeque<Msg>; 2],
    serial: u64,
}

impl World {
    fn new() -> Self {
        let side = || Side {
            exports: ExportTable::new(),
            imports: ImportTable::new(),
            held: BTreeMap::new(),
        };
        World {
            sides: [side(), side()],
            queues: [VecDeque::new(), VecDeque::new()],
            serial: 0,
        }
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Send { from, obj } => {
                let before = self.sides[from].exports.id_of(&obj);
                let id = self.sides[from].exports.export(&obj);
                if let Some(before) = before {
                    prop_assert_eq!(before, id, "same object, same id while exported");
                }
                let releases = self.sides[from].imports.take_pending();
                self.queues[1 - from].push_back(Msg {
                    remotes: vec![(id, obj)],
                    releases,
                });
            }
            Op::Flush { from } => {
                let releases = self.sides[from].imports.take_pending();
                if !releases.is_empty() {
                    self.queues[1 - from].push_back(Msg {
                        remotes: vec![],
                        releases,
                    });
                }
            }
            Op::Deliver { to } => self.deliver(to)?,
            Op::Drop { side, pick } => {
                let s = &mut self.sides[side];
                if !s.held.is_empty() {
                    let id = *s.held.keys().nth(pick % s.held.len()).unwrap();
                    s.held.remove(&id);
                    prop_assert!(s.imports.release_later(id));
                }
            }
        }
        self.check()
    }

    fn deliver(&mut self, to: usize) -> Result<(), TestCaseError> {
        let Some(msg) = self.queues[to].pop_front() else {
            return Ok(());
        };
        let exporter = 1 - to;
        for r in msg.releases {
            // Releases name `to`'s own exports.
            let res = self.sides[to].exports.release(r.id, r.count);
            prop_assert!(res.is_ok(), "release {:?} refused: {:?}", r, res);
        }
        for (id, obj) in msg.remotes {
            prop_assert_eq!(
                self.sides[exporter].exports.get(id),
                Some(&obj),
                "an id in flight must still name its object"
            );
            self.serial += 1;
            let serial = self.serial;
            let side = &mut self.sides[to];
            let existing = side.imports.get(id).cloned();
            let got = side.imports.import_with(id, || Proxy { id, serial });
            prop_assert_eq!(got.proxy.id, id);
            if let Some(existing) = existing {
                prop_assert_eq!(got.proxy, &existing, "identity: the same proxy");
            }
            if let Some(&prev) = side.held.get(&id) {
                prop_assert_eq!(prev, obj, "the id still names the same object");
            }
            side.held.insert(id, obj);
        }
        Ok(())
    }

    /// Conservation: every export count equals the receipts held, in flight
    /// and released-but-not-yet-applied. Nothing is freed early.
    fn check(&self) -> Result<(), TestCaseError> {
        for exporter in 0..2 {
            let importer = 1 - exporter;
            let mut expected: BTreeMap<u32, u64> = BTreeMap::new();
            for msg in &self.queues[importer] {
                for &(id, _) in &msg.remotes {
                    *expected.entry(id).or_default() += 1;
                }
            }
            for msg in &self.queues[exporter] {
                for r in &msg.releases {
                    *expected.entry(r.id).or_default() += u64::from(r.count);
                }
            }
            for r in self.sides[importer].imports.pending().as_slice() {
                *expected.entry(r.id).or_default() += u64::from(r.count);
            }
            for &id in self.sides[importer].held.keys() {
                *expected.entry(id).or_default() +=
                    u64::from(self.sides[importer].imports.count(id));
            }
            let exports = &self.sides[exporter].exports;
            prop_assert_eq!(exports.len(), expected.len(), "live exports");
            for (&id, &count) in &expected {
                prop_assert_eq!(exports.count(id), count, "count of id {}", id);
            }
            prop_assert_eq!(
                self.sides[importer].imports.len(),
                self.sides[importer].held.len()
            );
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), TestCaseError> {
        // Deliver everything, drop every proxy, send and apply the releases.
        for _ in 0..2 {
            while !self.queues[0].is_empty() || !self.queues[1].is_empty() {
                self.apply(&Op::Deliver { to: 0 })?;
                self.apply(&Op::Deliver { to: 1 })?;
            }
            for side in 0..2 {
                while !self.sides[side].held.is_empty() {
                    self.apply(&Op::Drop { side, pick: 0 })?;
                }
                self.apply(&Op::Flush { from: side })?;
            }
        }
        for s in &self.sides {
            prop_assert!(s.exports.is_empty(), "everything is freed at the end");
            prop_assert!(s.imports.is_empty());
            prop_assert!(s.imports.pending().is_empty());
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]
    #[test]
    fn random_interleavings_free_nothing_early_and_everything_at_the_end(
        ops in proptest::collection::vec(op(), 0..200)
    ) {
        let mut world = World::new();
        for op in &ops {
            world.apply(op)?;
        }
        world.finish()?;
    }
}

#[test]
fn a_held_import_released_meanwhile_is_deferred_then_revived_or_released() {
    let mut t: ImportTable<&str> = ImportTable::new();
    // A queued request delivered proxy 5 (received twice): held.
    t.begin_journal();
    t.import_with(5, || "p5");
    t.import_with(5, || "p5");
    let hold = t.hold_journal();
    // The user releases it while the request waits: nothing goes out yet.
    assert_eq!(t.release(5), None);
    assert!(t.is_deferred(5));
    assert!(t.take_pending().is_empty());
    // The request is served: the proxy is delivered anew, usable again.
    t.unhold(hold, true);
    assert!(!t.is_deferred(5));
    assert_eq!(t.release(5), Some(Release { id: 5, count: 2 }));

    // Same, but the request is dropped (cancelled): the release goes out.
    t.begin_journal();
    t.import_with(6, || "p6");
    let hold = t.hold_journal();
    assert_eq!(t.release(6), None);
    t.unhold(hold, false);
    assert_eq!(t.take_pending(), vec![Release { id: 6, count: 1 }]);
    assert_eq!(t.len(), 0);
}

#[test]
fn held_export_survives_a_release_until_the_request_is_served() {
    let mut t: ExportTable<&str> = ExportTable::new();
    let id = t.export(&"target");
    assert!(t.hold(id));
    // The peer releases everything it received while the request waits.
    assert!(t.apply_releases(&[Release { id, count: 1 }]).is_empty());
    assert_eq!(
        t.get(id),
        Some(&"target"),
        "the waiting request can still reach it"
    );
    assert_eq!(t.unhold(id), Some("target"), "freed once served");
    assert_eq!(t.len(), 0);
}

#[test]
fn apply_releases_skips_unknown_ids_as_the_js_side_does() {
    let mut t: ExportTable<&str> = ExportTable::new();
    let a = t.export(&"a");
    let freed = t.apply_releases(&[Release { id: 99, count: 1 }, Release { id: a, count: 3 }]);
    assert_eq!(
        freed,
        vec!["a"],
        "unknown 99 skipped, an over-release frees"
    );
    assert!(t.is_empty());
}

#[test]
fn a_message_not_sent_takes_its_export_counts_back() {
    let mut t: ExportTable<&str> = ExportTable::new();
    let kept = t.export(&"kept");
    t.begin_encode();
    assert_eq!(t.export(&"kept"), kept);
    let fresh = t.export(&"fresh");
    assert_eq!(
        t.rollback_encode(),
        vec!["fresh"],
        "only this message named it"
    );
    assert_eq!(t.count(kept), 1);
    assert_eq!(t.get(fresh), None);
    t.begin_encode();
    t.export(&"kept");
    t.sent();
    assert!(
        t.rollback_encode().is_empty(),
        "a sent message's counts stand"
    );
    assert_eq!(t.count(kept), 2);
}
