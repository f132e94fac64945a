//! Release batching (docs/protocol.md §5): what rides on the next message,
//! and what the peer's messages carried.

use alloc::vec::Vec;

use crate::message::Release;
use crate::refs::PendingReleases;

/// The releases a side sends and receives. Outgoing ones wait in a batch
/// (merged per id) for the next request or reply, which takes them; a
/// message that is not sent puts them back. Incoming ones wait for the host
/// to apply them to its export table.
#[derive(Debug, Default)]
pub struct ReleaseBatch {
    out: PendingReleases,
    received: Vec<Release>,
}

impl ReleaseBatch {
    /// Queues a release to ride on the next request or reply.
    pub fn queue(&mut self, release: Release) {
        self.out.push(release);
    }

    /// Takes the batch for the message about to be sent (or for a lone
    /// `Release` message when nothing else goes for a while).
    pub fn take(&mut self) -> Vec<Release> {
        self.out.take()
    }

    /// Puts back releases taken for a message that was not sent.
    pub fn restore(&mut self, releases: Vec<Release>) {
        for r in releases {
            self.out.push(r);
        }
    }

    /// True if releases wait for a message to ride on.
    pub fn has_pending(&self) -> bool {
        !self.out.is_empty()
    }

    /// Releases the peer sent (piggybacked or alone).
    pub fn receive(&mut self, releases: impl IntoIterator<Item = Release>) {
        self.received.extend(releases);
    }

    /// Takes what the peer sent since the last take, to apply to the export
    /// table.
    pub fn take_received(&mut self) -> Vec<Release> {
        core::mem::take(&mut self.received)
    }

    /// Forgets everything (the channel closed).
    pub fn clear(&mut self) {
        self.out.take();
        self.received.clear();
    }
}
