//! What the Transformer layers share: their keyword arguments
//! ([`TransformerOptions`], [`TransformerActivation`]), the masks of a call
//! ([`EncoderMasks`], [`DecoderMasks`]) and
//! [`generate_square_subsequent_mask`].

use crate::nn::layers::attention::multihead::AttentionArgs;
use crate::{Element, GeluApproximate, Mask, TensorBase};

/// The feed-forward activation of a Transformer layer: `activation="relu"`
/// or `"gelu"` (PyTorch's `F.relu` / `F.gelu`, functions that do not print).
///
/// ```
/// use blocks_core::nn::TransformerActivation;
/// assert_eq!(TransformerActivation::default(), TransformerActivation::Relu);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TransformerActivation {
    /// `F.relu`, PyTorch's default.
    #[default]
    Relu,
    /// `F.gelu` (exact, `approximate='none'`).
    Gelu,
}

impl TransformerActivation {
    /// Applies the activation.
    ///
    /// ```
    /// use blocks_core::{nn::TransformerActivation, Tensor};
    /// let x = Tensor::from_vec(vec![-1.0, 2.0], [2]);
    /// assert_eq!(TransformerActivation::Relu.apply(&x).to_vec(), vec![0.0, 2.0]);
    /// ```
    pub fn apply<E: Element>(self, x: &TensorBase<E>) -> TensorBase<E> {
        match self {
            TransformerActivation::Relu => x.relu(),
            TransformerActivation::Gelu => x.gelu(GeluApproximate::None),
        }
    }
}

/// The keyword arguments of `nn.TransformerEncoderLayer(d_model, nhead, ...)`,
/// `nn.TransformerDecoderLayer` and `nn.Transformer`, PyTorch's defaults in
/// [`Default`].
///
/// ```
/// use blocks_core::nn::{TransformerActivation, TransformerOptions};
/// let options = TransformerOptions { dim_feedforward: 64, activation: TransformerActivation::Gelu, ..Default::default() };
/// assert_eq!(options.dropout, 0.1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TransformerOptions {
    /// The feed-forward width (`dim_feedforward=2048`).
    pub dim_feedforward: usize,
    /// Dropout after attention, inside and after the feed-forward, and on the
    /// attention weights (`dropout=0.1`).
    pub dropout: f64,
    /// The feed-forward activation (`activation="relu"`).
    pub activation: TransformerActivation,
    /// The LayerNorms' eps (`layer_norm_eps=1e-5`).
    pub layer_norm_eps: f64,
    /// Inputs `[N, L, E]` rather than `[L, N, E]` (`batch_first=False`).
    pub batch_first: bool,
    /// LayerNorm before attention and feed-forward rather than after (`norm_first=False`).
    pub norm_first: bool,
    /// Biases in the Linear and LayerNorm layers (`bias=True`).
    pub bias: bool,
}

impl Default for TransformerOptions {
    fn default() -> Self {
        TransformerOptions {
            dim_feedforward: 2048,
            dropout: 0.1,
            activation: TransformerActivation::Relu,
            layer_norm_eps: 1e-5,
            batch_first: false,
            norm_first: false,
            bias: true,
        }
    }
}

/// The masks of an encoder call, `layer(src, src_mask=None,
/// src_key_padding_mask=None, is_causal=False)`: a boolean `true` masks a
/// position out, a float mask is added to the scores (as in PyTorch).
///
/// ```
/// use blocks_core::nn::{generate_square_subsequent_mask, EncoderMasks};
/// let causal = generate_square_subsequent_mask::<f32>(4).into();
/// let masks = EncoderMasks { src_mask: Some(&causal), is_causal: true, ..Default::default() };
/// assert!(masks.src_key_padding_mask.is_none());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct EncoderMasks<'a, E: Element = f32> {
    /// `[L, L]` or `[N·heads, L, L]`.
    pub src_mask: Option<&'a Mask<E>>,
    /// `[N, L]`: keys to ignore.
    pub src_key_padding_mask: Option<&'a Mask<E>>,
    /// The hint that `src_mask` is causal.
    pub is_causal: bool,
}

