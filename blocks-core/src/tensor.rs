//! The tensor handle: creation, reading back, and its autograd state.

use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};

use crate::autograd::node::Node;
use crate::autograd::storage::{DataMut, Snapshot, Storage};
use crate::error::or_panic;
use crate::numel::checked_numel;
use crate::{Element, with_rng};

/// `shape` as an ndarray shape, panicking (at the caller's line) with a
/// message naming `op` when its number of elements overflows.
#[track_caller]
fn checked_shape<E: Element>(op: &str, shape: &[usize]) -> IxDyn {
    or_panic(checked_numel::<E>(op, shape));
    IxDyn(shape)
}

/// An n-dimensional array with define-by-run reverse-mode autograd.
///
/// A tensor is a cheap handle: `clone` shares the data and the autograd state,
/// like a Python reference to a `torch.Tensor`. It is `Send + Sync`, so a model
/// can serve several threads. Use the aliases [`Tensor`] (float32, the
/// default) and [`Tensor64`] (float64).
///
/// ```
/// use blocks_core::Tensor;
/// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]).requires_grad_(true);
/// let y = (&x * &x).sum();
/// y.backward();
/// assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 4.0, 6.0]);
/// ```
pub struct TensorBase<E: Element> {
    pub(crate) node: Arc<Node<E>>,
}

/// A float32 tensor, PyTorch's default dtype.
///
/// ```
/// let x = blocks_core::Tensor::zeros([2, 3]);
/// assert_eq!(x.shape(), vec![2, 3]);
/// ```
pub type Tensor = TensorBase<f32>;

/// A float64 tensor (`torch.float64`), as used by gradcheck.
///
/// ```
/// let x = blocks_core::Tensor64::ones([2]);
/// assert_eq!(x.to_vec(), vec![1.0f64, 1.0]);
/// ```
pub type Tensor64 = TensorBase<f64>;

impl<E: Element> Clone for TensorBase<E> {
    /// Another handle to the same tensor (shared values and gradient;
    /// [`deep_copy`](crate::nn::DeepCopy::deep_copy) copies).
    fn clone(&self) -> Self {
        TensorBase { node: Arc::clone(&self.node) }
    }
}

impl<E: Element> TensorBase<E> {
    pub(crate) fn from_node(node: Node<E>) -> Self {
        TensorBase { node: Arc::new(node) }
    }

    /// A tensor that owns `array` (no copy).
    ///
    /// ```
    /// let t = blocks_core::Tensor::from_array(ndarray::arr2(&[[1.0f32, 2.0]]).into_dyn());
    /// assert_eq!(t.shape(), vec![1, 2]);
    /// ```
    pub fn from_array(array: ArrayD<E>) -> Self {
        TensorBase::from_node(Node::leaf(array, false))
    }

