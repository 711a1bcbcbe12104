//! Forward hooks, like PyTorch's `register_forward_pre_hook` and
//! `register_forward_hook`: functions run before and after a block's
//! forward, that may read and replace its input and output.
//!
//! # Where hooks live
//!
//! A block may have no storage at all (`ReLU` is a unit struct), so hooks
//! do not live in the block: they live in one registry, keyed by the
//! block's address and its type. Every run goes through [`run`](super::run),
//! which looks the block up only when some hook is registered somewhere (an
//! atomic counter; with none registered a run costs one atomic load).
//!
//! What follows from keying by address:
//!
//! - hooks belong to the block at its place in memory: register them once
//!   the model is where it will run (moving a model, e.g. into a `Box`,
//!   leaves its hooks behind at the old address; moving a `Box` does not
//!   move the block inside, so a boxed block keeps its hooks);
//! - remove them with their [`HookHandle`] before the block is dropped, or a
//!   new block of the same type at the same address inherits them;
//! - a block of size zero (`ReLU`, `Flatten`, a field-less user block) has
//!   no address of its own: two of the same type in one struct or
//!   `sequential!` may share one, and a hook on one then runs for both.
//!   Hook them through [`register_module_forward_hook`], which is told
//!   each block's path, when that matters.
//!
//! # Order and removal during a pass (PyTorch's `_call_impl`)
//!
//! Hooks run in registration order. Each phase runs over a snapshot of the
//! block's hooks taken when the phase starts, as PyTorch iterates over
//! `(*self._forward_pre_hooks.items(),)`: a hook removed by an earlier hook
//! of the same phase still runs in this pass, and a hook registered during
//! a phase first runs in the next pass. The forward hooks' snapshot is taken
//! after the forward, so a pre-hook (or the forward) that registers a
//! forward hook sees it run in the same pass, and one that removes a
//! forward hook keeps it from running.
//!
//! Hooks for every block ([`register_module_forward_hook`], PyTorch's global
//! module hooks) run before each block's own, and are told which block runs
//! ([`RunningBlock`]): the way to hook blocks of size zero one by one.
//!
//! Hooks run when a block is run the usual way: its `forward` method, a
//! container, [`run`](super::run). Calling the trait method
//! `Forward::forward(&block, x)` runs it bare, as `net.forward(x)` skips
//! the hooks that `net(x)` runs in PyTorch.
//!
//! Hooks take and give float32 `Tensor`s: a block run on float64 values (a
//! model after [`to_f64`](super::ToElement::to_f64)) runs without its hooks.
//!
//! No lock is held while a hook runs, so a hook may register or remove
//! hooks (on any block) without deadlock, and a model with hooks can run on
//! several threads at once.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::forward::short_type_name;
use super::{Module, TensorKind};
use crate::{AnyTensor, Element, Indices, Tensor};

type PreHook = Arc<dyn Fn(&RunningBlock, &Tensor) -> Option<Tensor> + Send + Sync>;
type PostHook = Arc<dyn Fn(&RunningBlock, &Tensor, &Tensor) -> Option<Tensor> + Send + Sync>;

/// A block's identity for hooks: its address and its type (a struct and
/// its first field share an address, not a type).
type Key = (usize, TypeId);

/// Where the hooks for every block live (no block is at address 0).
fn global() -> Key {
    (0, TypeId::of::<()>())
}

#[derive(Default)]
struct Hooks {
    pre: Vec<(u64, PreHook)>,
    post: Vec<(u64, PostHook)>,
}

/// How many hooks are registered, on all blocks: the fast path's test.
static REGISTERED: AtomicUsize = AtomicUsize::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static REGISTRY: Mutex<Option<HashMap<Key, Hooks>>> = Mutex::new(None);

fn registry() -> MutexGuard<'static, Option<HashMap<Key, Hooks>>> {
    // Hooks never run under the lock, so a panic cannot poison the map half-written.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

