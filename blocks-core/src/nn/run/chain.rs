//! The compile-time chain check behind `sequential!` (and a derived
//! chain): starting from a tensor of any kind and element type
//! ([`FirstInput`]), each block must take what the block before it gives.
//! The macro emits one [`feed`] per block, spanned at that block, so the
//! compiler's error points at the block that does not fit, in a chain's
//! words ("`Linear<128, 10>` takes 128 input features, but the block before
//! it gives 256": `chain_fit.rs` for the layers of this crate, which name
//! their own input, [`FeedsInChain`] for a block with one `Forward` impl).
//!
//! A failed check must be reported once. So the type a block gives, as the
//! check sees it ([`GivesTo::Out`]), is worked out through the size check:
//! when a block does not fit, that type cannot be worked
//! out, the compiler reports the mismatch there, and every later step (the
//! next blocks, an outer chain holding this one as a nested `sequential!`,
//! which is built through [`nested`]) depends on an unknown type, which the
//! compiler does not report again after an error.

use std::marker::PhantomData;

use crate::nn::FeedsInto;
use crate::nn::flat::Flat;
use crate::nn::forward::{AnyInput, Blamed, Forward, OneInput, Takes, Typed};
use crate::nn::images::Images;
use crate::nn::run::chain_fit::{ChainChannels, ChainWidth, FitsInChain, ThenForward};
use crate::nn::run::keeps_width::sealed::Sealed;
use crate::nn::typed::{Batch, Scalar};
use crate::nn::{Module, TensorKind};
use crate::{Element, Indices, TensorBase};

/// `Self` (what the blocks so far give) can be fed to block `B`, which then
/// gives `Out` (`I` is what `B` takes: see [`Step`]): [`Step`] seen from
/// the given value, so that the compiler reports a block that does not
/// fit once.
///
/// ```
/// use blocks_core::__private::GivesTo;
/// use blocks_core::nn::{Batch, Linear};
/// fn out<G: GivesTo<B, I, Out = Batch<2>>, B, I>() {}
/// out::<Batch<4>, Linear<4, 2>, _>();
/// ```
pub trait GivesTo<B: ?Sized, I> {
    /// What `B` gives back.
    type Out;
}

impl<G, I, B: ChainStep<G, I> + ?Sized> GivesTo<B, I> for G {
    type Out = B::Out;
}

/// Block `Self` fed a `G` in a chain, taking `I`: [`Step`] by the block's
/// [`Takes`]. (Its own trait, between [`GivesTo`] and [`Step`], so that a
/// block without [`Takes`] is reported in two short notes on the block.)
///
/// ```
/// use blocks_core::__private::ChainStep;
/// use blocks_core::nn::{Batch, Linear};
/// fn step<B: ChainStep<G, G, Out = Batch<2>>, G>() {}
/// step::<Linear<4, 2>, Batch<4>>();
/// ```
pub trait ChainStep<G, I> {
    /// What the block gives.
    type Out;
}

impl<G, I, B: Takes + Step<G, I, B::Inputs> + ?Sized> ChainStep<G, I> for B {
    type Out = <B as Step<G, I, B::Inputs>>::Out;
}

/// Block `Self` fed a `G` in a chain, taking `I`, as `M` (its [`Takes`])
/// says: a block generic over its input ([`AnyInput`]) takes `G` itself; a
/// block with one `Forward` impl ([`OneInput`]) takes its input `I` when
/// `G` is that kind, with the same size ([`FeedsInChain`]). What it gives
/// is known only once the check holds, so a block that does not fit is
/// reported once, and nothing after it. (Each impl is for every block, told
/// apart by `M`: a failed check names no impl of this trait.)
///
/// ```
/// use blocks_core::__private::Step;
/// use blocks_core::nn::{AnyInput, Batch, Linear, ReLU};
/// fn gives<B: Step<G, G, AnyInput, Out = O>, G, O>() {}
/// gives::<Linear<4, 2>, Batch<4>, Batch<2>>();
/// gives::<ReLU, Batch<3>, Batch<3>>();
/// ```
pub trait Step<G, I, M> {
    /// What the block gives.
    type Out;
}

impl<G, B: Forward<G> + ?Sized> Step<G, G, AnyInput> for B {
    type Out = B::Output;
}

/// A layer of this crate: its own input `N` checked in a chain's words.
impl<G: FitsInChain<N, W::Block>, N, W: Blamed<B> + ?Sized, B: ?Sized> Step<G, G, Typed<N, W>> for B
where
    G::Checked: ThenForward<B, G>,
{
    type Out = <G::Checked as ThenForward<B, G>>::Out;
}

impl<G: FeedsInChain<I, B>, I, B: HasForward<I> + ?Sized> Step<G, I, OneInput> for B
where
    B::Output: Sized,
{
    type Out = <<G as FeedsInChain<I, B>>::Checked as Then<<B as HasForward<I>>::Output>>::Out;
}