impl<E: Element> Default for EncoderMasks<'_, E> {
    fn default() -> Self {
        EncoderMasks { src_mask: None, src_key_padding_mask: None, is_causal: false }
    }
}

impl<'a, E: Element> EncoderMasks<'a, E> {
    /// The self-attention call these masks make (`need_weights=False`).
    pub(crate) fn self_attention(&self) -> AttentionArgs<'a, E> {
        AttentionArgs {
            key_padding_mask: self.src_key_padding_mask,
            need_weights: false,
            attn_mask: self.src_mask,
            average_attn_weights: true,
            is_causal: self.is_causal,
        }
    }
}

/// The masks of a decoder call, `layer(tgt, memory, tgt_mask=None,
/// memory_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
/// tgt_is_causal=False, memory_is_causal=False)`.
///
/// ```
/// use blocks_core::nn::{generate_square_subsequent_mask, DecoderMasks};
/// let causal = generate_square_subsequent_mask::<f32>(3).into();
/// let masks = DecoderMasks { tgt_mask: Some(&causal), ..Default::default() };
/// assert!(!masks.tgt_is_causal);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DecoderMasks<'a, E: Element = f32> {
    /// `[T, T]` or `[N·heads, T, T]`, on the self-attention.
    pub tgt_mask: Option<&'a Mask<E>>,
    /// `[T, S]` or `[N·heads, T, S]`, on the attention over the memory.
    pub memory_mask: Option<&'a Mask<E>>,
    /// `[N, T]`: target positions to ignore.
    pub tgt_key_padding_mask: Option<&'a Mask<E>>,
    /// `[N, S]`: memory positions to ignore.
    pub memory_key_padding_mask: Option<&'a Mask<E>>,
    /// The hint that `tgt_mask` is causal.
    pub tgt_is_causal: bool,
    /// The hint that `memory_mask` is causal.
    pub memory_is_causal: bool,
}

impl<E: Element> Default for DecoderMasks<'_, E> {
    fn default() -> Self {
        DecoderMasks {
            tgt_mask: None,
            memory_mask: None,
            tgt_key_padding_mask: None,
            memory_key_padding_mask: None,
            tgt_is_causal: false,
            memory_is_causal: false,
        }
    }
}

impl<'a, E: Element> DecoderMasks<'a, E> {
    /// The self-attention call on the target.
    pub(crate) fn self_attention(&self) -> AttentionArgs<'a, E> {
        AttentionArgs {
            key_padding_mask: self.tgt_key_padding_mask,
            need_weights: false,
            attn_mask: self.tgt_mask,
            average_attn_weights: true,
            is_causal: self.tgt_is_causal,
        }
    }

    /// The attention call over the memory.
    pub(crate) fn memory_attention(&self) -> AttentionArgs<'a, E> {
        AttentionArgs {
            key_padding_mask: self.memory_key_padding_mask,
            need_weights: false,
            attn_mask: self.memory_mask,
            average_attn_weights: true,
            is_causal: self.memory_is_causal,
        }
    }
}

/// `nn.Transformer.generate_square_subsequent_mask(sz)`: a float `[sz, sz]`
/// mask, `-inf` above the diagonal and 0 elsewhere.
///
/// # Panics
///
/// When `sz × sz` overflows or exceeds the allocation limit.
///
/// ```
/// let mask = blocks_core::nn::generate_square_subsequent_mask::<f32>(2);
/// assert_eq!(mask.to_vec(), vec![0.0, f32::NEG_INFINITY, 0.0, 0.0]);
/// ```
#[track_caller]
pub fn generate_square_subsequent_mask<E: Element>(sz: usize) -> TensorBase<E> {
    crate::BoolMask::causal(sz, sz).to_additive(false)
}
