//! A recurrent layer or cell called with an initial state, PyTorch's
//! `rnn(x, h_0)`, `lstm(x, (h_0, c_0))`, `cell(x, h)`: the input of their
//! second `Forward` impl, so that `forward_with_state` runs through the one
//! door ([`run`](crate::nn::run)) with the block's hooks, as PyTorch's
//! `__call__` does. Hooks see `x` (PyTorch's hooks get `(x, h_0)` and read
//! `args[0]`); a pre-hook cannot replace it (the state cannot be rebuilt
//! from one tensor), as for the tuples the layers give.

use crate::nn::HookValue;
use crate::{AnyTensor, Element, Tensor, TensorBase};

/// `x` with the initial state `S` (`&h_0`, or `(&h_0, &c_0)` for an LSTM):
/// what `forward_with_state` runs its layer on.
///
/// ```
/// use blocks_core::nn::{run, DynGRU, WithState};
/// use blocks_core::Tensor;
/// let gru = DynGRU::new(3, 4);
/// let (x, h_0) = (Tensor::rand([5, 2, 3]), Tensor::zeros([1, 2, 4]));
/// let (output, h_n) = run(&gru, &WithState::new(&x, &h_0));
/// assert_eq!((output.shape(), h_n.shape()), (vec![5, 2, 4], vec![1, 2, 4]));
/// ```
pub struct WithState<'a, E: Element, S> {
    pub(crate) input: &'a TensorBase<E>,
    pub(crate) state: S,
}

impl<'a, E: Element, S> WithState<'a, E, S> {
    /// `input` with the initial `state`.
    ///
    /// ```
    /// use blocks_core::nn::WithState;
    /// use blocks_core::Tensor;
    /// let (x, h, c) = (Tensor::rand([2, 3]), Tensor::zeros([2, 4]), Tensor::zeros([2, 4]));
    /// let _lstm_cell_call = WithState::new(&x, (&h, &c));
    /// ```
    pub fn new(input: &'a TensorBase<E>, state: S) -> Self {
        WithState { input, state }
    }
}

/// Hooks see the input `x`; a replacement is refused.
///
/// ```
/// use blocks_core::nn::{HookValue, WithState};
/// use blocks_core::Tensor;
/// let (x, h) = (Tensor::ones([2, 3]), Tensor::zeros([2, 4]));
/// assert_eq!(WithState::new(&x, &h).to_hook().shape(), vec![2, 3]);
/// assert!(WithState::<f32, &Tensor>::from_hook(Tensor::ones([2, 3])).is_none());
/// ```
impl<E: Element, S> HookValue for WithState<'_, E, S> {
    const DTYPE: &'static str = E::DTYPE;

    fn to_hook(&self) -> Tensor {
        AnyTensor::from(self.input.clone()).cast()
    }

    fn from_hook(_: Tensor) -> Option<Self> {
        None
    }

    fn to_any_hook(&self) -> AnyTensor {
        AnyTensor::from(self.input.clone())
    }

    fn from_any_hook(_: AnyTensor) -> Option<Self> {
        None
    }
}
