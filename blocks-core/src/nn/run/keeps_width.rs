//! The tensor kinds a block can be given ([`TensorKind`]), and layers that
//! keep the kind of what they are given (`ReLU`, d2l's `CenteredLayer`,
//! `X - X.mean()`): a layer of this crate is generic over the kind
//! (`impl<K: TensorKind> Forward<K> for ReLU`, written once, for every
//! kind and element type, with [`keep_kind`]); a user's block writes its
//! forward on a plain `Tensor` and `#[module(keeps_width)]` makes it take
//! every kind ([`KeepsWidth`]), so it fits anywhere in a `sequential!` chain.

use crate::nn::flat::Flat;
use crate::nn::forward::{Forward, short_type_name};
use crate::nn::images::Images;
use crate::nn::typed::{Batch, Scalar};
use crate::{Element, Tensor, TensorBase};

pub(crate) mod sealed {
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

    /// What `Flatten` gives for this kind: a [`Flat`] of its element type.
    #[doc(hidden)]
    type Flattened: TensorKind;

    /// `tensor` as [`Self::Flattened`].
    #[doc(hidden)]
    fn flattened(tensor: TensorBase<Self::Elem>) -> Self::Flattened;
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

    type Flattened = Flat<E>;

    fn flattened(tensor: TensorBase<E>) -> Flat<E> {
        Flat::new(tensor)
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

    type Flattened = Flat<E>;

    fn flattened(tensor: TensorBase<E>) -> Flat<E> {
        Flat::new(tensor)
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

    type Flattened = Flat<E>;

    fn flattened(tensor: TensorBase<E>) -> Flat<E> {
        Flat::new(tensor)
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

    type Flattened = Flat<E>;

    fn flattened(tensor: TensorBase<E>) -> Flat<E> {
        Flat::new(tensor)
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

    type Flattened = Flat;

    fn flattened(tensor: TensorBase<f32>) -> Flat {
        Flat::new(tensor)
    }
}

/// A user's block whose `Forward` goes from `Tensor` to `Tensor` and keeps
/// the width: what `#[module(keeps_width)]` asks of the block it marks (the
/// derive then makes it take every tensor kind, giving back the same kind).
/// Never implemented by hand; every block with such a `Forward` has it, and
/// a block marked without one is told so by name of this trait.
///
/// ```
/// use blocks_core::nn::{Forward, KeepsWidth, Module, ModuleExt, Visitor};
/// use blocks_core::Tensor;
/// struct Negate;
/// impl Module for Negate {
///     fn type_name(&self) -> String {
///         "Negate".into()
///     }
///     fn visit<'m>(&'m self, _: &mut dyn Visitor<'m>) {}
/// }
/// impl Forward<Tensor> for Negate {
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
    label = "no `impl Forward<Tensor> for {Self}` giving a `Tensor`",
    note = "write `impl Forward<Tensor> for {Self} {{ type Output = Tensor; fn forward(&self, x: &Tensor) -> Tensor {{ ... }} }}`, PyTorch's `def forward(self, X)`"
)]
pub trait KeepsWidth {
    /// `true`. `#[module(keeps_width)]` on a plain struct writes its `Takes`
    /// through this constant, so a block marked without a forward from
    /// `Tensor` to `Tensor` is one error where it is defined, naming this
    /// trait, and its uses are not reported again.
    ///
    /// ```
    /// use blocks_core::nn::KeepsWidth;
    /// assert!(<blocks_core::nn::ReLU as KeepsWidth>::HOLDS);
    /// ```
    #[doc(hidden)]
    const HOLDS: bool;

    /// The block's `Forward<Tensor>` on `x`.
    ///
    /// ```
    /// use blocks_core::nn::{KeepsWidth, ReLU};
    /// let y = ReLU::default().__keeps_width_forward(&blocks_core::Tensor::from_vec(vec![-1.0, 2.0], [2]));
    /// assert_eq!(y.to_vec(), vec![0.0, 2.0]);
    /// ```
    #[doc(hidden)]
    fn __keeps_width_forward(&self, x: &Tensor) -> Tensor;
}

#[diagnostic::do_not_recommend]
impl<L: Forward<Tensor, Output = Tensor> + ?Sized> KeepsWidth for L {
    const HOLDS: bool = true;

    #[track_caller]
    fn __keeps_width_forward(&self, x: &Tensor) -> Tensor {
        Forward::forward(self, x)
    }
}

/// `output`, the forward of a block on the tensor inside `input`, as the
/// kind of `input`: the end of a forward generic over the kind of its input
/// (a layer that keeps the width, like `ReLU`).
///
/// # Panics
///
/// If the forward changed the width (or the channels of `Images`, or made
/// a `Scalar` more than one element), naming `block`.
///
/// ```
/// use blocks_core::nn::{keep_kind, Batch, ReLU};
/// let x = Batch::<3>::rand(2);
/// let y: Batch<3> = keep_kind(&ReLU::default(), &x, &*x * 2.0);
/// assert_eq!(y.shape(), vec![2, 3]);
/// ```
#[track_caller]
pub fn keep_kind<B: ?Sized, K: TensorKind>(block: &B, input: &K, output: TensorBase<K::Elem>) -> K {
    let _ = block;
    let shape = output.shape();
    K::from_same_kind(output).unwrap_or_else(|| {
        panic!(
            "{} keeps the width of what it is given, but its forward turned a tensor of shape {:?} into one of \
             shape {shape:?}{}",
            short_type_name::<B>(),
            input.tensor().shape(),
            crate::nn::path::describe()
        )
    })
}

/// The forward `#[module(keeps_width)]` writes for each tensor kind: the
/// block's `Forward<Tensor>` on the tensor inside, given back as that kind.
///
/// ```
/// use blocks_core::nn::{Batch, ReLU};
/// let y: Batch<3> = blocks_core::__private::keep_width(&ReLU::default(), &Batch::<3>::rand(2));
/// assert_eq!(y.shape(), vec![2, 3]);
/// ```
///
/// # Panics
///
/// If the forward changed the width, naming the block.
#[track_caller]
pub fn keep_width<B: KeepsWidth + ?Sized, K: TensorKind<Elem = f32>>(block: &B, input: &K) -> K {
    let output = block.__keeps_width_forward(input.tensor());
    let shape = output.shape();
    K::from_same_kind(output).unwrap_or_else(|| {
        panic!(
            "{} is marked #[module(keeps_width)], but its forward turned a tensor of shape {:?} into one of \
             shape {shape:?}{}",
            short_type_name::<B>(),
            input.tensor().shape(),
            crate::nn::path::describe()
        )
    })
}

/// A kind a `#[module(keeps_width)]` block `B` takes and gives back: a
/// `Batch`, `Images`, `Flat`, `Scalar` (float32), or what a chain is first
/// given; not a plain `Tensor`, which the block's own `Forward` takes.
/// Implemented only for a block that [`KeepsWidth`], so a block marked
/// without that forward has no other either (nor one conflicting with a
/// typed forward of its own: it is reported once, where it is defined).
///
/// ```
/// use blocks_core::__private::KeptKind;
/// use blocks_core::nn::{Batch, ReLU};
/// let y = <Batch<3> as KeptKind<ReLU>>::keep(&ReLU::default(), &Batch::<3>::rand(2));
/// assert_eq!(y.shape(), vec![2, 3]);
/// ```
///
/// # Panics
///
/// If the block's forward changed the width, naming the block.
pub trait KeptKind<B: ?Sized>: Sized {
    /// `block`'s `Forward<Tensor>` on the tensor inside `input`, as this kind.
    fn keep(block: &B, input: &Self) -> Self;
}

macro_rules! kept_kind {
    ($([$($generics:tt)*] $kind:ty;)*) => {$(
        impl<B: KeepsWidth + ?Sized, $($generics)*> KeptKind<B> for $kind {
            #[track_caller]
            fn keep(block: &B, input: &Self) -> Self {
                keep_width(block, input)
            }
        }
    )*};
}

kept_kind! {
    [const N: usize] Batch<N>;
    [const C: usize] Images<C>;
    [] Flat;
    [] Scalar;
    [] crate::nn::chain::FirstInput;
}

/// [`AnyInput`](crate::nn::AnyInput) once `HOLDS` is `true`: the `Takes` of a
/// `#[module(keeps_width)]` block (`<KeptIf<{ .. }> as KeptInputs>::Inputs`).
///
/// ```
/// use blocks_core::__private::{KeptIf, KeptInputs};
/// fn inputs<K: KeptInputs<Inputs = blocks_core::nn::AnyInput>>() {}
/// inputs::<KeptIf<true>>();
/// ```
pub struct KeptIf<const HOLDS: bool>;

/// What a `#[module(keeps_width)]` block takes, once [`KeptIf`] holds.
///
/// ```
/// fn inputs<K: blocks_core::__private::KeptInputs>() {}
/// inputs::<blocks_core::__private::KeptIf<true>>();
/// ```
pub trait KeptInputs {
    /// [`AnyInput`](crate::nn::AnyInput).
    type Inputs;
}

impl KeptInputs for KeptIf<true> {
    type Inputs = crate::nn::AnyInput;
}
