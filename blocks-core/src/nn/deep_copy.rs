//! `deep_copy()`: a copy of a block that shares no storage with it, like
//! `copy.deepcopy(net)`.
//!
//! `Clone` on a block stays what it is for every Rust handle: the copy
//! shares its parameters (like Python's `copy.copy(net)`, whose parameter
//! dict is the same object; a tied weight). `deep_copy` clones the block
//! while a per-thread memo is active, and every tensor cloned meanwhile is
//! copied once into a fresh leaf: two fields holding one tensor (tied
//! weights) still hold one tensor in the copy, as deepcopy's memo keeps
//! them.

use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::Module;
use crate::{Element, TensorBase};

/// How many threads are inside a deep copy: the fast path of `Tensor::clone`.
static COPYING: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The copies made so far in this thread's deep copy, by the original's node.
    static MEMO: RefCell<Option<HashMap<usize, Box<dyn Any>>>> = const { RefCell::new(None) };
}

/// A copy of a block that shares no storage with it, like
/// `copy.deepcopy(net)`: parameters and buffers copied (values,
/// `requires_grad`), ties within the block kept (one tensor in two places
/// stays one tensor in the copy), training flags copied. Gradients are not
/// copied (as `Parameter.__deepcopy__`), and a tensor in the middle of a
/// graph is copied as a leaf. Every block that is `Clone` has it.
///
/// `net.clone()` shares the parameters instead (a tied copy, as every
/// `Clone` of a Rust handle).
///
/// ```
/// use blocks_core::nn::{DeepCopy, Linear, Module};
/// let net = Linear::<2, 2>::new();
/// let copy = net.deep_copy();
/// copy.weight().data_mut().fill(0.0);
/// assert!(net.weight().to_vec().iter().all(|&w| w != 0.0)); // the original is untouched
/// assert!(net.clone().weight().same(net.weight())); // Clone shares
/// ```
pub trait DeepCopy: Module + Clone {
    /// The copy (see [`DeepCopy`]).
    ///
    /// ```
    /// use blocks_core::nn::{DeepCopy, Linear};
    /// let net = Linear::<3, 1>::new();
    /// assert_eq!(net.deep_copy().weight().to_vec(), net.weight().to_vec());
    /// ```
    fn deep_copy(&self) -> Self {
        let _copying = Copying::enter();
        self.clone()
    }
}

impl<M: Module + Clone> DeepCopy for M {}

/// Marks this thread as inside a deep copy (or a conversion to another
/// element type) while alive (nested ones share the outer memo).
pub(crate) struct Copying {
    outermost: bool,
}

impl Copying {
    pub(crate) fn enter() -> Self {
        let outermost = MEMO.with(|memo| {
            let mut memo = memo.borrow_mut();
            let outermost = memo.is_none();
            if outermost {
                *memo = Some(HashMap::new());
            }
            outermost
        });
        if outermost {
            COPYING.fetch_add(1, Ordering::SeqCst);
        }
        Copying { outermost }
    }
}

impl Drop for Copying {
    fn drop(&mut self) {
        if self.outermost {
            let memo = MEMO.with(|memo| memo.borrow_mut().take());
            COPYING.fetch_sub(1, Ordering::SeqCst);
            drop(memo);
        }
    }
}

/// Inside a deep copy on this thread: `tensor`'s copy (made on first
/// sight, then the same copy); outside one: `None` (`Clone` shares).
pub(crate) fn copied<E: Element>(tensor: &TensorBase<E>) -> Option<TensorBase<E>> {
    let share = |t: &TensorBase<E>| TensorBase { node: Arc::clone(&t.node) };
    memoized(tensor.identity(), share, || {
        let copy = TensorBase::from_array(tensor.data().to_owned());
        if tensor.is_leaf() && tensor.requires_grad() {
            copy.set_requires_grad(true);
        }
        copy
    })
}

/// Inside a deep copy on this thread: the copy of the thing at `address`
/// (`make` on first sight, then `share` of the same copy, so ties stay
/// ties); outside one: `None`. `share` must not clone through the memo
/// (a handle's `Arc::clone`), and `make` runs with the memo free.
pub(crate) fn memoized<T: 'static>(
    address: usize,
    share: impl Fn(&T) -> T,
    make: impl FnOnce() -> T,
) -> Option<T> {
    if COPYING.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let known = MEMO.with(|memo| {
        let memo = memo.borrow();
        let memo = memo.as_ref()?;
        Some(memo.get(&address).and_then(|copy| copy.downcast_ref::<T>()).map(&share))
    })?;
    if let Some(copy) = known {
        return Some(copy);
    }
    let copy = make();
    let kept = share(&copy);
    MEMO.with(|memo| {
        if let Some(memo) = memo.borrow_mut().as_mut() {
            memo.insert(address, Box::new(kept));
        }
    });
    Some(copy)
}
