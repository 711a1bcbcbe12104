//! A tensor's shared state and the record of the operation that produced it.
//!
//! Every tensor handle points at one [`Node`]: its data (a [`Storage`], whose
//! module doc explains why no lock here can deadlock), its gradient slot and,
//! for results of recorded operations, a [`GradFn`] that holds the inputs and
//! the closure that maps the output's gradient to the inputs' gradients.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use ndarray::ArrayD;

use super::pool;
use super::storage::{Snapshot, Storage, lock};
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
    pub fn input(&self, i: usize) -> Snapshot<E> {
        let (input, version) = &self.grad_fn.inputs[i];
        let (values, now) = input.node.storage.snapshot_with_version();
        if now != *version {
            panic!(
                "one of the variables needed for gradient computation has been modified by an \
                 inplace operation: input {i} of {} is at version {now}; expected version {version} instead",
                self.name,
            );
        }
        values
    }

    /// How many inputs the operation recorded.
    pub fn inputs(&self) -> usize {
        self.grad_fn.inputs.len()
    }

    /// The value the operation produced.
    pub fn output(&self) -> Snapshot<E> {
        self.output.storage.snapshot()
    }
}

/// The shared state behind a tensor handle.
///
/// Every field is either atomic or behind its own short-held lock (see
/// `storage.rs` for why no two are ever held at once). Nothing here belongs to
/// one backward pass: passes keep their bookkeeping to themselves
/// (`backward.rs`), so several can run through one graph at the same time.
pub(crate) struct Node<E: Element> {
    /// The values and their version counter.
    pub(crate) storage: Storage<E>,
    /// The accumulated gradient a user sees (`.grad()`), shared with the
    /// snapshots handed out (copy-on-write when backward adds to it).
    grad: Mutex<Option<Arc<ArrayD<E>>>>,
    pub(crate) requires_grad: AtomicBool,
    pub(crate) retains_grad: AtomicBool,
    /// Set while the tensor is a lazy layer's parameter without values yet.
    pub(crate) uninitialized: AtomicBool,
    /// PyTorch's name of the operation that made this tensor (`None` for leaves).
    pub(crate) grad_fn_name: Option<&'static str>,
    /// Cloned by a pass that retains the graph, taken by one that frees it.
    pub(crate) grad_fn: Mutex<Option<Arc<GradFn<E>>>>,
}

impl<E: Element> Node<E> {
    pub(crate) fn leaf(data: ArrayD<E>, requires_grad: bool) -> Self {
        Self::with_storage(Storage::new(data), requires_grad)
    }

    pub(crate) fn with_storage(storage: Storage<E>, requires_grad: bool) -> Self {
        Node {
            storage,
            grad: Mutex::new(None),
            requires_grad: AtomicBool::new(requires_grad),
            retains_grad: AtomicBool::new(false),
            uninitialized: AtomicBool::new(false),
            grad_fn_name: None,
            grad_fn: Mutex::new(None),
        }
    }

    pub(crate) fn version(&self) -> u64 {
        self.storage.version()
    }

    pub(crate) fn is_leaf(&self) -> bool {
        self.grad_fn_name.is_none()
    }

    /// The accumulated gradient (an `Arc` clone; no copy).
    pub(crate) fn grad(&self) -> Option<Arc<ArrayD<E>>> {
        lock(&self.grad).clone()
    }

    /// Takes the accumulated gradient away, leaving `None`.
    pub(crate) fn take_grad(&self) -> Option<Arc<ArrayD<E>>> {
        lock(&self.grad).take()
    }

    /// Replaces the accumulated gradient.
    pub(crate) fn set_grad(&self, grad: Option<Arc<ArrayD<E>>>) {
        *lock(&self.grad) = grad;
    }

    /// Adds `grad` into the accumulated gradient, moving it in when there is
    /// none. `name` (the op that produced it) is for the shape check's message.
    pub(crate) fn accumulate_grad(&self, grad: ArrayD<E>, name: &str) {
        check_grad_shape(self, &grad, name);
        let mut slot = lock(&self.grad);
        match slot.as_mut() {
            Some(existing) => {
                match Arc::get_mut(existing) {
                    Some(existing) => *existing += &grad,
                    None => *existing = Arc::new(&**existing + &grad),
                }
                drop(slot);
                pool::recycle(grad);
            }
            None => *slot = Some(Arc::new(grad)),
        }
    }
}

/// Panics unless `grad` has the shape of the node's values.
pub(crate) fn check_grad_shape<E: Element>(node: &Node<E>, grad: &ArrayD<E>, name: &str) {
    node.storage.read(|data| {
        assert!(
            grad.shape() == data.shape(),
            "{name} returned a gradient of shape {:?} for an input of shape {:?}",
            grad.shape(),
            data.shape()
        );
    });
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
        node.grad_fn = Mutex::new(Some(Arc::new(grad_fn)));
        TensorBase::from_node(node)
    }
}

impl<E: Element> Drop for Node<E> {
    /// Gives the node's arrays back to the pool for reuse, and frees the graph
    /// behind it without recursion, so that dropping the result of a
    /// 10,000-step loop cannot overflow the stack.
    fn drop(&mut self) {
        if let Some(values) = self.storage.take_unshared() {
            pool::recycle(values);
        }
        let grad = self.grad.get_mut().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(grad) = grad.and_then(Arc::into_inner) {
            pool::recycle(grad);
        }
        let Some(grad_fn) = self.grad_fn.get_mut().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        // A grad_fn still held elsewhere (by a backward pass running now)
        // is let go by its last holder.
        let Some(grad_fn) = Arc::into_inner(grad_fn) else { return };
        let mut pending = grad_fn.inputs;
        while let Some((tensor, _)) = pending.pop() {
            if let Some(mut node) = Arc::into_inner(tensor.node)
                && let Some(inner) = node.grad_fn.get_mut().unwrap_or_else(|p| p.into_inner()).take()
                && let Some(inner) = Arc::into_inner(inner)
            {
                pending.extend(inner.inputs);
            }
        }
    }
}
