//! `nn.TransformerDecoderLayer`: self-attention on the target, attention
//! over the encoder's output (the memory) and a feed-forward block, each with
//! a residual connection and a LayerNorm.

use crate::nn::Hooks;
use crate::nn::layers::attention::multihead::{DynMultiheadAttention, MultiheadAttentionOptions};
use crate::nn::layers::transformer::options::{DecoderMasks, TransformerActivation, TransformerOptions};
use crate::nn::{Dropout, DynLinear, LayerNorm, TrainingFlag};
use crate::{Element, ShapeError, TensorBase};

/// One decoder layer of width `d_model` with `nhead` heads, like
/// `nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward=2048,
/// dropout=0.1, activation="relu", layer_norm_eps=1e-5, batch_first=False,
/// norm_first=False, bias=True)`: PyTorch's members, keys, printout and
/// numbers. It takes two inputs, so it runs through
/// [`forward_with`](Self::forward_with)`(tgt, memory, masks)`.
///
/// ```
/// use blocks_core::nn::{DecoderMasks, DynTransformerDecoderLayer, ModuleExt, TransformerOptions};
/// use blocks_core::Tensor;
/// let options = TransformerOptions { dim_feedforward: 16, ..Default::default() };
/// let layer = DynTransformerDecoderLayer::with_options(8, 2, options);
/// let (tgt, memory) = (Tensor::rand([4, 2, 8]), Tensor::rand([6, 2, 8]));
/// assert_eq!(layer.forward_with(&tgt, &memory, &DecoderMasks::default()).shape(), vec![4, 2, 8]);
/// assert_eq!(layer.named_parameters()[4].0, "multihead_attn.in_proj_weight");
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "TransformerDecoderLayer")]
pub struct DynTransformerDecoderLayer<E: Element = f32> {
    self_attn: DynMultiheadAttention<E>,
    multihead_attn: DynMultiheadAttention<E>,
    linear1: DynLinear<E>,
    dropout: Dropout,
    linear2: DynLinear<E>,
    norm1: LayerNorm<E>,
    norm2: LayerNorm<E>,
    norm3: LayerNorm<E>,
    dropout1: Dropout,
    dropout2: Dropout,
    dropout3: Dropout,
    #[module(skip)]
    activation: TransformerActivation,
    #[module(skip)]
    norm_first: bool,
    training: TrainingFlag,
    hooks: Hooks,
}

impl DynTransformerDecoderLayer {
    /// `nn.TransformerDecoderLayer(d_model, nhead)` with PyTorch's defaults.
    ///
    /// # Panics
    ///
    /// As [`DynMultiheadAttention::new`].
    ///
    /// ```
    /// let layer = blocks_core::nn::DynTransformerDecoderLayer::new(8, 2);
    /// assert_eq!(layer.multihead_attn().embed_dim(), 8);
    /// ```
    #[track_caller]
    pub fn new(d_model: usize, nhead: usize) -> Self {
        Self::with_options(d_model, nhead, TransformerOptions::default())
    }

    /// `nn.TransformerDecoderLayer(d_model, nhead, **options)`.
    ///
    /// # Panics
    ///
    /// As [`DynMultiheadAttention::with_options`].
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerDecoderLayer, TransformerOptions};
    /// let options = TransformerOptions { dim_feedforward: 4, norm_first: true, ..Default::default() };
    /// assert!(DynTransformerDecoderLayer::with_options(6, 3, options).norm_first());
    /// ```
    #[track_caller]
    pub fn with_options(d_model: usize, nhead: usize, options: TransformerOptions) -> Self {
        let attention = MultiheadAttentionOptions {
            dropout: options.dropout,
            bias: options.bias,
            batch_first: options.batch_first,
            ..MultiheadAttentionOptions::default()
        };
        let norm = || LayerNorm::with_options([d_model], options.layer_norm_eps, true, options.bias);
        DynTransformerDecoderLayer {
            self_attn: DynMultiheadAttention::with_options(d_model, nhead, attention),
            multihead_attn: DynMultiheadAttention::with_options(d_model, nhead, attention),
            linear1: DynLinear::with_bias(d_model, options.dim_feedforward, options.bias),
            dropout: Dropout::new(options.dropout),
            linear2: DynLinear::with_bias(options.dim_feedforward, d_model, options.bias),
            norm1: norm(),
            norm2: norm(),
            norm3: norm(),
            dropout1: Dropout::new(options.dropout),
            dropout2: Dropout::new(options.dropout),
            dropout3: Dropout::new(options.dropout),
            activation: options.activation,
            norm_first: options.norm_first,
            training: TrainingFlag::default(),
            hooks: Hooks::new(),
        }
    }
}

