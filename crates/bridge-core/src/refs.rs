//! Export and import tables with counts (docs/protocol.md §5).
//!
//! Each side of a channel keeps one [`ExportTable`] (its own objects that the
//! peer may name, by id) and one [`ImportTable`] (the peer's objects it holds
//! proxies for). The counting follows Cap'n Proto's rule so that a release
//! never races a new send:
//!
//! - the exporter adds 1 to an id's count every time it *sends* the id;
//! - the importer adds 1 every time it *receives* the id, and when its proxy
//!   goes away it sends back the whole count it received;
//! - the exporter subtracts that count and frees the entry only at 0.
//!
//! A send that was in flight while the importer released is not part of the
//! released count, so the entry survives until that receipt is released too.
//!
//! Around that rule, what a blocking side needs (the same as
//! `bridge-js/src/refs.js`):
//!
//! - **encode journal**: the sends an encoding counted are noted
//!   ([`ExportTable::begin_encode`]); if the message is then not sent, they
//!   are taken back ([`ExportTable::rollback_encode`]);
//! - **decode journal and holds**: a worker blocked in a call may decode a
//!   request it serves only later (or the reply of an outer call, kept for
//!   it). Until then that message keeps alive what it names: the imports it
//!   delivered are *held* ([`ImportTable::begin_journal`],
//!   [`ImportTable::hold_journal`]) and its target export gets one extra
//!   count ([`ExportTable::hold`]);
//! - **deferred releases**: releasing a held import makes it unusable at
//!   once but sends nothing yet; when the message is delivered the import is
//!   usable again (as if decoded only then), and if it is dropped the release
//!   goes out ([`ImportTable::unhold`]);
//! - **batches merged per id** ([`PendingReleases`]).
//!
//! The tables are generic over the handle types: the JS side keeps JS objects
//! and `Proxy`s; the Rust embedding and the tests use whatever handle they
//! like.

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

pub use crate::message::Release;

/// Id 0 names the receiver's global object; tables never hand it out.
pub use crate::protocol::constants::GLOBAL_ID;

/// What [`ExportTable::release`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released<T> {
    /// The count is still above 0 (sends were in flight); the entry stays.
    Kept {
        /// Sends not yet released.
        remaining: u64,
    },
    /// The count reached 0: the entry is gone and the object is handed back
    /// so the caller can drop it (or run clean-up) outside the table.
    Freed(T),
}

/// A release the exporter cannot apply. The table is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    /// Id 0 is the global object, which is never exported or released.
    #[error("release of id 0: id 0 is the global object and is never exported; the peer's import table is corrupt")]
    GlobalId,
    /// Nothing is exported under this id (never, or already freed).
    #[error("release of unknown export id {id} (count {count}): it was never exported or was already freed; the peer released a proxy twice or sent a stale id")]
    UnknownId {
        /// The id named by the release.
        id: u32,
        /// The count the release carried.
        count: u32,
    },
    /// The release names more sends than were made.
    #[error("release of export id {id} with count {count}, but only {exported} sends are outstanding; the peer counted receipts it did not get")]
    OverRelease {
        /// The id named by the release.
        id: u32,
        /// The count the release carried.
        count: u32,
        /// The sends still outstanding for that id.
        exported: u64,
    },
    /// A release of 0 receipts is never sent by a correct importer.
    #[error("release of export id {id} with count 0: a release must carry the (non-zero) count the importer received")]
    ZeroCount {
        /// The id named by the release.
        id: u32,
    },
}

/// Live entries and outstanding counts, so tests can prove there are no leaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Ids in the table.
    pub live: usize,
    /// Sum of the counts of all live ids.
    pub count: u64,
}

#[derive(Debug)]
struct ExportEntry<T> {
    object: T,
    count: u64,
}

