//! `Module.apply`: a function run on every block of a model, children first.

use std::any::TypeId;

use crate::nn::Module;
use crate::nn::ModuleExt;

/// Runs `f` on every block of `module`, like PyTorch's `net.apply(fn)`: each
/// child's subtree first (in order), then the block itself, so the whole model
/// comes last. A child registered twice by the same block (a shared layer) is
/// visited once there, as PyTorch's `children()` skips repeats.
///
/// Use `downcast_ref::<DynLinear>()` to act on every fully connected layer whatever
/// its widths, and [`apply_to`] to act on one type.
///
/// ```
/// use blocks_core::nn::{DynLinear, Linear, Module, ModuleExt, ReLU, Sequential, apply, init};
/// let net = Sequential::new((Linear::<4, 8>::new(), ReLU, Linear::<8, 1>::new()));
/// let mut order = Vec::new();
/// apply(&net, |m| order.push(m.type_name()));
/// assert_eq!(order, ["Linear", "ReLU", "Linear", "Sequential"]);
///
/// // d2l's my_init: uniform in [-10, 10], then zero where |w| < 5.
/// apply(&net, |m| {
///     if let Some(linear) = m.downcast_ref::<DynLinear>() {
///         init::uniform_(linear.weight(), -10.0, 10.0);
///         linear.weight().data_mut().mapv_inplace(|w| if w.abs() >= 5.0 { w } else { 0.0 });
///     }
/// });
/// assert!(net.0.0.weight().to_vec().iter().all(|w| *w == 0.0 || w.abs() >= 5.0));
/// ```
pub fn apply<M: Module + ?Sized>(module: &M, mut f: impl FnMut(&dyn Module)) {
    apply_dyn(module.as_dyn(), &mut f);
}

/// Runs `f` on every block of type `T` in `module`, in [`apply`]'s order:
/// PyTorch's `if type(m) == MyBlock:` for one concrete type. (For every
/// `Linear` whatever its widths, use `downcast_ref::<DynLinear>()` with [`apply`].)
///
/// ```
/// use blocks_core::nn::{DynLinear, Linear, Module, ModuleExt, ReLU, Sequential, apply_to, init};
/// let net = Sequential::new((DynLinear::new(4, 8), ReLU, Linear::<8, 1>::new()));
/// apply_to(&net, |layer: &DynLinear| init::constant_(layer.weight(), 1.0));
/// assert_eq!(net.0.0.weight().to_vec(), vec![1.0; 32]);
/// assert_ne!(net.0.2.weight().to_vec(), vec![1.0; 8]); // a Linear<8, 1> is another type
/// ```
pub fn apply_to<T: Module, M: Module + ?Sized>(module: &M, mut f: impl FnMut(&T)) {
    apply(module, |m| {
        if let Some(block) = m.as_any().downcast_ref::<T>() {
            f(block);
        }
    });
}

fn apply_dyn(module: &dyn Module, f: &mut dyn FnMut(&dyn Module)) {
    let mut seen: Vec<(*const (), TypeId)> = Vec::new();
    for (_, child) in module.named_children() {
        // A zero-sized block has no identity of its own (two `ReLU`s may share
        // an address), so only blocks with data can be the same one twice.
        if std::mem::size_of_val(child) != 0 {
            let identity = (child as *const dyn Module as *const (), child.as_any().type_id());
            if seen.contains(&identity) {
                continue;
            }
            seen.push(identity);
        }
        apply_dyn(child, f);
    }
    f(module);
}
