//! The requests of the peer a side is serving, and which of their answers
//! are dropped because the peer gave up on them (a cancel, an interrupt).

use alloc::vec::Vec;

use super::ServeError;

/// Requests being served, innermost last, and those whose answer is dropped.
#[derive(Debug, Default)]
pub struct Serving {
    stack: Vec<u32>,
    cancelled: Vec<u32>,
}

/// What [`Serving::finish`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finished {
    /// Send the answer.
    Send,
    /// Drop it: the request was cancelled meanwhile.
    Drop,
}

impl Serving {
    /// Serving request `seq` starts.
    pub fn begin(&mut self, seq: u32) {
        self.stack.push(seq);
    }

    /// The peer gave up on `seq`: it is no longer served (the peer is not
    /// blocked in it), and its answer will be dropped. False if it was not
    /// being served.
    pub fn cancel(&mut self, seq: u32) -> bool {
        match self.stack.iter().rposition(|s| *s == seq) {
            Some(i) => {
                self.stack.remove(i);
                self.cancelled.push(seq);
                true
            }
            None => false,
        }
    }

    /// The innermost request ends now without its handler (an interrupt):
    /// the handler's answer will be dropped.
    pub fn cancel_innermost(&mut self) -> Option<u32> {
        let seq = self.stack.pop()?;
        self.cancelled.push(seq);
        Some(seq)
    }

    /// The handler of `seq` answered: send or drop.
    pub fn finish(&mut self, seq: u32) -> Result<Finished, ServeError> {
        if let Some(i) = self.cancelled.iter().position(|s| *s == seq) {
            self.cancelled.remove(i);
            return Ok(Finished::Drop);
        }
        let i = self
            .stack
            .iter()
            .rposition(|s| *s == seq)
            .ok_or(ServeError::NotServing { seq })?;
        self.stack.remove(i);
        Ok(Finished::Send)
    }

    /// Requests being served, innermost last.
    pub fn stack(&self) -> &[u32] {
        &self.stack
    }

    /// Forgets everything (the channel closed).
    pub fn clear(&mut self) {
        self.stack.clear();
        self.cancelled.clear();
    }
}
