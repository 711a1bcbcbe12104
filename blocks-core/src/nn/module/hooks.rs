//! Forward hooks, like PyTorch's `register_forward_pre_hook` and
//! `register_forward_hook`: functions run before and after a block's
//! forward, that may read and replace its input and output.
//!
//! # Where hooks live
//!
//! A block's hooks live in the block, in its [`Hooks`] field (see there):
//! they move with it, each block has its own, and a new block starts with
//! none. Every layer of this crate has one; a block of your own gets hooks
//! with a field `hooks: Hooks`, and registering a hook on a block without
//! one panics, saying so. Every run goes through [`run`](crate::nn::run), which
//! looks at hooks only when some hook exists somewhere (with none, a run
//! costs one atomic load).
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
//! ([`RunningBlock`]) and its path in the model, also for a block that a
//! hand-written `forward` calls (`0.p1_1`: the field `p1_1` of block `0`).
//!
//! Hooks run when a block is run the usual way: its `forward` method, a
//! container, [`run`](crate::nn::run). Calling the trait method
//! `Forward::forward(&block, x)` runs it bare, as `net.forward(x)` skips
//! the hooks that `net(x)` runs in PyTorch.
//!
//! # Element types
//!
//! Hooks run whatever the element type of the values. A hook is registered
//! for one element type: `register_forward_hook` and the others for float32
//! (`|x, y|` on `Tensor`s), `hooks_for::<f64>().register_forward_hook` and
//! [`module_hooks_for::<f64>()`](module_hooks_for) for float64 (on
//! `Tensor64`s, for a model after [`to_f64`](crate::nn::ToElement::to_f64)). A hook sees values of its own type
//! as they are, and may replace them; it sees values of the other type cast
//! to its own (float64 rounded to float32, a copy outside the autograd
//! graph), to read them (shapes, statistics), and replacing those panics,
//! naming the registration that can replace them.
//!
//! No lock is held while a hook runs, so a hook may register or remove
//! hooks (on any block) without deadlock, and a model with hooks can run on
//! several threads at once (the argument is in `hook_storage.rs`).

use std::any::TypeId;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::nn::forward::short_type_name;
use crate::nn::hook_storage::{Hook, HookHandle, Hooks, PostHook, PreHook};
use crate::nn::{HookValue, Module, Visitor};
use crate::{AnyTensor, Element, Tensor, TensorBase};

/// A pre-hook written for element type `E`, run on values of either type
/// (cast to `E`, a handle when they are `E` already).
fn pre_hook<E: Element>(
    hook: impl Fn(&RunningBlock, &TensorBase<E>) -> Option<TensorBase<E>> + Send + Sync + 'static,
) -> Hook {
    Hook::Pre(Arc::new(move |block, x| hook(block, &x.cast()).map(AnyTensor::from)))
}

/// A forward hook written for element type `E` (see [`pre_hook`]).
fn post_hook<E: Element>(
    hook: impl Fn(&RunningBlock, &TensorBase<E>, &TensorBase<E>) -> Option<TensorBase<E>> + Send + Sync + 'static,
) -> Hook {
    Hook::Post(Arc::new(move |block, x, y| hook(block, &x.cast(), &y.cast()).map(AnyTensor::from)))
}

