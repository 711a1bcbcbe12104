//! `nn.TransformerEncoderLayer`: self-attention and a feed-forward block,
//! each with a residual connection and a LayerNorm (after, or with
//! `norm_first` before).

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::layers::attention::multihead::{DynMultiheadAttention, MultiheadAttentionOptions};
use crate::nn::layers::transformer::options::{EncoderMasks, TransformerActivation, TransformerOptions};
use crate::nn::{Dropout, DynLinear, LayerNorm, TrainingFlag};
use crate::{Element, ShapeError, TensorBase};

/// One encoder layer of width `d_model` with `nhead` heads, like
/// `nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048,
/// dropout=0.1, activation="relu", layer_norm_eps=1e-5, batch_first=False,
/// norm_first=False, bias=True)`: PyTorch's members, keys
/// (`self_attn.in_proj_weight`, `linear1.weight`, `norm1.weight`, ...),
/// printout and numbers (the slow path, which PyTorch's fast path matches).
///
/// `forward` runs it without masks; [`forward_with`](Self::forward_with)
/// takes PyTorch's masks.
///
/// ```
/// use blocks_core::nn::{DynTransformerEncoderLayer, Module, ModuleExt, TransformerOptions};
/// use blocks_core::Tensor;
/// let options = TransformerOptions { dim_feedforward: 16, batch_first: true, ..Default::default() };
/// let layer = DynTransformerEncoderLayer::with_options(8, 2, options);
/// assert_eq!(layer.forward(&Tensor::rand([3, 5, 8])).shape(), vec![3, 5, 8]);
/// assert_eq!(layer.named_parameters()[0].0, "self_attn.in_proj_weight");
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "TransformerEncoderLayer", input = "TensorBase<E>")]
pub struct DynTransformerEncoderLayer<E: Element = f32> {
    self_attn: DynMultiheadAttention<E>,
    linear1: DynLinear<E>,
    dropout: Dropout,
    linear2: DynLinear<E>,
    norm1: LayerNorm<E>,
    norm2: LayerNorm<E>,
    dropout1: Dropout,
    dropout2: Dropout,
    #[module(skip)]
    activation: TransformerActivation,
    #[module(skip)]
    norm_first: bool,
    training: TrainingFlag,
    hooks: Hooks,
}

impl DynTransformerEncoderLayer {
    /// `nn.TransformerEncoderLayer(d_model, nhead)` with PyTorch's defaults.
    ///
    /// # Panics
    ///
    /// As [`DynMultiheadAttention::new`].
    ///
    /// ```
    /// let layer = blocks_core::nn::DynTransformerEncoderLayer::new(8, 2);
    /// assert_eq!(layer.linear1().out_features(), 2048);
    /// ```
    #[track_caller]
    pub fn new(d_model: usize, nhead: usize) -> Self {
        Self::with_options(d_model, nhead, TransformerOptions::default())
    }

    /// `nn.TransformerEncoderLayer(d_model, nhead, **options)`.
    ///
    /// # Panics
    ///
    /// As [`DynMultiheadAttention::with_options`].
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerEncoderLayer, TransformerOptions};
    /// let options = TransformerOptions { dim_feedforward: 4, norm_first: true, ..Default::default() };
    /// assert!(DynTransformerEncoderLayer::with_options(6, 3, options).norm_first());
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
        DynTransformerEncoderLayer {
            self_attn: DynMultiheadAttention::with_options(d_model, nhead, attention),
            linear1: DynLinear::with_bias(d_model, options.dim_feedforward, options.bias),
            dropout: Dropout::new(options.dropout),
            linear2: DynLinear::with_bias(options.dim_feedforward, d_model, options.bias),
            norm1: norm(),
            norm2: norm(),
            dropout1: Dropout::new(options.dropout),
            dropout2: Dropout::new(options.dropout),
            activation: options.activation,
            norm_first: options.norm_first,
            training: TrainingFlag::default(),
            hooks: Hooks::new(),
        }
    }
}

