//! `nn.Sequential`: children run in order, each fed what the one before it
//! gave. The container is one generic type over its [`Entries`] (a tuple of
//! blocks keyed `0`, `1`, ...; [`Chunks`] of tuples past twelve blocks; or
//! the named entries `sequential![hidden: ..]` makes), so keys, printout,
//! hooks and the run are written once here.

use std::fmt;
use std::ops::Deref;

use crate::nn::forward::{Call, Forward, Takes, run};
use crate::nn::{HookValue, Hooks, Module, Visitor};

/// Blocks run in order, like `nn.Sequential`; usually made with `sequential!`,
/// which also has the compiler check every width and channel count along the
/// chain. Each block runs through [`run`](crate::nn::run).
///
/// The blocks are the tuple in field `0`, so `net.0.2` is the third block,
/// with its own type (PyTorch's `net[2]`). Past twelve blocks the tuple is
/// split into [`Chunks`] of twelve (see there for the field path; the keys
/// stay `0`, `1`, ... `29`); `sequential![hidden: .., out: ..]` holds named
/// entries, reached as `net.hidden` (PyTorch's `OrderedDict` form).
///
/// ```
/// use blocks_core::nn::{Linear, Module, ModuleExt, ReLU, Sequential};
/// use blocks_core::Tensor;
/// let net = Sequential::new((Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()));
/// let y = net.forward(&Tensor::rand([2, 20]));
/// assert_eq!(y.shape(), vec![2, 10]);
/// assert_eq!(net.0.2.weight().shape(), vec![10, 256]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Sequential<T>(pub T, pub(crate) Hooks);

impl<T> Sequential<T> {
    /// The blocks of `tuple`, in order.
    ///
    /// ```
    /// let net = blocks_core::nn::Sequential::new((blocks_core::nn::ReLU,));
    /// assert_eq!(net.to_string(), "Sequential(\n  (0): ReLU()\n)");
    /// ```
    pub fn new(tuple: T) -> Self {
        Sequential(tuple, Hooks::new())
    }

    /// Runs the blocks in order on `input`: a `Tensor`, a `Batch<N>` or
    /// whatever the first block takes.
    ///
    /// ```
    /// use blocks_core::nn::{Batch, Linear, ReLU, Sequential};
    /// let net = Sequential::new((Linear::<4, 3>::new(), ReLU));
    /// let y: Batch<3> = net.forward(&Batch::<4>::rand(5));
    /// assert_eq!(y.shape(), vec![5, 3]);
    /// ```
    #[track_caller]
    pub fn forward<G, I>(&self, input: &G) -> <Self as Call<G, I, <Self as Takes>::Inputs>>::Out
    where
        Self: Takes + Call<G, I, <Self as Takes>::Inputs>,
    {
        self.call(input)
    }
}

impl<T: BlockEntries> Sequential<T> {
    /// The blocks in order, each as a [`Block`](crate::nn::Block) that runs on a
    /// plain tensor: PyTorch's `for layer in net:`, as d2l walks a network
    /// layer by layer printing each output's shape.
    ///
    /// ```
    /// use blocks_core::nn::{Block, Linear, Module, ModuleExt, ReLU, Sequential};
    /// use blocks_core::Tensor;
    /// let net = Sequential::new((Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()));
    /// let mut x = Tensor::rand([2, 20]);
    /// let mut shapes = Vec::new();
    /// for layer in net.iter() {
    ///     x = layer.forward_tensor(&x);
    ///     shapes.push(format!("{} output shape: {:?}", layer.type_name(), x.shape()));
    /// }
    /// assert_eq!(shapes, ["Linear output shape: [2, 256]", "ReLU output shape: [2, 256]", "Linear output shape: [2, 10]"]);
    /// ```
    pub fn iter(&self) -> std::vec::IntoIter<&dyn crate::nn::Block> {
        self.0.blocks().into_iter()
    }
}

/// What a `Sequential` holds: blocks reported as its children, in order.
/// Implemented for tuples of 1 to 12 blocks, for [`Chunks`], and by
/// `sequential![name: block, ..]` for its named entries; never by hand.
///
/// ```
/// use blocks_core::nn::{Entries, Linear, ReLU};
/// assert_eq!(<(Linear<2, 2>, ReLU) as Entries>::LEN, 2);
/// ```
pub trait Entries: Send + Sync + 'static {
    /// How many blocks.
    const LEN: usize;

    /// Reports each block as a child: under its position counted from
    /// `first`, or under its name.
    fn visit_entries<'m>(&'m self, first: usize, visitor: &mut dyn Visitor<'m>);
}

