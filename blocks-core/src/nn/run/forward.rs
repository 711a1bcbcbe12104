//! Running a block: the one trait a block implements ([`Forward`]) and the
//! one door every run goes through ([`run`]); how a value of one kind is fed
//! to a block taking another ([`FeedsInto`]) is in `feeds_into.rs`.
//!
//! A block is its struct, its `impl Forward<Input>` (PyTorch's `def
//! forward`; one impl per kind of input it takes, as dfdx's `Module<Input>`
//! and candle's `Module`) and its repr. `#[derive(Module)]` writes the rest,
//! including the inherent `forward` every caller uses, which goes through
//! [`run`] (hooks included): `mlp.forward(&x)`, `sequential![..]` and
//! `Box<dyn Block>` all run the same `Forward::forward`.

use crate::nn::hook_value::HookValue;
use crate::nn::{FeedsInto, Holds};

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