/// A block with a `Forward<I>`: the chain check's bound on a block with one
/// `Forward` impl (found from it), worded for a block that has none.
///
/// ```
/// use blocks_core::__private::HasForward;
/// use blocks_core::nn::{Batch, Linear};
/// fn has<B: HasForward<I>, I>() {}
/// has::<Linear<4, 2>, Batch<4>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no forward pass",
    label = "no forward pass for `{I}`",
    note = "a block gets a forward pass from `impl Forward<Input> for {Self}` (`type Output` and `fn forward`, PyTorch's `def forward(self, X)`)",
    note = "in a chain, a block with one `impl Forward` is given exactly its input; to take other kinds, make its `Forward` generic over them (`impl<K: FeedsInto<Input, Self>> Forward<K>`) and mark it `#[module(any_input)]`"
)]
pub trait HasForward<I> {
    /// What the block gives.
    type Output;
}

#[diagnostic::do_not_recommend]
impl<I, B: Forward<I> + ?Sized> HasForward<I> for B {
    type Output = B::Output;
}

/// A check that held (`Self`, once known), then `T`.
///
/// ```
/// fn then<C: blocks_core::__private::Then<T, Out = T>, T>() {}
/// then::<(), f32>();
/// ```
pub trait Then<T> {
    /// `T`.
    type Out;
}

impl<C, T> Then<T> for C {
    type Out = T;
}

/// What a block with one `Forward` impl, taking `T`, can be given in a
/// chain: `T` itself (a `Batch` or `Images` of the same size), or what the
/// chain is first given ([`FirstInput`]). A chain does not convert between
/// kinds: a block of your own fed another kind in a chain makes its
/// `Forward` generic over what it is fed (`impl<K: FeedsInto<Tensor, Self>>
/// Forward<K>`, with `#[module(any_input)]`).
///
/// ```
/// use blocks_core::__private::FeedsInChain;
/// use blocks_core::nn::{Batch, Linear};
/// fn feeds<G: FeedsInChain<T, B>, T, B>() {}
/// feeds::<Batch<4>, Batch<4>, Linear<4, 2>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{B}` takes `{T}`, but the block before it gives `{Self}`",
    label = "cannot take `{Self}`",
    note = "a block of your own is given exactly what it implements `Forward` for in a chain; to take other kinds, make its `Forward` generic over them (`impl<K: FeedsInto<{T}, Self>> Forward<K>`) and mark it `#[module(any_input)]`"
)]
pub trait FeedsInChain<T, B: ?Sized> {
    /// The size check as a type: `()` once it holds.
    type Checked;
}

impl<B, const GIVES: usize, const TAKES: usize, E: Element> FeedsInChain<Batch<TAKES, E>, B>
    for Batch<GIVES, E>
where
    B: ChainWidth<TAKES, GIVES> + ?Sized,
{
    type Checked = <B as ChainWidth<TAKES, GIVES>>::Checked;
}

impl<B, const GIVES: usize, const TAKES: usize, E: Element> FeedsInChain<Images<TAKES, E>, B>
    for Images<GIVES, E>
where
    B: ChainChannels<TAKES, GIVES> + ?Sized,
{
    type Checked = <B as ChainChannels<TAKES, GIVES>>::Checked;
}

macro_rules! feeds_in_chain {
    ($([$($generics:tt)*] $given:ty => $taken:ty;)*) => {$(
        #[diagnostic::do_not_recommend]
        impl<B: ?Sized, $($generics)*> FeedsInChain<$taken, B> for $given {
            type Checked = ();
        }
    )*};
}

feeds_in_chain! {
    [E: Element] TensorBase<E> => TensorBase<E>;
    [E: Element] Flat<E> => Flat<E>;
    [] Scalar => Scalar;
    [] Indices => Indices;
    [E: Element, const TAKES: usize] FirstInput => Batch<TAKES, E>;
    [E: Element, const TAKES: usize] FirstInput => Images<TAKES, E>;
    [E: Element] FirstInput => TensorBase<E>;
    [E: Element] FirstInput => Flat<E>;
    [] FirstInput => Scalar;
    [] FirstInput => Indices;
}

/// What a chain is first given: a tensor of any element type, whose kind
/// is not known (a plain tensor, a `Batch` or `Images` of any width, sizes
/// checked when the chain runs). Every block taking a tensor of one element
/// type takes it, so a chain of float64 blocks is checked as one of float32
/// blocks; a width-keeping block gives it back as it came. Never a value:
/// only the chain check names it.
///
/// ```
/// use blocks_core::__private::{FirstInput, feed, start};
/// use blocks_core::nn::{Batch, Linear, ReLU, ToElement};
/// let given: std::marker::PhantomData<FirstInput> = feed(&ReLU::default(), start());
/// let _: std::marker::PhantomData<Batch<2, f64>> = feed(&Linear::<4, 2>::new().to_f64(), given);
/// ```
pub struct FirstInput(Never);

/// No value: a [`FirstInput`] is never made.
enum Never {}

impl FirstInput {
    fn never(&self) -> ! {
        match self.0 {}
    }
}

impl Sealed for FirstInput {}

/// As a kind, [`FirstInput`] is what a width-keeping block gives back, and
/// what a flattening one gives.
impl TensorKind for FirstInput {
    type Elem = f32;