fn key_of<M: Module + ?Sized>(block: &M) -> Key {
    let any = block.as_any();
    (any as *const dyn std::any::Any as *const () as usize, any.type_id())
}

/// Unregisters the hook it was returned for, like PyTorch's
/// `RemovableHandle.remove()`. Dropping the handle keeps the hook.
///
/// ```
/// use blocks_core::nn::{ForwardHooks, ReLU};
/// use blocks_core::Tensor;
/// let relu = ReLU;
/// let handle = relu.register_forward_hook(|_, y| Some(y * 2.0));
/// assert_eq!(relu.forward(&Tensor::from_vec(vec![1.0], [1])).to_vec(), vec![2.0]);
/// handle.remove();
/// assert_eq!(relu.forward(&Tensor::from_vec(vec![1.0], [1])).to_vec(), vec![1.0]);
/// ```
#[derive(Debug)]
#[must_use = "a hook stays registered until `remove()` is called on its handle; keep the handle (or `let _ =` to keep the hook for good)"]
pub struct HookHandle {
    key: Key,
    id: u64,
}

impl HookHandle {
    /// Unregisters the hook. Removing twice does nothing, as in PyTorch.
    ///
    /// ```
    /// use blocks_core::nn::{ForwardHooks, Linear};
    /// let layer = Linear::<2, 2>::new();
    /// let handle = layer.register_forward_pre_hook(|_| None);
    /// handle.remove();
    /// handle.remove();
    /// ```
    pub fn remove(&self) {
        let mut guard = registry();
        let Some(map) = guard.as_mut() else { return };
        let Some(hooks) = map.get_mut(&self.key) else { return };
        let before = hooks.pre.len() + hooks.post.len();
        hooks.pre.retain(|(id, _)| *id != self.id);
        hooks.post.retain(|(id, _)| *id != self.id);
        let removed = before - hooks.pre.len() - hooks.post.len();
        if hooks.pre.is_empty() && hooks.post.is_empty() {
            map.remove(&self.key);
        }
        REGISTERED.fetch_sub(removed, Ordering::AcqRel);
    }
}

/// Registering hooks on any block: a layer, a `sequential!`, a derived
/// block, a `Box<dyn Block>` (the block inside). See the [module
/// docs](self) for where hooks live and the rules of order and removal.
///
/// ```
/// use blocks_core::nn::{ForwardHooks, Linear};
/// use blocks_core::Tensor;
/// let layer = Linear::<4, 2>::new();
/// let handle = layer.register_forward_hook(|x, y| {
///     println!("{:?} -> {:?}", x.shape(), y.shape());
///     None // keep the output
/// });
/// layer.forward(&Tensor::ones([3, 4]));
/// handle.remove();
/// ```
pub trait ForwardHooks {
    /// Runs `hook` on the block's input before every forward, like
    /// `register_forward_pre_hook`: returning `Some(tensor)` replaces the
    /// input (it must be of the kind the block takes, or the run panics
    /// naming the block), `None` keeps it.
    ///
    /// ```
    /// use blocks_core::nn::{ForwardHooks, ReLU};
    /// use blocks_core::Tensor;
    /// let relu = ReLU;
    /// let handle = relu.register_forward_pre_hook(|x| Some(-x));
    /// assert_eq!(relu.forward(&Tensor::from_vec(vec![-3.0], [1])).to_vec(), vec![3.0]);
    /// handle.remove();
    /// ```
    fn register_forward_pre_hook<F>(&self, hook: F) -> HookHandle
    where
        F: Fn(&Tensor) -> Option<Tensor> + Send + Sync + 'static;