impl<E: Element> DynTransformerDecoderLayer<E> {
    /// The self-attention on the target.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynTransformerDecoderLayer::new(8, 2).self_attn().num_heads(), 2);
    /// ```
    pub fn self_attn(&self) -> &DynMultiheadAttention<E> {
        &self.self_attn
    }

    /// The attention over the memory.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynTransformerDecoderLayer::new(8, 2).multihead_attn().num_heads(), 2);
    /// ```
    pub fn multihead_attn(&self) -> &DynMultiheadAttention<E> {
        &self.multihead_attn
    }

    /// Whether the LayerNorms come first.
    ///
    /// ```
    /// assert!(!blocks_core::nn::DynTransformerDecoderLayer::new(8, 2).norm_first());
    /// ```
    pub fn norm_first(&self) -> bool {
        self.norm_first
    }

    /// `layer(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
    /// memory_key_padding_mask, tgt_is_causal, memory_is_causal)`. Runs the
    /// layer's own hooks only through its members.
    ///
    /// # Panics
    ///
    /// When the inputs or the masks do not fit, with PyTorch's message; see
    /// [`try_forward_with`](Self::try_forward_with).
    ///
    /// ```
    /// use blocks_core::nn::{generate_square_subsequent_mask, DecoderMasks, DynTransformerDecoderLayer};
    /// use blocks_core::Tensor;
    /// let layer = DynTransformerDecoderLayer::new(4, 2);
    /// let causal = generate_square_subsequent_mask(3).into();
    /// let masks = DecoderMasks { tgt_mask: Some(&causal), ..Default::default() };
    /// let y = layer.forward_with(&Tensor::rand([3, 1, 4]), &Tensor::rand([5, 1, 4]), &masks);
    /// assert_eq!(y.shape(), vec![3, 1, 4]);
    /// ```
    #[track_caller]
    pub fn forward_with(
        &self,
        tgt: &TensorBase<E>,
        memory: &TensorBase<E>,
        masks: &DecoderMasks<'_, E>,
    ) -> TensorBase<E> {
        crate::nn::path::or_panic(self.try_forward_with(tgt, memory, masks))
    }

    /// Like [`forward_with`](Self::forward_with), returning an error when the
    /// inputs or the masks do not fit.
    ///
    /// # Errors
    ///
    /// As [`DynMultiheadAttention::try_attend`].
    ///
    /// ```
    /// use blocks_core::nn::{DecoderMasks, DynTransformerDecoderLayer};
    /// use blocks_core::Tensor;
    /// let layer = DynTransformerDecoderLayer::new(4, 2);
    /// let result = layer.try_forward_with(&Tensor::rand([3, 1, 4]), &Tensor::rand([5, 2, 4]), &DecoderMasks::default());
    /// assert!(result.is_err());
    /// ```
    pub fn try_forward_with(
        &self,
        tgt: &TensorBase<E>,
        memory: &TensorBase<E>,
        masks: &DecoderMasks<'_, E>,
    ) -> Result<TensorBase<E>, ShapeError> {
        let x = tgt.clone();
        if self.norm_first {
            let x = x.try_add(&self.sa_block(&self.norm1.forward(&x), masks)?)?;
            let x = x.try_add(&self.mha_block(&self.norm2.forward(&x), memory, masks)?)?;
            x.try_add(&self.ff_block(&self.norm3.forward(&x)))
        } else {
            let x = self.norm1.forward(&x.try_add(&self.sa_block(&x, masks)?)?);
            let x = self.norm2.forward(&x.try_add(&self.mha_block(&x, memory, masks)?)?);
            Ok(self.norm3.forward(&x.try_add(&self.ff_block(&x))?))
        }
    }

    /// PyTorch's `_sa_block`: self-attention on the target, then `dropout1`.
    fn sa_block(&self, x: &TensorBase<E>, masks: &DecoderMasks<'_, E>) -> Result<TensorBase<E>, ShapeError> {
        let (y, _) = self.self_attn.try_attend(x, x, x, &masks.self_attention())?;
        Ok(self.dropout1.forward(&y))
    }

    /// PyTorch's `_mha_block`: attention over the memory, then `dropout2`.
    fn mha_block(
        &self,
        x: &TensorBase<E>,
        memory: &TensorBase<E>,
        masks: &DecoderMasks<'_, E>,
    ) -> Result<TensorBase<E>, ShapeError> {
        let (y, _) = self.multihead_attn.try_attend(x, memory, memory, &masks.memory_attention())?;
        Ok(self.dropout2.forward(&y))
    }

    /// PyTorch's `_ff_block`, then `dropout3`.
    fn ff_block(&self, x: &TensorBase<E>) -> TensorBase<E> {
        let h = self.activation.apply(&self.linear1.forward(x));
        self.dropout3.forward(&self.linear2.forward(&self.dropout.forward(&h)))
    }
}