/// The block's own [`Hooks`] (its field, reported by its `visit`), or
/// `None` for a block that keeps none.
///
/// ```
/// use blocks_core::nn::{hooks_of, Linear};
/// assert!(hooks_of(&Linear::<2, 2>::new()).is_some());
/// ```
pub fn hooks_of<M: Module + ?Sized>(block: &M) -> Option<&Hooks> {
    struct Find<'m>(Option<&'m Hooks>);
    impl<'m> Visitor<'m> for Find<'m> {
        fn parameter(&mut self, _: &str, _: crate::nn::ParamRef<'m>) {}
        fn buffer(&mut self, _: &str, _: crate::nn::BufferRef<'m>) {}
        fn child(&mut self, _: &str, _: &'m dyn Module) {}
        fn hooks(&mut self, hooks: &'m Hooks) {
            self.0.get_or_insert(hooks);
        }
    }
    let mut find = Find(None);
    block.visit(&mut find);
    find.0
}

/// The block's own hooks, for registering one; panics naming the block if
/// it keeps none.
#[track_caller]
fn own_hooks<M: Module + ?Sized>(block: &M) -> &Hooks {
    match hooks_of(block) {
        Some(hooks) => hooks,
        None => panic!(
            "{} keeps no hooks of its own: give it a field `hooks: Hooks` (which #[derive(Module)] \
             registers, as PyTorch keeps a module's hooks in `_forward_hooks`), or hook it through \
             `register_module_forward_hook`, which runs for every block",
            block.type_name()
        ),
    }
}

/// Registering hooks on any block: a layer, a `sequential!`, a derived
/// block, a `Box<dyn Block>` (the block inside). See the [module
/// docs](self) for where hooks live and the rules of order and removal.
/// These register hooks on float32 values; [`hooks_for`](Self::hooks_for)
/// registers them for another element type (`hooks_for::<f64>()` for a
/// model after `to_f64`).
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
    /// The block's hooks on values of element type `E`: where hooks for a
    /// float64 model are registered.
    ///
    /// # Panics
    ///
    /// When the block keeps no hooks of its own (no `hooks: Hooks` field),
    /// naming it.
    ///
    /// ```
    /// use blocks_core::nn::{ForwardHooks, Linear, ToElement};
    /// use blocks_core::Tensor64;
    /// let layer = Linear::<4, 2>::new().to_f64();
    /// let handle = layer.hooks_for::<f64>().register_forward_hook(|_, y| Some(y * 2.0));
    /// layer.forward(&Tensor64::ones([1, 4]));
    /// handle.remove();
    /// ```
    #[track_caller]
    fn hooks_for<E: Element>(&self) -> HooksFor<'_, E>;

    /// PyTorch's `register_forward_pre_hook`: `hook(input)` runs before the
    /// forward, and may replace the input (`Some`). On float32 values.
    ///
    /// # Panics
    ///
    /// When the block keeps no hooks of its own, naming it.
    ///
    /// ```
    /// use blocks_core::nn::{ForwardHooks, ReLU};
    /// use blocks_core::Tensor;
    /// let relu = ReLU::default();
    /// let handle = relu.register_forward_pre_hook(|x| Some(x * -1.0));
    /// assert_eq!(relu.forward(&Tensor::from_vec(vec![-2.0], [1])).to_vec(), vec![2.0]);
    /// handle.remove();
    /// ```
    #[track_caller]
    fn register_forward_pre_hook<F>(&self, hook: F) -> HookHandle
    where
        F: Fn(&Tensor) -> Option<Tensor> + Send + Sync + 'static,
    {
        self.hooks_for::<f32>().register_forward_pre_hook(hook)
    }

    /// PyTorch's `register_forward_hook`: `hook(input, output)` runs after
    /// the forward, and may replace the output (`Some`). On float32 values.
    ///
    /// # Panics
    ///
    /// When the block keeps no hooks of its own, naming it.
    ///
    /// ```
    /// use blocks_core::nn::{ForwardHooks, ReLU};
    /// use blocks_core::Tensor;
    /// let relu = ReLU::default();
    /// let handle = relu.register_forward_hook(|_, y| Some(y + 1.0));
    /// assert_eq!(relu.forward(&Tensor::from_vec(vec![-2.0], [1])).to_vec(), vec![1.0]);
    /// handle.remove();
    /// ```
    #[track_caller]
    fn register_forward_hook<F>(&self, hook: F) -> HookHandle
    where
        F: Fn(&Tensor, &Tensor) -> Option<Tensor> + Send + Sync + 'static,
    {
        self.hooks_for::<f32>().register_forward_hook(hook)
    }
}

impl<M: Module + ?Sized> ForwardHooks for M {
    #[track_caller]
    fn hooks_for<E: Element>(&self) -> HooksFor<'_, E> {
        HooksFor { hooks: own_hooks(self), element: PhantomData }
    }
}

/// A block's hooks on values of element type `E` (from
/// [`ForwardHooks::hooks_for`]). A hook sees values of its own type as
/// they are and may replace them; values of the other type, cast, to read.
///
/// ```
/// use blocks_core::nn::{ForwardHooks, ReLU};
/// let relu = ReLU::default();
/// let handle = relu.hooks_for::<f64>().register_forward_pre_hook(|x| Some(x * 2.0));
/// handle.remove();
/// ```
pub struct HooksFor<'b, E> {
    hooks: &'b Hooks,
    element: PhantomData<E>,
}