/// This side's objects that the peer may name, by id.
///
/// Ids come from a counter that starts at 1 and only grows, so an id is not
/// handed out again soon after its entry is freed: a stale id from a buggy
/// peer then fails as [`ReleaseError::UnknownId`] instead of naming an
/// unrelated object. After 2^32 - 1 ids the counter wraps to 1 and skips 0 and
/// every id still live. Reusing a freed id is safe under the counting rule:
/// the entry is freed only when every send of it was released, so no import
/// (nor any message in flight) can still name it.
///
/// Counts are `u64`, so no realistic number of sends overflows them.
#[derive(Debug)]
pub struct ExportTable<T> {
    by_id: BTreeMap<u32, ExportEntry<T>>,
    by_object: BTreeMap<T, u32>,
    next_id: u32,
    /// Ids counted by the message being encoded (see `begin_encode`).
    sent: Vec<u32>,
}

impl<T> Default for ExportTable<T> {
    fn default() -> Self {
        Self {
            by_id: BTreeMap::new(),
            by_object: BTreeMap::new(),
            next_id: 1,
            sent: Vec::new(),
        }
    }
}

impl<T: Ord + Clone> ExportTable<T> {
    /// An empty table; the first id handed out is 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one send of `object` and returns its id: the same id as long as
    /// the object stays exported (identity on the far side depends on it).
    ///
    /// # Panics
    /// If 2^32 - 1 objects are exported at once (no id is left); a table that
    /// size does not fit in a wasm32 address space.
    pub fn export(&mut self, object: &T) -> u32 {
        if let Some(&id) = self.by_object.get(object) {
            if let Some(entry) = self.by_id.get_mut(&id) {
                entry.count += 1;
                self.sent.push(id);
                return id;
            }
        }
        let id = self.fresh_id();
        self.by_id.insert(
            id,
            ExportEntry {
                object: object.clone(),
                count: 1,
            },
        );
        self.by_object.insert(object.clone(), id);
        self.sent.push(id);
        id
    }

    /// A message is about to be encoded: note the sends it counts from now
    /// on, so [`rollback_encode`](Self::rollback_encode) can take them back.
    pub fn begin_encode(&mut self) {
        self.sent.clear();
    }

    /// The encoded message went out: its counts stand.
    pub fn sent(&mut self) {
        self.sent.clear();
    }

    /// The encoded message was not sent (it could not be encoded, was too
    /// large, the channel closed): the peer never saw those ids, so their
    /// counts are taken back; entries that reach 0 are freed and returned.
    pub fn rollback_encode(&mut self) -> Vec<T> {
        let ids = core::mem::take(&mut self.sent);
        ids.into_iter().filter_map(|id| self.take_one(id)).collect()
    }

    /// One extra count on `id`, so a release from the peer cannot free it
    /// while a decoded request that targets it waits to be served. False if
    /// `id` is not exported (0 included).
    pub fn hold(&mut self, id: u32) -> bool {
        match self.by_id.get_mut(&id) {
            Some(e) => {
                e.count += 1;
                true
            }
            None => false,
        }
    }

    /// Ends a [`hold`](Self::hold): the request was served or dropped.
    /// Returns the object if that freed its entry.
    pub fn unhold(&mut self, id: u32) -> Option<T> {
        self.take_one(id)
    }

    fn take_one(&mut self, id: u32) -> Option<T> {
        let e = self.by_id.get_mut(&id)?;
        e.count = e.count.saturating_sub(1);
        if e.count > 0 {
            return None;
        }
        let entry = self.by_id.remove(&id)?;
        self.by_object.remove(&entry.object);
        Some(entry.object)
    }

    /// Applies a batch of the peer's releases as a host does on every
    /// incoming message: a release of an id that is not exported (a release
    /// that raced the channel's close, or a stale id) is skipped, a count
    /// larger than what is outstanding frees the entry; the freed objects are
    /// returned. [`release`](Self::release) is the strict form that reports
    /// each of those as an error.
    pub fn apply_releases(&mut self, releases: &[Release]) -> Vec<T> {
        let mut freed = Vec::new();
        for r in releases {
            let Some(e) = self.by_id.get_mut(&r.id) else {
                continue;
            };
            e.count = e.count.saturating_sub(u64::from(r.count));
            if e.count == 0 {
                if let Some(entry) = self.by_id.remove(&r.id) {
                    self.by_object.remove(&entry.object);
                    freed.push(entry.object);
                }
            }
        }
        freed
    }

