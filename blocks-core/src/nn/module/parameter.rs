//! `Parameter`: a trainable tensor registered with its block, like `nn.Parameter`.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use crate::nn::uninitialized::Pending;
use crate::{Element, TensorBase};

/// A trainable tensor: a leaf that requires grad, registered with the block
/// that holds it, like `torch.nn.Parameter`.
///
/// It dereferences to its [`Tensor`](crate::Tensor), so it joins computations directly and
/// every result records its gradient. There is no `.data` tensor to compute
/// with by accident (the mistake that silently trains nothing in PyTorch);
/// values are changed outside the graph only through [`data_mut`](TensorBase::data_mut) or
/// [`set_data`](TensorBase::set_data). Cloning shares the tensor (a tied weight).
///
/// A lazy layer's parameters start uninitialized (PyTorch's
/// `UninitializedParameter`, see [`Parameter::uninitialized`]) until its first
/// forward or a checkpoint gives them a shape.
///
/// The element type is `f32` unless said otherwise: `Parameter<f64>` is the
/// parameter of a model converted with [`to_f64`](crate::nn::ToElement::to_f64)
/// (PyTorch's `net.double()`).
///
/// ```
/// use blocks_core::{nn::Parameter, Tensor};
/// let w = Parameter::new(Tensor::ones([2]));
/// assert!(w.requires_grad() && w.is_leaf());
/// let y = (&*w * 3.0).sum();
/// y.backward();
/// assert_eq!(w.grad().unwrap().to_vec(), vec![3.0, 3.0]);
/// ```
pub struct Parameter<E: Element = f32> {
    pub(super) tensor: TensorBase<E>,
    /// For a parameter made uninitialized: what is known of its shape, and
    /// whether it has been materialized since. `None`: initialized from the start.
    pub(super) pending: Option<Arc<Pending>>,
}

impl<E: Element> Parameter<E> {
    /// Registers `tensor`'s values as a trainable leaf (a non-leaf is detached first).
    ///
    /// ```
    /// let p = blocks_core::nn::Parameter::new(blocks_core::Tensor::zeros([3]));
    /// assert_eq!(p.shape(), vec![3]);
    /// ```
    pub fn new(tensor: TensorBase<E>) -> Self {
        let tensor = if tensor.is_leaf() { tensor } else { tensor.detach() };
        tensor.set_requires_grad(true);
        Parameter { tensor, pending: None }
    }

    /// The underlying tensor handle (shared, not copied).
    ///
    /// ```
    /// let p = blocks_core::nn::Parameter::new(blocks_core::Tensor::zeros([1]));
    /// assert!(p.tensor().same(&p));
    /// ```
    pub fn tensor(&self) -> &TensorBase<E> {
        &self.tensor
    }
}

impl<E: Element> Clone for Parameter<E> {
    /// Shares the tensor (a tied weight) and its lazy-initialization state;
    /// [`deep_copy`](crate::nn::DeepCopy::deep_copy) copies.
    fn clone(&self) -> Self {
        Parameter { tensor: self.tensor.clone(), pending: self.pending.clone() }
    }
}

impl<E: Element> Deref for Parameter<E> {
    type Target = TensorBase<E>;

    fn deref(&self) -> &TensorBase<E> {
        &self.tensor
    }
}

impl<E: Element> AsRef<TensorBase<E>> for Parameter<E> {
    fn as_ref(&self) -> &TensorBase<E> {
        &self.tensor
    }
}

/// PyTorch's printout: `Parameter containing:` and the tensor, or
/// `<UninitializedParameter>`.
///
/// ```
/// use blocks_core::{nn::Parameter, Tensor};
/// let p = Parameter::new(Tensor::from_vec(vec![-0.3457], [1]));
/// assert_eq!(p.to_string(), "Parameter containing:\ntensor([-0.3457], requires_grad=True)");
/// ```
impl<E: Element> fmt::Display for Parameter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_initialized() {
            return f.write_str("<UninitializedParameter>");
        }
        f.write_str(&self.tensor.parameter_repr())
    }
}

impl<E: Element> fmt::Debug for Parameter<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