impl<E: Element> DynTransformerEncoderLayer<E> {
    /// The self-attention.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynTransformerEncoderLayer::new(8, 2).self_attn().num_heads(), 2);
    /// ```
    pub fn self_attn(&self) -> &DynMultiheadAttention<E> {
        &self.self_attn
    }

    /// The feed-forward's first Linear (`d_model -> dim_feedforward`).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynTransformerEncoderLayer::new(8, 2).linear1().in_features(), 8);
    /// ```
    pub fn linear1(&self) -> &DynLinear<E> {
        &self.linear1
    }

    /// Whether the LayerNorms come first.
    ///
    /// ```
    /// assert!(!blocks_core::nn::DynTransformerEncoderLayer::new(8, 2).norm_first());
    /// ```
    pub fn norm_first(&self) -> bool {
        self.norm_first
    }

    /// `layer(src, src_mask, src_key_padding_mask, is_causal)`.
    ///
    /// # Panics
    ///
    /// When the input or the masks do not fit, with PyTorch's message; see
    /// [`try_forward_with`](Self::try_forward_with).
    ///
    /// ```
    /// use blocks_core::nn::{generate_square_subsequent_mask, DynTransformerEncoderLayer, EncoderMasks};
    /// use blocks_core::Tensor;
    /// let layer = DynTransformerEncoderLayer::new(4, 2);
    /// let causal = generate_square_subsequent_mask(3).into();
    /// let masks = EncoderMasks { src_mask: Some(&causal), is_causal: true, ..Default::default() };
    /// assert_eq!(layer.forward_with(&Tensor::rand([3, 2, 4]), &masks).shape(), vec![3, 2, 4]);
    /// ```
    #[track_caller]
    pub fn forward_with(&self, src: &TensorBase<E>, masks: &EncoderMasks<'_, E>) -> TensorBase<E> {
        crate::nn::path::or_panic(self.try_forward_with(src, masks))
    }

    /// Like [`forward_with`](Self::forward_with), returning an error when the
    /// input or the masks do not fit.
    ///
    /// # Errors
    ///
    /// As [`DynMultiheadAttention::try_attend`].
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerEncoderLayer, EncoderMasks};
    /// let layer = DynTransformerEncoderLayer::new(4, 2);
    /// assert!(layer.try_forward_with(&blocks_core::Tensor::rand([3, 2, 5]), &EncoderMasks::default()).is_err());
    /// ```
    pub fn try_forward_with(
        &self,
        src: &TensorBase<E>,
        masks: &EncoderMasks<'_, E>,
    ) -> Result<TensorBase<E>, ShapeError> {
        let x = src.clone();
        if self.norm_first {
            let x = x.try_add(&self.sa_block(&self.norm1.forward(&x), masks)?)?;
            x.try_add(&self.ff_block(&self.norm2.forward(&x)))
        } else {
            let x = self.norm1.forward(&x.try_add(&self.sa_block(&x, masks)?)?);
            Ok(self.norm2.forward(&x.try_add(&self.ff_block(&x))?))
        }
    }

    /// PyTorch's `_sa_block`: self-attention, then `dropout1`.
    fn sa_block(&self, x: &TensorBase<E>, masks: &EncoderMasks<'_, E>) -> Result<TensorBase<E>, ShapeError> {
        let (y, _) = self.self_attn.try_attend(x, x, x, &masks.self_attention())?;
        Ok(self.dropout1.forward(&y))
    }

    /// PyTorch's `_ff_block`: `linear2(dropout(activation(linear1(x))))`, then `dropout2`.
    fn ff_block(&self, x: &TensorBase<E>) -> TensorBase<E> {
        let h = self.activation.apply(&self.linear1.forward(x));
        self.dropout2.forward(&self.linear2.forward(&self.dropout.forward(&h)))
    }
}

/// The layer without masks: `layer(src)`.
impl<E: Element, Fed> Forward<Fed> for DynTransformerEncoderLayer<E>
where
    Fed: crate::nn::FeedsInto<TensorBase<E>, Self>,
{
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        self.forward_with(given.feed_ref(), &EncoderMasks::default())
    }
}
