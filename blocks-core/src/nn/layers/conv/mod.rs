//! Convolutions, `nn.Conv2d` and `nn.Conv1d`: one core, [`DynConv`](crate::nn::DynConv)
//! (channels and kernel from a config, taking plain tensors), and the typed
//! fronts `Conv2d<I, O, K>` and `Conv1d<I, O, K>`, whose channels the
//! compiler checks between blocks.

pub(crate) mod conv1d;
pub(crate) mod conv2d;
pub(crate) mod conv_transpose;
pub(crate) mod dyn_conv;
pub(crate) mod dyn_conv_transpose;