impl<E: Element> HooksFor<'_, E> {
    /// PyTorch's `register_forward_pre_hook`, on values of element type `E`.
    ///
    /// ```
    /// use blocks_core::nn::{ForwardHooks, ReLU};
    /// use blocks_core::Tensor64;
    /// let relu = ReLU::default();
    /// let handle = relu.hooks_for::<f64>().register_forward_pre_hook(|x| Some(x * -1.0));
    /// assert_eq!(relu.forward(&Tensor64::from_vec(vec![-2.0], [1])).to_vec(), vec![2.0]);
    /// handle.remove();
    /// ```
    pub fn register_forward_pre_hook<F>(&self, hook: F) -> HookHandle
    where
        F: Fn(&TensorBase<E>) -> Option<TensorBase<E>> + Send + Sync + 'static,
    {
        self.hooks.add(pre_hook(move |_, x: &TensorBase<E>| hook(x)))
    }

    /// PyTorch's `register_forward_hook`, on values of element type `E`.
    ///
    /// ```
    /// use blocks_core::nn::{ForwardHooks, ReLU};
    /// use blocks_core::Tensor64;
    /// let relu = ReLU::default();
    /// let handle = relu.hooks_for::<f64>().register_forward_hook(|_, y| Some(y + 1.0));
    /// assert_eq!(relu.forward(&Tensor64::from_vec(vec![-2.0], [1])).to_vec(), vec![1.0]);
    /// handle.remove();
    /// ```
    pub fn register_forward_hook<F>(&self, hook: F) -> HookHandle
    where
        F: Fn(&TensorBase<E>, &TensorBase<E>) -> Option<TensorBase<E>> + Send + Sync + 'static,
    {
        self.hooks.add(post_hook(move |_, x: &TensorBase<E>, y: &TensorBase<E>| hook(x, y)))
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
/// assert_eq!(ReLU::default().forward(&Tensor::from_vec(vec![-1.0], [1])).to_vec(), vec![1.0]);
/// handle.remove();
/// ```
pub fn register_module_forward_pre_hook<F>(hook: F) -> HookHandle
where
    F: Fn(&RunningBlock, &Tensor) -> Option<Tensor> + Send + Sync + 'static,
{
    module_hooks_for::<f32>().register_forward_pre_hook(hook)
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
    module_hooks_for::<f32>().register_forward_hook(hook)
}

/// Hooks for every block on values of element type `E` (see
/// [`module_hooks_for`]): [`register_module_forward_pre_hook`] and
/// [`register_module_forward_hook`] for a float64 model.
///
/// ```
/// let hooks = blocks_core::nn::module_hooks_for::<f64>();
/// hooks.register_forward_hook(|_, _, _| None).remove();
/// ```
pub struct ModuleHooksFor<E>(PhantomData<E>);

/// Hooks for every block, on values of element type `E`: a hook sees values
/// of its own type as they are and may replace them; values of the other
/// type cast, to read.
///
/// ```
/// use blocks_core::nn::{module_hooks_for, Linear, ToElement};
/// use blocks_core::Tensor64;
/// let handle = module_hooks_for::<f64>().register_forward_hook(|block, _, y| {
///     println!("{} output: {:?} float64", block.name(), y.shape());
///     None
/// });
/// Linear::<4, 2>::new().to_f64().forward(&Tensor64::ones([1, 4]));
/// handle.remove();
/// ```
pub fn module_hooks_for<E: Element>() -> ModuleHooksFor<E> {
    ModuleHooksFor(PhantomData)
}

impl<E: Element> ModuleHooksFor<E> {
    /// [`register_module_forward_pre_hook`] on values of element type `E`.
    ///
    /// ```
    /// use blocks_core::nn::{module_hooks_for, ReLU};
    /// use blocks_core::Tensor64;
    /// let handle = module_hooks_for::<f64>().register_forward_pre_hook(|block, x| (block.name() == "ReLU").then(|| -x));
    /// assert_eq!(ReLU::default().forward(&Tensor64::from_vec(vec![-0.1], [1])).to_vec(), vec![0.1]);
    /// handle.remove();
    /// ```
    pub fn register_forward_pre_hook<F>(&self, hook: F) -> HookHandle
    where
        F: Fn(&RunningBlock, &TensorBase<E>) -> Option<TensorBase<E>> + Send + Sync + 'static,
    {
        crate::nn::hook_storage::add_global(pre_hook(hook))
    }

    /// [`register_module_forward_hook`] on values of element type `E`.
    ///
    /// ```
    /// use blocks_core::nn::{module_hooks_for, Linear, ToElement};
    /// use blocks_core::Tensor64;
    /// let handle = module_hooks_for::<f64>().register_forward_hook(|_, _, y| Some(y * 0.0));
    /// let y = Linear::<4, 2>::new().to_f64().forward(&Tensor64::ones([1, 4]));
    /// assert_eq!(y.to_vec(), vec![0.0, 0.0]);
    /// handle.remove();
    /// ```
    pub fn register_forward_hook<F>(&self, hook: F) -> HookHandle
    where
        F: Fn(&RunningBlock, &TensorBase<E>, &TensorBase<E>) -> Option<TensorBase<E>> + Send + Sync + 'static,
    {
        crate::nn::hook_storage::add_global(post_hook(hook))
    }
}

/// A run of a block that has hooks (its own or global ones), between its
/// pre-hooks and its forward hooks: [`hooked`] starts it, the caller runs
/// the forward on [`input`](Self::input) and gives the output to
/// [`finish`](Self::finish). (Split so the forward is called from the
/// `#[track_caller]` runner itself, keeping the user's line in panics.)
/// While it lives, the block is the running one in the path that global
/// hooks are told (see `path.rs`).
pub(crate) struct HookedRun<'b, I> {
    own: Option<&'b Hooks>,
    global: bool,
    running: RunningBlock,
    replaced_input: Option<I>,
    _entered: Option<crate::nn::path::Entered>,
}