    /// Runs `hook` on the block's input and output after every forward,
    /// like `register_forward_hook`: returning `Some(tensor)` replaces the
    /// output (of the kind the block gives, or the run panics naming the
    /// block), `None` keeps it.
    ///
    /// ```
    /// use blocks_core::nn::{ForwardHooks, Linear};
    /// use blocks_core::Tensor;
    /// let layer = Linear::<3, 2>::new();
    /// let handle = layer.register_forward_hook(|_, y| Some(y.zeros_like()));
    /// assert_eq!(layer.forward(&Tensor::ones([1, 3])).to_vec(), vec![0.0, 0.0]);
    /// handle.remove();
    /// ```
    fn register_forward_hook<F>(&self, hook: F) -> HookHandle
    where
        F: Fn(&Tensor, &Tensor) -> Option<Tensor> + Send + Sync + 'static;
}

impl<M: Module + ?Sized> ForwardHooks for M {
    fn register_forward_pre_hook<F>(&self, hook: F) -> HookHandle
    where
        F: Fn(&Tensor) -> Option<Tensor> + Send + Sync + 'static,
    {
        register(key_of(self), |hooks, id| {
            hooks.pre.push((id, Arc::new(move |_: &RunningBlock, x: &Tensor| hook(x))))
        })
    }

    fn register_forward_hook<F>(&self, hook: F) -> HookHandle
    where
        F: Fn(&Tensor, &Tensor) -> Option<Tensor> + Send + Sync + 'static,
    {
        register(key_of(self), |hooks, id| {
            hooks.post.push((id, Arc::new(move |_: &RunningBlock, x: &Tensor, y: &Tensor| hook(x, y))))
        })
    }
}

/// The block a global hook runs for: its class name and its path in the
/// model being run.
///
/// ```
/// use blocks_core::nn::{register_module_forward_hook, Linear, ReLU, Sequential};
/// use blocks_core::Tensor;
/// let net = Sequential::new((Linear::<2, 3>::new(), ReLU));
/// let handle = register_module_forward_hook(|block, _, y| {
///     if block.path() == "0" {
///         assert_eq!((block.name(), y.shape()), ("Linear", vec![1, 3]));
///     }
///     None
/// });
/// net.forward(&Tensor::ones([1, 2]));
/// handle.remove();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningBlock {
    name: String,
    path: String,
}

