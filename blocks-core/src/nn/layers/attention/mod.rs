//! Attention: `nn.MultiheadAttention` (run-time and typed), its output
//! projection, and the position encodings a Transformer adds to its input.

pub(crate) mod attend;
pub(crate) mod fused;
pub(crate) mod multihead;
pub(crate) mod multihead_forward;
pub(crate) mod out_proj;
pub(crate) mod positional;
pub(crate) mod typed_multihead;
