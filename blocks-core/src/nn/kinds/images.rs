//! `Images<C>`: a batch of images (or 1-d signals) whose channel count is
//! part of its type, so that the compiler checks channels between blocks as
//! it checks widths with `Batch<N>`.

use std::fmt;
use std::ops::Deref;

use crate::{Element, TensorBase};

/// A tensor whose dimension 1 is `C` channels: `[N, C, H, W]` images, or
/// `[N, C, L]` signals for 1-d layers. Spatial sizes stay run-time values;
/// the channel count is checked once, when it is made.
///
/// It dereferences to [`Tensor`](crate::Tensor), so every tensor operation works on it
/// (and gives a plain tensor). Blocks that know their channels take and give
/// `Images`: feeding `Images<6>` to a block taking `Images<16>` is a compile
/// error on that block ("takes 16 input channels, but the block before it
/// gives 6"), and a plain `Tensor` fed to it is checked at run time, the
/// panic naming the block and where it sits in a `Sequential`.
///
/// ```
/// use blocks_core::nn::Images;
/// use blocks_core::Tensor;
/// let x = Images::<3>::new(Tensor::rand([2, 3, 28, 28]));
/// assert_eq!(x.shape(), vec![2, 3, 28, 28]);
/// assert!(Images::<3>::try_new(Tensor::rand([2, 1, 28, 28])).is_err());
/// ```
pub struct Images<const C: usize, E: Element = f32> {
    tensor: TensorBase<E>,
}

impl<const C: usize, E: Element> Images<C, E> {
    /// Wraps `tensor`, panicking unless it has 3 or more dimensions and
    /// dimension 1 is `C`.
    ///
    /// # Panics
    ///
    /// When `tensor` is not `[N, C, ...]` (see [`try_new`](Self::try_new)).
    ///
    /// ```
    /// let x = blocks_core::nn::Images::<1>::new(blocks_core::Tensor::ones([4, 1, 8, 8]));
    /// assert_eq!(x.channels(), 1);
    /// ```
    pub fn new(tensor: TensorBase<E>) -> Self {
        match Self::try_new(tensor) {
            Ok(images) => images,
            Err(error) => panic!("{error}"),
        }
    }

    /// Wraps `tensor` if it has 3 or more dimensions and dimension 1 is `C`.
    ///
    /// # Errors
    ///
    /// A [`ShapeError`](crate::ShapeError) naming `C` and the shape otherwise.
    ///
    /// ```
    /// use blocks_core::{nn::Images, Tensor};
    /// let error = Images::<16>::try_new(Tensor::ones([2, 6, 5, 5])).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "Images<16>: expected [N, 16, ...] (16 channels in dimension 1, 3 or more dimensions), got shape [2, 6, 5, 5]"
    /// );
    /// ```
    pub fn try_new(tensor: TensorBase<E>) -> Result<Self, crate::ShapeError> {
        if !Self::fits(&tensor) {
            return Err(crate::ShapeError::new(format!(
                "Images<{C}>: expected [N, {C}, ...] ({C} channels in dimension 1, 3 or more dimensions), got shape {:?}",
                tensor.shape()
            )));
        }
        Ok(Images { tensor })
    }

    /// Whether `tensor` is `[N, C, ...]` with 3 or more dimensions.
    pub(crate) fn fits(tensor: &TensorBase<E>) -> bool {
        let shape = tensor.shape();
        shape.len() >= 3 && shape[1] == C
    }

    /// Wraps a tensor already known to be `[N, C, ...]` (no check).
    pub(crate) fn trusted(tensor: TensorBase<E>) -> Self {
        Images { tensor }
    }

    /// The number of channels, `C`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Images::<3>::new(blocks_core::Tensor::ones([1, 3, 2, 2])).channels(), 3);
    /// ```
    pub fn channels(&self) -> usize {
        C
    }

    /// The plain tensor (a handle, not a copy).
    ///
    /// ```
    /// let x = blocks_core::nn::Images::<2>::new(blocks_core::Tensor::ones([1, 2, 3]));
    /// let t: blocks_core::Tensor = x.into_tensor();
    /// assert_eq!(t.shape(), vec![1, 2, 3]);
    /// ```
    pub fn into_tensor(self) -> TensorBase<E> {
        self.tensor
    }

    /// Applies a channel-preserving function to the tensor, keeping `C` in
    /// the type.
    ///
    /// # Panics
    ///
    /// When `f` gives a tensor that is not `[N, C, ...]`.
    ///
    /// ```
    /// let x = blocks_core::nn::Images::<2>::new(blocks_core::Tensor::ones([1, 2, 3, 3]));
    /// assert_eq!(x.map(|t| t * 2.0).shape(), vec![1, 2, 3, 3]);
    /// ```
    pub fn map(&self, f: impl FnOnce(&TensorBase<E>) -> TensorBase<E>) -> Self {
        Self::new(f(&self.tensor))
    }
}

impl<const C: usize, E: Element> Clone for Images<C, E> {
    fn clone(&self) -> Self {
        Images { tensor: self.tensor.clone() }
    }
}

impl<const C: usize, E: Element> Deref for Images<C, E> {
    type Target = TensorBase<E>;

    fn deref(&self) -> &TensorBase<E> {
        &self.tensor
    }
}

impl<const C: usize, E: Element> From<Images<C, E>> for TensorBase<E> {
    fn from(images: Images<C, E>) -> TensorBase<E> {
        images.tensor
    }
}

/// Prints as the tensor does (PyTorch's layout).
impl<const C: usize, E: Element> fmt::Display for Images<C, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.tensor, f)
    }
}

impl<const C: usize, E: Element> fmt::Debug for Images<C, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.tensor, f)
    }
}
