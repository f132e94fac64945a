//! The Rust worker's exports: Rust closures and objects the page holds by
//! reference (docs/rust.md "Closures and objects by reference").
//!
//! The counting is bridge-core's [`ExportTable`] (docs/protocol.md §5): every
//! send of an object adds 1 to its id's count, the page's release
//! (its `FinalizationRegistry` saw the proxy go) subtracts the count it
//! received, and the entry goes at 0. This registry keeps, beside the table,
//! what the ids stand for, and adds the two things a host needs around it:
//!
//! - **take back**: sends counted for a message that was never sent (the
//!   arguments failed to serialize further on, the message was too large,
//!   the channel closed) are subtracted again ([`Exports::take_back`]);
//! - **late drop**: a request that names an export may have been received
//!   (queued while the worker was blocked in a call) before a release that
//!   frees it. A freed object is therefore kept, still reachable by its id,
//!   until the host says no request received earlier is waiting
//!   ([`Exports::drain_freed`]) - the role bridge-js's `hold` plays for its
//!   queued requests.
//!
//! Generic over what an export is, so the counting is tested natively here;
//! the embedding (`callback.rs`) stores its closures and objects in it.

use std::collections::BTreeMap;

use bridge_core::message::Release;
use bridge_core::refs::{ExportTable, TableStats};
use bridge_core::value::RefKind;

/// Exported objects by id, with bridge-core's counts.
pub(crate) struct Exports<O> {
    /// Counts, by a key that names one Rust object for its whole life.
    table: ExportTable<u64>,
    /// What each live key stands for, and its id.
    objects: BTreeMap<u64, (RefKind, O)>,
    /// Freed by a release, kept until no earlier request can name them.
    freed: BTreeMap<u32, (RefKind, O)>,
    /// Ids counted since [`begin`](Self::begin), for [`take_back`](Self::take_back).
    journal: Vec<u32>,
    /// Between `begin` and `take_journal` (replies are not journaled).
    recording: bool,
    next_key: u64,
}

impl<O> Default for Exports<O> {
    fn default() -> Self {
        Exports {
            table: ExportTable::new(),
            objects: BTreeMap::new(),
            freed: BTreeMap::new(),
            journal: Vec::new(),
            recording: false,
            next_key: 1,
        }
    }
}

impl<O: Clone> Exports<O> {
    /// A key for a new Rust object (it is not exported until [`export`](Self::export)).
    pub fn new_key(&mut self) -> u64 {
        let k = self.next_key;
        self.next_key += 1;
        k
    }

    /// Counts one send of the object `key` (stored from `make` when it is
    /// not exported now) and returns its id: the same id while it stays
    /// exported, so the page gets the same proxy each time.
    pub fn export(&mut self, key: u64, kind: RefKind, make: impl FnOnce() -> O) -> u32 {
        let id = self.table.export(&key);
        self.objects.entry(key).or_insert_with(|| (kind, make()));
        if self.recording {
            self.journal.push(id);
        }
        id
    }

    /// The object named by `id`: exported now, or freed but not yet dropped.
    pub fn get(&self, id: u32) -> Option<(RefKind, O)> {
        match self.table.get(id) {
            Some(key) => self.objects.get(key).cloned(),
            None => self.freed.get(&id).cloned(),
        }
    }

    /// Starts noting the ids that sends count (one message being built).
    pub fn begin(&mut self) {
        self.journal.clear();
        self.recording = true;
    }

    /// The ids counted since [`begin`](Self::begin).
    pub fn take_journal(&mut self) -> Vec<u32> {
        self.recording = false;
        std::mem::take(&mut self.journal)
    }

    /// The message that counted `ids` was not sent: one count each is taken
    /// back (an entry that reaches 0 is freed).
    pub fn take_back(&mut self, ids: &[u32]) {
        for &id in ids {
            let key = self.table.get(id).copied();
            if let (Some(key), Some(_)) = (key, self.table.unhold(id)) {
                self.free(id, key);
            }
        }
    }

    /// Applies the page's releases; what they free is kept until
    /// [`drain_freed`](Self::drain_freed).
    pub fn apply_releases(&mut self, releases: &[Release]) {
        // The keys of the ids before the table forgets them.
        let keys: Vec<(u32, u64)> = releases
            .iter()
            .filter_map(|r| self.table.get(r.id).map(|k| (r.id, *k)))
            .collect();
        let freed = self.table.apply_releases(releases);
        for (id, key) in keys {
            if freed.contains(&key) {
                self.free(id, key);
            }
        }
    }