impl RunningBlock {
    /// The block's class name, without its sizes (`Linear`, `Sequential`), like
    /// `module.__class__.__name__`.
    ///
    /// ```
    /// # use blocks_core::nn::RunningBlock;
    /// # fn show(block: &RunningBlock) { println!("{} output shape", block.name()); }
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where it is in the model being run: `0`, `0.2` for a block inside
    /// `sequential!`s, `hidden` for a field of a `#[module(chain)]` block
    /// (PyTorch's `named_modules` key), empty for the model itself and for
    /// blocks that no container runs (the fields a hand-written
    /// `impl Forward` calls).
    ///
    /// ```
    /// # use blocks_core::nn::RunningBlock;
    /// # fn top_level(block: &RunningBlock) -> bool { !block.path().is_empty() && !block.path().contains('.') }
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Runs `hook` before the forward of every block, like PyTorch's
/// `torch.nn.modules.module.register_module_forward_pre_hook`: before each
/// block's own pre-hooks, with the block it runs for; `Some` replaces the
/// input. Remove it with its handle.
///
/// ```
/// use blocks_core::nn::{register_module_forward_pre_hook, ReLU};
/// use blocks_core::Tensor;
/// let handle = register_module_forward_pre_hook(|block, x| (block.name() == "ReLU").then(|| -x));
/// assert_eq!(ReLU.forward(&Tensor::from_vec(vec![-1.0], [1])).to_vec(), vec![1.0]);
/// handle.remove();
/// ```
pub fn register_module_forward_pre_hook<F>(hook: F) -> HookHandle
where
    F: Fn(&RunningBlock, &Tensor) -> Option<Tensor> + Send + Sync + 'static,
{
    register(global(), |hooks, id| hooks.pre.push((id, Arc::new(hook))))
}

/// Runs `hook` after the forward of every block, like PyTorch's
/// `torch.nn.modules.module.register_module_forward_hook`: before each
/// block's own forward hooks, with the block it runs for, its input and its
/// output; `Some` replaces the output. Remove it with its handle. It runs
/// for blocks on every thread (compare `std::thread::current().id()` to
/// keep one thread's). (d2l's
/// shape walk: print `block.name()` and the output's shape for each block
/// whose [`path`](RunningBlock::path) has no dot.)
///
/// ```
/// use blocks_core::nn::{register_module_forward_hook, Linear};
/// use blocks_core::Tensor;
/// let handle = register_module_forward_hook(|block, _, y| {
///     println!("{} output shape: {:?}", block.name(), y.shape());
///     None
/// });
/// Linear::<4, 2>::new().forward(&Tensor::ones([1, 4]));
/// handle.remove();
/// ```
pub fn register_module_forward_hook<F>(hook: F) -> HookHandle
where
    F: Fn(&RunningBlock, &Tensor, &Tensor) -> Option<Tensor> + Send + Sync + 'static,
{
    register(global(), |hooks, id| hooks.post.push((id, Arc::new(hook))))
}

fn register(key: Key, add: impl FnOnce(&mut Hooks, u64)) -> HookHandle {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut guard = registry();
    add(guard.get_or_insert_with(HashMap::new).entry(key).or_default(), id);
    REGISTERED.fetch_add(1, Ordering::AcqRel);
    HookHandle { key, id }
}

/// Whether the block at `key` has hooks, or there are global ones.
fn has_hooks(key: Key) -> bool {
    registry().as_ref().is_some_and(|map| map.contains_key(&key) || map.contains_key(&global()))
}

/// The global hooks, then the block's, as they are now.
fn snapshot<T>(key: Key, pick: impl Fn(&Hooks) -> Vec<T>) -> Vec<T> {
    let guard = registry();
    let Some(map) = guard.as_ref() else { return Vec::new() };
    let mut hooks = map.get(&global()).map(&pick).unwrap_or_default();
    hooks.extend(map.get(&key).map(&pick).unwrap_or_default());
    hooks
}

/// What a block takes or gives, as its hooks see it: a `Tensor` (a
/// [`TensorKind`]: `Tensor`, `Batch<N>`, `Images<C>`, `Scalar`), or
/// [`Indices`] (an embedding's input), seen as a float tensor of the index
/// values, as PyTorch's hooks see its `LongTensor`.
///
/// ```
/// use blocks_core::nn::{Batch, HookValue};
/// use blocks_core::{Indices, Tensor};
/// let ids = Indices::from_vec(vec![3, 1], [2]);
/// assert_eq!(ids.to_hook().to_vec(), vec![3.0, 1.0]);
/// assert!(Indices::from_hook(Tensor::from_vec(vec![0.5], [1])).is_none()); // not an index
/// assert!(Batch::<3>::from_hook(Tensor::ones([2, 4])).is_none()); // not 3 wide
/// ```
pub trait HookValue: Sized {
    /// Whether hooks run on this value: float32 values only (hooks take and
    /// give `Tensor`s); a block run on float64 values runs without its hooks.
    #[doc(hidden)]
    const RUNS_HOOKS: bool = true;
    /// The value as a hook is given it (a handle for tensors).
    fn to_hook(&self) -> Tensor;
    /// A hook's replacement as this kind, or `None` if it is not one.
    fn from_hook(tensor: Tensor) -> Option<Self>;
}

impl<T: TensorKind> HookValue for T {
    const RUNS_HOOKS: bool = <T::Elem as Element>::IS_FLOAT32;

    fn to_hook(&self) -> Tensor {
        AnyTensor::from(self.tensor().clone()).cast()
    }

    fn from_hook(tensor: Tensor) -> Option<Self> {
        T::from_same_kind(AnyTensor::from(tensor).cast())
    }
}

impl HookValue for Indices {
    fn to_hook(&self) -> Tensor {
        Tensor::from_vec(self.as_slice().iter().map(|&i| i as f32).collect(), self.shape())
    }

