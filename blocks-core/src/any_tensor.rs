//! `AnyTensor`: a tensor of either element type, as a state dict of a model
//! in float64 (or an optimizer's state for one) holds them.

use crate::{Element, Tensor, Tensor64, TensorBase};

/// A float32 or a float64 tensor: an entry of a [`StateDict`](crate::nn::StateDict)
/// or an optimizer's state, which keep each tensor's dtype as PyTorch does
/// (a double model's state dict holds float64 tensors, saved as F64).
///
/// ```
/// use blocks_core::{AnyTensor, Tensor, Tensor64};
/// let entry = AnyTensor::from(Tensor64::from_vec(vec![0.1, 0.2], [2]));
/// assert_eq!(entry.dtype(), "float64");
/// assert_eq!(entry.shape(), vec![2]);
/// let as_f32: Tensor = entry.cast();
/// assert_eq!(as_f32.to_vec(), vec![0.1f32, 0.2]);
/// ```
#[derive(Clone, Debug)]
pub enum AnyTensor {
    /// A float32 tensor.
    F32(Tensor),
    /// A float64 tensor.
    F64(Tensor64),
}

impl AnyTensor {
    /// The shape.
    ///
    /// ```
    /// assert_eq!(blocks_core::AnyTensor::from(blocks_core::Tensor::ones([2, 3])).shape(), vec![2, 3]);
    /// ```
    pub fn shape(&self) -> Vec<usize> {
        match self {
            AnyTensor::F32(t) => t.shape(),
            AnyTensor::F64(t) => t.shape(),
        }
    }

    /// PyTorch's name of the dtype: `"float32"` or `"float64"`.
    ///
    /// ```
    /// assert_eq!(blocks_core::AnyTensor::from(blocks_core::Tensor::ones([1])).dtype(), "float32");
    /// ```
    pub fn dtype(&self) -> &'static str {
        match self {
            AnyTensor::F32(_) => f32::DTYPE,
            AnyTensor::F64(_) => f64::DTYPE,
        }
    }

    /// The tensor as element type `E`: the same handle when it already is
    /// one, else a new tensor of converted values (float64 to float32 rounds
    /// to nearest, ties to even; float32 to float64 is exact), as PyTorch's
    /// `copy_` converts.
    ///
    /// ```
    /// use blocks_core::{AnyTensor, Tensor, Tensor64};
    /// let x = Tensor::ones([1]);
    /// assert!(AnyTensor::from(x.clone()).cast::<f32>().same(&x));
    /// assert_eq!(AnyTensor::from(x).cast::<f64>().to_vec(), vec![1.0f64]);
    /// ```
    pub fn cast<E: Element>(&self) -> TensorBase<E> {
        if let Some(same) = E::unwrap_ref(self) {
            return same.clone();
        }
        match self {
            AnyTensor::F32(t) => t.cast(),
            AnyTensor::F64(t) => t.cast(),
        }
    }

    /// The tensor if it has element type `E`.
    ///
    /// ```
    /// use blocks_core::{AnyTensor, Tensor};
    /// let entry = AnyTensor::from(Tensor::ones([1]));
    /// assert!(entry.get::<f32>().is_some() && entry.get::<f64>().is_none());
    /// ```
    pub fn get<E: Element>(&self) -> Option<&TensorBase<E>> {
        E::unwrap_ref(self)
    }

    /// Whether both are the same tensor (one handle), like [`TensorBase::same`].
    ///
    /// ```
    /// use blocks_core::{AnyTensor, Tensor};
    /// let x = Tensor::ones([1]);
    /// assert!(AnyTensor::from(x.clone()).same(&AnyTensor::from(x)));
    /// ```
    pub fn same(&self, other: &AnyTensor) -> bool {
        match (self, other) {
            (AnyTensor::F32(a), AnyTensor::F32(b)) => a.same(b),
            (AnyTensor::F64(a), AnyTensor::F64(b)) => a.same(b),
            _ => false,
        }
    }
}

impl<E: Element> From<TensorBase<E>> for AnyTensor {
    fn from(tensor: TensorBase<E>) -> Self {
        E::wrap(tensor)
    }
}
