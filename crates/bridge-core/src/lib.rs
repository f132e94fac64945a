//! worker-bridge's protocol, independent of any browser API.
//!
//! (crate doc: the contract; filled in as the modules land)

pub mod value;
pub mod message;
pub mod wire;
pub mod shm;
pub mod mailbox;
pub mod refs;
pub mod deadlock;
