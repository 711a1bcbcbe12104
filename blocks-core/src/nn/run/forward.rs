//! Running a block: the one trait a block implements ([`Forward`]), the
//! one door every run goes through ([`run`]), and how a value of one kind
//! is fed to a block taking another ([`FeedsInto`]), with the compile-time
//! width and channel checks.
//!
//! A block is its struct, its `impl Forward<Input>` (PyTorch's `def
//! forward`; one impl per kind of input it takes, as dfdx's `Module<Input>`
//! and candle's `Module`) and its repr. `#[derive(Module)]` writes the rest,
//! including the inherent `forward` every caller uses, which goes through
//! [`run`] (hooks included): `mlp.forward(&x)`, `sequential![..]` and
//! `Box<dyn Block>` all run the same `Forward::forward`.

use crate::nn::flat::Flat;
use crate::nn::hook_value::HookValue;
use crate::nn::images::Images;
use crate::nn::typed::{Batch, Scalar};
use crate::{Element, Indices, Tensor, TensorBase};

/// A block's forward pass on an `Input`, like `def forward(self, X)`: what
/// it gives, and how. The one trait a block implements to run.
///
/// `Input` is what the block takes: `Batch<N>` (rows of `N` features),
/// `Images<C>` (`C` channels in dimension 1), a plain `Tensor` (sizes
/// checked at run time), `Scalar`, `Indices`, or any kind at all for a
/// block generic over it (`impl<K: TensorKind> Forward<K> for ReLU`). A
/// block may implement it for several inputs.
///
/// Callers run a block with its `forward` method (written by
/// `#[derive(Module)]`), which runs hooks, and for a block with one
/// `Forward` impl also takes what [`FeedsInto`] its input (a plain `Tensor`
/// for a `Batch<20>`, checked at run time, naming the block). Generic code
/// calls [`run`]. Calling the trait method itself,
/// `Forward::forward(&block, &x)`, runs the block bare, as `net.forward(x)`
/// skips the hooks that `net(x)` runs in PyTorch.
///
/// ```
/// use blocks_core::nn::{Batch, Forward, Hooks, Linear, Module, ModuleExt, Visitor};
/// struct Double(Linear<3, 3>, Hooks);
/// impl Module for Double {
///     fn type_name(&self) -> String {
///         "Double".into()
///     }
///     fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
///         visitor.child("0", &self.0);
///         visitor.hooks(&self.1);
///     }
/// }
/// impl Forward<Batch<3>> for Double {
///     type Output = Batch<3>;
///     fn forward(&self, x: &Batch<3>) -> Batch<3> {
///         let h = self.0.forward(x);
///         self.0.forward(&h)
///     }
/// }
/// let y = blocks_core::nn::run(&Double(Linear::new(), Hooks::new()), &Batch::rand(2));
/// assert_eq!(y.shape(), vec![2, 3]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take `{Input}`",
    label = "cannot take `{Input}`",
    note = "a block takes what it implements `Forward` for: `impl Forward<Batch<20>> for Mlp {{ type Output = Batch<10>; fn forward(&self, x: &Batch<20>) -> Batch<10> {{ ... }} }}`, PyTorch's `def forward(self, X)`"
)]
pub trait Forward<Input>: crate::nn::Module {
    /// What the block gives.
    type Output;

    /// Runs the block (PyTorch's `forward`), without its hooks: callers
    /// use the block's `forward` method or [`run`].
    fn forward(&self, input: &Input) -> Self::Output;
}

/// The one door every block is run through: a block's `forward` method,
/// each block of a `Sequential`, a `DynSequential` and a `Box<dyn Block>`
/// all come here, and so do its forward hooks
/// ([`ForwardHooks`](crate::nn::ForwardHooks)). In generic code, the way to
/// run a `B: Forward<G>`.
///
/// ```
/// use blocks_core::nn::{run, Forward, Linear, ReLU};
/// use blocks_core::Tensor;
/// fn twice<B: Forward<Tensor, Output = Tensor> + 'static>(block: &B, x: &Tensor) -> Tensor {
///     run(block, &run(block, x))
/// }
/// assert_eq!(twice(&ReLU::default(), &Tensor::from_vec(vec![-1.0, 2.0], [2])).to_vec(), vec![0.0, 2.0]);
/// let y = run(&Linear::<4, 2>::new(), &Tensor::ones([3, 4]));
/// assert_eq!(y.shape(), vec![3, 2]);
/// ```
#[track_caller]
pub fn run<B, G>(block: &B, input: &G) -> B::Output
where
    B: Forward<G> + ?Sized + 'static,
    G: HookValue,
    B::Output: HookValue,
{
    match crate::nn::hooks::hooked(block, input) {
        None => block.forward(input),
        Some(run) => run.finish::<B, _>(input, block.forward(run.input(input))),
    }
}

