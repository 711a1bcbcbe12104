//! The backward pass: one walk of the graph in reverse topological order.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use ndarray::{ArrayD, Dimension};

use super::grad_hooks;
use super::node::{GradFn, check_grad_shape};
use super::pool;
use super::storage::lock;
use crate::{Element, TensorBase};

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
    #[track_caller]
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
    #[track_caller]
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
    #[track_caller]
    pub fn backward_with_options(&self, gradient: Option<&TensorBase<E>>, retain_graph: bool) {
        assert!(
            self.requires_grad(),
            "element 0 of tensors does not require grad and does not have a grad_fn"
        );
        let seed = match gradient {
            Some(gradient) => {
                let gradient = gradient.to_array();
                let shape = self.shape();
                assert!(
                    gradient.shape() == shape.as_slice(),
                    "backward: Mismatch in shape: grad_output[0] has a shape of {:?} and output[0] has a shape of {shape:?}.",
                    gradient.shape()
                );
                gradient
            }
            None => {
                let shape = self.node.storage.read(|data| data.raw_dim());
                assert!(shape.size() == 1, "grad can be implicitly created only for scalar outputs");
                ArrayD::from_elem(shape, E::one())
            }
        };
        run_backward(self, seed, retain_graph, None);
    }

    /// `backward()` that calls `ready(leaf)` as soon as each leaf's gradient
    /// of this pass is complete and added into its `.grad()` (after its
    /// hooks), while the tensors nearer the inputs are still being worked
    /// on: what PyTorch's post-accumulate-grad hooks see, and what its DDP
    /// reducer starts a bucket's all-reduce from. Every leaf that requires
    /// grad and that the graph reaches is reported once, after the last op
    /// that uses it (even if that op gave it no gradient); a leaf outside
    /// the graph is not.
    #[track_caller]
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))] // used by distributed (and the tests)
    pub(crate) fn backward_reporting(&self, ready: &mut dyn FnMut(&TensorBase<E>)) {
        assert!(
            self.requires_grad(),
            "element 0 of tensors does not require grad and does not have a grad_fn"
        );
        let shape = self.node.storage.read(|data| data.raw_dim());
        assert!(shape.size() == 1, "grad can be implicitly created only for scalar outputs");
        run_backward(self, ArrayD::from_elem(shape, E::one()), false, Some(ready));
    }
}

/// What [`TensorBase::backward_reporting`] calls with each complete leaf.
type Ready<'r, E> = &'r mut dyn FnMut(&TensorBase<E>);

/// For [`TensorBase::backward_reporting`]: how many edges of the pass still
/// lead into each leaf (by node address); a leaf is complete at zero.
struct LeafEdges<'r, E: Element> {
    remaining: HashMap<usize, usize, BuildHasherDefault<AddressHasher>>,
    ready: Ready<'r, E>,
}

impl<E: Element> LeafEdges<'_, E> {
    /// Counts the edges from the ordered steps into leaves that require grad.
    fn count(&mut self, order: &[Step<E>]) {
        for step in order {
            for (input, _) in step.grad_fn.iter().flat_map(|grad_fn| grad_fn.inputs.iter()) {
                if input.is_leaf() && input.requires_grad() {
                    *self.remaining.entry(address(input)).or_insert(0) += 1;
                }
            }
        }
    }
}

