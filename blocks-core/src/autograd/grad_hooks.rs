//! Tensor gradient hooks, like PyTorch's `Tensor.register_hook`: functions
//! run on a tensor's gradient during backward, that may read and replace it.
//!
//! The rules, as PyTorch's engine has them:
//!
//! - a non-leaf tensor's hooks run once its gradient is complete (summed
//!   over every use), before it is passed on to the op that made it; a
//!   leaf's hooks run on the sum of its gradient in this pass, before it is
//!   added into `.grad()`;
//! - hooks run in registration order, each given the gradient the previous
//!   one returned; `Some(g)` replaces the gradient (of the same shape, or the
//!   pass panics as PyTorch does), `None` keeps it;
//! - `retain_grad()` stores the gradient after the hooks (PyTorch 2.0's order);
//! - the hooks of one run are a snapshot taken when they start, and no lock
//!   is held while a hook runs, so a hook may register or remove hooks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use ndarray::ArrayD;

use super::node::Node;
use super::storage::lock;
use crate::{Element, TensorBase};

/// A registered gradient hook.
pub(crate) type GradHook<E> = Arc<dyn Fn(&TensorBase<E>) -> Option<TensorBase<E>> + Send + Sync>;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Unregisters the gradient hook it was returned for, like PyTorch's
/// `RemovableHandle.remove()`. Dropping the handle keeps the hook.
///
/// ```
/// use blocks_core::Tensor;
/// let x = Tensor::ones([2]).requires_grad_(true);
/// let handle = x.register_hook(|g| Some(g * 10.0));
/// (&x * 2.0).sum().backward();
/// assert_eq!(x.grad().unwrap().to_vec(), vec![20.0, 20.0]);
/// handle.remove();
/// x.zero_grad();
/// (&x * 2.0).sum().backward();
/// assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 2.0]);
/// ```
#[must_use = "a hook stays registered until `remove()` is called on its handle; keep the handle (or `let _ =` to keep the hook for good)"]
pub struct GradHookHandle<E: Element = f32> {
    node: Weak<Node<E>>,
    id: u64,
}

impl<E: Element> GradHookHandle<E> {
    /// Unregisters the hook. Removing twice, or after the tensor is gone,
    /// does nothing.
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([1]).requires_grad_(true);
    /// let handle = x.register_hook(|_| None);
    /// handle.remove();
    /// handle.remove();
    /// ```
    pub fn remove(&self) {
        if let Some(node) = self.node.upgrade() {
            let mut hooks = lock(&node.grad_hooks);
            hooks.retain(|(id, _)| *id != self.id);
            node.has_grad_hooks.store(!hooks.is_empty(), Ordering::Release);
        }
    }
}

impl<E: Element> std::fmt::Debug for GradHookHandle<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GradHookHandle").field("id", &self.id).finish()
    }
}

impl<E: Element> TensorBase<E> {
    /// Runs `hook` on this tensor's gradient during every backward pass, like
    /// `x.register_hook(hook)`: `Some(g)` replaces the gradient (what flows on
    /// to the tensor's inputs, or into `.grad()` for a leaf), `None` keeps it.
    /// See the rules in [`GradHookHandle`]'s module.
    ///
    /// # Panics
    ///
    /// If the tensor does not require grad ("cannot register a hook on a
    /// tensor that doesn't require gradient", as PyTorch).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 2.0], [2]).requires_grad_(true);
    /// let h = &x * 3.0;
    /// let _ = h.register_hook(|g| {
    ///     assert_eq!(g.to_vec(), vec![1.0, 1.0]); // d(sum)/dh
    ///     Some(g * 2.0)
    /// });
    /// h.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![6.0, 6.0]);
    /// ```
    #[track_caller]
    pub fn register_hook<F>(&self, hook: F) -> GradHookHandle<E>
    where
        F: Fn(&TensorBase<E>) -> Option<TensorBase<E>> + Send + Sync + 'static,
    {
        assert!(self.requires_grad(), "cannot register a hook on a tensor that doesn't require gradient");
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        lock(&self.node.grad_hooks).push((id, Arc::new(hook)));
        self.node.has_grad_hooks.store(true, Ordering::Release);
        GradHookHandle { node: Arc::downgrade(&self.node), id }
    }
}

/// Whether `node` has gradient hooks (one atomic load).
pub(crate) fn has_hooks<E: Element>(node: &Node<E>) -> bool {
    node.has_grad_hooks.load(Ordering::Acquire)
}

/// `grad` after `node`'s hooks, in registration order, over a snapshot.
///
/// # Panics
///
/// If a hook returns a gradient of another shape.
pub(crate) fn apply<E: Element>(node: &Node<E>, grad: ArrayD<E>) -> ArrayD<E> {
    let hooks: Vec<GradHook<E>> = lock(&node.grad_hooks).iter().map(|(_, hook)| Arc::clone(hook)).collect();
    let mut grad = TensorBase::from_array(grad);
    for hook in hooks {
        if let Some(replaced) = hook(&grad) {
            assert!(
                replaced.shape() == grad.shape(),
                "hook has changed the size of value: the gradient has shape {:?}, the hook returned shape {:?}",
                grad.shape(),
                replaced.shape()
            );
            grad = replaced;
        }
    }
    grad.to_array()
}