    fn from_hook(tensor: Tensor) -> Option<Self> {
        let values = tensor.to_vec();
        let whole = values.iter().all(|v| v.is_finite() && *v >= 0.0 && v.fract() == 0.0);
        let values = values.into_iter().map(|v| v as usize).collect();
        whole.then(|| Indices::try_from_vec(values, tensor.shape()).ok()).flatten()
    }
}

/// A run of a block that has hooks (its own or global ones), between its
/// pre-hooks and its forward hooks: [`hooked`] starts it, the caller runs
/// the forward on [`input`](Self::input) and gives the output to
/// [`finish`](Self::finish). (Split so the forward is called from the
/// `#[track_caller]` runner itself, keeping the user's line in panics.)
pub(crate) struct HookedRun<I> {
    key: Key,
    running: RunningBlock,
    replaced_input: Option<I>,
}

/// Runs `block`'s pre-hooks on `input`: `None` when it has no hooks and
/// there are no global ones (the caller then runs the forward bare).
#[track_caller]
pub(crate) fn hooked<B, I>(block: &B, input: &I) -> Option<HookedRun<I>>
where
    B: ?Sized + 'static,
    I: HookValue,
{
    if REGISTERED.load(Ordering::Acquire) == 0 || !I::RUNS_HOOKS {
        return None;
    }
    let key = (block as *const B as *const () as usize, TypeId::of::<B>());
    if !has_hooks(key) {
        return None;
    }
    let running = RunningBlock { name: class_name::<B>(), path: super::path::current() };
    let pre: Vec<PreHook> = snapshot(key, |h| h.pre.iter().map(|(_, f)| Arc::clone(f)).collect());
    let mut replaced_input: Option<I> = None;
    for hook in pre {
        if let Some(replaced) = hook(&running, &replaced_input.as_ref().unwrap_or(input).to_hook()) {
            replaced_input = Some(replace::<B, I>(replaced, "input", "forward pre-hook"));
        }
    }
    Some(HookedRun { key, running, replaced_input })
}

impl<I: HookValue> HookedRun<I> {
    /// The input the forward runs on: `given`, or a pre-hook's replacement.
    pub(crate) fn input<'a>(&'a self, given: &'a I) -> &'a I {
        self.replaced_input.as_ref().unwrap_or(given)
    }

    /// Runs the forward hooks (a snapshot taken now, after the forward) on
    /// the input and `output` of block `B`.
    #[track_caller]
    pub(crate) fn finish<B: ?Sized, O: HookValue>(&self, given: &I, output: O) -> O {
        if !O::RUNS_HOOKS {
            // A float64 output (an embedding of a float64 model): no hooks, as on float64 inputs.
            return output;
        }
        let input = self.input(given).to_hook();
        let post: Vec<PostHook> = snapshot(self.key, |h| h.post.iter().map(|(_, f)| Arc::clone(f)).collect());
        let mut output = output;
        for hook in post {
            if let Some(replaced) = hook(&self.running, &input, &output.to_hook()) {
                output = replace::<B, O>(replaced, "output", "forward hook");
            }
        }
        output
    }
}

/// `Linear` for `Linear<4, 2>`, `Sequential` for `Sequential<(..)>`.
fn class_name<B: ?Sized>() -> String {
    let name = short_type_name::<B>();
    match name.find('<') {
        Some(end) => name[..end].to_string(),
        None => name,
    }
}

#[track_caller]
fn replace<B: ?Sized, T: HookValue>(tensor: Tensor, what: &str, hook: &str) -> T {
    let shape = tensor.shape();
    T::from_hook(tensor).unwrap_or_else(|| {
        panic!(
            "a {hook} on {} replaced its {what} by a tensor of shape {shape:?}, which is not a `{}`{}",
            short_type_name::<B>(),
            short_type_name::<T>(),
            super::path::describe()
        )
    })
}
