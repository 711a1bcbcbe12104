//! Layers that keep the width of what they are given (`ReLU`, d2l's
//! `CenteredLayer`, `X - X.mean()`): the forward is written once on a plain
//! tensor, and `#[derive(Module)]` with `#[module(keeps_width)]` makes the
//! layer take every tensor kind and give back the same kind, so it fits
//! anywhere in a `sequential!` chain.

use crate::nn::flat::Flat;
use crate::nn::forward::{AnyKind, Forward, Rule, short_type_name};
use crate::nn::images::Images;
use crate::nn::typed::{Batch, Scalar};
use crate::{Element, Tensor, Tensor64, TensorBase};

mod sealed {
    pub trait Sealed {}
}

/// What a block can be given: a plain [`Tensor`] (sizes checked at run
/// time), a [`Batch<N>`] (width `N` in its type), an [`Images<C>`] (`C`
/// channels in its type) or a [`Scalar`]. A width-keeping layer gives back
/// the kind it was given.
///
/// Implemented for those four types only.
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
    /// The element type (`f32`, or `f64` for a model after `to_f64`).
    type Elem: Element;

    /// The tensor inside (a handle).
    ///
    /// ```
    /// use blocks_core::nn::{Scalar, TensorKind};
    /// let s = Scalar::new(blocks_core::Tensor::scalar(2.0));
    /// assert!(s.tensor().same(&s));
    /// ```
    fn tensor(&self) -> &TensorBase<Self::Elem>;

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
    fn from_same_kind(tensor: TensorBase<Self::Elem>) -> Option<Self>;
}

impl<E: Element> sealed::Sealed for TensorBase<E> {}
impl<const N: usize, E: Element> sealed::Sealed for Batch<N, E> {}
impl<const C: usize, E: Element> sealed::Sealed for Images<C, E> {}
impl<E: Element> sealed::Sealed for Flat<E> {}
impl sealed::Sealed for Scalar {}

impl<E: Element> TensorKind for TensorBase<E> {
    type Elem = E;

    fn tensor(&self) -> &TensorBase<E> {
        self
    }

    fn from_same_kind(tensor: TensorBase<E>) -> Option<Self> {
        Some(tensor)
    }
}

impl<const N: usize, E: Element> TensorKind for Batch<N, E> {
    type Elem = E;

    fn tensor(&self) -> &TensorBase<E> {
        self
    }

    fn from_same_kind(tensor: TensorBase<E>) -> Option<Self> {
        Batch::try_new(tensor).ok()
    }
}

impl<const C: usize, E: Element> TensorKind for Images<C, E> {
    type Elem = E;

    fn tensor(&self) -> &TensorBase<E> {
        self
    }

    fn from_same_kind(tensor: TensorBase<E>) -> Option<Self> {
        Images::try_new(tensor).ok()
    }
}

impl<E: Element> TensorKind for Flat<E> {
    type Elem = E;

    fn tensor(&self) -> &TensorBase<E> {
        self
    }

    fn from_same_kind(tensor: TensorBase<E>) -> Option<Self> {
        Some(Flat::new(tensor))
    }
}

impl TensorKind for Scalar {
    type Elem = f32;

    fn tensor(&self) -> &Tensor {
        self
    }

    fn from_same_kind(tensor: Tensor) -> Option<Self> {
        (tensor.numel() == 1).then(|| Scalar::new(tensor))
    }
}

/// A block whose [`Forward`] goes from `Tensor` to `Tensor` and keeps the
/// width: what `#[module(keeps_width)]` asks of the block it marks. Never
/// implemented by hand; every block with such a `Forward` has it.
///
/// ```
/// use blocks_core::nn::{Forward, KeepsWidth, Module, Visitor};
/// use blocks_core::Tensor;
/// struct Negate;
/// impl Module for Negate {
///     fn type_name(&self) -> String {
///         "Negate".into()
///     }
///     fn visit<'m>(&'m self, _: &mut dyn Visitor<'m>) {}
/// }
/// impl Forward for Negate {
///     type Input = Tensor;
///     type Output = Tensor;
///     fn forward(&self, x: &Tensor) -> Tensor {
///         -x
///     }
/// }
/// fn keeps<L: KeepsWidth>(_: &L) {}
/// keeps(&Negate);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is marked #[module(keeps_width)], but has no forward from `Tensor` to `Tensor`",
    label = "no `impl Forward for {Self}` from `Tensor` to `Tensor`",
    note = "write `impl Forward for {Self} {{ type Input = Tensor; type Output = Tensor; fn forward(&self, x: &Tensor) -> Tensor {{ ... }} }}`, PyTorch's `def forward(self, X)`"
)]
pub trait KeepsWidth: Forward<Input = Tensor, Output = Tensor> {}

#[diagnostic::do_not_recommend]
impl<L: Forward<Input = Tensor, Output = Tensor> + ?Sized> KeepsWidth for L {}