    /// Moves the id counter (0 is taken as 1): for resuming a numbering and
    /// for testing the wrap-around. Live ids are still skipped, so this
    /// cannot give two objects the same id.
    pub fn set_next_id(&mut self, next_id: u32) {
        self.next_id = next_id.max(1);
    }

    fn fresh_id(&mut self) -> u32 {
        assert!(
            self.by_id.len() < u32::MAX as usize,
            "export table full: 2^32 - 1 objects are exported at once"
        );
        loop {
            let id = self.next_id;
            self.next_id = match self.next_id.wrapping_add(1) {
                GLOBAL_ID => 1,
                next => next,
            };
            if id != GLOBAL_ID && !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }

    /// Applies a peer's `Release { id, count }`: subtracts `count`, frees the
    /// entry at 0. An invalid release leaves the table unchanged.
    pub fn release(&mut self, id: u32, count: u32) -> Result<Released<T>, ReleaseError> {
        if id == GLOBAL_ID {
            return Err(ReleaseError::GlobalId);
        }
        if count == 0 {
            return Err(ReleaseError::ZeroCount { id });
        }
        let entry = self
            .by_id
            .get_mut(&id)
            .ok_or(ReleaseError::UnknownId { id, count })?;
        if u64::from(count) > entry.count {
            return Err(ReleaseError::OverRelease {
                id,
                count,
                exported: entry.count,
            });
        }
        entry.count -= u64::from(count);
        if entry.count > 0 {
            return Ok(Released::Kept {
                remaining: entry.count,
            });
        }
        // The entry exists (checked above), so `remove` returns it.
        match self.by_id.remove(&id) {
            Some(entry) => {
                self.by_object.remove(&entry.object);
                Ok(Released::Freed(entry.object))
            }
            None => Err(ReleaseError::UnknownId { id, count }),
        }
    }

    /// The object exported under `id` (what a `Local(id)` from the peer names).
    pub fn get(&self, id: u32) -> Option<&T> {
        self.by_id.get(&id).map(|e| &e.object)
    }

    /// The id of `object`, if it is exported now (does not count a send).
    pub fn id_of(&self, object: &T) -> Option<u32> {
        self.by_object.get(object).copied()
    }

    /// The outstanding sends of `id` (0 if not exported).
    pub fn count(&self, id: u32) -> u64 {
        self.by_id.get(&id).map_or(0, |e| e.count)
    }

    /// Ids in the table.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True if nothing is exported.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Live ids and the sum of their counts.
    pub fn stats(&self) -> TableStats {
        TableStats {
            live: self.by_id.len(),
            count: self.by_id.values().map(|e| e.count).sum(),
        }
    }

    /// Forgets everything (the channel closed) and hands back the objects.
    pub fn clear(&mut self) -> Vec<T> {
        self.sent.clear();
        self.by_object.clear();
        core::mem::take(&mut self.by_id)
            .into_values()
            .map(|e| e.object)
            .collect()
    }
}

#[derive(Debug)]
struct ImportEntry<P> {
    proxy: P,
    count: u32,
    /// Decoded messages not delivered yet that deliver this import.
    holds: u32,
    /// Released while held: unusable, its release waits for the holds.
    deferred: bool,
}

/// The imports a decoded message delivered, held until it is delivered or
/// dropped ([`ImportTable::hold_journal`], [`ImportTable::unhold`]).
#[derive(Debug, Default, PartialEq, Eq)]
#[must_use = "a hold keeps imports alive until it is given to ImportTable::unhold"]
pub struct Hold {
    ids: Vec<u32>,
}

/// What [`ImportTable::import_with`] returns.
#[derive(Debug, PartialEq, Eq)]
pub struct Imported<'a, P> {
    /// The one proxy for the id (identity holds while it is imported).
    pub proxy: &'a P,
    /// Receipts of the id not yet released, including this one.
    pub count: u32,
    /// True if the proxy was made for this receipt.
    pub is_new: bool,
}