#[track_caller]
fn run_backward<E: Element>(
    root: &TensorBase<E>,
    seed: ArrayD<E>,
    retain_graph: bool,
    ready: Option<Ready<'_, E>>,
) {
    if root.is_leaf() {
        let seed = if grad_hooks::has_hooks(&root.node) { grad_hooks::apply(&root.node, seed) } else { seed };
        root.node.accumulate_grad(seed, "backward");
        if let Some(ready) = ready {
            ready(root);
        }
        return;
    }
    // Leaves with gradient hooks: their gradient summed over the pass, for
    // the hooks to see once (PyTorch's AccumulateGrad gets one sum per pass).
    let mut hooked_leaves: Vec<(TensorBase<E>, ArrayD<E>, &'static str)> = Vec::new();
    let mut pass = Pass::walk(root, retain_graph);
    let mut leaf_edges = ready.map(|ready| LeafEdges { remaining: HashMap::default(), ready });
    if let Some(edges) = &mut leaf_edges {
        edges.count(&pass.order);
    }
    let root_index = pass.order.len() - 1;
    pass.pending[root_index] = Some(seed);
    // Each tensor is let go once its gradient has been passed on: an
    // intermediate nobody else holds is freed (its storage returns to the
    // pool) during the pass rather than after it.
    while let Some(step) = pass.order.last() {
        let index = pass.order.len() - 1;
        if let Some(grad) = pass.pending[index].take() {
            let node = &step.tensor.node;
            let name = node.grad_fn_name.expect("only non-leaves are ordered");
            let grad = if grad_hooks::has_hooks(node) { grad_hooks::apply(node, grad) } else { grad };
            if node.retains_grad.load(Ordering::Relaxed) {
                node.accumulate_grad(grad.clone(), name);
            }
            let Some(grad_fn) = &step.grad_fn else {
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
                if input.is_leaf() && grad_hooks::has_hooks(&input.node) {
                    check_grad_shape(&input.node, &grad, name);
                    match hooked_leaves.iter_mut().find(|(leaf, _, _)| leaf.same(input)) {
                        Some((_, sum, _)) => *sum += &grad,
                        None => hooked_leaves.push((input.clone(), grad, name)),
                    }
                } else if input.is_leaf() {
                    input.node.accumulate_grad(grad, name);
                } else {
                    check_grad_shape(&input.node, &grad, name);
                    let slot = &mut pass.pending[pass.index[&address(input)]];
                    match slot {
                        Some(existing) => {
                            *existing += &grad;
                            pool::recycle(grad);
                        }
                        None => *slot = Some(grad),
                    }
                }
            }
        }
        if let Some(edges) = &mut leaf_edges {
            report_complete_leaves(edges, pass.order.last().expect("the current step"), &mut hooked_leaves);
        }
        pass.order.pop();
    }
    for (leaf, grad, name) in hooked_leaves {
        let grad = grad_hooks::apply(&leaf.node, grad);
        leaf.node.accumulate_grad(grad, name);
    }
}

/// After a step: the leaves whose last edge it was are complete; a hooked
/// one gets its hooks and its `.grad()` now, and each is reported.
fn report_complete_leaves<E: Element>(
    edges: &mut LeafEdges<'_, E>,
    step: &Step<E>,
    hooked_leaves: &mut Vec<(TensorBase<E>, ArrayD<E>, &'static str)>,
) {
    let Some(grad_fn) = &step.grad_fn else { return };
    for (input, _) in &grad_fn.inputs {
        if !(input.is_leaf() && input.requires_grad()) {
            continue;
        }
        let Some(remaining) = edges.remaining.get_mut(&address(input)) else { continue };
        *remaining -= 1;
        if *remaining > 0 {
            continue;
        }
        if let Some(at) = hooked_leaves.iter().position(|(leaf, _, _)| leaf.same(input)) {
            let (leaf, grad, name) = hooked_leaves.swap_remove(at);
            let grad = grad_hooks::apply(&leaf.node, grad);
            leaf.node.accumulate_grad(grad, name);
        }
        (edges.ready)(input);
    }
}

/// One step of a pass: a non-leaf tensor and the record of the op that made
/// it (`None` if an earlier pass freed it).
struct Step<E: Element> {
    tensor: TensorBase<E>,
    grad_fn: Option<Arc<GradFn<E>>>,
}

/// The bookkeeping of one backward pass, kept here rather than on the shared
/// nodes (as candle's `GradStore` does), so that passes through one graph from
/// several threads do not see each other's partial sums.
struct Pass<E: Element> {
    /// The non-leaf tensors reachable from the root through tensors that
    /// require grad, each after all of its inputs (post-order); walked from
    /// the end.
    order: Vec<Step<E>>,
    /// Where each tensor of `order` is, by the address of its node
    /// ([`NOT_YET`] while its inputs are being ordered).
    index: HashMap<usize, usize, BuildHasherDefault<AddressHasher>>,
    /// The gradient collected so far for each tensor of `order`.
    pending: Vec<Option<ArrayD<E>>>,
    /// Whether this pass took the `grad_fn`s out of the nodes (no `retain_graph`).
    frees: bool,
}

fn address<E: Element>(tensor: &TensorBase<E>) -> usize {
    Arc::as_ptr(&tensor.node) as usize
}

/// The index of a tensor seen by the walk but not yet placed in the order.
const NOT_YET: usize = usize::MAX;

/// Hashes node addresses (distinct, aligned `usize`s) with one multiplication
/// (Fibonacci hashing) instead of SipHash: a pass hashes every edge of the graph.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, address: usize) {
        self.0 = (address as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl<E: Element> Pass<E> {
    /// Orders the graph behind `root` without recursion. A freeing pass takes
    /// each `grad_fn` out of its node (so another pass gets PyTorch's error);
    /// a retaining one clones the `Arc`.
    fn walk(root: &TensorBase<E>, retain_graph: bool) -> Self {
        let mut pass = Pass {
            order: Vec::with_capacity(16),
            index: HashMap::default(),
            pending: Vec::new(),
            frees: !retain_graph,
        };
        let mut stack = Vec::with_capacity(16);
        stack.push((root.clone(), None));
        while let Some((tensor, done)) = stack.pop() {
            if let Some(grad_fn) = done {
                pass.index.insert(address(&tensor), pass.order.len());
                pass.order.push(Step { tensor, grad_fn });
                continue;
            }
            match pass.index.entry(address(&tensor)) {
                Entry::Occupied(_) => continue,
                Entry::Vacant(slot) => slot.insert(NOT_YET),
            };
            let grad_fn = {
                let mut slot = lock(&tensor.node.grad_fn);
                if retain_graph { slot.clone() } else { slot.take() }
            };
            if let Some(grad_fn) = &grad_fn {
                let inputs = grad_fn.inputs.iter().map(|(input, _)| input);
                let inputs = inputs.filter(|input| !input.is_leaf() && input.requires_grad());
                stack.push((tensor, Some(Some(Arc::clone(grad_fn)))));
                stack.extend(inputs.map(|input| (input.clone(), None)));
            } else {
                stack.push((tensor, Some(None)));
            }
        }
        pass.pending = (0..pass.order.len()).map(|_| None).collect();
        pass
    }
}

impl<E: Element> Drop for Pass<E> {
    /// A freeing pass that stops early (a panic in a backward closure) puts
    /// back the `grad_fn`s it took and did not use, so the graph is not left
    /// half freed. A finished pass has nothing left.
    fn drop(&mut self) {
        if !self.frees {
            return;
        }
        for step in self.order.drain(..) {
            if let Some(grad_fn) = step.grad_fn {
                *lock(&step.tensor.node.grad_fn) = Some(grad_fn);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Tensor;

    #[test]
    fn leaves_are_reported_as_soon_as_their_gradient_is_complete() {
        // y = sum(relu(x·w1ᵀ)·w2ᵀ) + 0·(w1 sum): w2's gradient is complete
        // before w1's, which a second use keeps open until the end.
        let x = Tensor::from_vec(vec![1.0, 2.0, -1.0, 0.5], [2, 2]);
        let w1 = Tensor::from_vec(vec![0.5, -0.25, 1.0, 0.75], [2, 2]).requires_grad_(true);
        let w2 = Tensor::from_vec(vec![2.0, -1.0], [1, 2]).requires_grad_(true);
        let _hook = w2.register_hook(|g| Some(g * 2.0));
        let y = x.matmul(&w1.t()).relu().matmul(&w2.t()).sum() + w1.sum() * 0.0;
        let (expected_w1, expected_w2) = {
            let (a, b) = (w1.detach().requires_grad_(true), w2.detach().requires_grad_(true));
            let _hook = b.register_hook(|g| Some(g * 2.0));
            (x.matmul(&a.t()).relu().matmul(&b.t()).sum() + a.sum() * 0.0).backward();
            (a.grad().unwrap().to_vec(), b.grad().unwrap().to_vec())
        };
        let mut seen = Vec::new();
        y.backward_reporting(&mut |leaf| {
            // Reported with its complete gradient (after its hooks) in `.grad()`.
            let grad = leaf.grad().expect("a gradient").to_vec();
            seen.push(if leaf.same(&w1) { ("w1", grad) } else { ("w2", grad) });
        });
        assert_eq!(seen, vec![("w2", expected_w2), ("w1", expected_w1)]);
        let lone = Tensor::ones([1]).requires_grad_(true);
        let mut count = 0;
        lone.sum().backward_reporting(&mut |_| count += 1);
        assert_eq!(count, 1);
    }
}