/// Runs `layer` on `input` and gives back the same kind: how a block with
/// the [`AnyKind`] rule (`#[module(keeps_width)]`) runs. Panics if the forward
/// changed the width (or the channels of `Images`, or made a `Scalar` more
/// than one element).
///
/// ```
/// use blocks_core::nn::{keep_width, Batch, KeptForward, Module, Visitor};
/// use blocks_core::Tensor;
/// struct Double;
/// impl Module for Double {
///     fn type_name(&self) -> String {
///         "Double".into()
///     }
///     fn visit<'m>(&'m self, _: &mut dyn Visitor<'m>) {}
/// }
/// impl KeptForward for Double {
///     fn forward_kept(&self, x: &Tensor) -> Tensor {
///         x * 2.0
///     }
/// }
/// let y: Batch<3> = keep_width(&Double, &Batch::<3>::rand(2));
/// assert_eq!(y.shape(), vec![2, 3]);
/// ```
#[track_caller]
pub fn keep_width<L: KeptForward + ?Sized, G: TensorKind>(layer: &L, input: &G) -> G {
    let given = input.tensor();
    let out = kept(layer, given);
    let shape = out.shape();
    G::from_same_kind(out).unwrap_or_else(|| {
        panic!(
            "{} is marked #[module(keeps_width)], but its forward turned a tensor of shape {:?} into one of \
             shape {shape:?}{}",
            short_type_name::<L>(),
            given.shape(),
            crate::nn::path::describe()
        )
    })
}

/// The forward of a block with the [`AnyKind`] rule, on a plain tensor:
/// what `#[module(keeps_width)]` writes from the block's `Forward` (which
/// must go from `Tensor` to `Tensor`, see [`KeepsWidth`]).
///
/// ```
/// use blocks_core::nn::{KeptForward, ReLU};
/// use blocks_core::Tensor;
/// assert_eq!(ReLU.forward_kept(&Tensor::from_vec(vec![-1.0], [1])).to_vec(), vec![0.0]);
/// ```
pub trait KeptForward: crate::nn::Module {
    /// Runs the block's `Forward` on `x`.
    fn forward_kept(&self, x: &Tensor) -> Tensor;

    /// Runs the block on a float64 tensor: the same forward, for the blocks
    /// of this crate that have no parameters (activations, dropout, pools,
    /// softmax). A user's width-keeping block runs on float32 only.
    ///
    /// # Panics
    ///
    /// For a block that runs on float32 only, naming it.
    #[track_caller]
    fn forward_kept_f64(&self, x: &Tensor64) -> Tensor64 {
        panic!(
            "{} runs on float32 tensors only, but got a float64 tensor of shape {:?}{}",
            short_type_name::<Self>(),
            x.shape(),
            crate::nn::path::describe()
        )
    }
}

/// The body of [`KeptForward::forward_kept`]: `layer`'s forward, which must
/// go from `Tensor` to `Tensor` (the [`KeepsWidth`] error otherwise).
///
/// ```
/// use blocks_core::nn::{forward_kept, ReLU};
/// use blocks_core::Tensor;
/// assert_eq!(forward_kept(&ReLU, &Tensor::from_vec(vec![2.0], [1])).to_vec(), vec![2.0]);
/// ```
#[track_caller]
pub fn forward_kept<L: KeepsWidth + ?Sized>(layer: &L, x: &Tensor) -> Tensor {
    layer.forward(x)
}

impl<L: KeptForward + ?Sized + 'static, G: TensorKind> Rule<G, L> for AnyKind {
    type Out = G;

    #[track_caller]
    fn run(layer: &L, input: &G) -> G {
        match crate::nn::hooks::hooked(layer, input) {
            None => keep_width(layer, input),
            Some(run) => run.finish::<L, _>(input, keep_width(layer, run.input(input))),
        }
    }
}

/// The [`Takes`](crate::nn::Takes) rule of a block that takes every tensor kind,
/// of either element type, and gives a [`Flat`] of that element type
/// (`Flatten`): its forward is its [`KeptForward`] (float32) and
/// [`KeptForward::forward_kept_f64`] (float64).
///
/// ```
/// use blocks_core::nn::{Flat, Flatten, Images};
/// use blocks_core::{Tensor, Tensor64};
/// let y: Flat = Flatten::default().forward(&Images::<2>::new(Tensor::ones([1, 2, 3, 3])));
/// let y64: Flat<f64> = Flatten::default().forward(&Tensor64::ones([1, 2, 3, 3]));
/// assert_eq!((y.shape(), y64.shape()), (vec![1, 18], vec![1, 18]));
/// ```
pub enum ToPlain {}

impl<L: KeptForward + ?Sized + 'static, G: TensorKind> Rule<G, L> for ToPlain {
    type Out = Flat<G::Elem>;

    #[track_caller]
    fn run(layer: &L, input: &G) -> Flat<G::Elem> {
        match crate::nn::hooks::hooked(layer, input) {
            None => Flat::new(kept(layer, input.tensor())),
            Some(run) => run.finish::<L, _>(input, Flat::new(kept(layer, run.input(input).tensor()))),
        }
    }
}

/// Runs `layer` on `x` by its element type: [`KeptForward::forward_kept`] or
/// [`forward_kept_f64`](KeptForward::forward_kept_f64).
#[track_caller]
fn kept<'a, L: KeptForward + ?Sized, E: Element>(layer: &'a L, x: &'a TensorBase<E>) -> TensorBase<E> {
    E::dispatch(&Kept(layer), x)
}

/// A width-keeping forward, as written for each element type.
struct Kept<'a, L: ?Sized>(&'a L);

impl<'a, L: KeptForward + ?Sized> crate::ByElement for Kept<'a, L> {
    type In<E: Element> = &'a TensorBase<E>;
    type Out<E: Element> = TensorBase<E>;

    #[track_caller]
    fn f32(&self, x: &'a Tensor) -> Tensor {
        self.0.forward_kept(x)
    }

    #[track_caller]
    fn f64(&self, x: &'a Tensor64) -> Tensor64 {
        self.0.forward_kept_f64(x)
    }
}
