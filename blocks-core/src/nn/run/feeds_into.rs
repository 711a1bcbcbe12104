//! How a value of one kind is fed to a block taking another: [`FeedsInto`],
//! with the compile-time width and channel checks ([`SameWidth`],
//! [`SameChannels`]) and the run-time check of a plain tensor, which names
//! the block.

use crate::nn::flat::Flat;
use crate::nn::forward::short_type_name;
use crate::nn::images::Images;
use crate::nn::typed::{Batch, Scalar};
use crate::{Element, Indices, Tensor, TensorBase};

/// A value that block `B`, taking `T`, can be fed: the compiler's side of
/// the width and channel checks (and the run-time check for plain
/// tensors). A block generic over what it is fed takes every
/// `K: FeedsInto<T, Self>`:
///
/// ```
/// use blocks_core::nn::{Batch, FeedsInto, Forward, Hooks, Module, ModuleExt, Visitor};
/// use blocks_core::Tensor;
/// struct Sum(Hooks);
/// impl Module for Sum {
///     fn type_name(&self) -> String {
///         "Sum".into()
///     }
///     fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
///         visitor.hooks(&self.0);
///     }
/// }
/// impl<K: FeedsInto<Batch<3>, Self>> Forward<K> for Sum {
///     type Output = Tensor;
///     fn forward(&self, x: &K) -> Tensor {
///         x.feed_into().sum()
///     }
/// }
/// let sum = Sum(Hooks::new());
/// assert_eq!(Forward::forward(&sum, &Tensor::ones([2, 3])).item(), 6.0);
/// assert_eq!(Forward::forward(&sum, &Batch::<3>::new(Tensor::ones([1, 3]))).item(), 3.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{B}` takes `{T}`, but the argument is `{Self}`",
    label = "cannot take `{Self}`"
)]
pub trait FeedsInto<T: Holds, B: ?Sized> {
    /// The size check as a type: `()` once it holds (see [`Checked`]).
    type Checked;

    /// The value as `B`'s input (a handle, not a copy).
    fn feed_into(&self) -> T;

    /// What the value holds, checked as `feed_into` checks it (the run-time
    /// check of a plain tensor), without making a new handle: for a block
    /// that reads the tensor itself.
    fn feed_ref(&self) -> &T::Inner;
}

/// What a block's input holds, that the block reads: the tensor inside a
/// `Batch`, `Images`, `Flat` or plain tensor, a `Scalar`'s tensor, the
/// indices of `Indices`.
///
/// ```
/// use blocks_core::nn::{Batch, Holds};
/// use blocks_core::Tensor;
/// fn inner<T: Holds<Inner = Tensor>>() {}
/// inner::<Batch<3>>();
/// ```
pub trait Holds {
    /// What it holds.
    type Inner: ?Sized;
}

impl<const N: usize, E: Element> Holds for Batch<N, E> {
    type Inner = TensorBase<E>;
}

impl<const C: usize, E: Element> Holds for Images<C, E> {
    type Inner = TensorBase<E>;
}

impl<E: Element> Holds for TensorBase<E> {
    type Inner = TensorBase<E>;
}

impl<E: Element> Holds for Flat<E> {
    type Inner = TensorBase<E>;
}

impl Holds for Scalar {
    type Inner = Tensor;
}

impl Holds for Indices {
    type Inner = Indices;
}

/// `Output`, once `Fed` feeds into `Input` of block `B`: what a layer
/// generic over what it is fed gives (`type Output = Checked<Fed,
/// Batch<IN>, Self, Batch<OUT>>`). It is `Output` itself; written through
/// the size check, it is known only once the check holds, so a block that
/// does not fit in a chain is reported once, and nothing after it.
///
/// ```
/// use blocks_core::nn::{Batch, Checked, Linear};
/// let _: Checked<Batch<4>, Batch<4>, Linear<4, 2>, Batch<2>> = Batch::<2>::rand(1);
/// ```
pub type Checked<Fed, Input, B, Output> =
    <<Fed as FeedsInto<Input, B>>::Checked as crate::nn::chain::Then<Output>>::Out;

/// The width check where a block is fed a `Batch`: implemented only when
/// `TAKES == GIVES`.
///
/// ```
/// fn fits<B: blocks_core::nn::SameWidth<4, 4>>() {}
/// fits::<blocks_core::nn::Linear<4, 2>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` takes {TAKES} input features, but the argument has {GIVES}",
    label = "takes {TAKES} input features, but the argument has {GIVES}"
)]
pub trait SameWidth<const TAKES: usize, const GIVES: usize> {
    /// `()`: the check as a type.
    type Checked;
}

impl<B: ?Sized, const N: usize> SameWidth<N, N> for B {
    type Checked = ();
}

/// The channel check where a block is fed `Images`: implemented only when
/// `TAKES == GIVES`.
///
/// ```
/// fn fits<B: blocks_core::nn::SameChannels<3, 3>>() {}
/// fits::<blocks_core::nn::Conv2d<3, 6, 5>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` takes {TAKES} input channels, but the argument has {GIVES}",
    label = "takes {TAKES} input channels, but the argument has {GIVES}"
)]
pub trait SameChannels<const TAKES: usize, const GIVES: usize> {
    /// `()`: the check as a type.
    type Checked;
}

