//! The element types a tensor can hold: `f32` (the default, as in PyTorch) and `f64`.

use std::fmt::{Debug, Display, LowerExp};

use ndarray::{ArrayView2, ArrayViewMut2, LinalgScalar, ScalarOperand};
use num_traits::{Float, FromPrimitive, NumAssign, ToPrimitive};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal, StandardUniform};

use crate::{AnyTensor, TensorBase};

/// A computation written once for both element types that must still know
/// which one it has (to tag a value with its element type, or to call a
/// float32 or a float64 method): [`Element::dispatch`] calls
/// [`f32`](Self::f32) or [`f64`](Self::f64). This is how the layers above
/// tensors (parameters, visitors, blocks) reach the element type without
/// this module knowing them.
///
/// ```
/// use blocks_core::{ByElement, Element};
/// struct Name;
/// impl ByElement for Name {
///     type In<E: Element> = ();
///     type Out<E: Element> = &'static str;
///     fn f32(&self, (): ()) -> &'static str {
///         "single"
///     }
///     fn f64(&self, (): ()) -> &'static str {
///         "double"
///     }
/// }
/// assert_eq!(f64::dispatch(&Name, ()), "double");
/// ```
pub trait ByElement {
    /// What the computation takes, in element type `E`.
    type In<E: Element>;
    /// What it gives, in element type `E`.
    type Out<E: Element>;
    /// The computation on float32.
    fn f32(&self, input: Self::In<f32>) -> Self::Out<f32>;
    /// The computation on float64.
    fn f64(&self, input: Self::In<f64>) -> Self::Out<f64>;
}

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

    /// Runs `computation` as written for this element type (see [`ByElement`]).
    ///
    /// ```
    /// # use blocks_core::{ByElement, Element};
    /// struct Bits;
    /// impl ByElement for Bits {
    ///     type In<E: Element> = E;
    ///     type Out<E: Element> = u64;
    ///     fn f32(&self, x: f32) -> u64 {
    ///         u64::from(x.to_bits())
    ///     }
    ///     fn f64(&self, x: f64) -> u64 {
    ///         x.to_bits()
    ///     }
    /// }
    /// assert_eq!(f32::dispatch(&Bits, 1.0), 0x3f80_0000);
    /// ```
    #[track_caller]
    fn dispatch<B: ByElement + ?Sized>(computation: &B, input: B::In<Self>) -> B::Out<Self>;

    /// The tensor as a [`AnyTensor`] of its element type.
    #[doc(hidden)]
    fn wrap(tensor: TensorBase<Self>) -> AnyTensor;

    /// The tensor inside `any` if it has this element type.
    #[doc(hidden)]
    fn unwrap_ref(any: &AnyTensor) -> Option<&TensorBase<Self>>;

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

    /// `c = bias + a · b`, the 1-D `bias` added to every row, when a kernel
    /// of this type folds the bias into its own output pass (the few-row
    /// column-major path of `f32` and `f64`); `false`, with nothing
    /// written, otherwise. Called by blocks' linear layer, not meant to be
    /// called directly.
    ///
    /// ```
    /// use blocks_core::Element;
    /// use ndarray::{Array2, array};
    /// let (a, b) = (array![[1.0f32, 2.0]], array![[3.0f32], [4.0]]);
    /// let mut c = Array2::zeros((1, 1));
    /// // One row is too few for the folded path: nothing is written.
    /// assert!(!f32::fast_gemm_bias(&a.view(), &b.view(), &[0.5], &mut c.view_mut(), 1));
    /// ```
    #[doc(hidden)]
    fn fast_gemm_bias(
        _a: &ArrayView2<'_, Self>,
        _b: &ArrayView2<'_, Self>,
        _bias: &[Self],
        _c: &mut ArrayViewMut2<'_, Self>,
        _threads: usize,
    ) -> bool {
        false
    }
}

macro_rules! impl_element {
    ($t:ty, $name:literal, $is_f32:literal, $method:ident, $variant:ident) => {
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

            #[track_caller]
            fn dispatch<B: ByElement + ?Sized>(computation: &B, input: B::In<Self>) -> B::Out<Self> {
                computation.$method(input)
            }

            fn wrap(tensor: TensorBase<Self>) -> AnyTensor {
                AnyTensor::$variant(tensor)
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

            fn fast_gemm_bias(
                a: &ArrayView2<'_, Self>,
                b: &ArrayView2<'_, Self>,
                bias: &[Self],
                c: &mut ArrayViewMut2<'_, Self>,
                threads: usize,
            ) -> bool {
                crate::ops::gemm_kernel::faer_gemm_bias(a, b, bias, c, threads)
            }
        }
    };
}

impl_element!(f32, "float32", true, f32, F32);
impl_element!(f64, "float64", false, f64, F64);
