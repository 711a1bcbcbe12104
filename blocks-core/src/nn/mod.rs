//! Blocks: PyTorch's `torch.nn` — the `Module` trait, layers, `Sequential`,
//! and the typed tensors that let the compiler check widths and channels
//! between blocks.
//!
//! # How a block runs
//!
//! A block implements [`Forward<Input>`](Forward) (what it gives for an
//! `Input`, PyTorch's `def forward`; one impl per kind of input, or one
//! generic over it) and [`Module`] (its name, members and repr). Everything
//! else is generated: its [`Takes`] (one input, or any), and an inherent
//! `forward` method that every caller uses. Every run, from that method, a
//! `Sequential`, a `DynSequential` or a `Box<dyn Block>`, goes through one
//! door, [`run`], hooks included.
//!
//! The tensor kinds: [`Batch<N>`] (`N` features in the last dimension),
//! [`Images<C>`] (`C` channels in dimension 1: `[N, C, H, W]`, or
//! `[N, C, L]` for 1-d signals), [`Flat`] (what `Flatten` gives), [`Scalar`],
//! and a plain `Tensor`. The layers of this crate are generic over what they
//! are fed ([`FeedsInto`] their input); a block taking `Batch<N>` or
//! `Images<C>`:
//!
//! - given the same kind with another size: a compile error on that block,
//!   in plain words: in a chain "`Conv2d<16, 32, 5>` takes 16 input
//!   channels, but the block before it gives 6", at a call ([`SameWidth`],
//!   [`SameChannels`]) "`Linear<4, 8>` takes 4 input features, but the
//!   argument has 5";
//! - given a plain `Tensor`: checked at run time, the panic naming the block
//!   and its path in the `Sequential` (`(at block 0.2)`);
//! - a width-keeping block (`ReLU`, `#[module(keeps_width)]`) gives back the
//!   kind it was given, so the sizes stay known after it.
//!
//! A block of your own with one `Forward` impl ([`OneInput`], what
//! `#[derive(Module)]` assumes) is given exactly that input in a chain, and
//! its `forward` method also takes what feeds into it; one generic over what
//! it is fed (`impl<K: FeedsInto<Batch<20>, Self>> Forward<K>`, with
//! `#[module(any_input)]`) takes every such kind everywhere.
//!
//! # How to add a layer
//!
//! A layer is three things, in one file named after it:
//!
//! 1. **The struct**: its [`Parameter`]s, buffers (tensors it reports with
//!    [`Visitor::buffer`]), its settings, a [`TrainingFlag`] if it behaves
//!    differently in training (dropout, batch norm: read it with
//!    `self.training.get()`; `train()`/`eval()` on any ancestor set it), and
//!    its [`Hooks`]. Sizes the compiler should check are const generics
//!    (`Conv2d<I, O, K>`); give the layer a dynamic form too (sizes from a
//!    config, taking `Tensor`), one core type with thin typed fronts, as
//!    `Linear<IN, OUT>` wraps `DynLinear`.
//! 2. **Its forward**: one `impl<Fed: FeedsInto<Batch<IN>, Self>>
//!    Forward<Fed>` (or `Images<I>` for the typed form, `TensorBase<E>` for
//!    the dynamic form) with the matching `Output` (`Images<O>`; spatial
//!    sizes stay run-time values). A layer that keeps the shape's kind
//!    (activations, dropout) is generic over it: `impl<K: TensorKind>
//!    Forward<K>`, giving back `K` through [`keep_kind`], for every kind and
//!    element type at once. A layer that needs a size it does not have in
//!    its type (the features after a `Flatten`) takes `Tensor` and checks at
//!    run time, naming itself (see `DynLinear`'s panic).
//! 3. **Its repr**: `#[derive(Module)]`, as a user's block: the struct's
//!    fields are its members in PyTorch's order under PyTorch's keys
//!    (settings marked `#[module(skip)]`), `#[module(name = "Conv2d",
//!    extra_repr = "Self::settings")]` gives PyTorch's class name and
//!    `extra_repr` (e.g. `1, 6, kernel_size=(5, 5), stride=(1, 1)`), and
//!    `#[module(input = "Images<I, E>")]` says its `Forward` is generic over
//!    what it is fed and names its own input, which a chain and a call
//!    check what it is given against, in their own words. A typed front is `#[module(transparent)]` over its core. Inside
//!    this crate the derive takes `#[module(crate = "crate")]` (see
//!    `linear.rs`, `pool.rs`, `dropout.rs`); it writes `Module`, `Display`,
//!    [`Takes`], the inherent `forward` and the conversions.
//!
//! Without the derive, a hand-written block says how it takes inputs
//! itself, and runs through [`run`]:
//!
//! ```
//! use blocks_core::nn::{AnyInput, FeedsInto, Forward, Hooks, Images, Module, ModuleExt, Parameter, Takes, Visitor, run};
//! use blocks_core::Tensor;
//!
//! /// Scales each of `C` channels by its own weight.
//! struct ChannelScale<const C: usize> {
//!     weight: Parameter,
//!     hooks: Hooks,
//! }
//!
//! impl<const C: usize, K: FeedsInto<Images<C>, Self>> Forward<K> for ChannelScale<C> {
//!     type Output = Images<C>;
//!     fn forward(&self, x: &K) -> Images<C> {
//!         Images::new(&*x.feed_into() * &self.weight.reshape(&[1, C as isize, 1, 1]))
//!     }
//! }
//!
//! impl<const C: usize> Module for ChannelScale<C> {
//!     fn type_name(&self) -> String {
//!         "ChannelScale".into()
//!     }
//!     fn extra_repr(&self) -> String {
//!         format!("{C}")
//!     }
//!     fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
//!         visitor.parameter("weight", (&self.weight).into());
//!         visitor.hooks(&self.hooks);
//!     }
//! }
//!
//! impl<const C: usize> Takes for ChannelScale<C> {
//!     type Inputs = AnyInput;
//! }
//!
//! let weight = Parameter::new(Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]));
//! let layer = ChannelScale::<3> { weight, hooks: Hooks::new() };
//! let y: Images<3> = run(&layer, &Tensor::ones([2, 3, 4, 4])); // a plain tensor, checked at run time
//! assert_eq!(y.shape(), vec![2, 3, 4, 4]);
//! assert_eq!(y.to_vec()[16], 2.0);
//! ```
//!
//! Each layer then gets: PyTorch's numbers (a conformance case), its
//! gradients (`gradcheck` on odd shapes), its repr and `state_dict` keys as
//! PyTorch prints them, and a trybuild case for each size mismatch it
//! guards.

