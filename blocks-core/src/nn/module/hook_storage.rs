//! Where forward hooks are kept: [`Hooks`], a block's own list (PyTorch's
//! `_forward_pre_hooks` and `_forward_hooks`), a field of the block, and
//! one list for the hooks of every block (PyTorch's global module hooks).
//!
//! # Why this cannot deadlock
//!
//! Each list has its own mutex. It is held only to copy a list (the
//! snapshot a pass runs over) or to add or remove one entry: never while a
//! hook or a forward runs, never while another list's mutex or a tensor's
//! lock is held. So a hook may register or remove hooks on any block, a
//! model with hooks may run on many threads at once, and a hook that
//! panics leaves every list whole.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

use crate::AnyTensor;
use crate::nn::hooks::RunningBlock;

/// A pre-hook, on values of either element type (see `hooks.rs`).
pub(crate) type PreHook = Arc<dyn Fn(&RunningBlock, &AnyTensor) -> Option<AnyTensor> + Send + Sync>;
/// A forward hook, on values of either element type.
pub(crate) type PostHook =
    Arc<dyn Fn(&RunningBlock, &AnyTensor, &AnyTensor) -> Option<AnyTensor> + Send + Sync>;

/// How many hooks exist, in all lists: the fast path's test (with none, a
/// run costs one atomic load).
static REGISTERED: AtomicUsize = AtomicUsize::new(0);
/// How many hooks for every block exist.
static GLOBAL_COUNT: AtomicUsize = AtomicUsize::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(0);
static GLOBAL: Mutex<HookList> = Mutex::new(HookList { pre: Vec::new(), post: Vec::new() });

/// The hooks of one block, or the global ones, in registration order.
#[derive(Default, Clone)]
pub(crate) struct HookList {
    pre: Vec<(u64, PreHook)>,
    post: Vec<(u64, PostHook)>,
}

impl HookList {
    fn len(&self) -> usize {
        self.pre.len() + self.post.len()
    }

    /// Removes the hook `id`; how many were removed (0 or 1).
    fn remove(&mut self, id: u64) -> usize {
        let before = self.len();
        self.pre.retain(|(other, _)| *other != id);
        self.post.retain(|(other, _)| *other != id);
        before - self.len()
    }
}

fn lock(list: &Mutex<HookList>) -> MutexGuard<'_, HookList> {
    // Hooks never run under the lock, so a panic cannot leave a list half-written.
    list.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A block's list, shared with the handles of its hooks (weakly).
struct Shared {
    list: Mutex<HookList>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        let left = lock(&self.list).len();
        REGISTERED.fetch_sub(left, Ordering::AcqRel);
    }
}

/// A block's own forward hooks, PyTorch's `_forward_pre_hooks` and
/// `_forward_hooks`: a field of the block, so they move with it (returned
/// from a function, moved into a `Vec` or a `Box`), every block has its own
/// (two `ReLU`s in one `sequential!` are two lists), and a new block starts
/// with none. Every layer of this crate has one; a block of your own gets
/// hooks with a field `hooks: Hooks`, which `#[derive(Module)]` registers.
/// Register and remove hooks through
/// [`ForwardHooks`](crate::nn::ForwardHooks), not here.
///
/// Cloning a block clones its hooks list (as `copy.deepcopy` copies a
/// module's hook dictionaries): the copy runs the same hooks, and removing
/// one through its handle removes it from the original only.
///
/// ```
/// use blocks_core::nn::{Forward, ForwardHooks, Hooks, Module, ModuleExt, OneInput, Takes, Visitor, run};
/// use blocks_core::Tensor;
///
/// // What `#[derive(Module)]` writes for a struct with a field `hooks: Hooks`.
/// struct Scale {
///     hooks: Hooks,
/// }
/// impl Module for Scale {
///     fn type_name(&self) -> String {
///         "Scale".into()
///     }
///     fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
///         visitor.hooks(&self.hooks);
///     }
/// }
/// impl Takes for Scale {
///     type Inputs = OneInput;
/// }
/// impl Forward<Tensor> for Scale {
///     type Output = Tensor;
///     fn forward(&self, x: &Tensor) -> Tensor {
///         x * 2.0
///     }
/// }
///
/// let block = Scale { hooks: Hooks::new() };
/// let handle = block.register_forward_hook(|_, y| Some(y + 1.0));
/// assert_eq!(run(&block, &Tensor::from_vec(vec![1.0], [1])).to_vec(), vec![3.0]);
/// let moved = vec![block]; // hooks move with the block
/// assert_eq!(run(&moved[0], &Tensor::from_vec(vec![1.0], [1])).to_vec(), vec![3.0]);
/// handle.remove();
/// ```
pub struct Hooks {
    shared: OnceLock<Arc<Shared>>,
}

impl Hooks {
    /// An empty list (allocated on the first registration).
    ///
    /// ```
    /// let hooks = blocks_core::nn::Hooks::new();
    /// assert!(hooks.is_empty());
    /// ```
    pub const fn new() -> Self {
        Hooks { shared: OnceLock::new() }
    }

