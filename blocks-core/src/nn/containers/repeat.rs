//! `Repeat<N, B>`: `N` blocks of one type that each give what they take,
//! run in order (a ResNet stage's residual blocks, VGG's repeated 3x3
//! convolutions), typed at its edges: it takes and gives `B`'s input kind.
//! PyTorch writes it `nn.Sequential(*[make() for _ in range(N)])`, and so it
//! prints and keys (`0.conv1.weight`, `1.conv1.weight`, ...).

use crate::Element;
use crate::nn::chain::{FirstInput, GivesTo};
use crate::nn::path::within;
use crate::nn::{
    AnyInput, Call, DeepCopy, Forward, HookValue, Hooks, MapElement, Mapper, Module, OneInput, Takes, Typed,
    Visitor, run,
};

/// What block `B`, taking `I`, gives when fed `G` (first: what a chain is
/// first given).
type Gives<B, I, G = FirstInput> = <G as GivesTo<B, I>>::Out;

/// The input block `B` names as its own ([`OwnInput`]), when it takes `I`.
type Own<B, I> = <<B as Takes>::Inputs as OwnInput<I, Gives<B, I>>>::Input;

/// The check that `B` gives back what it takes (its own input), as a type.
type Kept<B, I> = <B as KeepsKind<Own<B, I>, Gives<B, I>>>::Checked;

/// What `B` gives when fed what it gave, once it gives back what it takes.
type Again<B, I, J> = <Kept<B, I> as GivesAgain<Gives<B, I>, B, J>>::Out;

/// The check that `B` gives back what it gave, as a type.
type KeptAgain<B, I, J> = <B as KeepsKind<Gives<B, I>, Again<B, I, J>>>::Checked;

/// `R`, once block `B` (taking `I`, then `J`) gives back what it takes and
/// then what it gave: unknown when a check fails, so that nothing after it
/// (a `forward` on the result) is reported again.
type Repeated<R, B, I, J> = <Kept<B, I> as Held<<KeptAgain<B, I, J> as Held<R>>::Out>>::Out;

/// `N` blocks of type `B` run in order, each given what the one before it
/// gave, like `nn.Sequential(*[make() for _ in range(N)])`: keys `0.…` to
/// `N-1.…`, printed as that `Sequential`. `B` must give what it takes
/// (`Images<C>` to `Images<C>`, `Batch<N>` to `Batch<N>`), which the
/// compiler checks, naming `B` and both kinds; the container takes and
/// gives that kind, so the chain around it is checked as for any block.
///
/// ```
/// use blocks_core::nn::{Images, Module, ModuleExt, Repeat};
/// use blocks_core::nn::Conv2d;
/// use blocks_core::Tensor;
/// let stage = Repeat::<2, Conv2d<4, 4, 3>>::new(|_| Conv2d::new().padding(1));
/// let y: Images<4> = stage.forward(&Images::new(Tensor::rand([1, 4, 5, 5])));
/// assert_eq!(y.shape(), vec![1, 4, 5, 5]);
/// let keys: Vec<String> = stage.named_parameters().into_iter().map(|(key, _)| key).collect();
/// assert_eq!(keys, ["0.weight", "0.bias", "1.weight", "1.bias"]);
/// assert!(stage.to_string().starts_with("Sequential(\n  (0): Conv2d(4, 4, kernel_size=(3, 3)"));
/// ```
#[derive(Clone)]
pub struct Repeat<const N: usize, B> {
    blocks: [B; N],
    hooks: Hooks,
}