/// The peer's objects this side holds proxies for, by the peer's ids.
///
/// Counts are `u32` because a `Release` carries a `u32`. A proxy that is
/// received 2^32 - 1 times without being released (a hot loop reading
/// `window.document` while holding `document`) would overflow: at that point
/// the table queues a release of all but one receipt into its pending batch
/// and keeps the proxy with count 1, which is exactly as safe (the exporter
/// keeps the entry while the one remaining receipt is unreleased).
#[derive(Debug)]
pub struct ImportTable<P> {
    by_id: BTreeMap<u32, ImportEntry<P>>,
    pending: PendingReleases,
    count_limit: u32,
    /// Ids imported since `begin_journal`, while a message is decoded.
    journal: Option<Vec<u32>>,
}

impl<P> Default for ImportTable<P> {
    fn default() -> Self {
        Self {
            by_id: BTreeMap::new(),
            pending: PendingReleases::new(),
            count_limit: u32::MAX,
            journal: None,
        }
    }
}

impl<P> ImportTable<P> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table that releases early once a count reaches `limit`
    /// (at least 2; the default is `u32::MAX`). Lets tests exercise the
    /// overflow path without 2^32 receipts.
    pub fn with_count_limit(limit: u32) -> Self {
        Self {
            count_limit: limit.max(2),
            ..Self::default()
        }
    }

    /// Counts one receipt of `id` and returns its proxy, making it with
    /// `make` the first time. Id 0 is the global object and no exporter
    /// sends it as `Remote`; callers should treat `Remote { id: 0 }` as a
    /// protocol error rather than import it (its release would be refused
    /// with [`ReleaseError::GlobalId`]).
    pub fn import_with(&mut self, id: u32, make: impl FnOnce() -> P) -> Imported<'_, P> {
        use alloc::collections::btree_map::Entry;
        if let Some(journal) = &mut self.journal {
            journal.push(id);
        }
        match self.by_id.entry(id) {
            Entry::Occupied(slot) => {
                let entry = slot.into_mut();
                // Received anew: usable again, as a fresh receipt is.
                entry.deferred = false;
                if entry.count >= self.count_limit {
                    self.pending.push(Release {
                        id,
                        count: entry.count - 1,
                    });
                    entry.count = 1;
                }
                entry.count += 1;
                Imported {
                    proxy: &entry.proxy,
                    count: entry.count,
                    is_new: false,
                }
            }
            Entry::Vacant(slot) => {
                let entry = slot.insert(ImportEntry {
                    proxy: make(),
                    count: 1,
                    holds: 0,
                    deferred: false,
                });
                Imported {
                    proxy: &entry.proxy,
                    count: 1,
                    is_new: true,
                }
            }
        }
    }

    /// The proxy held for `id`, without counting a receipt.
    pub fn get(&self, id: u32) -> Option<&P> {
        self.by_id.get(&id).map(|e| &e.proxy)
    }

    /// Receipts of `id` not yet released (0 if not imported).
    pub fn count(&self, id: u32) -> u32 {
        self.by_id.get(&id).map_or(0, |e| e.count)
    }

    /// Forgets `id` and returns the release to send: the whole count
    /// received. `None` if the id is not imported (already released), so
    /// releasing twice (dispose, then FinalizationRegistry) is harmless; and
    /// `None` if a decoded message not delivered yet holds it: then the
    /// import is only marked released ([`is_deferred`](Self::is_deferred))
    /// and its release waits for [`unhold`](Self::unhold).
    pub fn release(&mut self, id: u32) -> Option<Release> {
        let e = self.by_id.get_mut(&id)?;
        if e.deferred {
            return None;
        }
        if e.holds > 0 {
            e.deferred = true;
            return None;
        }
        self.by_id
            .remove(&id)
            .map(|e| Release { id, count: e.count })
    }

    /// True if `id` was released while held: unusable until the message that
    /// holds it is delivered.
    pub fn is_deferred(&self, id: u32) -> bool {
        self.by_id.get(&id).is_some_and(|e| e.deferred)
    }

    /// A message is about to be decoded: note the imports it delivers.
    pub fn begin_journal(&mut self) {
        self.journal = Some(Vec::new());
    }

    /// The message was decoded and is delivered now: forget the journal.
    pub fn end_journal(&mut self) {
        self.journal = None;
    }

    /// The message decoded since [`begin_journal`](Self::begin_journal) is
    /// delivered later (a queued request, an outer call's reply): hold the
    /// imports it delivered until [`unhold`](Self::unhold). Ends the journal.
    pub fn hold_journal(&mut self) -> Hold {
        let ids = self.journal.take().unwrap_or_default();
        for id in &ids {
            if let Some(e) = self.by_id.get_mut(id) {
                e.holds += 1;
            }
        }
        Hold { ids }
    }

    /// Ends a hold. `delivered`: the message is delivered now, so imports
    /// released meanwhile are usable again (delivered anew); otherwise (it
    /// was dropped: cancelled, the channel closed) the releases deferred for
    /// it go into the pending batch once nothing holds them.
    pub fn unhold(&mut self, hold: Hold, delivered: bool) {
        for id in hold.ids {
            let Some(e) = self.by_id.get_mut(&id) else {
                continue;
            };
            e.holds = e.holds.saturating_sub(1);
            if !e.deferred {
                continue;
            }
            if delivered {
                e.deferred = false;
            } else if e.holds == 0 {
                if let Some(e) = self.by_id.remove(&id) {
                    self.pending.push(Release { id, count: e.count });
                }
            }
        }
    }

    /// [`release`](Self::release), queued into the pending batch. Returns
    /// true if something was queued.
    pub fn release_later(&mut self, id: u32) -> bool {
        match self.release(id) {
            Some(r) => {
                self.pending.push(r);
                true
            }
            None => false,
        }
    }

    /// The batch of releases waiting to ride on the next message.
    pub fn pending(&self) -> &PendingReleases {
        &self.pending
    }

    /// Takes the pending batch for the next outgoing `Request`/`Reply`.
    pub fn take_pending(&mut self) -> Vec<Release> {
        self.pending.take()
    }

    /// Ids in the table.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True if no proxy is held.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Live ids and the sum of their counts.
    pub fn stats(&self) -> TableStats {
        TableStats {
            live: self.by_id.len(),
            count: self.by_id.values().map(|e| u64::from(e.count)).sum(),
        }
    }
}

/// Releases collected between messages (docs/protocol.md §5: they ride on the
/// next `Request` or `Reply`; a lone `Message::Release` only when nothing else
/// goes for a while).
///
/// Two releases of the same id merge into one entry (a proxy released, then
/// received and released again before anything was sent), as long as the sum
/// fits a `u32`; the order of first appearance is kept.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PendingReleases {
    items: Vec<Release>,
}

impl PendingReleases {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a release to the batch (a count of 0 is dropped: it releases
    /// nothing and the exporter would reject it).
    pub fn push(&mut self, release: Release) {
        if release.count == 0 {
            return;
        }
        if let Some(existing) = self
            .items
            .iter_mut()
            .find(|r| r.id == release.id && r.count.checked_add(release.count).is_some())
        {
            existing.count += release.count;
        } else {
            self.items.push(release);
        }
    }

    /// The releases in the batch.
    pub fn as_slice(&self) -> &[Release] {
        &self.items
    }

    /// Number of entries in the batch.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True if there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Empties the batch and returns what was in it.
    pub fn take(&mut self) -> Vec<Release> {
        core::mem::take(&mut self.items)
    }
}
