//! `nn.Sequential` built at run time: blocks added one by one under names
//! chosen in code (`add_module`) or under their position (`push`), run in
//! order on plain tensors.

use std::ops::Index;
use std::sync::Arc;

use crate::Tensor;
use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::path::within_named;
use crate::nn::{Block, Module, Visitor};

/// Blocks run in order, chosen at run time, like an `nn.Sequential` filled
/// with `add_module(name, block)` or `append(block)`: d2l's `block2()`, which
/// adds `block 0` ... `block 3` in a loop.
///
/// It prints as `Sequential` (PyTorch's class) with each child under its
/// name, and its keys carry the names (`block 0.0.weight`). Widths are
/// checked when it runs, by each block, and a mismatch names the block's
/// path (`at block 0.block 1.2`). `net[1]` and `net["block 1"]` give a
/// child as `&dyn Block`, and its `downcast_ref::<T>()` gives it back
/// with its own type. For widths checked by the compiler, use
/// `sequential!`; the two nest in each other.
///
/// ```
/// use blocks_core::nn::{DynSequential, LazyLinear, Module, ModuleExt, ReLU, Sequential};
/// use blocks_core::Tensor;
/// let mut net = DynSequential::new();
/// for i in 0..2 {
///     net.add_module(format!("block {i}"), Sequential::new((LazyLinear::new(4), ReLU)));
/// }
/// net.push(LazyLinear::new(1));
/// assert_eq!(net.forward(&Tensor::rand([2, 3])).shape(), vec![2, 1]);
/// assert_eq!(net.state_dict().keys()[2], "block 1.0.weight");
/// assert!(net.to_string().starts_with("Sequential(\n  (block 0): Sequential(\n    (0): Linear("));
/// assert_eq!(net[2].type_name(), "Linear");
/// ```
#[derive(blocks_macros::Module, Default)]
#[module(crate = "crate", manual, input = "crate::Tensor")]
pub struct DynSequential {
    blocks: Vec<(Arc<str>, Box<dyn Block>)>,
    hooks: Hooks,
}

impl DynSequential {
    /// An empty container, like `nn.Sequential()`; it gives back its input
    /// until blocks are added.
    ///
    /// ```
    /// let net = blocks_core::nn::DynSequential::new();
    /// assert!(net.is_empty());
    /// assert_eq!(net.to_string(), "Sequential()");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `block` under `name`, like `net.add_module(name, block)`: it runs
    /// after the blocks already there, and its keys start with `name`. A
    /// block already under `name` is replaced in its place, as PyTorch does.
    ///
    /// Panics, with PyTorch's message, on an empty name or a name with a dot.
    ///
    /// ```
    /// use blocks_core::nn::{DynSequential, Linear, Module, ModuleExt, ReLU};
    /// let mut net = DynSequential::new();
    /// net.add_module("hidden", Linear::<4, 8>::new()).add_module("act", ReLU);
    /// let names: Vec<String> = net.named_children().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["hidden", "act"]);
    /// ```
    pub fn add_module(&mut self, name: impl Into<String>, block: impl Block) -> &mut Self {
        self.insert(name.into(), Box::new(block))
    }

    /// Adds `block` at the end under its position (`"0"`, `"1"`, ...), like
    /// `net.append(block)`.
    ///
    /// ```
    /// use blocks_core::nn::{DynLinear, DynSequential, Module, ModuleExt, ReLU};
    /// let mut net = DynSequential::new();
    /// net.push(DynLinear::new(4, 8)).push(ReLU);
    /// assert_eq!(net.named_parameters()[0].0, "0.weight");
    /// ```
    pub fn push(&mut self, block: impl Block) -> &mut Self {
        let name = self.blocks.len().to_string();
        self.insert(name, Box::new(block))
    }

    fn insert(&mut self, name: String, block: Box<dyn Block>) -> &mut Self {
        if name.is_empty() {
            panic!("module name can't be empty string \"\"");
        }
        if name.contains('.') {
            panic!("module name can't contain \".\", got: {name}");
        }
        match self.blocks.iter_mut().find(|(key, _)| **key == *name) {
            Some(entry) => entry.1 = block,
            None => self.blocks.push((name.into(), block)),
        }
        self
    }