impl<const N: usize, B> Repeat<N, B> {
    /// The `N` blocks `make(0)`, ..., `make(N - 1)`, in order.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Repeat};
    /// let layers = Repeat::<3, Linear<8, 8>>::new(|_| Linear::new());
    /// assert_eq!(layers.blocks().len(), 3);
    /// ```
    ///
    /// A block that does not give what it takes is a compile error here,
    /// naming the block and both kinds (and nothing after it is reported
    /// again: the result's type is known only once the check holds).
    pub fn new<I, J>(make: impl FnMut(usize) -> B) -> Repeated<Self, B, I, J>
    where
        FirstInput: GivesTo<B, I>,
        B: Takes,
        <B as Takes>::Inputs: OwnInput<I, Gives<B, I>>,
        B: KeepsKind<Own<B, I>, Gives<B, I>>,
        Kept<B, I>: GivesAgain<Gives<B, I>, B, J> + Held<<KeptAgain<B, I, J> as Held<Self>>::Out>,
        B: KeepsKind<Gives<B, I>, Again<B, I, J>>,
        KeptAgain<B, I, J>: Held<Self>,
    {
        const { assert!(N > 0, "a Repeat holds at least one block") };
        let repeat = Repeat { blocks: std::array::from_fn(make), hooks: Hooks::new() };
        <Kept<B, I> as Held<_>>::held(<KeptAgain<B, I, J> as Held<Self>>::held(repeat))
    }

    /// The blocks, in order (`stage.blocks()[1]` is PyTorch's `stage[1]`).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Repeat};
    /// let layers = Repeat::<2, Linear<2, 2>>::new(|_| Linear::new());
    /// assert_eq!(layers.blocks()[1].weight().shape(), vec![2, 2]);
    /// ```
    pub fn blocks(&self) -> &[B; N] {
        &self.blocks
    }
}

/// The check that block `Self` gives back what it takes, so that it can
/// be repeated: implemented only when `GIVES` is `TAKES`.
///
/// ```
/// use blocks_core::nn::{Batch, KeepsKind, Linear};
/// fn repeatable<B: KeepsKind<Batch<4>, Batch<4>>>() {}
/// repeatable::<Linear<4, 4>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be repeated: it takes `{TAKES}` but gives `{GIVES}`",
    label = "takes `{TAKES}` but gives `{GIVES}`",
    note = "each block of a `Repeat` is given what the one before it gave: repeat a block that gives what it takes, and put the block that changes the size before the `Repeat`"
)]
pub trait KeepsKind<TAKES, GIVES> {
    /// `()`: the check as a type, which [`Repeat::new`]'s result goes through.
    type Checked;
}

impl<B: ?Sized, T> KeepsKind<T, T> for B {
    type Checked = ();
}

/// The input a block names as its own, as its [`Takes`] (`Self`) says, when
/// it takes `I` and then gives `O`: `N` for a layer taking `Typed<N>`, `I`
/// for a block with one `Forward` impl, and for a block generic over its
/// input, what it gave (checked by feeding it that next).
///
/// ```
/// use blocks_core::__private::OwnInput;
/// use blocks_core::nn::{AnyInput, Batch};
/// fn own<M: OwnInput<I, O, Input = X>, I, O, X>() {}
/// own::<AnyInput, (), Batch<3>, Batch<3>>();
/// ```
pub trait OwnInput<I, O> {
    /// The block's own input.
    type Input;
}

impl<I, O> OwnInput<I, O> for AnyInput {
    type Input = O;
}

impl<I, O> OwnInput<I, O> for OneInput {
    type Input = I;
}

impl<I, O, N, W: ?Sized> OwnInput<I, O> for Typed<N, W> {
    type Input = N;
}

/// What block `B`, taking `J`, gives when fed `G` (what it gave the first
/// time), once `Self`, the check that it gives back what it takes, holds
/// (is `()`): a block that failed that check is not reported again here.
///
/// ```
/// use blocks_core::__private::GivesAgain;
/// use blocks_core::nn::{Batch, Linear};
/// fn again<C: GivesAgain<G, B, G, Out = O>, G, B, O>() {}
/// again::<(), Batch<4>, Linear<4, 4>, Batch<4>>();
/// ```
pub trait GivesAgain<G, B: ?Sized, J> {
    /// What `B` gives.
    type Out;
}