    fn tensor(&self) -> &TensorBase<f32> {
        self.never()
    }

    fn from_same_kind(_: TensorBase<f32>) -> Option<Self> {
        None
    }

    type Flattened = FirstInput;

    fn flattened(_: TensorBase<f32>) -> FirstInput {
        unreachable!("the chain check never runs")
    }
}

impl<B: ?Sized, const TAKES: usize, E: Element> FeedsInto<Batch<TAKES, E>, B> for FirstInput {
    type Checked = ();

    fn feed_into(&self) -> Batch<TAKES, E> {
        self.never()
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self.never()
    }
}

impl<B: ?Sized, const TAKES: usize, E: Element> FeedsInto<Images<TAKES, E>, B> for FirstInput {
    type Checked = ();

    fn feed_into(&self) -> Images<TAKES, E> {
        self.never()
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self.never()
    }
}

impl<B: ?Sized, E: Element> FeedsInto<TensorBase<E>, B> for FirstInput {
    type Checked = ();

    fn feed_into(&self) -> TensorBase<E> {
        self.never()
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self.never()
    }
}

impl<B: ?Sized, E: Element> FeedsInto<Flat<E>, B> for FirstInput {
    type Checked = ();

    fn feed_into(&self) -> Flat<E> {
        self.never()
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self.never()
    }
}

impl<B: ?Sized> FeedsInto<Indices, B> for FirstInput {
    type Checked = ();

    fn feed_into(&self) -> Indices {
        self.never()
    }

    fn feed_ref(&self) -> &Indices {
        self.never()
    }
}

/// What a `Sequential` is first given: [`FirstInput`], which every block
/// taking a tensor takes, whatever its element type.
///
/// ```
/// let _given = blocks_core::__private::start();
/// ```
pub fn start() -> PhantomData<FirstInput> {
    PhantomData
}

/// Requires `block` to be a block. (`B` in two arguments makes the
/// compiler blame the whole call, which the chain check spans exactly over
/// the user's block.)
///
/// ```
/// use blocks_core::__private::{block, of};
/// block(&blocks_core::nn::ReLU::default(), of(&blocks_core::nn::ReLU::default()));
/// ```
pub fn block<B: Module + ?Sized>(_block: &B, _: PhantomData<B>) {}

/// The type of `block`, as a value.
///
/// ```
/// let _ = blocks_core::__private::of(&blocks_core::nn::ReLU::default());
/// ```
pub fn of<B: ?Sized>(_block: &B) -> PhantomData<B> {
    PhantomData
}

/// What `block` gives when fed `G`, as a type; a compile error when it
/// cannot take `G`.
///
/// ```
/// use blocks_core::__private::{feed, start};
/// use blocks_core::nn::{Batch, Linear};
/// let given: std::marker::PhantomData<Batch<2>> = feed(&Linear::<4, 2>::new(), start());
/// ```
pub fn feed<G: GivesTo<B, I>, B: ?Sized, I>(_block: &B, _given: PhantomData<G>) -> PhantomData<G::Out> {
    PhantomData
}

/// `given`, as it is: the chain check passes what a block is given through
/// it, in a call spanned over the block.
///
/// ```
/// let _given = blocks_core::__private::pass(blocks_core::__private::start());
/// ```
pub fn pass<G>(given: PhantomData<G>) -> PhantomData<G> {
    given
}

/// `net`, once `check` (the chain check, never run) type-checks: the
/// expansion of a `sequential!`. `net` is a plain argument, so a type the
/// context expects (a struct field's) reaches the blocks before the check
/// looks at them, and a block that does not fit it is blamed there.
///
/// ```
/// use blocks_core::__private::{checked, feed, start};
/// use blocks_core::nn::{Linear, Sequential};
/// let net = checked(Sequential::new((Linear::<4, 2>::new(),)), |net| feed(&net.0.0, start()));
/// ```
pub fn checked<S, O>(net: S, check: impl FnOnce(&S) -> PhantomData<O>) -> S {
    let _ = check;
    net
}

/// [`checked`] for a `sequential!` nested in another: its type is known only
/// once its check holds, so a mismatch inside it is not reported again by
/// the outer chain or a `forward` call on it.
///
/// ```
/// use blocks_core::__private::{feed, nested, start};
/// use blocks_core::nn::{Linear, Sequential};
/// let net: Sequential<(Linear<4, 2>,)> = nested(Sequential::new((Linear::new(),)), |net| feed(&net.0.0, start()));
/// ```
pub fn nested<S, O>(net: S, check: impl FnOnce(&S) -> PhantomData<O>) -> <O as Known<S>>::Net {
    let _ = check;
    <O as Known<S>>::pass(net)
}

/// `S` once `Self`, the chain's output, is known (see [`nested`]).
///
/// ```
/// fn known<O: blocks_core::__private::Known<S, Net = S>, S>() {}
/// known::<(), f32>();
/// ```
pub trait Known<S> {
    /// `S`.
    type Net;

    /// `net` as itself.
    fn pass(net: S) -> Self::Net;
}

impl<S, O> Known<S> for O {
    type Net = S;

    fn pass(net: S) -> S {
        net
    }
}