/// Which inputs a block takes, for its `forward` method and the chain
/// check: [`OneInput`] (a block with one `Forward` impl: a user's block, fed
/// what [`FeedsInto`] that input, such as a plain `Tensor` for a
/// `Batch<20>`) or [`AnyInput`] (a block generic over what it takes, as
/// this crate's layers are, fed exactly what it implements `Forward` for).
/// `#[derive(Module)]` writes it (`AnyInput` with `#[module(keeps_width)]`,
/// `#[module(chain)]` or `#[module(any_input)]`; [`Typed`] with
/// `#[module(input = "...")]`).
///
/// ```
/// use blocks_core::nn::{AnyInput, ReLU, Takes};
/// fn inputs<B: Takes<Inputs = AnyInput>>(_: &B) {}
/// inputs(&ReLU::default());
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot run as a block",
    label = "cannot run as a block",
    note = "a block derives `Module` and implements `Forward` (PyTorch's `def forward(self, X)`); a hand-written `impl Module` also writes `impl Takes for {Self} {{ type Inputs = OneInput; }}`"
)]
pub trait Takes {
    /// [`OneInput`], [`AnyInput`] or [`Typed`].
    type Inputs;
}

/// The [`Takes`] of a block with one `Forward` impl, whose `forward`
/// method is also fed what [`FeedsInto`] its input.
pub enum OneInput {}

/// The [`Takes`] of a block generic over its input (or with several
/// `Forward` impls): its `forward` method takes exactly those inputs.
pub enum AnyInput {}

/// The [`Takes`] of a block generic over what it is fed whose own input is
/// `I` (the layers of this crate: `Typed<Batch<IN>>` for `Linear<IN, OUT>`):
/// its `forward` method takes what it implements `Forward` for, as with
/// [`AnyInput`], and the chain check words a mismatch in a chain's terms
/// ("but the block before it gives 256"). `#[module(input = "...")]` writes it.
///
/// ```
/// use blocks_core::nn::{Batch, Linear, Takes, Typed};
/// fn inputs<B: Takes<Inputs = Typed<Batch<2>>>>(_: &B) {}
/// inputs(&Linear::<2, 3>::new());
/// ```
///
/// `W` says which block a mismatch is blamed on: the block itself ([`Me`]),
/// or, for a container, its first block ([`By`]).
pub struct Typed<I: ?Sized, W: ?Sized = Me>(
    Never,
    std::marker::PhantomData<Box<I>>,
    std::marker::PhantomData<Box<W>>,
);

/// No value: a [`Typed`] is never made.
enum Never {}

/// In [`Typed`]: a mismatch is blamed on the block itself.
pub enum Me {}

/// In [`Typed`]: a mismatch is blamed on block `A` (a container's first).
pub struct By<A: ?Sized>(std::marker::PhantomData<fn() -> Box<A>>);

/// The block a [`Typed`] block `B`'s mismatch is blamed on.
///
/// ```
/// use blocks_core::nn::{Blamed, By, Linear, Me, ReLU};
/// fn blamed<W: Blamed<B, Block = X>, B, X>() {}
/// blamed::<Me, Linear<2, 2>, Linear<2, 2>>();
/// blamed::<By<Linear<2, 2>>, ReLU, Linear<2, 2>>();
/// ```
pub trait Blamed<B: ?Sized> {
    /// The block named in the error.
    type Block: ?Sized;
}

impl<B: ?Sized> Blamed<B> for Me {
    type Block = B;
}

impl<B: ?Sized, A: ?Sized> Blamed<B> for By<A> {
    type Block = A;
}

