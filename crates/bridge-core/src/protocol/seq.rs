//! Request numbering (docs/protocol.md §3).

/// Request numbers: 1, 2, 3 ... wrapping past `u32::MAX` to 1 (0 means
/// "not nested" in `Request::nested_in`, so it is never a seq).
#[derive(Clone, Debug, Default)]
pub struct SeqCounter(u32);

impl SeqCounter {
    /// A counter whose next seq is `last + 1` (skipping 0).
    pub fn after(last: u32) -> Self {
        SeqCounter(last)
    }

    /// The seq the next [`next`](Self::next) returns.
    pub fn peek(&self) -> u32 {
        self.clone().next()
    }

    /// The next seq.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(1);
        if self.0 == 0 {
            self.0 = 1;
        }
        self.0
    }
}
