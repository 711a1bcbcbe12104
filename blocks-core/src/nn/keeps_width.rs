//! Custom layers that keep the width of what they are given (d2l's
//! `CenteredLayer`, `X - X.mean()`): the forward is written once on a plain
//! tensor, and `#[derive(Module)]` with `#[module(keeps_width)]` makes the
//! layer take every tensor kind and give back the same kind, as `ReLU` does,
//! so it fits anywhere in a `sequential!` chain.

use super::forward::short_type_name;
use super::typed::{Batch, Scalar};
use crate::Tensor;

mod sealed {
    pub trait Sealed {}
}

/// What a block can be given: a plain [`Tensor`] (widths checked at run
/// time), a [`Batch<N>`] (width `N` in its type) or a [`Scalar`]. A
/// width-keeping layer gives back the kind it was given.
///
/// Implemented for those three types only.
///
/// ```
/// use blocks_core::nn::{Batch, TensorKind};
/// use blocks_core::Tensor;
/// let x = Batch::<3>::rand(2);
/// let doubled = Batch::<3>::from_same_kind(x.tensor() * 2.0).unwrap();
/// assert_eq!(doubled.shape(), vec![2, 3]);
/// assert!(Batch::<3>::from_same_kind(Tensor::ones([2, 4])).is_none());
/// ```
pub trait TensorKind: sealed::Sealed + Sized {
    /// The tensor inside (a handle).
    ///
    /// ```
    /// use blocks_core::nn::{Scalar, TensorKind};
    /// let s = Scalar::new(blocks_core::Tensor::scalar(2.0));
    /// assert!(s.tensor().same(&s));
    /// ```
    fn tensor(&self) -> &Tensor;

    /// `tensor` as this kind, or `None` if it is not one (a `Batch<N>` whose
    /// last dimension is not `N`, a `Scalar` of more than one element).
    ///
    /// ```
    /// use blocks_core::nn::{Scalar, TensorKind};
    /// use blocks_core::Tensor;
    /// assert!(Scalar::from_same_kind(Tensor::ones([1])).is_some());
    /// assert!(Scalar::from_same_kind(Tensor::ones([2])).is_none());
    /// assert!(Tensor::from_same_kind(Tensor::ones([2])).is_some());
    /// ```
    fn from_same_kind(tensor: Tensor) -> Option<Self>;
}

impl sealed::Sealed for Tensor {}
impl<const N: usize> sealed::Sealed for Batch<N> {}
impl sealed::Sealed for Scalar {}

impl TensorKind for Tensor {
    fn tensor(&self) -> &Tensor {
        self
    }

    fn from_same_kind(tensor: Tensor) -> Option<Self> {
        Some(tensor)
    }
}

impl<const N: usize> TensorKind for Batch<N> {
    fn tensor(&self) -> &Tensor {
        self
    }

    fn from_same_kind(tensor: Tensor) -> Option<Self> {
        Batch::try_new(tensor).ok()
    }
}

impl TensorKind for Scalar {
    fn tensor(&self) -> &Tensor {
        self
    }

    fn from_same_kind(tensor: Tensor) -> Option<Self> {
        (tensor.numel() == 1).then(|| Scalar::new(tensor))
    }
}

/// The forward of a layer that keeps the width of what it is given, like
/// d2l's `CenteredLayer`. With `#[module(keeps_width)]` on its
/// `#[derive(Module)]`, the layer takes a `Tensor`, a `Batch<N>` or a
/// `Scalar` and gives back the same kind, so the compiler still knows the
/// width after it in a `sequential!` chain (see the `blocks` crate's
/// `Module` derive); a forward that changes the width panics, naming the
/// layer and both shapes.
///
/// Without the derive, the same takes one generic `Call` impl over
/// [`TensorKind`] that calls [`keep_width`]:
///
/// ```
/// use std::any::Any;
/// use blocks_core::nn::{keep_width, Batch, Call, KeepsWidth, Module, TensorKind, Visitor};
/// use blocks_core::Tensor;
///
/// struct CenteredLayer;
///
/// impl KeepsWidth for CenteredLayer {
///     fn forward(&self, x: &Tensor) -> Tensor {
///         x - &x.mean()
///     }
/// }
///
/// impl<G: TensorKind> Call<G> for CenteredLayer {
///     type Out = G;
///     fn call(&self, input: &G) -> G {
///         keep_width(self, input)
///     }
/// }
/// # impl Module for CenteredLayer {
/// #     fn type_name(&self) -> String { "CenteredLayer".into() }
/// #     fn visit<'m>(&'m self, _: &mut dyn Visitor<'m>) {}
/// #     fn as_any(&self) -> &dyn Any { self }
/// #     fn as_dyn(&self) -> &dyn Module { self }
/// # }
///
/// let y = CenteredLayer.forward(&Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0], [5]));
/// assert_eq!(y.to_string(), "tensor([-2., -1.,  0.,  1.,  2.])");
/// let kept: Batch<4> = CenteredLayer.call(&Batch::<4>::rand(3));
/// assert_eq!(kept.shape(), vec![3, 4]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is marked #[module(keeps_width)], but has no `KeepsWidth` forward",
    label = "no `impl KeepsWidth for {Self}`",
    note = "write `impl KeepsWidth for {Self} {{ fn forward(&self, x: &Tensor) -> Tensor {{ ... }} }}`, PyTorch's `def forward(self, X)`"
)]
pub trait KeepsWidth {
    /// Runs the layer; the result must have the width of `x`.
    ///
    /// ```
    /// use blocks_core::nn::KeepsWidth;
    /// use blocks_core::Tensor;
    /// struct Negate;
    /// impl KeepsWidth for Negate {
    ///     fn forward(&self, x: &Tensor) -> Tensor {
    ///         -x
    ///     }
    /// }
    /// assert_eq!(Negate.forward(&Tensor::ones([2])).to_vec(), vec![-1.0, -1.0]);
    /// ```
    fn forward(&self, x: &Tensor) -> Tensor;
}

/// Runs `layer` on `input` and gives back the same kind: the body of the
/// `Call` impl that `#[module(keeps_width)]` writes. Panics if the forward
/// changed the width (or made a `Scalar` more than one element).
///
/// ```
/// use blocks_core::nn::{keep_width, Batch, KeepsWidth};
/// use blocks_core::Tensor;
/// struct Double;
/// impl KeepsWidth for Double {
///     fn forward(&self, x: &Tensor) -> Tensor {
///         x * 2.0
///     }
/// }
/// let y: Batch<3> = keep_width(&Double, &Batch::<3>::rand(2));
/// assert_eq!(y.shape(), vec![2, 3]);
/// ```
pub fn keep_width<L: KeepsWidth + ?Sized, G: TensorKind>(layer: &L, input: &G) -> G {
    let given = input.tensor();
    let out = layer.forward(given);
    let shape = out.shape();
    G::from_same_kind(out).unwrap_or_else(|| {
        panic!(
            "{} is marked #[module(keeps_width)], but its forward turned a tensor of shape {:?} into one of \
             shape {shape:?}{}",
            short_type_name::<L>(),
            given.shape(),
            super::path::describe()
        )
    })
}