    /// A tensor with `shape` holding `values` in row-major order.
    ///
    /// Panics if the number of values does not match the shape; see
    /// [`try_from_vec`](Self::try_from_vec) for data that comes from users.
    ///
    /// ```
    /// let t = blocks_core::Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    /// assert_eq!(t.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn from_vec(values: Vec<E>, shape: impl AsRef<[usize]>) -> Self {
        match Self::try_from_vec(values, shape) {
            Ok(tensor) => tensor,
            Err(error) => panic!("{error}"),
        }
    }

    /// Like [`from_vec`](Self::from_vec), returning an error on a size mismatch.
    ///
    /// # Errors
    ///
    /// If the number of values is not the product of the shape, or that
    /// product overflows.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// assert!(Tensor::try_from_vec(vec![1.0; 5], [2, 3]).is_err());
    /// assert!(Tensor::try_from_vec(vec![], [1 << 32, 1 << 32]).is_err());
    /// ```
    pub fn try_from_vec(values: Vec<E>, shape: impl AsRef<[usize]>) -> Result<Self, crate::ShapeError> {
        let shape = shape.as_ref();
        let expected = checked_numel::<E>("from_vec", shape)?;
        if expected != values.len() {
            return Err(crate::ShapeError::new(format!(
                "from_vec: {} values cannot fill shape {shape:?} ({expected} elements)",
                values.len()
            )));
        }
        let array = ArrayD::from_shape_vec(IxDyn(shape), values).expect("length checked above");
        Ok(Self::from_array(array))
    }

    /// A tensor copied from a slice, with `shape`.
    ///
    /// ```
    /// let t = blocks_core::Tensor::from_slice(&[1.0, 2.0], [2, 1]);
    /// assert_eq!(t.shape(), vec![2, 1]);
    /// ```
    #[track_caller]
    pub fn from_slice(values: &[E], shape: impl AsRef<[usize]>) -> Self {
        Self::from_vec(values.to_vec(), shape)
    }

    /// A zero-dimensional tensor holding `value`, like `torch.tensor(3.0)`.
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::scalar(3.0).item(), 3.0);
    /// ```
    pub fn scalar(value: E) -> Self {
        Self::from_array(ArrayD::from_elem(IxDyn(&[]), value))
    }

    /// A tensor of zeros, like `torch.zeros`.
    ///
    /// # Panics
    ///
    /// If the number of elements of `shape` overflows (as for `ones`, `full`,
    /// `rand` and `randn`).
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::zeros([2]).to_vec(), vec![0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn zeros(shape: impl AsRef<[usize]>) -> Self {
        Self::filled("zeros", shape.as_ref(), E::zero())
    }

    /// A tensor of ones, like `torch.ones`.
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::ones([2]).to_vec(), vec![1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn ones(shape: impl AsRef<[usize]>) -> Self {
        Self::filled("ones", shape.as_ref(), E::one())
    }

    /// A tensor filled with `value`, like `torch.full`.
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::full([2], 7.0).to_vec(), vec![7.0, 7.0]);
    /// ```
    #[track_caller]
    pub fn full(shape: impl AsRef<[usize]>, value: E) -> Self {
        Self::filled("full", shape.as_ref(), value)
    }

    #[track_caller]
    fn filled(op: &str, shape: &[usize], value: E) -> Self {
        Self::from_array(ArrayD::from_elem(checked_shape::<E>(op, shape), value))
    }

    /// A tensor of zeros with the shape of `self`, like `torch.zeros_like`.
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([2, 2]);
    /// assert_eq!(x.zeros_like().to_vec(), vec![0.0; 4]);
    /// ```
    #[track_caller]
    pub fn zeros_like(&self) -> Self {
        Self::zeros(self.shape())
    }

    /// The values `start, start + step, ...` below `end`, like `torch.arange(start, end, step)`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// assert_eq!(Tensor::arange(0.0, 4.0, 1.0).to_vec(), vec![0.0, 1.0, 2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn arange(start: E, end: E, step: E) -> Self {
        assert!(step != E::zero(), "arange: step must be nonzero");
        let steps = ((end - start) / step).ceil();
        assert!(steps.is_finite(), "arange: unsupported range: {start} -> {end} by {step}");
        let count = if steps <= E::zero() { 0 } else { steps.to_usize().unwrap_or(usize::MAX) };
        let count = checked_shape::<E>("arange", &[count])[0];
        let values = (0..count).map(|i| start + E::from_usize(i).expect("index fits") * step).collect();
        Self::from_vec(values, [count])
    }

    /// The `n`×`n` identity matrix, like `torch.eye`.
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::eye(2).to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn eye(n: usize) -> Self {
        checked_shape::<E>("eye", &[n, n]);
        Self::from_array(ndarray::Array2::eye(n).into_dyn())
    }

    /// Uniform values in `[0, 1)` from this thread's generator, like `torch.rand`.
    ///
    /// ```
    /// blocks_core::manual_seed(0);
    /// let x = blocks_core::Tensor::rand([2, 20]);
    /// assert!(x.to_vec().iter().all(|v| (0.0..1.0).contains(v)));
    /// ```
    #[track_caller]
    pub fn rand(shape: impl AsRef<[usize]>) -> Self {
        let shape = checked_shape::<E>("rand", shape.as_ref());
        let array = with_rng(|rng| ArrayD::from_shape_simple_fn(shape, || E::sample_unit(rng)));
        Self::from_array(array)
    }

    /// Standard normal values from this thread's generator, like `torch.randn`.
    ///
    /// ```
    /// let x = blocks_core::Tensor::randn([1000]);
    /// assert!(x.mean().item().abs() < 0.2);
    /// ```
    #[track_caller]
    pub fn randn(shape: impl AsRef<[usize]>) -> Self {
        let shape = checked_shape::<E>("randn", shape.as_ref());
        let array = with_rng(|rng| ArrayD::from_shape_simple_fn(shape, || E::sample_normal(rng)));
        Self::from_array(array)
    }

    /// The shape, like `x.shape`.
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::zeros([2, 3]).shape(), vec![2, 3]);
    /// ```
    pub fn shape(&self) -> Vec<usize> {
        self.node.storage.read(|data| data.shape().to_vec())
    }

    /// The size of the last dimension (`None` for a 0-d tensor), read without
    /// allocating: the width check every layer makes on each forward.
    pub(crate) fn last_dim(&self) -> Option<usize> {
        self.node.storage.read(|data| data.shape().last().copied())
    }

    /// The number of dimensions, like `x.dim()`.
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::zeros([2, 3]).ndim(), 2);
    /// ```
    pub fn ndim(&self) -> usize {
        self.node.storage.read(|data| data.ndim())
    }

    /// The number of elements, like `x.numel()`.
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::zeros([2, 3]).numel(), 6);
    /// ```
    pub fn numel(&self) -> usize {
        self.node.storage.read(|data| data.len())
    }

    /// The value of a one-element tensor, like `x.item()`.
    ///
    /// Panics if the tensor has more than one element.
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::full([1, 1], 2.5).item(), 2.5);
    /// ```
    #[track_caller]
    pub fn item(&self) -> E {
        let (len, first) = self.node.storage.read(|data| (data.len(), data.iter().next().copied()));
        match first {
            Some(value) if len == 1 => value,
            _ => panic!("item: a Tensor with {len} elements cannot be converted to Scalar"),
        }
    }

    /// The values in row-major order, like `x.flatten().tolist()`.
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::eye(2).to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
    /// ```
    pub fn to_vec(&self) -> Vec<E> {
        self.data().iter().copied().collect()
    }

    /// The values as an ndarray array: a [`Snapshot`] of them as they are
    /// now (no copy, no lock held; later writes to the tensor do not show in it).
    ///
    /// ```
    /// let x = blocks_core::Tensor::eye(2);
    /// assert_eq!(x.data()[[1, 1]], 1.0);
    /// ```
    pub fn data(&self) -> Snapshot<E> {
        self.node.storage.snapshot()
    }

    /// A copy of the values as an owned ndarray array.
    ///
    /// ```
    /// let a = blocks_core::Tensor::ones([2]).to_array();
    /// assert_eq!(a.sum(), 2.0);
    /// ```
    pub fn to_array(&self) -> ArrayD<E> {
        self.data().into_array()
    }

    /// Write access to the values, outside the graph, like assigning to `x.data`.
    ///
    /// Writes are not recorded. A value that a recorded operation saved for
    /// backward and that is changed here makes that backward panic, as in PyTorch.
    /// The guard works on a copy and holds no lock: the tensor shows the new
    /// values when it is dropped (see [`DataMut`]).
    ///
    /// ```
    /// let w = blocks_core::Tensor::zeros([2, 2]).requires_grad_(true);
    /// w.data_mut()[[0, 0]] = 42.0;
    /// assert_eq!(w.to_vec(), vec![42.0, 0.0, 0.0, 0.0]);
    /// ```
    pub fn data_mut(&self) -> DataMut<'_, E> {
        DataMut::new(&self.node.storage)
    }

    /// Updates the values in place under the tensor's short-held lock (see
    /// `autograd/storage.rs`), bumping the version. `f` must not touch any
    /// tensor: take snapshots of what it reads first.
    pub(crate) fn update_data<R>(&self, f: impl FnOnce(&mut ArrayD<E>) -> R) -> R {
        self.node.storage.update(f)
    }

    /// Replaces the values with `values` (same shape), outside the graph.
    ///
    /// The two tensors then share storage until either is written to
    /// (copy-on-write), so this copies nothing.
    ///
    /// # Panics
    ///
    /// If the shapes differ.
    ///
    /// ```
    /// let w = blocks_core::Tensor::zeros([2]);
    /// w.set_data(&blocks_core::Tensor::ones([2]));
    /// assert_eq!(w.to_vec(), vec![1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn set_data(&self, values: &TensorBase<E>) {
        if Arc::ptr_eq(&self.node, &values.node) {
            return;
        }
        let source = values.data();
        let target = self.shape();
        if target != source.shape() {
            panic!(
                "set_data: cannot copy a tensor of shape {:?} into one of shape {target:?}",
                source.shape()
            );
        }
        let source = if source.is_standard_layout() { source.0 } else { Arc::new(source.into_array()) };
        self.node.storage.replace(source);
    }

    /// Whether gradients flow to this tensor.
    ///
    /// ```
    /// assert!(!blocks_core::Tensor::zeros([1]).requires_grad());
    /// ```
    pub fn requires_grad(&self) -> bool {
        self.node.requires_grad.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sets whether this leaf wants a gradient, like `x.requires_grad_()`; returns the handle.
    ///
    /// Panics when asked to turn it off on a non-leaf, as PyTorch does.
    ///
    /// ```
    /// let x = blocks_core::Tensor::zeros([1]).requires_grad_(true);
    /// assert!(x.requires_grad());
    /// ```
    pub fn requires_grad_(self, requires_grad: bool) -> Self {
        self.set_requires_grad(requires_grad);
        self
    }

    /// Like [`requires_grad_`](Self::requires_grad_), through a shared handle.
    ///
    /// ```
    /// let x = blocks_core::Tensor::zeros([1]);
    /// x.set_requires_grad(true);
    /// assert!(x.requires_grad());
    /// ```
    #[track_caller]
    pub fn set_requires_grad(&self, requires_grad: bool) {
        if !self.is_leaf() && !requires_grad {
            panic!(
                "you can only change requires_grad flags of leaf variables. If you want to use a \
                 computed variable in a subgraph that doesn't require differentiation use \
                 var_no_grad = var.detach()."
            );
        }
        self.node.requires_grad.store(requires_grad, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether this tensor was created by the user rather than by a recorded operation.
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([1]).requires_grad_(true);
    /// assert!(x.is_leaf());
    /// assert!(!(&x * 2.0).is_leaf());
    /// ```
    pub fn is_leaf(&self) -> bool {
        self.node.is_leaf()
    }

    /// PyTorch's name of the operation that made this tensor, like `x.grad_fn`.
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([2]).requires_grad_(true);
    /// assert_eq!(x.sum().grad_fn(), Some("SumBackward0"));
    /// assert_eq!(x.grad_fn(), None);
    /// ```
    pub fn grad_fn(&self) -> Option<&'static str> {
        self.node.grad_fn_name
    }

    /// The accumulated gradient, like `x.grad` (`None` before the first backward).
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([2]).requires_grad_(true);
    /// assert!(x.grad().is_none());
    /// x.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn grad(&self) -> Option<TensorBase<E>> {
        self.node.grad().map(|grad| TensorBase::from_node(Node::with_storage(Storage::shared(grad), false)))
    }

    /// Runs `f` on the accumulated gradient without copying it.
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([2]).requires_grad_(true);
    /// x.sum().backward();
    /// assert_eq!(x.with_grad(|g| g.map(|g| g.sum())), Some(2.0));
    /// ```
    pub fn with_grad<T>(&self, f: impl FnOnce(Option<&ArrayD<E>>) -> T) -> T {
        let grad = self.node.grad();
        f(grad.as_deref())
    }

    /// Runs `f` on the gradient slot itself, to write the gradient in place
    /// or to set it (`x.grad = g` in PyTorch), as a gradient all-reduce does.
    /// A gradient set here must have the tensor's shape.
    ///
    /// `f` runs with no lock held: the gradient is taken out of its slot (no
    /// copy unless a `grad()` handle still shares it), given to `f`, and put
    /// back, so `f` may touch this or any other tensor. A gradient that a
    /// concurrent backward adds in the meantime is replaced by what `f`
    /// leaves, as an assignment to `x.grad` in another thread would be.
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([2]).requires_grad_(true);
    /// x.with_grad_mut(|g| *g = Some(ndarray::arr1(&[0.5f32, 2.0]).into_dyn()));
    /// x.with_grad_mut(|g| g.as_mut().unwrap().mapv_inplace(|v| v * 2.0));
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 4.0]);
    /// ```
    pub fn with_grad_mut<T>(&self, f: impl FnOnce(&mut Option<ArrayD<E>>) -> T) -> T {
        let mut slot = self
            .node
            .take_grad()
            .map(|grad| Arc::try_unwrap(grad).unwrap_or_else(|shared| (*shared).clone()));
        let result = f(&mut slot);
        if let Some(grad) = &slot {
            crate::autograd::node::check_grad_shape(&self.node, grad, "with_grad_mut");
        }
        self.node.set_grad(slot.map(Arc::new));
        result
    }

    /// Sets the gradient to `None`, like `x.grad = None` (what `zero_grad` does).
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([2]).requires_grad_(true);
    /// x.sum().backward();
    /// x.zero_grad();
    /// assert!(x.grad().is_none());
    /// ```
    pub fn zero_grad(&self) {
        if let Some(grad) = self.node.take_grad().and_then(Arc::into_inner) {
            crate::autograd::pool::recycle(grad);
        }
    }

    /// Keeps the gradient of this non-leaf after backward, like `x.retain_grad()`.
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([2]).requires_grad_(true);
    /// let y = &x * 3.0;
    /// y.retain_grad();
    /// y.sum().backward();
    /// assert_eq!(y.grad().unwrap().to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn retain_grad(&self) {
        self.node.retains_grad.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether this tensor keeps its gradient after backward, like PyTorch's
    /// `x.retains_grad`: true after [`retain_grad`](Self::retain_grad) on a
    /// non-leaf (leaves keep theirs anyway, and report false, as in PyTorch).
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([2]).requires_grad_(true);
    /// let y = &x * 3.0;
    /// assert!(!y.retains_grad());
    /// y.retain_grad();
    /// assert!(y.retains_grad() && !x.retains_grad());
    /// ```
    pub fn retains_grad(&self) -> bool {
        self.node.retains_grad.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A key for this tensor that every handle to it shares and no other live
    /// tensor has (the address of its node): for sets of tensors seen.
    pub(crate) fn identity(&self) -> usize {
        Arc::as_ptr(&self.node) as *const () as usize
    }

    /// Whether the tensor is the placeholder of a parameter without values
    /// (a lazy layer's, before its first forward).
    pub(crate) fn is_uninitialized(&self) -> bool {
        self.node.uninitialized.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Marks the tensor as a placeholder without values, or as having them.
    pub(crate) fn set_uninitialized(&self, uninitialized: bool) {
        self.node.uninitialized.store(uninitialized, std::sync::atomic::Ordering::Release);
    }

    /// A new leaf sharing nothing with the graph, like `x.detach()`.
    ///
    /// The two share storage until either is written to (copy-on-write), so
    /// later writes to either tensor do not show in the other.
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([2]).requires_grad_(true);
    /// let y = (&x * 2.0).detach();
    /// assert!(!y.requires_grad() && y.is_leaf());
    /// ```
    pub fn detach(&self) -> Self {
        TensorBase::from_node(Node::with_storage(Storage::shared(self.data().0), false))
    }

    /// Whether two handles refer to the same tensor (`a is b` in Python).
    ///
    /// ```
    /// let a = blocks_core::Tensor::ones([1]);
    /// assert!(a.same(&a.clone()));
    /// assert!(!a.same(&blocks_core::Tensor::ones([1])));
    /// ```
    pub fn same(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.node, &other.node)
    }

    /// Converts the element type, like `x.double()` or `x.float()` (a new leaf).
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([2]);
    /// let y: blocks_core::Tensor64 = x.cast();
    /// assert_eq!(y.to_vec(), vec![1.0f64, 1.0]);
    /// ```
    pub fn cast<T: Element>(&self) -> TensorBase<T> {
        TensorBase::from_array(self.data().mapv(|v| T::of(v.as_f64())))
    }
}