    fn free(&mut self, id: u32, key: u64) {
        if let Some(entry) = self.objects.remove(&key) {
            self.freed.insert(id, entry);
        }
    }

    /// No request received before the last release waits any more: the
    /// freed objects are handed back, for the caller to drop outside.
    pub fn drain_freed(&mut self) -> Vec<O> {
        std::mem::take(&mut self.freed)
            .into_values()
            .map(|(_, o)| o)
            .collect()
    }

    /// Live ids and their outstanding counts (what the page still holds).
    pub fn stats(&self) -> TableStats {
        self.table.stats()
    }

    /// Freed objects not dropped yet.
    #[cfg(test)]
    pub fn freed_len(&self) -> usize {
        self.freed.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    fn release(id: u32, count: u32) -> Release {
        Release { id, count }
    }

    #[test]
    fn sends_are_counted_and_the_last_release_frees() {
        let mut e: Exports<Rc<&str>> = Exports::default();
        let obj = Rc::new("closure");
        let k = e.new_key();
        let id = e.export(k, RefKind::Function, || obj.clone());
        assert_eq!(
            e.export(k, RefKind::Function, || unreachable!()),
            id,
            "same object, same id"
        );
        assert_eq!(e.stats(), TableStats { live: 1, count: 2 });
        assert_eq!(Rc::strong_count(&obj), 2);
        // The page received it twice but released only one receipt so far
        // (a send was in flight): it stays.
        e.apply_releases(&[release(id, 1)]);
        assert_eq!(e.stats(), TableStats { live: 1, count: 1 });
        assert_eq!(e.freed_len(), 0);
        e.apply_releases(&[release(id, 1)]);
        assert_eq!(e.stats(), TableStats::default());
        // Freed, but a request received earlier may still name it.
        assert!(e.get(id).is_some());
        assert_eq!(Rc::strong_count(&obj), 2);
        drop(e.drain_freed());
        assert!(e.get(id).is_none());
        assert_eq!(Rc::strong_count(&obj), 1, "the registry dropped its clone");
    }

    #[test]
    fn sends_of_a_message_not_sent_are_taken_back() {
        let mut e: Exports<u8> = Exports::default();
        let (a, b) = (e.new_key(), e.new_key());
        let ida = e.export(a, RefKind::Function, || 1);
        e.begin();
        let ida2 = e.export(a, RefKind::Function, || 1);
        let idb = e.export(b, RefKind::Object, || 2);
        assert_eq!(ida, ida2);
        let journal = e.take_journal();
        assert_eq!(journal, vec![ida, idb]);
        e.take_back(&journal);
        // `a` keeps the count of its first (sent) message; `b` was never seen.
        assert_eq!(e.stats(), TableStats { live: 1, count: 1 });
        assert_eq!(e.drain_freed(), vec![2]);
        assert_eq!(e.get(ida), Some((RefKind::Function, 1)));
        // Outside begin..take_journal (a reply's value) nothing is noted.
        e.export(a, RefKind::Function, || 1);
        assert!(e.take_journal().is_empty());
    }

    #[test]
    fn a_stale_or_unknown_release_changes_nothing() {
        let mut e: Exports<u8> = Exports::default();
        let k = e.new_key();
        let id = e.export(k, RefKind::Function, || 7);
        e.apply_releases(&[release(id + 1, 1), release(0, 3)]);
        assert_eq!(e.stats(), TableStats { live: 1, count: 1 });
        e.apply_releases(&[release(id, 1)]);
        e.apply_releases(&[release(id, 1)]); // twice: already freed
        assert_eq!(e.drain_freed(), vec![7]);
        assert_eq!(e.stats(), TableStats::default());
        // Exported again after it was freed: a fresh id (ids only grow).
        let again = e.export(k, RefKind::Function, || 8);
        assert_ne!(again, id);
        assert_eq!(e.get(again), Some((RefKind::Function, 8)));
    }

    #[test]
    fn many_exports_released_in_one_batch_all_go() {
        let mut e: Exports<u32> = Exports::default();
        let ids: Vec<u32> = (0..1000)
            .map(|i| {
                let k = e.new_key();
                e.export(k, RefKind::Function, || i)
            })
            .collect();
        assert_eq!(e.stats().live, 1000);
        let batch: Vec<Release> = ids.iter().map(|&id| release(id, 1)).collect();
        e.apply_releases(&batch);
        assert_eq!(e.stats(), TableStats::default());
        assert_eq!(e.drain_freed().len(), 1000);
    }
}
