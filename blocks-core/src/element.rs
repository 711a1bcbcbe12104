//! The element types a tensor can hold: `f32` (the default, as in PyTorch) and `f64`.

use std::fmt::{Debug, Display, LowerExp};

use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar, ScalarOperand};
use num_traits::{Float, FromPrimitive, NumAssign, ToPrimitive};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal, StandardUniform};

use crate::nn::{KeptForward, Parameter, Visitor};
use crate::{AnyTensor, TensorBase};

/// A floating-point element type of a tensor.
///
/// Implemented for `f32` (PyTorch's default dtype) and `f64` (used by
/// [`gradcheck`](crate::gradcheck)).
///
/// ```
/// use blocks_core::Element;
/// assert_eq!(<f32 as Element>::DTYPE, "float32");
/// assert_eq!(<f32 as Element>::of(0.5), 0.5f32);
/// assert_eq!(2.0f32.as_f64(), 2.0f64);
/// ```
pub trait Element:
    LinalgScalar
    + ScalarOperand
    + Float
    + NumAssign
    + FromPrimitive
    + ToPrimitive
    + Default
    + Debug
    + Display
    + LowerExp
    + Send
    + Sync
    + 'static
{
    /// PyTorch's name of the dtype, as printed in `dtype=torch.float64`.
    const DTYPE: &'static str;

    /// Whether this is `f32`.
    #[doc(hidden)]
    const IS_FLOAT32: bool;

    /// Converts from `f64`, rounding to the nearest representable value.
    fn of(value: f64) -> Self;

    /// Converts to `f64` exactly.
    fn as_f64(self) -> f64;

    /// Draws a value uniformly from `[0, 1)`.
    fn sample_unit<R: Rng + ?Sized>(rng: &mut R) -> Self;

    /// Draws a value from the standard normal distribution.
    fn sample_normal<R: Rng + ?Sized>(rng: &mut R) -> Self;

    /// Reports a parameter of this element type to `visitor` (through
    /// [`Visitor::parameter`] or [`Visitor::parameter_f64`]): how a layer
    /// generic over its element type registers its parameters. Not called by
    /// hand; a layer calls [`register_parameter`](crate::nn::register_parameter).
    #[doc(hidden)]
    fn visit_parameter<'m>(visitor: &mut dyn Visitor<'m>, name: &str, parameter: &'m Parameter<Self>);

    /// Reports a buffer of this element type (see [`visit_parameter`](Self::visit_parameter)).
    #[doc(hidden)]
    fn visit_buffer<'m>(visitor: &mut dyn Visitor<'m>, name: &str, buffer: &'m TensorBase<Self>);

    /// The tensor as a [`AnyTensor`] of its element type.
    #[doc(hidden)]
    fn wrap(tensor: TensorBase<Self>) -> AnyTensor;

    /// The tensor inside `any` if it has this element type.
    #[doc(hidden)]
    fn unwrap_ref(any: &AnyTensor) -> Option<&TensorBase<Self>>;

    /// Runs a width-keeping block on a tensor of this element type.
    #[doc(hidden)]
    fn forward_kept<L: KeptForward + ?Sized>(layer: &L, x: &TensorBase<Self>) -> TensorBase<Self>;

    /// `c = a · b + beta · c` by this type's fastest kernel, on
    /// `threads` threads; `false` (and nothing written) when it has none for
    /// these layouts, and blocks multiplies with ndarray's. `f32` and `f64`
    /// use faer's. Called by blocks' one product
    /// function, not meant to be called directly.
    ///
    /// ```
    /// use blocks_core::Element;
    /// use ndarray::{Array2, array};
    /// let (a, b) = (array![[1.0f32, 2.0]], array![[3.0f32], [4.0]]);
    /// let mut c = Array2::zeros((1, 1));
    /// assert!(f32::fast_gemm(&a.view(), &b.view(), 0.0, &mut c.view_mut(), 1));
    /// assert_eq!(c[[0, 0]], 11.0);
    /// ```
    #[doc(hidden)]
    fn fast_gemm(
        a: &ArrayView2<'_, Self>,
        b: &ArrayView2<'_, Self>,
        beta: Self,
        c: &mut ArrayViewMut2<'_, Self>,
        threads: usize,
    ) -> bool;
}

macro_rules! impl_element {
    ($t:ty, $name:literal, $is_f32:literal, $parameter:ident, $buffer:ident, $variant:ident, $kept:ident) => {
        impl Element for $t {
            const DTYPE: &'static str = $name;
            const IS_FLOAT32: bool = $is_f32;

            fn of(value: f64) -> Self {
                value as $t
            }

            fn as_f64(self) -> f64 {
                self as f64
            }

            fn sample_unit<R: Rng + ?Sized>(rng: &mut R) -> Self {
                StandardUniform.sample(rng)
            }

            fn sample_normal<R: Rng + ?Sized>(rng: &mut R) -> Self {
                StandardNormal.sample(rng)
            }

            fn visit_parameter<'m>(
                visitor: &mut dyn Visitor<'m>,
                name: &str,
                parameter: &'m Parameter<Self>,
            ) {
                visitor.$parameter(name, parameter);
            }

            fn visit_buffer<'m>(visitor: &mut dyn Visitor<'m>, name: &str, buffer: &'m TensorBase<Self>) {
                visitor.$buffer(name, buffer);
            }

            fn wrap(tensor: TensorBase<Self>) -> AnyTensor {
                AnyTensor::$variant(tensor)
            }

            #[track_caller]
            fn forward_kept<L: KeptForward + ?Sized>(layer: &L, x: &TensorBase<Self>) -> TensorBase<Self> {
                layer.$kept(x)
            }

            fn unwrap_ref(any: &AnyTensor) -> Option<&TensorBase<Self>> {
                match any {
                    AnyTensor::$variant(tensor) => Some(tensor),
                    _ => None,
                }
            }

            fn fast_gemm(
                a: &ArrayView2<'_, Self>,
                b: &ArrayView2<'_, Self>,
                beta: Self,
                c: &mut ArrayViewMut2<'_, Self>,
                threads: usize,
            ) -> bool {
                crate::ops::gemm_kernel::faer_gemm(a, b, beta, c, threads)
            }
        }
    };
}

impl_element!(f32, "float32", true, parameter, buffer, F32, forward_kept);
impl_element!(f64, "float64", false, parameter_f64, buffer_f64, F64, forward_kept_f64);
