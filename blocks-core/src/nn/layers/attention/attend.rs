//! `mha(query, key, value, ...)` through the one door: the input of
//! `DynMultiheadAttention`'s second `Forward` impl, so that
//! [`attend`](DynMultiheadAttention::attend) runs the block's hooks as
//! PyTorch's `__call__` does. Hooks see the query (PyTorch's hooks get
//! `(query, key, value)` and read `args[0]`) and the output (of the output
//! and the optional weights); neither can be replaced (the call cannot be
//! rebuilt from one tensor), as for the recurrent layers' tuples.

use crate::nn::forward::Forward;
use crate::nn::layers::attention::multihead::{AttentionArgs, DynMultiheadAttention};
use crate::nn::{HookValue, TensorKind};
use crate::{AnyTensor, Element, Tensor, TensorBase};

/// The query, key and value of an attention call with its arguments: what
/// [`attend`](DynMultiheadAttention::attend) runs the layer on.
///
/// ```
/// use blocks_core::nn::{run, Attend, AttentionArgs, DynMultiheadAttention};
/// use blocks_core::Tensor;
/// let mha = DynMultiheadAttention::new(4, 2);
/// let x = Tensor::rand([3, 2, 4]);
/// let (y, weights) = run(&mha, &Attend::new(&x, &x, &x, AttentionArgs::default()));
/// assert_eq!((y.shape(), weights.unwrap().shape()), (vec![3, 2, 4], vec![2, 3, 3]));
/// ```
pub struct Attend<'a, E: Element> {
    pub(crate) query: &'a TensorBase<E>,
    pub(crate) key: &'a TensorBase<E>,
    pub(crate) value: &'a TensorBase<E>,
    pub(crate) args: AttentionArgs<'a, E>,
}

impl<'a, E: Element> Attend<'a, E> {
    /// The call `mha(query, key, value, ...)` with `args`.
    ///
    /// ```
    /// use blocks_core::nn::{Attend, AttentionArgs};
    /// let x = blocks_core::Tensor::rand([3, 2, 4]);
    /// let _call = Attend::new(&x, &x, &x, AttentionArgs { need_weights: false, ..Default::default() });
    /// ```
    pub fn new(
        query: &'a TensorBase<E>,
        key: &'a TensorBase<E>,
        value: &'a TensorBase<E>,
        args: AttentionArgs<'a, E>,
    ) -> Self {
        Attend { query, key, value, args }
    }
}

impl<'a, E: Element> Forward<Attend<'a, E>> for DynMultiheadAttention<E> {
    type Output = (TensorBase<E>, Option<TensorBase<E>>);

    #[track_caller]
    fn forward(&self, call: &Attend<'a, E>) -> (TensorBase<E>, Option<TensorBase<E>>) {
        crate::nn::path::or_panic(self.try_attend(call.query, call.key, call.value, &call.args))
    }
}

/// Hooks see the query; a replacement is refused.
///
/// ```
/// use blocks_core::nn::{Attend, AttentionArgs, HookValue};
/// use blocks_core::Tensor;
/// let (q, kv) = (Tensor::ones([3, 2, 4]), Tensor::zeros([5, 2, 4]));
/// assert_eq!(Attend::new(&q, &kv, &kv, AttentionArgs::default()).to_hook().shape(), vec![3, 2, 4]);
/// ```
impl<E: Element> HookValue for Attend<'_, E> {
    const DTYPE: &'static str = E::DTYPE;

    fn to_hook(&self) -> Tensor {
        AnyTensor::from(self.query.clone()).cast()
    }

    fn from_hook(_: Tensor) -> Option<Self> {
        None
    }

    fn to_any_hook(&self) -> AnyTensor {
        AnyTensor::from(self.query.clone())
    }

    fn from_any_hook(_: AnyTensor) -> Option<Self> {
        None
    }
}

/// `(output, weights)` of an attention call: hooks see the output.
///
/// ```
/// use blocks_core::nn::HookValue;
/// use blocks_core::Tensor;
/// let out = (Tensor::ones([3, 2, 4]), Some(Tensor::zeros([2, 3, 3])));
/// assert_eq!(out.to_hook().shape(), vec![3, 2, 4]);
/// ```
impl<K: TensorKind> HookValue for (K, Option<TensorBase<K::Elem>>) {
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
