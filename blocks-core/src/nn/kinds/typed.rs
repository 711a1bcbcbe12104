//! Tensors whose feature width is part of their type, so that the compiler
//! checks widths between blocks: `Batch<N>` and `Scalar`.

use std::fmt;
use std::ops::Deref;

use crate::{Element, Tensor, TensorBase};

/// A tensor whose last dimension is `N` features (`[batch, N]`, or any
/// leading dimensions), checked once when it is made.
///
/// It dereferences to [`Tensor`], so every tensor operation works on it (and
/// gives a plain tensor); blocks that know their widths (`Linear<N, M>`) take
/// and give `Batch`es, which is how a width mismatch becomes a compile error.
///
/// ```
/// use blocks_core::nn::Batch;
/// use blocks_core::Tensor;
/// let x = Batch::<20>::new(Tensor::rand([2, 20]));
/// assert_eq!(x.shape(), vec![2, 20]);
/// assert!(Batch::<20>::try_new(Tensor::rand([2, 19])).is_err());
/// ```
///
/// The element type is `f32` unless said otherwise: a model in float64
/// takes and gives `Batch<N, f64>`.
pub struct Batch<const N: usize, E: Element = f32> {
    tensor: TensorBase<E>,
}

impl<const N: usize, E: Element> Batch<N, E> {
    /// Wraps `tensor`, panicking unless its last dimension is `N`.
    ///
    /// ```
    /// let x = blocks_core::nn::Batch::<3>::new(blocks_core::Tensor::ones([4, 3]));
    /// assert_eq!(x.rows(), 4);
    /// ```
    pub fn new(tensor: TensorBase<E>) -> Self {
        match Self::try_new(tensor) {
            Ok(batch) => batch,
            Err(error) => panic!("{error}"),
        }
    }

    /// Wraps `tensor` if its last dimension is `N`.
    ///
    /// ```
    /// use blocks_core::{nn::Batch, Tensor};
    /// let error = Batch::<20>::try_new(Tensor::ones([2, 5])).unwrap_err();
    /// assert_eq!(error.to_string(), "Batch<20>: expected 20 features in the last dimension, got shape [2, 5]");
    /// ```
    pub fn try_new(tensor: TensorBase<E>) -> Result<Self, crate::ShapeError> {
        if tensor.last_dim() != Some(N) {
            return Err(crate::ShapeError::new(format!(
                "Batch<{N}>: expected {N} features in the last dimension, got shape {:?}",
                tensor.shape()
            )));
        }
        Ok(Batch { tensor })
    }

    /// Wraps a tensor already known to have width `N` (no check).
    pub(crate) fn trusted(tensor: TensorBase<E>) -> Self {
        Batch { tensor }
    }

    /// The number of rows (all leading dimensions together).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Batch::<3>::rand(5).rows(), 5);
    /// ```
    pub fn rows(&self) -> usize {
        self.tensor.numel() / N.max(1)
    }

    /// The plain tensor (a handle, not a copy).
    ///
    /// ```
    /// let x = blocks_core::nn::Batch::<3>::rand(1);
    /// let t: blocks_core::Tensor = x.into_tensor();
    /// assert_eq!(t.shape(), vec![1, 3]);
    /// ```
    pub fn into_tensor(self) -> TensorBase<E> {
        self.tensor
    }

    /// `max(x, 0)`, keeping the width in the type.
    ///
    /// ```
    /// let x = blocks_core::nn::Batch::<2>::new(blocks_core::Tensor::from_vec(vec![-1.0, 1.0], [1, 2]));
    /// assert_eq!(x.relu().to_vec(), vec![0.0, 1.0]);
    /// ```
    pub fn relu(&self) -> Self {
        Batch { tensor: self.tensor.relu() }
    }