    /// Whether the block has no hooks of its own.
    ///
    /// ```
    /// use blocks_core::nn::{ForwardHooks, Hooks, Module, ModuleExt, ReLU};
    /// let relu = ReLU::default();
    /// let handle = relu.register_forward_hook(|_, _| None);
    /// assert!(!blocks_core::nn::hooks_of(&relu).unwrap().is_empty());
    /// handle.remove();
    /// assert!(blocks_core::nn::hooks_of(&relu).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.shared.get().is_none_or(|shared| lock(&shared.list).len() == 0)
    }

    /// Adds a hook; its handle removes it from this list only.
    pub(crate) fn add(&self, hook: Hook) -> HookHandle {
        let shared = self.shared.get_or_init(|| Arc::new(Shared { list: Mutex::new(HookList::default()) }));
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        hook.push_to(&mut lock(&shared.list), id);
        REGISTERED.fetch_add(1, Ordering::AcqRel);
        HookHandle { target: Target::Block(Arc::downgrade(shared)), id }
    }

    /// The pre-hooks as they are now.
    pub(crate) fn pre(&self) -> Vec<PreHook> {
        self.shared.get().map(|shared| pre_of(&lock(&shared.list))).unwrap_or_default()
    }

    /// The forward hooks as they are now.
    pub(crate) fn post(&self) -> Vec<PostHook> {
        self.shared.get().map(|shared| post_of(&lock(&shared.list))).unwrap_or_default()
    }
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks::new()
    }
}

impl Clone for Hooks {
    fn clone(&self) -> Self {
        let copy = Hooks::new();
        if let Some(shared) = self.shared.get() {
            let list = lock(&shared.list).clone();
            REGISTERED.fetch_add(list.len(), Ordering::AcqRel);
            let _ = copy.shared.set(Arc::new(Shared { list: Mutex::new(list) }));
        }
        copy
    }
}

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (pre, post) = match self.shared.get() {
            Some(shared) => {
                let list = lock(&shared.list);
                (list.pre.len(), list.post.len())
            }
            None => (0, 0),
        };
        f.debug_struct("Hooks").field("pre", &pre).field("post", &post).finish()
    }
}

/// A hook to add: before the forward or after it.
pub(crate) enum Hook {
    Pre(PreHook),
    Post(PostHook),
}

impl Hook {
    fn push_to(self, list: &mut HookList, id: u64) {
        match self {
            Hook::Pre(hook) => list.pre.push((id, hook)),
            Hook::Post(hook) => list.post.push((id, hook)),
        }
    }
}

/// Adds a hook for every block.
pub(crate) fn add_global(hook: Hook) -> HookHandle {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    hook.push_to(&mut lock(&GLOBAL), id);
    GLOBAL_COUNT.fetch_add(1, Ordering::AcqRel);
    REGISTERED.fetch_add(1, Ordering::AcqRel);
    HookHandle { target: Target::Global, id }
}

/// Whether any hook exists, on any block or for every block.
pub(crate) fn any_registered() -> bool {
    REGISTERED.load(Ordering::Acquire) > 0
}

/// Whether hooks for every block exist.
pub(crate) fn any_global() -> bool {
    GLOBAL_COUNT.load(Ordering::Acquire) > 0
}

/// The global pre-hooks as they are now.
pub(crate) fn global_pre() -> Vec<PreHook> {
    pre_of(&lock(&GLOBAL))
}

/// The global forward hooks as they are now.
pub(crate) fn global_post() -> Vec<PostHook> {
    post_of(&lock(&GLOBAL))
}

fn pre_of(list: &HookList) -> Vec<PreHook> {
    list.pre.iter().map(|(_, hook)| Arc::clone(hook)).collect()
}

fn post_of(list: &HookList) -> Vec<PostHook> {
    list.post.iter().map(|(_, hook)| Arc::clone(hook)).collect()
}

/// Which list a handle's hook is in.
#[derive(Debug)]
enum Target {
    /// A block's own (gone when the block is dropped).
    Block(Weak<Shared>),
    Global,
}

/// Unregisters the hook it was returned for, like PyTorch's
/// `RemovableHandle.remove()`. Dropping the handle keeps the hook.
///
/// ```
/// use blocks_core::nn::{ForwardHooks, ReLU};
/// use blocks_core::Tensor;
/// let relu = ReLU::default();
/// let handle = relu.register_forward_hook(|_, y| Some(y * 2.0));
/// assert_eq!(relu.forward(&Tensor::from_vec(vec![1.0], [1])).to_vec(), vec![2.0]);
/// handle.remove();
/// assert_eq!(relu.forward(&Tensor::from_vec(vec![1.0], [1])).to_vec(), vec![1.0]);
/// ```
#[derive(Debug)]
#[must_use = "a hook stays registered until `remove()` is called on its handle; keep the handle (or `let _ =` to keep the hook for good)"]
pub struct HookHandle {
    target: Target,
    id: u64,
}

impl HookHandle {
    /// Unregisters the hook. Removing twice, or after the block is gone,
    /// does nothing, as in PyTorch.
    ///
    /// ```
    /// use blocks_core::nn::{ForwardHooks, Linear};
    /// let layer = Linear::<2, 2>::new();
    /// let handle = layer.register_forward_pre_hook(|_| None);
    /// handle.remove();
    /// handle.remove();
    /// ```
    pub fn remove(&self) {
        let removed = match &self.target {
            Target::Block(shared) => match shared.upgrade() {
                Some(shared) => lock(&shared.list).remove(self.id),
                None => 0,
            },
            Target::Global => {
                let removed = lock(&GLOBAL).remove(self.id);
                GLOBAL_COUNT.fetch_sub(removed, Ordering::AcqRel);
                removed
            }
        };
        REGISTERED.fetch_sub(removed, Ordering::AcqRel);
    }
}

/// The same hooks (a copy of the list), as `copy.deepcopy` copies them.
impl crate::nn::MapElement for Hooks {
    type As<F: crate::Element> = Hooks;

    fn map_element<F: crate::Element>(&self, _: &mut crate::nn::Mapper) -> Hooks {
        self.clone()
    }
}

/// The same hooks (a copy of the list), as `copy.deepcopy` copies them.
impl crate::nn::DeepCopy for Hooks {
    fn deep_copy_with(&self, _: &mut crate::nn::Mapper) -> Self {
        self.clone()
    }
}