impl<B: ?Sized, const C: usize> SameChannels<C, C> for B {
    type Checked = ();
}

impl<B: ?Sized, const GIVES: usize, const TAKES: usize, E: Element> FeedsInto<Batch<TAKES, E>, B>
    for Batch<GIVES, E>
where
    B: SameWidth<TAKES, GIVES>,
{
    type Checked = <B as SameWidth<TAKES, GIVES>>::Checked;

    #[track_caller]
    fn feed_into(&self) -> Batch<TAKES, E> {
        Batch::trusted(TensorBase::clone(self))
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self
    }
}

impl<B: ?Sized, const GIVES: usize, const TAKES: usize, E: Element> FeedsInto<Images<TAKES, E>, B>
    for Images<GIVES, E>
where
    B: SameChannels<TAKES, GIVES>,
{
    type Checked = <B as SameChannels<TAKES, GIVES>>::Checked;

    #[track_caller]
    fn feed_into(&self) -> Images<TAKES, E> {
        Images::trusted(TensorBase::clone(self))
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized, const TAKES: usize, E: Element> FeedsInto<Batch<TAKES, E>, B> for TensorBase<E> {
    type Checked = ();

    #[track_caller]
    fn feed_into(&self) -> Batch<TAKES, E> {
        Batch::trusted(<Self as FeedsInto<Batch<TAKES, E>, B>>::feed_ref(self).clone())
    }

    #[track_caller]
    fn feed_ref(&self) -> &TensorBase<E> {
        if self.last_dim() != Some(TAKES) {
            panic!(
                "{} takes {TAKES} input features, but got a tensor of shape {:?}{}",
                short_type_name::<B>(),
                self.shape(),
                crate::nn::path::describe()
            );
        }
        self
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized, const TAKES: usize, E: Element> FeedsInto<Images<TAKES, E>, B> for TensorBase<E> {
    type Checked = ();

    #[track_caller]
    fn feed_into(&self) -> Images<TAKES, E> {
        Images::trusted(<Self as FeedsInto<Images<TAKES, E>, B>>::feed_ref(self).clone())
    }

    #[track_caller]
    fn feed_ref(&self) -> &TensorBase<E> {
        if !Images::<TAKES, E>::fits(self) {
            panic!(
                "{} takes {TAKES} input channels (a tensor [N, {TAKES}, ...] of 3 or more dimensions), but got \
                 a tensor of shape {:?}{}",
                short_type_name::<B>(),
                self.shape(),
                crate::nn::path::describe()
            );
        }
        self
    }
}

/// What `Flatten` gives feeds a block taking `Batch<N>` (its width checked
/// at run time, as a plain tensor's) or a plain tensor; not `Images<C>`.
#[diagnostic::do_not_recommend]
impl<B: ?Sized, const TAKES: usize, E: Element> FeedsInto<Batch<TAKES, E>, B> for Flat<E> {
    type Checked = ();

    #[track_caller]
    fn feed_into(&self) -> Batch<TAKES, E> {
        <TensorBase<E> as FeedsInto<Batch<TAKES, E>, B>>::feed_into(self)
    }

    #[track_caller]
    fn feed_ref(&self) -> &TensorBase<E> {
        <TensorBase<E> as FeedsInto<Batch<TAKES, E>, B>>::feed_ref(self)
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized, E: Element> FeedsInto<TensorBase<E>, B> for Flat<E> {
    type Checked = ();

    #[track_caller]
    fn feed_into(&self) -> TensorBase<E> {
        TensorBase::clone(self)
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized, E: Element> FeedsInto<TensorBase<E>, B> for TensorBase<E> {
    type Checked = ();

    #[track_caller]
    fn feed_into(&self) -> TensorBase<E> {
        self.clone()
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized, const GIVES: usize, E: Element> FeedsInto<TensorBase<E>, B> for Batch<GIVES, E> {
    type Checked = ();

    #[track_caller]
    fn feed_into(&self) -> TensorBase<E> {
        TensorBase::clone(self)
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized, const GIVES: usize, E: Element> FeedsInto<TensorBase<E>, B> for Images<GIVES, E> {
    type Checked = ();

    #[track_caller]
    fn feed_into(&self) -> TensorBase<E> {
        TensorBase::clone(self)
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized> FeedsInto<Scalar, B> for Scalar {
    type Checked = ();

    #[track_caller]
    fn feed_into(&self) -> Scalar {
        self.clone()
    }

    fn feed_ref(&self) -> &Tensor {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized> FeedsInto<Tensor, B> for Scalar {
    type Checked = ();

    #[track_caller]
    fn feed_into(&self) -> Tensor {
        (**self).clone()
    }

    fn feed_ref(&self) -> &Tensor {
        self
    }
}

#[diagnostic::do_not_recommend]
impl<B: ?Sized> FeedsInto<Indices, B> for Indices {
    type Checked = ();

    #[track_caller]
    fn feed_into(&self) -> Indices {
        self.clone()
    }

    fn feed_ref(&self) -> &Indices {
        self
    }
}