impl<G: GivesTo<B, J>, B: ?Sized, J> GivesAgain<G, B, J> for () {
    type Out = G::Out;
}

/// `T`, once `Self`, a check, holds (is `()`); unknown otherwise.
///
/// ```
/// use blocks_core::__private::Held;
/// assert_eq!(<() as Held<u8>>::held(3), 3);
/// ```
pub trait Held<T> {
    /// `T`.
    type Out;

    /// `value`, as itself.
    fn held(value: T) -> Self::Out;
}

impl<T> Held<T> for () {
    type Out = T;

    fn held(value: T) -> T {
        value
    }
}

/// Takes what its block takes; each block after the first is given what
/// the one before it gave.
impl<const N: usize, B, G> Forward<G> for Repeat<N, B>
where
    B: Forward<G> + Forward<Out<B, G>, Output = Out<B, G>> + 'static,
    G: HookValue,
    Out<B, G>: HookValue,
    Self: Module,
{
    type Output = Out<B, G>;

    #[track_caller]
    fn forward(&self, input: &G) -> Out<B, G> {
        let (first, rest) = self.blocks.split_first().expect("a Repeat has at least one block");
        let mut x = {
            let _step = within(0);
            run(first, input)
        };
        for (index, block) in rest.iter().enumerate() {
            let _step = within(index + 1);
            x = run(block, &x);
        }
        x
    }
}

/// What `B` gives for `G`.
type Out<B, G> = <B as Forward<G>>::Output;

/// A `Repeat` takes inputs as its block does.
#[diagnostic::do_not_recommend]
impl<const N: usize, B: Takes> Takes for Repeat<N, B>
where
    B::Inputs: crate::nn::Firstly<B>,
{
    type Inputs = <B::Inputs as crate::nn::Firstly<B>>::Inputs;
}

#[diagnostic::do_not_recommend]
impl<const N: usize, B: Module> Module for Repeat<N, B> {
    fn type_name(&self) -> String {
        "Sequential".into()
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        for (index, block) in self.blocks.iter().enumerate() {
            visitor.child(&index.to_string(), block);
        }
        visitor.hooks(&self.hooks);
    }
}

impl<const N: usize, B: DeepCopy> DeepCopy for Repeat<N, B> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        let mut blocks = self.blocks.iter();
        Repeat {
            blocks: std::array::from_fn(|_| blocks.next().expect("N blocks").deep_copy_with(mapper)),
            hooks: self.hooks.clone(),
        }
    }
}

impl<const N: usize, B: MapElement> MapElement for Repeat<N, B> {
    type As<F: Element> = Repeat<N, B::As<F>>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> Self::As<F> {
        let mut blocks = self.blocks.iter();
        Repeat {
            blocks: std::array::from_fn(|_| blocks.next().expect("N blocks").map_element::<F>(mapper)),
            hooks: self.hooks.clone(),
        }
    }
}

impl<const N: usize, B> Repeat<N, B> {
    /// Runs the `N` blocks in order on `B`'s input (checked by the compiler),
    /// or on a plain tensor (checked at run time by the first block).
    ///
    /// ```
    /// use blocks_core::nn::{Batch, Linear, Repeat};
    /// let layers = Repeat::<2, Linear<3, 3>>::new(|_| Linear::new());
    /// let y: Batch<3> = layers.forward(&blocks_core::Tensor::rand([4, 3]));
    /// assert_eq!(y.shape(), vec![4, 3]);
    /// ```
    #[track_caller]
    pub fn forward<G, I>(&self, input: &G) -> <Self as Call<G, I, <Self as Takes>::Inputs>>::Out
    where
        Self: Takes + Call<G, I, <Self as Takes>::Inputs>,
    {
        self.call(input)
    }
}

impl<const N: usize, B: Module> std::fmt::Display for Repeat<N, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        crate::nn::fmt_module(self, f)
    }
}