#[macro_use]
pub(crate) mod run;
pub(crate) mod containers;
pub(crate) mod kinds;
pub(crate) mod layers;
pub(crate) mod module;

// Each file at its old path, so `crate::nn::hooks::...` reads as before.
pub(crate) use self::containers::sequential;
pub(crate) use self::kinds::flat;
pub(crate) use self::kinds::images;
pub(crate) use self::kinds::sequence;
pub(crate) use self::kinds::typed;
pub(crate) use self::module::field;
pub(crate) use self::module::hook_storage;
pub(crate) use self::module::hook_value;
pub(crate) use self::module::hooks;
pub(crate) use self::module::load_state;
pub(crate) use self::module::path;
pub(crate) use self::module::repr;
pub(crate) use self::module::state_dict;
pub(crate) use self::module::uninitialized;
pub(crate) use self::run::chain;
pub(crate) use self::run::chained;
pub(crate) use self::run::forward;
pub(crate) use self::run::keeps_width;
pub mod init;

pub use self::containers::dyn_sequential::DynSequential;
pub use self::containers::repeat::{KeepsKind, Repeat};
pub use self::containers::sequential::{
    AlongWith, BlockEntries, Chain, Entries, FirstTakes, NamedEntries, Sequential,
};
pub use self::containers::sequential_entries::Chunks;
pub use self::kinds::concat::ChannelParts;
pub use self::kinds::flat::Flat;
pub use self::kinds::images::Images;
pub use self::kinds::sequence::Seq;
pub use self::kinds::typed::{Batch, Scalar};
pub use self::layers::activation::activation::{Identity, ReLU, SiLU, Sigmoid, Tanh};
pub use self::layers::activation::activation_params::{ELU, GELU, LeakyReLU, Softplus};
pub use self::layers::activation::activation_vision::{Hardsigmoid, Hardswish, Mish, PReLU};
pub use self::layers::activation::softmax::{LogSoftmax, Softmax};
pub use self::layers::adaptive_max_pool::AdaptiveMaxPool2d;
pub use self::layers::attention::attend::Attend;
pub use self::layers::attention::multihead::{
    AttentionArgs, DynMultiheadAttention, MultiheadAttentionOptions,
};
pub use self::layers::attention::out_proj::NonDynamicallyQuantizableLinear;
pub use self::layers::attention::positional::{LearnedPositionalEncoding, PositionalEncoding};
pub use self::layers::attention::typed_multihead::MultiheadAttention;
pub use self::layers::conv::conv_transpose::{ConvTranspose1d, ConvTranspose2d};
pub use self::layers::conv::conv1d::Conv1d;
pub use self::layers::conv::conv2d::Conv2d;
pub use self::layers::conv::dyn_conv::{DynConv, DynConv1d, DynConv2d};
pub use self::layers::conv::dyn_conv_transpose::{DynConvTranspose, DynConvTranspose1d, DynConvTranspose2d};
pub use self::layers::dropout::dropout::Dropout;
pub use self::layers::dropout::dropout2d::Dropout2d;
pub use self::layers::embedding::{DynEmbedding, Embedding};
pub use self::layers::flatten::Flatten;
pub use self::layers::linear::lazy_linear::LazyLinear;
pub use self::layers::linear::linear::{DynLinear, Linear};
pub use self::layers::norm::batch_norm::{
    BatchNorm1d, BatchNorm2d, BatchNormOptions, DynBatchNorm, DynBatchNorm1d, DynBatchNorm2d,
};
pub use self::layers::norm::group_norm::{DynGroupNorm, GroupNorm};
pub use self::layers::norm::instance_norm::{
    DynInstanceNorm, DynInstanceNorm1d, DynInstanceNorm2d, InstanceNorm1d, InstanceNorm2d,
    InstanceNormOptions,
};
pub use self::layers::norm::layer_norm::LayerNorm;
pub use self::layers::norm::rms_norm::RMSNorm;
pub use self::layers::norm::sync_batch_norm::SyncBatchNorm;
pub use self::layers::padding::{ConstantPad2d, Padding2d, ReflectionPad2d, ZeroPad2d};
pub use self::layers::pixel_shuffle::PixelShuffle;
pub use self::layers::pool::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, Size2};
pub use self::layers::pool1d::{AdaptiveAvgPool1d, AvgPool1d, MaxPool1d};
pub use self::layers::recurrent::cells::{GRUCell, LSTMCell, RNNCell};
pub use self::layers::recurrent::gru::{DynGRU, GRU};
pub use self::layers::recurrent::lstm::{DynLSTM, LSTM};
pub use self::layers::recurrent::options::RecurrentOptions;
pub use self::layers::recurrent::output::{LstmOutput, RnnOutput};
pub use self::layers::recurrent::rnn::{DynRNN, RNN};
pub use self::layers::recurrent::with_state::WithState;
pub use self::layers::transformer::decoder_layer::DynTransformerDecoderLayer;
pub use self::layers::transformer::encoder_layer::DynTransformerEncoderLayer;
pub use self::layers::transformer::options::{
    DecoderMasks, EncoderMasks, TransformerActivation, TransformerOptions, generate_square_subsequent_mask,
};
pub use self::layers::transformer::stacks::{DynTransformerDecoder, DynTransformerEncoder};
pub use self::layers::transformer::transformer::{DynTransformer, TransformerMasks, TransformerSizes};
pub use self::layers::transformer::typed::TransformerEncoderLayer;
pub use self::layers::unflatten::Unflatten;
pub use self::layers::upsample::Upsample;
pub use self::module::apply::{apply, apply_to};
pub use self::module::deep_copy::{DeepCopy, Mapper};
pub use self::module::hook_storage::{HookHandle, Hooks};
pub use self::module::hook_value::HookValue;
pub use self::module::hooks::{
    ForwardHooks, HooksFor, ModuleHooksFor, RunningBlock, hooks_of, module_hooks_for,
    register_module_forward_hook, register_module_forward_pre_hook,
};
pub use self::module::module_trait::{AsModule, Module, ModuleExt};
pub use self::module::parameter::Parameter;
pub use self::module::repr::{fmt_module, module_repr};
pub use self::module::state_dict::{LoadError, LoadReport, ShapeMismatch, StateDict, StateDictError};
pub use self::module::to_element::{MapElement, ToElement};
pub use self::module::training::TrainingFlag;
pub use self::module::uninitialized::uninitialized_parameters;
pub use self::module::visitor::{BufferRef, Member, ParamRef, Visitor, register_buffer, register_parameter};
pub use self::run::block::Block;
pub use self::run::feeds_into::{Checked, FeedsInto, Holds, SameChannels, SameWidth};
pub use self::run::forward::{
    AnyInput, Blamed, By, Call, Firstly, Forward, Me, OneInput, Takes, ThenRun, Typed, run,
};
pub use self::run::keeps_width::{KeepsWidth, TensorKind, keep_kind};
pub mod utils;
