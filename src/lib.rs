//! blocks: PyTorch's layers and blocks for Rust, with the mistakes PyTorch
//! reports at run time (a layer fed the wrong width, a field that never got
//! registered) turned into compile errors.
//!
//! ```
//! use blocks::prelude::*;
//!
//! #[derive(Module)]
//! #[module(name = "MLP")]
//! struct Mlp {
//!     hidden: Linear<20, 256>,
//!     out: Linear<256, 10>,
//! }
//!
//! impl Forward<Batch<20>> for Mlp {
//!     type Output = Batch<10>;
//!     fn forward(&self, x: &Batch<20>) -> Batch<10> {
//!         self.out.forward(&self.hidden.forward(x).relu())
//!     }
//! }
//!
//! let net = Mlp { hidden: Linear::new(), out: Linear::new() };
//! assert_eq!(net.forward(&Batch::rand(2)).shape(), vec![2, 10]);
//! assert_eq!(net.named_parameters()[2].0, "out.weight");
//! ```

#![forbid(unsafe_code)]

// Generated code names `::blocks::...`; this makes that path work inside
// the facade too.
extern crate self as blocks;

pub use blocks_core::*;

/// `#[derive(Module)]`: makes a struct a block, like subclassing `nn.Module`.
///
/// Child blocks, `Parameter`s and `Option`s of them are registered by type,
/// in field order; `Vec<M>` and `[M; N]` are `nn.ModuleList`s; a `Tensor`
/// saved with the model is `#[module(buffer)]`, plain data `#[module(skip)]`.
/// `#[module(rename = "...")]` sets a field's key, `#[module(name = "...")]`
/// the class name printed by the repr.
///
/// ```
/// use blocks::prelude::*;
///
/// #[derive(Module)]
/// #[module(name = "NestMLP")]
/// struct NestMlp {
///     net: Sequential<(Linear<20, 64>, ReLU)>,
///     #[module(rename = "linear")]
///     out: Linear<64, 16>,
///     #[module(buffer)]
///     scale: Tensor,
///     #[module(skip)]
///     calls: usize,
/// }
///
/// let net = NestMlp {
///     net: sequential![Linear::new(), ReLU],
///     out: Linear::new(),
///     scale: Tensor::ones([1]),
///     calls: 0,
/// };
/// let names: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["net.0.weight", "net.0.bias", "linear.weight", "linear.bias"]);
/// assert_eq!(net.named_buffers()[0].0, "scale");
/// assert!(net.to_string().starts_with("NestMLP(\n  (net): Sequential(\n    (0): Linear(in_features=20"));
/// ```
///
/// The derive also gives the block a `forward` method that takes what its
/// `impl Forward` takes or a plain `Tensor` (its width checked at run time,
/// the panic naming the block), like PyTorch's `net(X)`.
///
/// `#[module(keeps_width)]` on the struct makes a custom layer whose
/// forward keeps the width (d2l's `CenteredLayer`): its forward goes from a
/// plain `Tensor` to a `Tensor`, and the layer takes a `Tensor`, a
/// `Batch<N>`, `Images<C>` or a `Scalar` and gives back the same kind, so it
/// fits anywhere in a `sequential!` chain:
///
/// ```
/// use blocks::prelude::*;
///
/// #[derive(Module)]
/// #[module(keeps_width)]
/// struct CenteredLayer;
///
/// impl Forward<Tensor> for CenteredLayer {
///     type Output = Tensor;
///     fn forward(&self, x: &Tensor) -> Tensor {
///         x - &x.mean()
///     }
/// }
///
/// let y = CenteredLayer.forward(&Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0], [5]));
/// assert_eq!(y.to_string(), "tensor([-2., -1.,  0.,  1.,  2.])");
/// let net = sequential![Linear::<8, 128>::new(), CenteredLayer, Linear::<128, 10>::new()];
/// assert_eq!(net.forward(&Batch::<8>::rand(4)).shape(), vec![4, 10]);
/// ```
///
/// `#[module(chain)]` on the struct writes its `Forward`: its block fields
/// run in declaration order, like `nn.Sequential(OrderedDict(...))` with
/// the field names as keys (a tuple struct's keys are `0`, `1`, ..., as
/// `nn.Sequential`'s). Buffers, `#[module(skip)]` data and the
/// `TrainingFlag` are not steps; a `Parameter`, an `Option` or a
/// `#[module(flatten)]` field, type parameters (const ones are fine) and a
/// struct without blocks are compile errors. `Input` is what the first field
/// takes (a plain `Tensor` for a `Sequential` or a width-keeping block),
/// `Output` what the last one gives, and a field that does not take what
/// the one before it gives is a compile error on that field:
///
/// ```
/// use blocks::prelude::*;
///
/// #[derive(Module)]
/// #[module(chain, name = "MLP")]
/// struct Mlp {
///     hidden: Linear<20, 256>,
///     act: ReLU,
///     out: Linear<256, 10>,
/// }
///
/// let net = Mlp { hidden: Linear::new(), act: ReLU, out: Linear::new() };
/// let y: Batch<10> = net.forward(&Tensor::rand([2, 20]));
/// assert_eq!(net.named_parameters()[2].0, "out.weight");
/// assert_eq!(
///     net.to_string(),
///     "MLP(\n  (hidden): Linear(in_features=20, out_features=256, bias=True)\n  (act): ReLU()\n  (out): Linear(in_features=256, out_features=10, bias=True)\n)"
/// );
/// ```
///
/// ```compile_fail,E0277
/// use blocks::prelude::*;
///
/// #[derive(Module)]
/// #[module(chain)]
/// struct Mlp {
///     hidden: Linear<20, 256>,
///     // error: `Linear<128, 10>` takes 128 input features, but the block before it gives 256
///     out: Linear<128, 10>,
/// }
/// ```
///
/// `#[module(flatten)]` on a `Vec` or an array of blocks registers its
/// blocks at the struct's own level, keyed `0`, `1`, ..., as PyTorch's
/// `self.add_module(str(idx), module)` does in d2l's `MySequential` (without
/// it, a field `blocks` is an `nn.ModuleList` and its keys are
/// `blocks.0.weight`). One such field per struct, and no other field keyed
/// by a number, so keys never collide:
///
/// ```
/// use blocks::prelude::*;
///
/// #[derive(Module, Default)]
/// struct MySequential {
///     #[module(flatten)]
///     blocks: Vec<Box<dyn Block>>,
/// }
///
/// let net = MySequential { blocks: vec![Box::new(Linear::<20, 256>::new()), Box::new(ReLU)] };
/// assert_eq!(net.named_parameters()[1].0, "0.bias");
/// assert!(net.to_string().starts_with("MySequential(\n  (0): Linear("));
/// ```
pub use blocks_macros::Module;

