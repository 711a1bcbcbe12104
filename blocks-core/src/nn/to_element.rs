//! `to_f64()` and `to_f32()`: a model in the other element type, like
//! PyTorch's `net.double()` and `net.float()`.
//!
//! PyTorch converts in place; here the element type is part of the model's
//! type (`Linear<2, 3>` is `Linear<2, 3, f32>`, its double is
//! `Linear<2, 3, f64>`), so the conversion returns a new model: values
//! converted (float32 to float64 exactly, float64 to float32 rounded to
//! nearest even), `requires_grad` and training flags kept, gradients not
//! copied, and parameters tied within the model (one tensor in two places)
//! still tied in the result, as [`deep_copy`](super::DeepCopy::deep_copy)
//! keeps them.

use std::sync::Arc;

use super::deep_copy::{Copying, memoized};
use super::{Parameter, Sequential, TrainingFlag};
use crate::{Element, TensorBase};

/// A block (or a part of one: a parameter, a buffer, an `Option`, a `Vec`)
/// that exists in every element type: [`to_f64`](Self::to_f64) gives it in
/// float64 (PyTorch's `net.double()`), [`to_f32`](Self::to_f32) in float32.
///
/// PyTorch converts in place; here the element type is part of the
/// model's type, so the conversion returns a new model: values converted
/// (float32 to float64 exactly, float64 to float32 rounded to nearest even),
/// `requires_grad` and training flags kept, gradients not copied, and
/// parameters tied within the model still tied in the result, as
/// [`deep_copy`](super::DeepCopy::deep_copy) keeps them.
///
/// Implemented by every layer, `Sequential`, `Option`, `Vec`, `Box` and
/// arrays of them, and by `#[derive(Module)]` for a struct generic over one
/// element type (`struct Net<E: Element = f32> { hidden: Linear<20, 256, E>, .. }`);
/// a struct that is not generic cannot change its fields' types, so the
/// derive writes nothing for it.
///
/// ```
/// use blocks_core::nn::{Linear, Module, ReLU, Sequential, ToElement};
/// use blocks_core::Tensor64;
/// let net = Sequential::new((Linear::<2, 3>::new(), ReLU, Linear::<3, 1>::new()));
/// let double = net.to_f64(); // Sequential<(Linear<2, 3, f64>, ReLU, Linear<3, 1, f64>)>
/// assert_eq!(double.0.0.weight().to_vec()[0], net.0.0.weight().to_vec()[0] as f64);
/// let y = double.forward(&Tensor64::ones([4, 2]));
/// assert_eq!(y.shape(), vec![4, 1]);
/// assert_eq!(double.num_params(), net.num_params());
/// ```
pub trait ToElement {
    /// The same kind of block with element type `F`.
    type As<F: Element>;

    /// The conversion of one part, inside a conversion that keeps ties:
    /// call [`to_f64`](Self::to_f64) or [`to_f32`](Self::to_f32) instead
    /// (what `#[derive(Module)]` calls on each field).
    #[doc(hidden)]
    fn convert<F: Element>(&self) -> Self::As<F>;

    /// This block in float64, like `net.double()`: a new model (see
    /// [`ToElement`]), values converted exactly.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, ToElement};
    /// let double = Linear::<2, 1>::new().to_f64();
    /// assert_eq!(double.weight().shape(), vec![1, 2]);
    /// ```
    fn to_f64(&self) -> Self::As<f64> {
        let _converting = Copying::enter();
        self.convert()
    }

    /// This block in float32, like `net.float()` (a new model).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, ToElement};
    /// let layer = Linear::<2, 1>::new();
    /// let back = layer.to_f64().to_f32();
    /// assert_eq!(back.weight().to_vec(), layer.weight().to_vec());
    /// ```
    fn to_f32(&self) -> Self::As<f32> {
        let _converting = Copying::enter();
        self.convert()
    }
}

/// A parameter in element type `F`: a new leaf with the converted values
/// and the same `requires_grad` (a lazy layer's uninitialized parameter
/// stays uninitialized); the same one for every handle of one parameter.
impl<E: Element> ToElement for Parameter<E> {
    type As<F: Element> = Parameter<F>;

