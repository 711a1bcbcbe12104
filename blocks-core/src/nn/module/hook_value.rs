//! What a block takes or gives, as its hooks see it ([`HookValue`]): a
//! tensor of its own element type for a hook registered for that type, the
//! same values cast for a hook of the other type (which reads them and may
//! not replace them).

use crate::nn::TensorKind;
use crate::{AnyTensor, Element, Indices, Tensor};

/// What a block takes or gives, as its hooks see it: a `Tensor` (a
/// [`TensorKind`]: `Tensor`, `Batch<N>`, `Images<C>`, `Scalar`, of either
/// element type), or [`Indices`] (an embedding's input), seen as a float
/// tensor of the index values, as PyTorch's hooks see its `LongTensor`.
///
/// ```
/// use blocks_core::nn::{Batch, HookValue};
/// use blocks_core::{Indices, Tensor};
/// let ids = Indices::from_vec(vec![3, 1], [2]);
/// assert_eq!(ids.to_hook().to_vec(), vec![3.0, 1.0]);
/// assert!(Indices::from_hook(Tensor::from_vec(vec![0.5], [1])).is_none()); // not an index
/// assert!(Batch::<3>::from_hook(Tensor::ones([2, 4])).is_none()); // not 3 wide
/// ```
pub trait HookValue: Sized {
    /// The element type a hook must have to replace this value (`float32`
    /// for indices).
    #[doc(hidden)]
    const DTYPE: &'static str = <f32 as Element>::DTYPE;
    /// The value as a float32 hook is given it (a handle for float32
    /// tensors, a rounded copy for float64 ones).
    fn to_hook(&self) -> Tensor;
    /// A float32 hook's replacement as this kind, or `None` if it is not one.
    fn from_hook(tensor: Tensor) -> Option<Self>;
    /// The value in its own element type (a handle).
    #[doc(hidden)]
    fn to_any_hook(&self) -> AnyTensor {
        AnyTensor::F32(self.to_hook())
    }
    /// A replacement of element type [`DTYPE`](Self::DTYPE) as this kind,
    /// or `None` if it is not one.
    #[doc(hidden)]
    fn from_any_hook(tensor: AnyTensor) -> Option<Self> {
        Self::from_hook(tensor.get::<f32>()?.clone())
    }
}

impl<T: TensorKind> HookValue for T {
    const DTYPE: &'static str = <T::Elem as Element>::DTYPE;

    fn to_hook(&self) -> Tensor {
        AnyTensor::from(self.tensor().clone()).cast()
    }

    fn from_hook(tensor: Tensor) -> Option<Self> {
        T::from_same_kind(AnyTensor::from(tensor).cast())
    }

    fn to_any_hook(&self) -> AnyTensor {
        AnyTensor::from(self.tensor().clone())
    }

    fn from_any_hook(tensor: AnyTensor) -> Option<Self> {
        T::from_same_kind(tensor.get::<T::Elem>()?.clone())
    }
}

impl HookValue for Indices {
    fn to_hook(&self) -> Tensor {
        Tensor::from_vec(self.as_slice().iter().map(|&i| i as f32).collect(), self.shape())
    }

    fn from_hook(tensor: Tensor) -> Option<Self> {
        let values = tensor.to_vec();
        let whole = values.iter().all(|v| v.is_finite() && *v >= 0.0 && v.fract() == 0.0);
        let values = values.into_iter().map(|v| v as usize).collect();
        whole.then(|| Indices::try_from_vec(values, tensor.shape()).ok()).flatten()
    }
}
