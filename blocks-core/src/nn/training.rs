//! A block's own training flag, for blocks that keep one.

use std::sync::atomic::{AtomicBool, Ordering};

/// Training mode of one block (PyTorch's `module.training`), set through `&self`.
///
/// ```
/// let flag = blocks_core::nn::TrainingFlag::default();
/// assert!(flag.get());
/// flag.set(false);
/// assert!(!flag.get());
/// ```
#[derive(Debug)]
pub struct TrainingFlag(AtomicBool);

impl TrainingFlag {
    /// The current mode.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Sets the mode.
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
