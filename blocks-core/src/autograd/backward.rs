//! The backward pass: one walk of the graph in reverse topological order.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::ArrayD;

use super::node::{Node, lock};
use super::pool;
use crate::{Element, TensorBase};

/// Numbers the backward passes, so a node knows whether this pass has seen it.
static PASS: AtomicU64 = AtomicU64::new(1);

impl<E: Element> TensorBase<E> {
    /// Computes the gradient of this scalar with respect to every leaf that
    /// requires grad, accumulating into their `.grad()`, like `y.backward()`.
    ///
    /// The graph is freed as it is walked; call
    /// [`backward_with_options`](Self::backward_with_options) to keep it.
    /// Panics on a tensor with more than one element, as PyTorch does.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![3.0], [1]).requires_grad_(true);
    /// (&x * &x).sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![6.0]);
    /// ```
    pub fn backward(&self) {
        self.backward_with_options(None, false);
    }

    /// Backward from a non-scalar output with the given output gradient, like
    /// `y.backward(gradient)`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::ones([2]).requires_grad_(true);
    /// let y = &x * 3.0;
    /// y.backward_with(&Tensor::from_vec(vec![1.0, 10.0], [2]));
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![3.0, 30.0]);
    /// ```
    pub fn backward_with(&self, gradient: &TensorBase<E>) {
        self.backward_with_options(Some(gradient), false);
    }

    /// Backward with PyTorch's options: an output gradient (`None` for a
    /// scalar output) and `retain_graph`, which keeps the graph for another pass.
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([1]).requires_grad_(true);
    /// let y = (&x * 2.0).sum();
    /// y.backward_with_options(None, true);
    /// y.backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![4.0]);
    /// ```
    pub fn backward_with_options(&self, gradient: Option<&TensorBase<E>>, retain_graph: bool) {
        assert!(
            self.requires_grad(),
            "element 0 of tensors does not require grad and does not have a grad_fn"
        );
        let seed = match gradient {
            Some(gradient) => {
                let gradient = gradient.to_array();
                let shape = self.node.read().shape().to_vec();
                assert!(
                    gradient.shape() == shape.as_slice(),
                    "backward: Mismatch in shape: grad_output[0] has a shape of {:?} and output[0] has a shape of {shape:?}.",
                    gradient.shape()
                );
                gradient
            }
            None => {
                let data = self.node.read();
                assert!(data.len() == 1, "grad can be implicitly created only for scalar outputs");
                ArrayD::from_elem(data.raw_dim(), E::one())
            }
        };
        run_backward(self, seed, retain_graph);
    }
}

fn run_backward<E: Element>(root: &TensorBase<E>, seed: ArrayD<E>, retain_graph: bool) {
    if root.is_leaf() {
        accumulate(&root.node, &root.node.grad, seed, "backward");
        return;
    }
    let order = topological_order(root);
    *lock(&root.node.pending) = Some(seed);
    // Each tensor is let go once its gradient has been passed on: an
    // intermediate nobody else holds is freed (its storage returns to the
    // pool) during the pass rather than after it.
    for tensor in order.into_iter().rev() {
        let node = &tensor.node;
        let name = node.grad_fn_name.expect("only non-leaves are ordered");
        let Some(grad) = lock(&node.pending).take() else {
            continue;
        };
        if node.retains_grad.load(Ordering::Relaxed) {
            accumulate(node, &node.grad, grad.clone(), name);
        }
        let Some(grad_fn) = lock(&node.grad_fn).take() else {
            panic!(
                "Trying to backward through the graph a second time (or directly access saved \
                 tensors after they have already been freed). Saved intermediate values of the \
                 graph are freed when you call .backward(). Specify retain_graph=True if you need \
                 to backward through the graph a second time."
            );
        };
        let grads = grad_fn.call(node, name, grad);
        for ((input, _), grad) in grad_fn.inputs.iter().zip(grads) {
            let Some(grad) = grad else { continue };
            if !input.requires_grad() {
                continue;
            }
            let target = if input.is_leaf() { &input.node.grad } else { &input.node.pending };
            accumulate(&input.node, target, grad, name);
        }
        if retain_graph {
            *lock(&node.grad_fn) = Some(grad_fn);
        }
    }
}

/// The non-leaf tensors reachable from `root` through tensors that require
/// grad, each after all of its inputs (post-order), found without recursion.
fn topological_order<E: Element>(root: &TensorBase<E>) -> Vec<TensorBase<E>> {
    let pass = PASS.fetch_add(1, Ordering::Relaxed);
    let mut order = Vec::with_capacity(16);
    let mut stack = Vec::with_capacity(16);
    stack.push((root.clone(), false));
    while let Some((tensor, inputs_done)) = stack.pop() {
        if inputs_done {
            order.push(tensor);
            continue;
        }
        if tensor.node.visited_in.swap(pass, Ordering::Relaxed) == pass {
            continue;
        }
        let node = Arc::clone(&tensor.node);
        stack.push((tensor, true));
        if let Some(grad_fn) = lock(&node.grad_fn).as_ref() {
            let inputs = grad_fn.inputs.iter().map(|(input, _)| input);
            stack.extend(
                inputs
                    .filter(|input| !input.is_leaf() && input.requires_grad())
                    .map(|input| (input.clone(), false)),
            );
        }
    }
    order
}

/// Adds `grad` into `slot`, moving it in when the slot is empty.
fn accumulate<E: Element>(
    node: &Node<E>,
    slot: &std::sync::Mutex<Option<ArrayD<E>>>,
    grad: ArrayD<E>,
    name: &str,
) {
    {
        let data = node.read();
        assert!(
            grad.shape() == data.shape(),
            "{name} returned a gradient of shape {:?} for an input of shape {:?}",
            grad.shape(),
            data.shape()
        );
    }
    let mut slot = lock(slot);
    match slot.as_mut() {
        Some(existing) => {
            *existing += &grad;
            drop(slot);
            pool::recycle(grad);
        }
        None => *slot = Some(grad),
    }
}
