//! What the forward hooks of a recurrent layer see: PyTorch's layers give
//! a tuple (`(output, h_n)`, `(output, (h_n, c_n))`, LSTMCell's `(h, c)`),
//! and a hook here sees its first tensor, the output. A hook may read it;
//! replacing it panics (the states cannot be rebuilt from one tensor).

use crate::nn::{HookValue, TensorKind};
use crate::{AnyTensor, Element, Tensor, TensorBase};

/// What an LSTM gives: the output and the last states `(h_n, c_n)`.
pub type LstmOutput<O, E = f32> = (O, (TensorBase<E>, TensorBase<E>));

/// What an RNN or a GRU gives: the output and the last states `h_n`.
pub type RnnOutput<O, E = f32> = (O, TensorBase<E>);

/// `(output, h_n)` of an RNN or GRU, `(h, c)` of an LSTMCell: hooks see the
/// first.
///
/// ```
/// use blocks_core::nn::HookValue;
/// use blocks_core::Tensor;
/// let pair = (Tensor::ones([2, 3]), Tensor::zeros([1, 2, 3]));
/// assert_eq!(pair.to_hook().shape(), vec![2, 3]);
/// assert!(<(Tensor, Tensor)>::from_hook(Tensor::ones([2, 3])).is_none());
/// ```
impl<K: TensorKind> HookValue for (K, TensorBase<K::Elem>) {
    const DTYPE: &'static str = <K::Elem as Element>::DTYPE;

    fn to_hook(&self) -> Tensor {
        AnyTensor::from(self.0.tensor().clone()).cast()
    }

    fn from_hook(_: Tensor) -> Option<Self> {
        None
    }

    fn to_any_hook(&self) -> AnyTensor {
        AnyTensor::from(self.0.tensor().clone())
    }

    fn from_any_hook(_: AnyTensor) -> Option<Self> {
        None
    }
}

/// `(output, (h_n, c_n))` of an LSTM: hooks see the output.
///
/// ```
/// use blocks_core::nn::HookValue;
/// use blocks_core::Tensor;
/// let out = (Tensor::ones([5, 2, 3]), (Tensor::zeros([1, 2, 3]), Tensor::zeros([1, 2, 3])));
/// assert_eq!(out.to_hook().shape(), vec![5, 2, 3]);
/// ```
impl<K: TensorKind> HookValue for (K, (TensorBase<K::Elem>, TensorBase<K::Elem>)) {
    const DTYPE: &'static str = <K::Elem as Element>::DTYPE;

    fn to_hook(&self) -> Tensor {
        AnyTensor::from(self.0.tensor().clone()).cast()
    }

    fn from_hook(_: Tensor) -> Option<Self> {
        None
    }

    fn to_any_hook(&self) -> AnyTensor {
        AnyTensor::from(self.0.tensor().clone())
    }

    fn from_any_hook(_: AnyTensor) -> Option<Self> {
        None
    }
}
