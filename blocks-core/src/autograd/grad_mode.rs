//! Whether operations record the graph: `no_grad` turns recording off in a scope.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether operations on this thread record a graph for backward.
///
/// ```
/// assert!(blocks_core::is_grad_enabled());
/// blocks_core::no_grad(|| assert!(!blocks_core::is_grad_enabled()));
/// ```
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Runs `f` with graph recording turned off on this thread, like `with torch.no_grad():`.
///
/// ```
/// use blocks_core::{no_grad, Tensor};
/// let w = Tensor::ones([2]).requires_grad_(true);
/// let y = no_grad(|| &w * 2.0);
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<T>(f: impl FnOnce() -> T) -> T {
    let _guard = NoGradGuard::new();
    f()
}

/// Turns recording off until dropped; the guard form of [`no_grad`].
///
/// ```
/// let guard = blocks_core::NoGradGuard::new();
/// assert!(!blocks_core::is_grad_enabled());
/// drop(guard);
/// assert!(blocks_core::is_grad_enabled());
/// ```
#[must_use = "recording is off only while the guard lives"]
pub struct NoGradGuard {
    previous: bool,
}

impl NoGradGuard {
    /// Turns recording off on this thread and remembers the previous mode.
    pub fn new() -> Self {
        let previous = GRAD_ENABLED.with(|enabled| enabled.replace(false));
        NoGradGuard { previous }
    }
}

impl Default for NoGradGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|enabled| enabled.set(self.previous));
    }
}
