//! A block's own training flag: PyTorch's `self.training`, for blocks that
//! behave differently in training (dropout, batch norm).

use std::sync::atomic::{AtomicBool, Ordering};

/// Training mode of one block (PyTorch's `self.training`), set through `&self`.
///
/// A block that behaves differently in training holds one as a field; with
/// `#[derive(Module)]` that is all it takes: `train()` and `eval()` on the
/// block or on any block above it set the flag, and the forward reads it
/// with [`get`](Self::get) (or `self.is_training()`). A hand-written
/// `impl Module` reports it with [`Visitor::training_flag`](crate::nn::Visitor::training_flag).
/// Blocks start in training mode, as in PyTorch.
///
/// ```
/// use blocks_core::nn::TrainingFlag;
/// let flag = TrainingFlag::default();
/// assert!(flag.get());
/// flag.set(false);
/// assert!(!flag.get());
/// ```
#[derive(Debug)]
pub struct TrainingFlag(AtomicBool);

impl TrainingFlag {
    /// The current mode: `true` in training.
    ///
    /// ```
    /// assert!(blocks_core::nn::TrainingFlag::default().get());
    /// ```
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Sets the mode.
    ///
    /// ```
    /// let flag = blocks_core::nn::TrainingFlag::default();
    /// flag.set(false);
    /// assert!(!flag.get());
    /// ```
    pub fn set(&self, training: bool) {
        self.0.store(training, Ordering::Relaxed);
    }
}

impl Default for TrainingFlag {
    /// Blocks start in training mode, as in PyTorch.
    fn default() -> Self {
        TrainingFlag(AtomicBool::new(true))
    }
}

impl Clone for TrainingFlag {
    fn clone(&self) -> Self {
        TrainingFlag(AtomicBool::new(self.get()))
    }
}