/// Runs `block`'s pre-hooks on `input`: `None` when it has no hooks and
/// there are no global ones (the caller then runs the forward bare).
///
/// A block that hands its identity to another (`Box<dyn Block>`, whose
/// `as_any` is the block inside) runs bare: the block inside runs the hooks.
#[track_caller]
pub(crate) fn hooked<'b, B, I>(block: &'b B, input: &I) -> Option<HookedRun<'b, I>>
where
    B: Module + ?Sized + 'static,
    I: HookValue,
{
    if !crate::nn::hook_storage::any_registered() || block.as_any().type_id() != TypeId::of::<B>() {
        return None;
    }
    start::<B, I>(block, hooks_of(block), || crate::nn::path::children_of(block), input)
}

/// Runs the pre-hooks (global ones, then `own`) of `block`, which records
/// `children` in the path while global hooks exist.
#[track_caller]
fn start<'b, B, I>(
    block: &'b B,
    own: Option<&'b Hooks>,
    children: impl FnOnce() -> Vec<crate::nn::path::Child>,
    input: &I,
) -> Option<HookedRun<'b, I>>
where
    B: ?Sized + 'static,
    I: HookValue,
{
    let own = own.filter(|hooks| !hooks.is_empty());
    let global = crate::nn::hook_storage::any_global();
    if own.is_none() && !global {
        return None;
    }
    let identity = (block as *const B as *const () as usize, TypeId::of::<B>());
    let entered = global.then(|| crate::nn::path::enter(identity, children()));
    let running = RunningBlock { name: class_name::<B>(), path: crate::nn::path::current() };
    let mut pre: Vec<PreHook> = if global { crate::nn::hook_storage::global_pre() } else { Vec::new() };
    pre.extend(own.map(Hooks::pre).unwrap_or_default());
    let mut replaced_input: Option<I> = None;
    for hook in pre {
        if let Some(replaced) = hook(&running, &replaced_input.as_ref().unwrap_or(input).to_any_hook()) {
            replaced_input = Some(replace::<B, I>(replaced, "input", "forward pre-hook"));
        }
    }
    Some(HookedRun { own, global, running, replaced_input, _entered: entered })
}

impl<I: HookValue> HookedRun<'_, I> {
    /// The input the forward runs on: `given`, or a pre-hook's replacement.
    pub(crate) fn input<'a>(&'a self, given: &'a I) -> &'a I {
        self.replaced_input.as_ref().unwrap_or(given)
    }

    /// Runs the forward hooks (a snapshot taken now, after the forward) on
    /// the input and `output` of block `B`.
    #[track_caller]
    pub(crate) fn finish<B: ?Sized, O: HookValue>(&self, given: &I, output: O) -> O {
        let input = self.input(given).to_any_hook();
        let mut post: Vec<PostHook> =
            if self.global { crate::nn::hook_storage::global_post() } else { Vec::new() };
        post.extend(self.own.map(Hooks::post).unwrap_or_default());
        let mut output = output;
        for hook in post {
            if let Some(replaced) = hook(&self.running, &input, &output.to_any_hook()) {
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

/// A hook's replacement as `T`; panics naming the block and the hook if it
/// is not one, or if the hook was registered for the other element type.
#[track_caller]
fn replace<B: ?Sized, T: HookValue>(tensor: AnyTensor, what: &str, hook: &str) -> T {
    if tensor.dtype() != T::DTYPE {
        let element = if T::DTYPE == <f64 as Element>::DTYPE { "f64" } else { "f32" };
        let registered = hook.replace("forward ", "forward_").replace('-', "_");
        panic!(
            "a {hook} on {} registered for {} replaced its {} {what}: a hook reads values of the other \
             element type and replaces only its own; register it with `hooks_for::<{element}>().register_{registered}` \
             (`module_hooks_for::<{element}>().register_{registered}` for a hook on every block){}",
            short_type_name::<B>(),
            tensor.dtype(),
            T::DTYPE,
            crate::nn::path::describe()
        );
    }
    let shape = tensor.shape();
    T::from_any_hook(tensor).unwrap_or_else(|| {
        panic!(
            "a {hook} on {} replaced its {what} by a tensor of shape {shape:?}, which is not a `{}`{}",
            short_type_name::<B>(),
            short_type_name::<T>(),
            crate::nn::path::describe()
        )
    })
}