/// How a container whose first block is `A` takes inputs, when `A` takes
/// them as `Self` says: as `A` does, a mismatch blamed on `A`.
///
/// ```
/// use blocks_core::nn::{By, Firstly, Linear, Typed, Batch, Me};
/// fn inputs<M: Firstly<A, Inputs = X>, A, X>() {}
/// inputs::<Typed<Batch<2>, Me>, Linear<2, 3>, Typed<Batch<2>, By<Linear<2, 3>>>>();
/// ```
pub trait Firstly<A: ?Sized> {
    /// The container's [`Takes::Inputs`].
    type Inputs;
}

impl<A: ?Sized> Firstly<A> for AnyInput {
    type Inputs = AnyInput;
}

impl<A: ?Sized> Firstly<A> for OneInput {
    type Inputs = OneInput;
}

impl<A: ?Sized, N: ?Sized> Firstly<A> for Typed<N, Me> {
    type Inputs = Typed<N, By<A>>;
}

impl<A: ?Sized, N: ?Sized, X: ?Sized> Firstly<A> for Typed<N, By<X>> {
    type Inputs = Typed<N, By<X>>;
}

/// How a block's `forward` method runs it on a `G`, as `B`'s [`Takes`]
/// says: `G` converted to its one input `I` ([`OneInput`]), or `G` itself
/// ([`AnyInput`]); always through [`run`]. Never implemented by hand.
///
/// ```
/// use blocks_core::nn::{AnyInput, Batch, Call, Linear};
/// use blocks_core::Tensor;
/// let y = Call::<Tensor, Tensor, AnyInput>::call(&Linear::<4, 2>::new(), &Tensor::ones([3, 4]));
/// assert_eq!(y.shape(), vec![3, 2]);
/// ```
pub trait Call<G, I, M> {
    /// What the block gives.
    type Out;

    /// Runs the block on `input` through [`run`].
    fn call(&self, input: &G) -> Self::Out;
}

impl<B, G> Call<G, G, AnyInput> for B
where
    B: Forward<G> + 'static,
    G: HookValue,
    B::Output: HookValue,
{
    type Out = B::Output;

    #[track_caller]
    fn call(&self, input: &G) -> B::Output {
        run(self, input)
    }
}

/// A block with its own input `N`: the argument checked against `N` first
/// (the check's words name the block called), then run.
impl<B, G: FeedsInto<N, W::Block>, N: Holds, W: Blamed<B> + ?Sized> Call<G, G, Typed<N, W>> for B
where
    G::Checked: ThenRun<B, G>,
{
    type Out = <G::Checked as ThenRun<B, G>>::Out;

    #[track_caller]
    fn call(&self, input: &G) -> Self::Out {
        <G::Checked as ThenRun<B, G>>::run(self, input)
    }
}

/// Runs block `B` on a `G` once `Self`, a check, holds (is `()`): what a
/// block's `forward` method does after the argument's check.
///
/// ```
/// use blocks_core::nn::{Batch, Linear, ThenRun};
/// let y = <() as ThenRun<Linear<4, 2>, Batch<4>>>::run(&Linear::new(), &Batch::rand(3));
/// assert_eq!(y.shape(), vec![3, 2]);
/// ```
pub trait ThenRun<B: ?Sized, G> {
    /// What `B` gives.
    type Out;

    /// Runs `block` on `input` through [`run`].
    fn run(block: &B, input: &G) -> Self::Out;
}

impl<B, G> ThenRun<B, G> for ()
where
    B: Forward<G> + 'static,
    G: HookValue,
    B::Output: HookValue,
{
    type Out = B::Output;

    #[track_caller]
    fn run(block: &B, input: &G) -> B::Output {
        run(block, input)
    }
}

impl<B, G, I> Call<G, I, OneInput> for B
where
    B: Forward<I> + 'static,
    G: FeedsInto<I, B>,
    I: HookValue + Holds,
    B::Output: HookValue,
{
    type Out = B::Output;

    #[track_caller]
    fn call(&self, input: &G) -> B::Output {
        run(self, &input.feed_into())
    }
}

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

/// `Linear<128, 10>` rather than `blocks_core::nn::linear::Linear<128, 10>`.
pub(crate) fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    for c in full.chars() {
        match c {
            ':' => segment.clear(),
            '<' | '>' | ',' | ' ' | '(' | ')' | '[' | ']' | ';' | '&' => {
                out.push_str(&segment);
                segment.clear();
                out.push(c);
            }
            _ => segment.push(c),
        }
    }
    out.push_str(&segment);
    out
}