    /// Applies a width-preserving function to the tensor, keeping the width in
    /// the type; panics if `f` changes the last dimension.
    ///
    /// ```
    /// let x = blocks_core::nn::Batch::<2>::rand(3);
    /// let y = x.map(|t| t * 2.0);
    /// assert_eq!(y.shape(), vec![3, 2]);
    /// ```
    pub fn map(&self, f: impl FnOnce(&TensorBase<E>) -> TensorBase<E>) -> Self {
        Self::new(f(&self.tensor))
    }
}

impl<const N: usize> Batch<N> {
    /// `rows` rows of uniform values in `[0, 1)`, like `torch.rand(rows, N)`.
    ///
    /// ```
    /// let x = blocks_core::nn::Batch::<20>::rand(2);
    /// assert_eq!(x.shape(), vec![2, 20]);
    /// ```
    pub fn rand(rows: usize) -> Self {
        Batch { tensor: Tensor::rand([rows, N]) }
    }
}

impl<const N: usize, E: Element> Clone for Batch<N, E> {
    fn clone(&self) -> Self {
        Batch { tensor: self.tensor.clone() }
    }
}

impl<const N: usize, E: Element> Deref for Batch<N, E> {
    type Target = TensorBase<E>;

    fn deref(&self) -> &TensorBase<E> {
        &self.tensor
    }
}

impl<const N: usize, E: Element> From<Batch<N, E>> for TensorBase<E> {
    fn from(batch: Batch<N, E>) -> TensorBase<E> {
        batch.tensor
    }
}

/// Prints as the tensor does (PyTorch's layout).
impl<const N: usize, E: Element> fmt::Display for Batch<N, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.tensor, f)
    }
}

impl<const N: usize, E: Element> fmt::Debug for Batch<N, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.tensor, f)
    }
}

macro_rules! scalar_assign {
    ($trait:ident, $method:ident) => {
        /// In place with a scalar, as on [`Tensor`]; the width is unchanged.
        impl<const N: usize, E: Element> std::ops::$trait<E> for Batch<N, E> {
            fn $method(&mut self, rhs: E) {
                std::ops::$trait::$method(&mut self.tensor, rhs);
            }
        }
    };
}

scalar_assign!(AddAssign, add_assign);
scalar_assign!(SubAssign, sub_assign);
scalar_assign!(MulAssign, mul_assign);
scalar_assign!(DivAssign, div_assign);

/// A one-element result (a loss, FixedHiddenMLP's sum): no block that needs
/// features can follow it.
///
/// ```
/// use blocks_core::{nn::Scalar, Tensor};
/// let s = Scalar::new(Tensor::ones([3]).sum());
/// assert_eq!(s.item(), 3.0);
/// ```
#[derive(Clone)]
pub struct Scalar {
    tensor: Tensor,
}

impl Scalar {
    /// Wraps a one-element tensor; panics on more elements.
    ///
    /// ```
    /// let s = blocks_core::nn::Scalar::new(blocks_core::Tensor::scalar(2.0));
    /// assert_eq!(s.item(), 2.0);
    /// ```
    pub fn new(tensor: Tensor) -> Self {
        assert!(tensor.numel() == 1, "Scalar: expected one element, got shape {:?}", tensor.shape());
        Scalar { tensor }
    }

    /// The plain tensor (a handle, not a copy).
    ///
    /// ```
    /// let s = blocks_core::nn::Scalar::new(blocks_core::Tensor::scalar(2.0));
    /// assert_eq!(s.into_tensor().item(), 2.0);
    /// ```
    pub fn into_tensor(self) -> Tensor {
        self.tensor
    }
}

impl Deref for Scalar {
    type Target = Tensor;

    fn deref(&self) -> &Tensor {
        &self.tensor
    }
}

impl From<Scalar> for Tensor {
    fn from(scalar: Scalar) -> Tensor {
        scalar.tensor
    }
}

/// Prints as the tensor does: `tensor(0.1862, grad_fn=<SumBackward0>)`.
impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.tensor, f)
    }
}

impl fmt::Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.tensor, f)
    }
}
