//! `Repeat<N, B>`: `N` blocks of one type that each give what they take,
//! run in order (a ResNet stage's residual blocks, VGG's repeated 3x3
//! convolutions), typed at its edges: it takes and gives `B`'s input kind.
//! PyTorch writes it `nn.Sequential(*[make() for _ in range(N)])`, and so it
//! prints and keys (`0.conv1.weight`, `1.conv1.weight`, ...).

use crate::Element;
use crate::nn::chain::Known;
use crate::nn::chain::{FirstInput, GivesTo};
use crate::nn::path::within;
use crate::nn::{Call, DeepCopy, Forward, HookValue, Hooks, MapElement, Mapper, Module, Takes, Visitor, run};

/// What block `B`, taking `I`, gives when fed `G` (first: what a chain is
/// first given).
type Gives<B, I, G = FirstInput> = <G as GivesTo<B, I>>::Out;

/// `R`, once block `B` (taking `I`, then `J`) gives back what it gave.
type Repeated<R, B, I, J> =
    <<Gives<B, J, Gives<B, I>> as KeepsKind<Gives<B, I>, B>>::Checked as Known<R>>::Net;

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
        Gives<B, I>: GivesTo<B, J>,
        Gives<B, J, Gives<B, I>>: KeepsKind<Gives<B, I>, B>,
    {
        const { assert!(N > 0, "a Repeat holds at least one block") };
        <<Gives<B, J, Gives<B, I>> as KeepsKind<Gives<B, I>, B>>::Checked as Known<Self>>::pass(Repeat {
            blocks: std::array::from_fn(make),
            hooks: Hooks::new(),
        })
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

/// The check that block `B` gives back what it gives, so that it can be
/// repeated: `Self` is what it gives when given `TAKES` (what it gave
/// before); implemented only when that is `TAKES` again.
///
/// ```
/// use blocks_core::nn::{Batch, KeepsKind, Linear};
/// fn repeatable<G: KeepsKind<Batch<4>, Linear<4, 4>>>() {}
/// repeatable::<Batch<4>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{B}` cannot be repeated: given `{TAKES}`, it gives `{Self}`",
    label = "given `{TAKES}`, it gives `{Self}`",
    note = "each block of a `Repeat` is given what the one before it gave: repeat a block that gives what it takes, and put the block that changes the size before the `Repeat`"
)]
pub trait KeepsKind<TAKES, B: ?Sized> {
    /// `()`: the check as a type, which [`Repeat::new`]'s result goes through.
    type Checked;
}

impl<T, B: ?Sized> KeepsKind<T, B> for T {
    type Checked = ();
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
