//! `nn.TransformerEncoderLayer`, `nn.TransformerEncoder`,
//! `nn.TransformerDecoderLayer`, `nn.TransformerDecoder` and `nn.Transformer`,
//! and what they share (options, masks).

pub(crate) mod decoder_layer;
pub(crate) mod encoder_layer;
pub(crate) mod options;
pub(crate) mod stacks;
// The file is named as PyTorch names it (`torch/nn/modules/transformer.py`).
#[allow(clippy::module_inception)]
pub(crate) mod transformer;
