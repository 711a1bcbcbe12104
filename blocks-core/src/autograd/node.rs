//! A tensor's shared state and the record of the operation that produced it.
//!
//! Every tensor handle points at one [`Node`]: its data, its gradient slot and,
//! for results of recorded operations, a [`GradFn`] that holds the inputs and
//! the closure that maps the output's gradient to the inputs' gradients.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use ndarray::{ArrayD, IxDyn};

use super::pool;
use crate::{Element, TensorBase};

/// The gradients a backward closure returns: one entry per input, `None` where
/// the input needs none.
pub(crate) type InputGrads<E> = Vec<Option<ArrayD<E>>>;

type BackwardClosure<E> = dyn Fn(ArrayD<E>, &BackwardContext<'_, E>) -> InputGrads<E> + Send + Sync;

/// What a recorded operation keeps for backward.
pub(crate) struct GradFn<E: Element> {
    /// Each input with its version when the operation ran (one allocation for both).
    pub(crate) inputs: Vec<(TensorBase<E>, u64)>,
    closure: Box<BackwardClosure<E>>,
}

/// What a backward closure is given besides the output's gradient: read
/// access to the inputs and the output, and which inputs need a gradient.
pub(crate) struct BackwardContext<'a, E: Element> {
    grad_fn: &'a GradFn<E>,
    name: &'static str,
    output: &'a Node<E>,
}

impl<E: Element> BackwardContext<'_, E> {
    /// Whether input `i` wants a gradient; closures skip work for the others.
    pub fn needs(&self, i: usize) -> bool {
        self.grad_fn.inputs[i].0.requires_grad()
    }

    /// The value of input `i` as it was when the operation ran.
    ///
    /// Panics with PyTorch's message if it was modified in place since.
    pub fn input(&self, i: usize) -> RwLockReadGuard<'_, ArrayD<E>> {
        let (input, version) = &self.grad_fn.inputs[i];
        if input.node.version() != *version {
            panic!(
                "one of the variables needed for gradient computation has been modified by an \
                 inplace operation: input {i} of {} is at version {}; expected version {version} instead",
                self.name,
                input.node.version(),
            );
        }
        input.node.read()
    }

    /// How many inputs the operation recorded.
    pub fn inputs(&self) -> usize {
        self.grad_fn.inputs.len()
    }

    /// The value the operation produced.
    pub fn output(&self) -> RwLockReadGuard<'_, ArrayD<E>> {
        self.output.read()
    }
}

/// The shared state behind a tensor handle.
pub(crate) struct Node<E: Element> {
    data: RwLock<ArrayD<E>>,
    /// The accumulated gradient a user sees (`.grad()`).
    pub(crate) grad: Mutex<Option<ArrayD<E>>>,
    /// Gradient collected for a non-leaf during one backward pass.
    pub(crate) pending: Mutex<Option<ArrayD<E>>>,
    pub(crate) requires_grad: AtomicBool,
    pub(crate) retains_grad: AtomicBool,
    version: AtomicU64,
    /// The backward pass that last visited this node (see `backward.rs`).
    pub(crate) visited_in: AtomicU64,
    /// Set while the tensor is a lazy layer's parameter without values yet.
    pub(crate) uninitialized: AtomicBool,
    /// PyTorch's name of the operation that made this tensor (`None` for leaves).
    pub(crate) grad_fn_name: Option<&'static str>,
    /// Taken away when backward frees the graph.
    pub(crate) grad_fn: Mutex<Option<GradFn<E>>>,
}

impl<E: Element> Node<E> {
    pub(crate) fn leaf(data: ArrayD<E>, requires_grad: bool) -> Self {
        Node {
            data: RwLock::new(data),
            grad: Mutex::new(None),
            pending: Mutex::new(None),
            requires_grad: AtomicBool::new(requires_grad),
            retains_grad: AtomicBool::new(false),
            version: AtomicU64::new(0),
            visited_in: AtomicU64::new(0),
            uninitialized: AtomicBool::new(false),
            grad_fn_name: None,
            grad_fn: Mutex::new(None),
        }
    }

    pub(crate) fn read(&self) -> RwLockReadGuard<'_, ArrayD<E>> {
        self.data.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write access to the data; bumps the version so stale saved values are detected.
    pub(crate) fn write(&self) -> std::sync::RwLockWriteGuard<'_, ArrayD<E>> {
        self.version.fetch_add(1, Ordering::Relaxed);
        self.data.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Relaxed)
    }

    pub(crate) fn is_leaf(&self) -> bool {
        self.grad_fn_name.is_none()
    }
}

/// Locks a mutex, ignoring poisoning (the slots hold plain data that stays valid).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<E: Element> GradFn<E> {
    /// Runs the closure for the output `node` with the gradient `grad`.
    pub(crate) fn call(&self, node: &Node<E>, name: &'static str, grad: ArrayD<E>) -> InputGrads<E> {
        (self.closure)(grad, &BackwardContext { grad_fn: self, name, output: node })
    }
}

impl<E: Element> TensorBase<E> {
    /// Wraps the result of an operation, recording `backward` when graph
    /// recording is on and some input requires grad.
    ///
    /// `backward` receives the output's gradient (owned, so it can be reused in
    /// place) and returns one gradient per input, each with that input's shape.
    /// It must reach the inputs through [`BackwardContext::input`], never by
    /// capturing tensor handles, so that dropping a long graph never recurses.
    pub(crate) fn from_op<F>(
        data: ArrayD<E>,
        name: &'static str,
        inputs: &[&TensorBase<E>],
        backward: F,
    ) -> Self
    where
        F: Fn(ArrayD<E>, &BackwardContext<'_, E>) -> InputGrads<E> + Send + Sync + 'static,
    {
        let records = crate::is_grad_enabled() && inputs.iter().any(|t| t.requires_grad());
        if !records {
            return TensorBase::from_node(Node::leaf(data, false));
        }
        let grad_fn = GradFn {
            inputs: inputs.iter().map(|t| ((*t).clone(), t.node.version())).collect(),
            closure: Box::new(backward),
        };
        let mut node = Node::leaf(data, true);
        node.grad_fn_name = Some(name);
        node.grad_fn = Mutex::new(Some(grad_fn));
        TensorBase::from_node(node)
    }
}

impl<E: Element> Drop for Node<E> {
    /// Gives the node's arrays back to the pool for reuse, and frees the graph
    /// behind it without recursion, so that dropping the result of a
    /// 10,000-step loop cannot overflow the stack.
    fn drop(&mut self) {
        let empty = || ArrayD::from_shape_vec(IxDyn(&[0]), Vec::new()).expect("an empty array");
        pool::recycle(std::mem::replace(self.data.get_mut().unwrap_or_else(|p| p.into_inner()), empty()));
        for slot in [&mut self.grad, &mut self.pending] {
            if let Some(array) = slot.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
                pool::recycle(array);
            }
        }
        let Some(grad_fn) = self.grad_fn.get_mut().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        let mut pending = grad_fn.inputs;
        while let Some((tensor, _)) = pending.pop() {
            if let Some(mut node) = Arc::into_inner(tensor.node)
                && let Some(inner) = node.grad_fn.get_mut().unwrap_or_else(|p| p.into_inner()).take()
            {
                pending.extend(inner.inputs);
            }
        }
    }
}
