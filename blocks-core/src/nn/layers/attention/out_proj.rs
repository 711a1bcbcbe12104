//! `NonDynamicallyQuantizableLinear`: the `out_proj` of
//! `nn.MultiheadAttention`, a `Linear` under its own printed name.

use crate::nn::forward::Forward;
use crate::nn::{DeepCopy, DynLinear, MapElement, Mapper, Module, Parameter, Visitor};
use crate::{Element, TensorBase};

/// PyTorch's `NonDynamicallyQuantizableLinear`: a [`DynLinear`] that prints
/// under that name, as `nn.MultiheadAttention`'s `out_proj` does. Its keys
/// are a Linear's (`weight`, `bias`).
///
/// ```
/// use blocks_core::nn::{DynMultiheadAttention, Module, ModuleExt};
/// let mha = DynMultiheadAttention::new(8, 2);
/// assert_eq!(
///     mha.out_proj().to_string(),
///     "NonDynamicallyQuantizableLinear(in_features=8, out_features=8, bias=True)"
/// );
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", manual, input = "TensorBase<E>")]
pub struct NonDynamicallyQuantizableLinear<E: Element = f32> {
    linear: DynLinear<E>,
}

impl<E: Element> NonDynamicallyQuantizableLinear<E> {
    /// The projection over `linear`'s weight and bias.
    ///
    /// ```
    /// use blocks_core::nn::{DynLinear, NonDynamicallyQuantizableLinear};
    /// let p = NonDynamicallyQuantizableLinear::new(DynLinear::new(4, 4));
    /// assert_eq!(p.linear().out_features(), 4);
    /// ```
    pub fn new(linear: DynLinear<E>) -> Self {
        NonDynamicallyQuantizableLinear { linear }
    }

    /// The Linear it is.
    ///
    /// ```
    /// let mha = blocks_core::nn::DynMultiheadAttention::new(6, 3);
    /// assert_eq!(mha.out_proj().linear().in_features(), 6);
    /// ```
    pub fn linear(&self) -> &DynLinear<E> {
        &self.linear
    }

    /// The weight, `(out, in)`.
    ///
    /// ```
    /// let mha = blocks_core::nn::DynMultiheadAttention::new(6, 3);
    /// assert_eq!(mha.out_proj().weight().shape(), vec![6, 6]);
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        self.linear.weight()
    }

    /// The bias, if any.
    ///
    /// ```
    /// let mha = blocks_core::nn::DynMultiheadAttention::new(6, 3);
    /// assert!(mha.out_proj().bias().is_some());
    /// ```
    pub fn bias(&self) -> Option<&Parameter<E>> {
        self.linear.bias()
    }
}

impl<E: Element> Module for NonDynamicallyQuantizableLinear<E> {
    fn type_name(&self) -> String {
        "NonDynamicallyQuantizableLinear".into()
    }

    fn extra_repr(&self) -> String {
        self.linear.extra_repr()
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        self.linear.visit(visitor);
    }

    fn core(&self) -> Option<&dyn Module> {
        Some(&self.linear)
    }
}

impl<E: Element> MapElement for NonDynamicallyQuantizableLinear<E> {
    type As<F: Element> = NonDynamicallyQuantizableLinear<F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> NonDynamicallyQuantizableLinear<F> {
        NonDynamicallyQuantizableLinear { linear: self.linear.map_element(mapper) }
    }
}

/// The copy is the map to the layer's own element type.
impl<E: Element> DeepCopy for NonDynamicallyQuantizableLinear<E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.map_element::<E>(mapper)
    }
}

/// As its Linear: `x Wᵀ + b`.
impl<E: Element, Fed> Forward<Fed> for NonDynamicallyQuantizableLinear<E>
where
    Fed: crate::nn::FeedsInto<TensorBase<E>, Self>,
{
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        Forward::<TensorBase<E>>::forward(&self.linear, given.feed_ref())
    }
}