/// `sequential![a, b, c]`: blocks run in order, like `nn.Sequential(a, b, c)`;
/// the compiler checks that each block takes what the one before it gives.
///
/// ```
/// use blocks::prelude::*;
/// let net = sequential![Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()];
/// let y = net.forward(&Tensor::rand([2, 20]));
/// assert_eq!(y.shape(), vec![2, 10]);
/// ```
///
/// Any number of blocks; past twelve, block `k` with its own type is at a
/// longer field path (see `blocks::nn::Chunks`), and the keys still count
/// straight through (`13.weight`).
///
/// Named entries, like `nn.Sequential(OrderedDict([("hidden", ..), ..]))`:
/// the keys are the names, and `net.hidden` is the block with its type.
/// Name every block or none.
///
/// ```
/// use blocks::prelude::*;
/// let net = sequential![hidden: Linear::<20, 256>::new(), act: ReLU, out: Linear::<256, 10>::new()];
/// assert_eq!(net.state_dict().keys(), ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]);
/// assert!(net.to_string().starts_with("Sequential(\n  (hidden): Linear(in_features=20"));
/// assert_eq!(net.out.weight().shape(), vec![10, 256]);
/// assert_eq!(net.forward(&Batch::<20>::rand(2)).shape(), vec![2, 10]);
/// ```
///
/// A block that does not fit is a compile error on that block (also inside
/// a nested `sequential!`, reported once, and in a struct literal whose
/// field type fixes the widths):
///
/// ```compile_fail,E0277
/// use blocks::prelude::*;
/// // error: `Linear<128, 10>` takes 128 input features, but the block before it gives 256
/// let net = sequential![Linear::<20, 256>::new(), ReLU, Linear::<128, 10>::new()];
/// ```
///
/// The macro reaches blocks through `$crate`, so a dependency renamed in
/// Cargo.toml (`nn = { package = "blocks", .. }`) needs nothing more.
#[macro_export]
macro_rules! sequential {
    () => {
        ::core::compile_error!(
            "a Sequential needs at least one block: sequential![Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()]"
        )
    };
    ($($blocks:tt)*) => {
        $crate::__private::sequential_impl! { $crate; $($blocks)* }
    };
}

/// What a user needs first: tensors, the main `nn` items (with `LazyLinear`
/// and the run-time container `DynSequential`), the typed tensors `Batch`,
/// `Images` and `Scalar`, the `Module` trait and derive, `Forward`, `Call`,
/// `TrainingFlag`, `sequential!`, `no_grad`, `manual_seed`,
/// and for training the optimizers (with the `Optimizer` and `LrScheduler`
/// traits their methods need) and the data loader.
///
/// ```
/// use blocks::prelude::*;
/// manual_seed(0);
/// let layer = Linear::<3, 2>::new();
/// let y = no_grad(|| layer.forward(&Tensor::ones([1, 3])));
/// assert!(!y.requires_grad());
///
/// let mut opt = Sgd::new(layer.parameters(), SgdConfig { lr: 0.1, ..Default::default() });
/// opt.zero_grad();
/// layer.forward(&Tensor::ones([1, 3])).cross_entropy(&[1]).backward();
/// opt.step();
/// ```
pub mod prelude {
    pub use crate::data::{DataLoader, TensorDataset};
    pub use crate::nn::{
        AdaptiveAvgPool2d, AvgPool2d, Batch, BatchNorm1d, BatchNorm2d, Block, Call, Conv1d, Conv2d, DeepCopy,
        Dropout, Dropout2d, DynConv1d, DynConv2d, DynLinear, DynSequential, FeedsInto, Flatten, Forward,
        ForwardHooks, GroupNorm, HookValue, Hooks, Identity, Images, LayerNorm, LazyLinear, Linear,
        MaxPool2d, Module, ModuleExt, Parameter, ReLU, Scalar, Sequential, Sigmoid, StateDict, Tanh,
        TensorKind, ToElement, TrainingFlag, run,
    };
    pub use crate::nn::{GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, RecurrentOptions, Seq};
    pub use crate::optim::{Adam, AdamConfig, AdamWConfig, LrScheduler, Optimizer, Sgd, SgdConfig};
    pub use crate::{Element, Tensor, Tensor64, manual_seed, no_grad};
    pub use crate::{Module, sequential};
}

/// Support for the macros; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use blocks_core::__private::*;
    pub use blocks_macros::sequential_impl;
}

/// The README's examples compile and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeExamples;
