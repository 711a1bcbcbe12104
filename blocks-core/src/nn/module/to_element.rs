//! `to_f64()` and `to_f32()`: a model in the other element type, like
//! PyTorch's `net.double()` and `net.float()`.
//!
//! PyTorch converts in place; here the element type is part of the model's
//! type (`Linear<2, 3>` is `Linear<2, 3, f32>`, its double is
//! `Linear<2, 3, f64>`), so the conversion returns a new model: values
//! converted (float32 to float64 exactly, float64 to float32 rounded to
//! nearest even), `requires_grad` and training flags kept, gradients not
//! copied, and parameters tied within the model (one tensor in two places)
//! still tied in the result, as [`deep_copy`](crate::nn::DeepCopy::deep_copy)
//! keeps them.

use std::sync::Arc;

use crate::nn::{Mapper, Module, Parameter, Sequential, TrainingFlag};
use crate::{Element, TensorBase};

/// A block (or a part of one: a parameter, a buffer, an `Option`, a `Vec`)
/// that exists in every element type: the structural map behind
/// [`to_f64`](ToElement::to_f64) and [`to_f32`](ToElement::to_f32), which
/// builds the same block in element type `F`, field by field.
///
/// Implemented by every layer, `Sequential`, `Option`, `Vec`, `Box` and
/// arrays of them, and by `#[derive(Module)]` for a struct generic over one
/// element type (`struct Net<E: Element = f32> { hidden: Linear<20, 256, E>, .. }`);
/// a struct that is not generic cannot change its fields' types, so the
/// derive writes nothing for it.
///
/// ```
/// use blocks_core::nn::{Linear, Mapper, MapElement};
/// let layer = Linear::<2, 1>::new();
/// let double: Linear<2, 1, f64> = layer.map_element(&mut Mapper::new());
/// assert_eq!(double.weight().to_vec()[0], layer.weight().to_vec()[0] as f64);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no float64/float32 form: it is not generic over its element type",
    label = "not generic over its element type",
    note = "make the struct generic over its element type, `struct Net<E: Element = f32>`, with fields such as `Linear<2, 3, E>` and `Parameter<E>`; #[derive(Module)] then writes its conversion"
)]
pub trait MapElement {
    /// The same kind of block with element type `F`.
    type As<F: Element>;

    /// This part in element type `F`, inside a larger map whose ties
    /// `mapper` keeps: what `#[derive(Module)]` calls on each field. Call
    /// [`to_f64`](ToElement::to_f64) or [`to_f32`](ToElement::to_f32) for a
    /// whole block.
    ///
    /// ```
    /// use blocks_core::nn::{Mapper, MapElement, Parameter};
    /// let p = Parameter::new(blocks_core::Tensor::ones([2]));
    /// let double: Parameter<f64> = p.map_element(&mut Mapper::new());
    /// assert_eq!(double.to_vec(), vec![1.0, 1.0]);
    /// ```
    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> Self::As<F>;
}

/// A block in the other element type: [`to_f64`](Self::to_f64) gives it in
/// float64 (PyTorch's `net.double()`), [`to_f32`](Self::to_f32) in float32.
/// Every block, tensor and parameter has these methods; they compile for one that is
/// [`MapElement`] (every layer, and a derived struct generic over its
/// element type), and the error on any other says to make it generic.
///
/// PyTorch converts in place; here the element type is part of the
/// model's type, so the conversion returns a new model: values converted
/// (float32 to float64 exactly, float64 to float32 rounded to nearest even),
/// `requires_grad` and training flags kept, gradients not copied, and
/// parameters tied within the model still tied in the result, as
/// [`deep_copy`](crate::nn::DeepCopy::deep_copy) keeps them.
///
/// ```
/// use blocks_core::nn::{Linear, Module, ModuleExt, ReLU, Sequential, ToElement};
/// use blocks_core::Tensor64;
/// let net = Sequential::new((Linear::<2, 3>::new(), ReLU, Linear::<3, 1>::new()));
/// let double = net.to_f64(); // Sequential<(Linear<2, 3, f64>, ReLU, Linear<3, 1, f64>)>
/// assert_eq!(double.0.0.weight().to_vec()[0], net.0.0.weight().to_vec()[0] as f64);
/// let y = double.forward(&Tensor64::ones([4, 2]));
/// assert_eq!(y.shape(), vec![4, 1]);
/// assert_eq!(double.num_params(), net.num_params());
/// ```
pub trait ToElement {
    /// This block in float64, like `net.double()`: a new model (see
    /// [`ToElement`]), values converted exactly.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, ToElement};
    /// let double = Linear::<2, 1>::new().to_f64();
    /// assert_eq!(double.weight().shape(), vec![1, 2]);
    /// ```
    fn to_f64(&self) -> Self::As<f64>
    where
        Self: MapElement,
    {
        self.map_element(&mut Mapper::new())
    }

