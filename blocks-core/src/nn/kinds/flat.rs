//! `Flat<E>`: what `Flatten` gives. Its feature count is known only at run
//! time, so a `Linear` after it checks its width when it runs; it is no
//! longer images, so a `Conv2d` after it is a compile error naming both.

use std::fmt;
use std::ops::Deref;

use crate::{Element, TensorBase};

/// A flattened tensor, what [`Flatten`](crate::nn::Flatten) gives (`[N, C·H·W]`
/// by default): taken by a `Linear` (its width checked at run time), a
/// layer taking a plain `Tensor`, and a width-keeping layer (which gives a
/// `Flat` back); not by a `Conv2d`, which takes `Images<C>` (a compile
/// error on the block after the `Flatten`). Read it as the tensor inside
/// (it derefs to one).
///
/// ```
/// use blocks_core::nn::{Flat, Flatten, Images};
/// use blocks_core::Tensor;
/// let flat: Flat = Flatten::default().forward(&Images::<2>::new(Tensor::ones([3, 2, 4, 4])));
/// assert_eq!(flat.shape(), vec![3, 32]);
/// let plain: Tensor = flat.into();
/// assert_eq!(plain.numel(), 96);
/// ```
pub struct Flat<E: Element = f32> {
    tensor: TensorBase<E>,
}

impl<E: Element> Flat<E> {
    /// `tensor` as a flattened tensor (any shape: what a `Flatten` with any
    /// `start_dim` and `end_dim` gives).
    ///
    /// ```
    /// let flat = blocks_core::nn::Flat::new(blocks_core::Tensor::ones([2, 6]));
    /// assert_eq!(flat.shape(), vec![2, 6]);
    /// ```
    pub fn new(tensor: TensorBase<E>) -> Self {
        Flat { tensor }
    }

    /// The tensor inside.
    ///
    /// ```
    /// let flat = blocks_core::nn::Flat::new(blocks_core::Tensor::ones([2, 6]));
    /// assert_eq!(flat.into_tensor().shape(), vec![2, 6]);
    /// ```
    pub fn into_tensor(self) -> TensorBase<E> {
        self.tensor
    }
}

impl<E: Element> Clone for Flat<E> {
    fn clone(&self) -> Self {
        Flat { tensor: self.tensor.clone() }
    }
}

impl<E: Element> Deref for Flat<E> {
    type Target = TensorBase<E>;

    fn deref(&self) -> &TensorBase<E> {
        &self.tensor
    }
}

impl<E: Element> From<Flat<E>> for TensorBase<E> {
    fn from(flat: Flat<E>) -> TensorBase<E> {
        flat.tensor
    }
}

/// A plain tensor's handle as `Flat`.
impl<E: Element> From<TensorBase<E>> for Flat<E> {
    fn from(tensor: TensorBase<E>) -> Flat<E> {
        Flat { tensor }
    }
}

/// Prints as the tensor does (PyTorch's layout).
impl<E: Element> fmt::Display for Flat<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.tensor, f)
    }
}

impl<E: Element> fmt::Debug for Flat<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.tensor, f)
    }
}