    fn convert<F: Element>(&self) -> Parameter<F> {
        let share = |p: &Parameter<F>| Parameter { tensor: shared(&p.tensor), pending: p.pending.clone() };
        let make = || {
            let values = TensorBase::<F>::from_array(self.tensor.data().mapv(|v| F::of(v.as_f64())));
            values.set_requires_grad(self.tensor.requires_grad());
            let pending = self.pending.as_ref().map(|pending| Arc::new(pending.copy()));
            if !self.is_initialized() {
                values.set_uninitialized(true);
            }
            Parameter { tensor: values, pending }
        };
        // The parameter's own key (its node's address, odd so that it is not the tensor's).
        memoized(self.tensor.identity() | 1, share, make).unwrap_or_else(make)
    }
}

/// A buffer in element type `F` (a new tensor; one for every handle of one buffer).
impl<E: Element> ToElement for TensorBase<E> {
    type As<F: Element> = TensorBase<F>;

    fn convert<F: Element>(&self) -> TensorBase<F> {
        let make = || TensorBase::<F>::from_array(self.data().mapv(|v| F::of(v.as_f64())));
        memoized(self.identity() | 1, shared, make).unwrap_or_else(make)
    }
}

/// The flag itself: a block's mode is the same in every element type.
impl ToElement for TrainingFlag {
    type As<F: Element> = TrainingFlag;

    fn convert<F: Element>(&self) -> TrainingFlag {
        self.clone()
    }
}

impl<T: ToElement> ToElement for Option<T> {
    type As<F: Element> = Option<T::As<F>>;

    fn convert<F: Element>(&self) -> Self::As<F> {
        self.as_ref().map(T::convert)
    }
}

impl<T: ToElement> ToElement for Vec<T> {
    type As<F: Element> = Vec<T::As<F>>;

    fn convert<F: Element>(&self) -> Self::As<F> {
        self.iter().map(T::convert).collect()
    }
}

impl<T: ToElement, const N: usize> ToElement for [T; N] {
    type As<F: Element> = [T::As<F>; N];

    fn convert<F: Element>(&self) -> Self::As<F> {
        std::array::from_fn(|i| self[i].convert())
    }
}

impl<T: ToElement + ?Sized> ToElement for Box<T> {
    type As<F: Element> = Box<T::As<F>>;

    fn convert<F: Element>(&self) -> Self::As<F> {
        Box::new((**self).convert())
    }
}

impl<T: ToElement> ToElement for Sequential<T> {
    type As<F: Element> = Sequential<T::As<F>>;

    fn convert<F: Element>(&self) -> Self::As<F> {
        Sequential(self.0.convert(), self.1.clone())
    }
}

macro_rules! tuple_to_element {
    ($($t:ident $i:tt),+) => {
        impl<$($t: ToElement),+> ToElement for ($($t,)+) {
            type As<F: Element> = ($($t::As<F>,)+);

            fn convert<F: Element>(&self) -> Self::As<F> {
                ($(self.$i.convert(),)+)
            }
        }
    };
}

tuple_to_element!(A 0);
tuple_to_element!(A 0, B 1);
tuple_to_element!(A 0, B 1, C 2);
tuple_to_element!(A 0, B 1, C 2, D 3);
tuple_to_element!(A 0, B 1, C 2, D 3, E 4);
tuple_to_element!(A 0, B 1, C 2, D 3, E 4, G 5);
tuple_to_element!(A 0, B 1, C 2, D 3, E 4, G 5, H 6);
tuple_to_element!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, I 7);
tuple_to_element!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, I 7, J 8);
tuple_to_element!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, I 7, J 8, K 9);
tuple_to_element!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, I 7, J 8, K 9, L 10);
tuple_to_element!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, I 7, J 8, K 9, L 10, M 11);

/// Another handle to `tensor` (not through `Clone`, which copies inside a conversion).
fn shared<F: Element>(tensor: &TensorBase<F>) -> TensorBase<F> {
    TensorBase { node: Arc::clone(&tensor.node) }
}

/// Blocks without parameters (activations, pools, dropout, ...): the same
/// block in every element type.
macro_rules! same_in_every_element {
    ($($ty:ty),+ $(,)?) => {
        $(
            impl $crate::nn::ToElement for $ty {
                type As<F: $crate::Element> = $ty;

                fn convert<F: $crate::Element>(&self) -> $ty {
                    <$ty as Clone>::clone(self)
                }
            }
        )+
    };
}

pub(crate) use same_in_every_element;