    /// This block in float32, like `net.float()` (a new model).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, ToElement};
    /// let layer = Linear::<2, 1>::new();
    /// let back = layer.to_f64().to_f32();
    /// assert_eq!(back.weight().to_vec(), layer.weight().to_vec());
    /// ```
    fn to_f32(&self) -> Self::As<f32>
    where
        Self: MapElement,
    {
        self.map_element(&mut Mapper::new())
    }
}

impl<M: Module + ?Sized> ToElement for M {}

/// `tensor.to_f64()`: a new tensor (a leaf) with the converted values.
impl<E: Element> ToElement for TensorBase<E> {}

/// `parameter.to_f64()`: a new parameter with the converted values.
impl<E: Element> ToElement for Parameter<E> {}

/// A parameter in element type `F`: a new leaf with the converted values
/// and the same `requires_grad` (a lazy layer's uninitialized parameter
/// stays uninitialized); the same one for every handle of one parameter.
impl<E: Element> MapElement for Parameter<E> {
    type As<F: Element> = Parameter<F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> Parameter<F> {
        // The parameter's own key (its node's address, odd so that it is not the tensor's).
        mapper.once(self.tensor.identity() | 1, || {
            let values = TensorBase::<F>::from_array(self.tensor.data().mapv(|v| F::of(v.as_f64())));
            values.set_requires_grad(self.tensor.requires_grad());
            let pending = self.pending.as_ref().map(|pending| Arc::new(pending.copy()));
            if !self.is_initialized() {
                values.set_uninitialized(true);
            }
            Parameter { tensor: values, pending }
        })
    }
}

/// A buffer in element type `F` (a new tensor; one for every handle of one buffer).
impl<E: Element> MapElement for TensorBase<E> {
    type As<F: Element> = TensorBase<F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> TensorBase<F> {
        mapper.once(self.identity(), || TensorBase::<F>::from_array(self.data().mapv(|v| F::of(v.as_f64()))))
    }
}

/// A flag of its own with the same mode: a block's mode is the same in every element type.
impl MapElement for TrainingFlag {
    type As<F: Element> = TrainingFlag;

    fn map_element<F: Element>(&self, _: &mut Mapper) -> TrainingFlag {
        self.clone()
    }
}

impl<T: MapElement> MapElement for Option<T> {
    type As<F: Element> = Option<T::As<F>>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> Self::As<F> {
        self.as_ref().map(|t| t.map_element(mapper))
    }
}

impl<T: MapElement> MapElement for Vec<T> {
    type As<F: Element> = Vec<T::As<F>>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> Self::As<F> {
        self.iter().map(|t| t.map_element(mapper)).collect()
    }
}

impl<T: MapElement, const N: usize> MapElement for [T; N] {
    type As<F: Element> = [T::As<F>; N];

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> Self::As<F> {
        let mut maps = self.iter().map(|t| t.map_element(mapper));
        std::array::from_fn(|_| maps.next().expect("one map per item"))
    }
}

impl<T: MapElement + ?Sized> MapElement for Box<T> {
    type As<F: Element> = Box<T::As<F>>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> Self::As<F> {
        Box::new((**self).map_element(mapper))
    }
}

impl<T: MapElement> MapElement for Sequential<T> {
    type As<F: Element> = Sequential<T::As<F>>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> Self::As<F> {
        Sequential(self.0.map_element(mapper), self.1.clone())
    }
}

macro_rules! tuple_to_element {
    ($($t:ident $i:tt),+) => {
        impl<$($t: MapElement),+> MapElement for ($($t,)+) {
            type As<F: Element> = ($($t::As<F>,)+);

            fn map_element<F: Element>(&self, mapper: &mut Mapper) -> Self::As<F> {
                ($(self.$i.map_element(mapper),)+)
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