    /// The number of blocks, like `len(net)`.
    ///
    /// ```
    /// let mut net = blocks_core::nn::DynSequential::new();
    /// net.push(blocks_core::nn::ReLU);
    /// assert_eq!(net.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    /// Whether there are no blocks.
    ///
    /// ```
    /// assert!(blocks_core::nn::DynSequential::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// The block at `index` (PyTorch's `net[index]`), or `None` past the end.
    ///
    /// ```
    /// use blocks_core::nn::{DynSequential, ReLU};
    /// let mut net = DynSequential::new();
    /// net.add_module("act", ReLU);
    /// assert_eq!(net.child(0).unwrap().type_name(), "ReLU");
    /// assert!(net.child(1).is_none());
    /// ```
    pub fn child(&self, index: usize) -> Option<&dyn Block> {
        self.blocks.get(index).map(|(_, block)| &**block)
    }

    /// The block added under `name` (PyTorch's `getattr(net, name)`).
    ///
    /// ```
    /// use blocks_core::nn::{DynSequential, LazyLinear};
    /// let mut net = DynSequential::new();
    /// net.add_module("block 0", LazyLinear::new(3));
    /// let layer = net.get("block 0").unwrap().downcast_ref::<LazyLinear>().unwrap();
    /// assert_eq!(layer.out_features(), 3);
    /// assert!(net.get("block 1").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&dyn Block> {
        self.blocks.iter().find(|(key, _)| **key == *name).map(|(_, block)| &**block)
    }

    /// The names and blocks, in order.
    ///
    /// ```
    /// use blocks_core::nn::{DynSequential, ReLU};
    /// let mut net = DynSequential::new();
    /// net.add_module("a", ReLU).push(ReLU);
    /// let names: Vec<&str> = net.iter().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["a", "1"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &dyn Block)> {
        self.blocks.iter().map(|(name, block)| (&**name, &**block))
    }
}

/// Takes a plain tensor, or a typed one as a plain one.
impl<Fed: crate::nn::FeedsInto<Tensor, Self>> Forward<Fed> for DynSequential {
    type Output = crate::nn::Checked<Fed, Tensor, Self, Tensor>;

    #[track_caller]
    fn forward(&self, input: &Fed) -> Tensor {
        let mut x = input.feed_into();
        for (name, block) in &self.blocks {
            let _step = within_named(name);
            x = block.forward_tensor(&x);
        }
        x
    }
}

#[diagnostic::do_not_recommend]
impl Module for DynSequential {
    fn type_name(&self) -> String {
        "Sequential".into()
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        for (name, block) in &self.blocks {
            visitor.child(name, block.as_dyn());
        }
        visitor.hooks(&self.hooks);
    }
}

/// `net[i]`: the block at position `i`, like indexing an `nn.Sequential`;
/// panics past the end, as PyTorch raises `IndexError`.
///
/// ```
/// use blocks_core::nn::{DynSequential, LazyLinear, ReLU};
/// let mut net = DynSequential::new();
/// net.add_module("block 0", LazyLinear::new(8)).add_module("block 1", ReLU);
/// assert_eq!(net[1].type_name(), "ReLU");
/// ```
impl Index<usize> for DynSequential {
    type Output = dyn Block;

    fn index(&self, index: usize) -> &dyn Block {
        self.child(index).unwrap_or_else(|| {
            panic!("index {index} is out of range: this Sequential has {} blocks", self.len())
        })
    }
}

/// `net["block 1"]`: the block added under that name; panics, listing the
/// names, if there is none.
///
/// ```
/// use blocks_core::nn::{DynSequential, LazyLinear};
/// let mut net = DynSequential::new();
/// net.add_module("block 0", LazyLinear::new(8));
/// assert_eq!(net["block 0"].type_name(), "LazyLinear");
/// ```
impl Index<&str> for DynSequential {
    type Output = dyn Block;

    fn index(&self, name: &str) -> &dyn Block {
        self.get(name).unwrap_or_else(|| {
            let names: Vec<String> = self.blocks.iter().map(|(key, _)| format!("{key:?}")).collect();
            panic!("this Sequential has no block named {name:?}; its blocks are [{}]", names.join(", "))
        })
    }
}

/// Boxed blocks in order, under their positions, like `nn.Sequential(*layers)`.
///
/// ```
/// use blocks_core::nn::{Block, DynLinear, DynSequential, ReLU};
/// let layers: Vec<Box<dyn Block>> = vec![Box::new(DynLinear::new(2, 4)), Box::new(ReLU)];
/// let net: DynSequential = layers.into_iter().collect();
/// assert_eq!(net.len(), 2);
/// ```
impl FromIterator<Box<dyn Block>> for DynSequential {
    fn from_iter<I: IntoIterator<Item = Box<dyn Block>>>(blocks: I) -> Self {
        let mut net = DynSequential::new();
        for block in blocks {
            let name = net.len().to_string();
            net.insert(name, block);
        }
        net
    }
}