/// Running the entries in order on a `G`: each block fed what the one
/// before it gave, which the compiler checks where the Sequential is run
/// (`sequential!` checks it where it is made, in the chain's words).
/// Implemented with [`Entries`]; never by hand.
///
/// ```
/// use blocks_core::nn::{Batch, Chain, Linear, ReLU};
/// let y = (Linear::<2, 3>::new(), ReLU).run_from(0, &Batch::<2>::rand(4));
/// assert_eq!(y.shape(), vec![4, 3]);
/// ```
pub trait Chain<G> {
    /// What the last block gives.
    type Out;

    /// Runs the blocks in order, the first counted as position `first` in
    /// the path of a run-time error.
    fn run_from(&self, first: usize, input: &G) -> Self::Out;
}

/// Entries that are each a [`Block`](crate::nn::Block) (a block that runs on a
/// plain tensor): what [`Sequential::iter`] needs. Implemented with
/// [`Entries`] for tuples, [`Chunks`](crate::nn::Chunks) and named entries
/// whose blocks all are; never by hand.
///
/// ```
/// use blocks_core::nn::{BlockEntries, Linear, ReLU};
/// let entries = (Linear::<2, 3>::new(), ReLU);
/// assert_eq!(entries.blocks().len(), 2);
/// ```
pub trait BlockEntries: Entries {
    /// The blocks, in order.
    fn blocks(&self) -> Vec<&dyn crate::nn::Block>;
}

/// Entries reached by name (`net.hidden`): the entries of
/// `sequential![hidden: .., out: ..]`, the only maker of them (examples in
/// `blocks::sequential`).
pub trait NamedEntries: Entries {}

#[diagnostic::do_not_recommend]
impl<T: Entries> Module for Sequential<T> {
    fn type_name(&self) -> String {
        "Sequential".into()
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        self.0.visit_entries(0, visitor);
        visitor.hooks(&self.1);
    }
}

impl<T: Entries> fmt::Display for Sequential<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::nn::repr::fmt_module(self, f)
    }
}

/// A `Sequential` takes what its first block takes, and gives what its
/// last gives; each block is run through [`run`] with its key in the path.
impl<T, G> Forward<G> for Sequential<T>
where
    T: Chain<G> + Entries,
{
    type Output = T::Out;

    #[track_caller]
    fn forward(&self, given: &G) -> T::Out {
        self.0.run_from(0, given)
    }
}

/// A `Sequential` takes inputs as its first block does (see [`Takes`]).
#[diagnostic::do_not_recommend]
impl<T: FirstTakes> Takes for Sequential<T> {
    type Inputs = T::Inputs;
}

/// How the first block of a `Sequential`'s entries takes its inputs: its
/// [`Takes`]. Implemented with [`Entries`]; never by hand.
///
/// ```
/// use blocks_core::nn::{AnyInput, FirstTakes, Linear, ReLU};
/// fn inputs<T: FirstTakes<Inputs = AnyInput>>() {}
/// inputs::<(ReLU, Linear<4, 8>)>();
/// ```
pub trait FirstTakes {
    /// The first block's [`Takes::Inputs`].
    type Inputs;
}

/// `Self` (the first block's [`Takes::Inputs`]) once the others' (`T`) are
/// known too: an error type when one of them is (a
/// `#[module(keeps_width)]` block without its forward, reported where it
/// is defined), so that a `forward` on the `Sequential` is not reported
/// again.
///
/// ```
/// use blocks_core::nn::{AlongWith, AnyInput, OneInput};
/// fn inputs<M: AlongWith<T, Out = M>, T>() {}
/// inputs::<AnyInput, (OneInput,)>();
/// ```
pub trait AlongWith<T> {
    /// `Self`.
    type Out;
}

impl<M, T> AlongWith<T> for M {
    type Out = M;
}

/// `net.hidden`: a named entry of `sequential![hidden: .., out: ..]`, with
/// its own type (PyTorch's `net.hidden`); examples in `blocks::sequential`.
impl<T: NamedEntries> Deref for Sequential<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Runs the entry `key` of `sequential![key: block, ..]` on `input`, with
/// `key` in the path of a run-time error: what the generated
/// [`Chain`] of named entries calls for each block.
///
/// ```
/// use blocks_core::__private::run_entry;
/// use blocks_core::nn::Linear;
/// use blocks_core::Tensor;
/// assert_eq!(run_entry(&Linear::<3, 2>::new(), "hidden", &Tensor::ones([1, 3])).shape(), vec![1, 2]);
/// ```
#[track_caller]
pub fn run_entry<B, G>(block: &B, key: &'static str, input: &G) -> B::Output
where
    B: Forward<G> + ?Sized + 'static,
    G: HookValue,
    B::Output: HookValue,
{
    let _step = crate::nn::path::within_key(key);
    run(block, input)
}
