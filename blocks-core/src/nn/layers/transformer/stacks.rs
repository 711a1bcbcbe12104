//! `nn.TransformerEncoder` and `nn.TransformerDecoder`: `num_layers` copies
//! of a layer (a `ModuleList` under `layers`) and an optional final `norm`.

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::layers::transformer::decoder_layer::DynTransformerDecoderLayer;
use crate::nn::layers::transformer::encoder_layer::DynTransformerEncoderLayer;
use crate::nn::layers::transformer::options::{DecoderMasks, EncoderMasks};
use crate::nn::{DeepCopy, LayerNorm, TrainingFlag};
use crate::{Element, ShapeError, TensorBase};

/// A stack of encoder layers, like `nn.TransformerEncoder(encoder_layer,
/// num_layers, norm=None)`: the layer deep-copied `num_layers` times (so
/// every layer starts from the same weights, as PyTorch's `_get_clones`),
/// keys `layers.0.self_attn.in_proj_weight`, ..., `norm.weight`.
///
/// ```
/// use blocks_core::nn::{DynTransformerEncoder, DynTransformerEncoderLayer, LayerNorm, ModuleExt, TransformerOptions};
/// use blocks_core::Tensor;
/// let layer = DynTransformerEncoderLayer::with_options(8, 2, TransformerOptions { dim_feedforward: 16, ..Default::default() });
/// let encoder = DynTransformerEncoder::new(&layer, 2, Some(LayerNorm::new([8])));
/// assert_eq!(encoder.forward(&Tensor::rand([5, 3, 8])).shape(), vec![5, 3, 8]);
/// assert!(encoder.to_string().contains("(0-1): 2 x TransformerEncoderLayer("));
/// assert_eq!(encoder.state_dict().keys().last().unwrap(), "norm.bias");
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "TransformerEncoder", input = "TensorBase<E>")]
pub struct DynTransformerEncoder<E: Element = f32> {
    layers: Vec<DynTransformerEncoderLayer<E>>,
    norm: Option<LayerNorm<E>>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl<E: Element> DynTransformerEncoder<E> {
    /// `num_layers` deep copies of `layer`, then `norm` if given.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerEncoder, DynTransformerEncoderLayer};
    /// let encoder = DynTransformerEncoder::new(&DynTransformerEncoderLayer::new(4, 2), 3, None);
    /// assert_eq!(encoder.layers().len(), 3);
    /// ```
    pub fn new(layer: &DynTransformerEncoderLayer<E>, num_layers: usize, norm: Option<LayerNorm<E>>) -> Self {
        DynTransformerEncoder {
            layers: (0..num_layers).map(|_| layer.deep_copy()).collect(),
            norm,
            training: TrainingFlag::default(),
            hooks: Hooks::new(),
        }
    }

    /// The layers.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerEncoder, DynTransformerEncoderLayer};
    /// let encoder = DynTransformerEncoder::new(&DynTransformerEncoderLayer::new(4, 2), 2, None);
    /// assert_eq!(encoder.layers()[1].self_attn().embed_dim(), 4);
    /// ```
    pub fn layers(&self) -> &[DynTransformerEncoderLayer<E>] {
        &self.layers
    }

    /// The final norm, if any.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerEncoder, DynTransformerEncoderLayer};
    /// assert!(DynTransformerEncoder::new(&DynTransformerEncoderLayer::new(4, 2), 1, None).norm().is_none());
    /// ```
    pub fn norm(&self) -> Option<&LayerNorm<E>> {
        self.norm.as_ref()
    }

    /// `encoder(src, mask, src_key_padding_mask, is_causal)`.
    ///
    /// # Panics
    ///
    /// When the input or the masks do not fit, with PyTorch's message.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerEncoder, DynTransformerEncoderLayer, EncoderMasks};
    /// use blocks_core::{BoolMask, Tensor};
    /// let encoder = DynTransformerEncoder::new(&DynTransformerEncoderLayer::new(4, 2), 2, None);
    /// let padding = BoolMask::from_vec(vec![false, false, true], [1, 3]).into();
    /// let masks = EncoderMasks { src_key_padding_mask: Some(&padding), ..Default::default() };
    /// assert_eq!(encoder.forward_with(&Tensor::rand([3, 1, 4]), &masks).shape(), vec![3, 1, 4]);
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
    /// As [`DynTransformerEncoderLayer::try_forward_with`].
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerEncoder, DynTransformerEncoderLayer, EncoderMasks};
    /// let encoder = DynTransformerEncoder::new(&DynTransformerEncoderLayer::new(4, 2), 1, None);
    /// assert!(encoder.try_forward_with(&blocks_core::Tensor::rand([3, 4]), &EncoderMasks::default()).is_ok());
    /// ```
    pub fn try_forward_with(
        &self,
        src: &TensorBase<E>,
        masks: &EncoderMasks<'_, E>,
    ) -> Result<TensorBase<E>, ShapeError> {
        let mut output = src.clone();
        for layer in &self.layers {
            output = layer.try_forward_with(&output, masks)?;
        }
        Ok(match &self.norm {
            Some(norm) => norm.forward(&output),
            None => output,
        })
    }
}

/// The encoder without masks: `encoder(src)`.
impl<E: Element, Fed> Forward<Fed> for DynTransformerEncoder<E>
where
    Fed: crate::nn::FeedsInto<TensorBase<E>, Self>,
{
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        self.forward_with(given.feed_ref(), &EncoderMasks::default())
    }
}

/// A stack of decoder layers, like `nn.TransformerDecoder(decoder_layer,
/// num_layers, norm=None)`: the layer deep-copied `num_layers` times, keys
/// `layers.0.multihead_attn.in_proj_weight`, ..., `norm.weight`.
///
/// ```
/// use blocks_core::nn::{DecoderMasks, DynTransformerDecoder, DynTransformerDecoderLayer, LayerNorm};
/// use blocks_core::Tensor;
/// let decoder = DynTransformerDecoder::new(&DynTransformerDecoderLayer::new(4, 2), 2, Some(LayerNorm::new([4])));
/// let y = decoder.forward_with(&Tensor::rand([3, 2, 4]), &Tensor::rand([5, 2, 4]), &DecoderMasks::default());
/// assert_eq!(y.shape(), vec![3, 2, 4]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "TransformerDecoder")]
pub struct DynTransformerDecoder<E: Element = f32> {
    layers: Vec<DynTransformerDecoderLayer<E>>,
    norm: Option<LayerNorm<E>>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl<E: Element> DynTransformerDecoder<E> {
    /// `num_layers` deep copies of `layer`, then `norm` if given.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerDecoder, DynTransformerDecoderLayer};
    /// let decoder = DynTransformerDecoder::new(&DynTransformerDecoderLayer::new(4, 2), 3, None);
    /// assert_eq!(decoder.layers().len(), 3);
    /// ```
    pub fn new(layer: &DynTransformerDecoderLayer<E>, num_layers: usize, norm: Option<LayerNorm<E>>) -> Self {
        DynTransformerDecoder {
            layers: (0..num_layers).map(|_| layer.deep_copy()).collect(),
            norm,
            training: TrainingFlag::default(),
            hooks: Hooks::new(),
        }
    }

    /// The layers.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerDecoder, DynTransformerDecoderLayer};
    /// let decoder = DynTransformerDecoder::new(&DynTransformerDecoderLayer::new(4, 2), 2, None);
    /// assert_eq!(decoder.layers()[0].self_attn().embed_dim(), 4);
    /// ```
    pub fn layers(&self) -> &[DynTransformerDecoderLayer<E>] {
        &self.layers
    }

    /// The final norm, if any.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerDecoder, DynTransformerDecoderLayer};
    /// assert!(DynTransformerDecoder::new(&DynTransformerDecoderLayer::new(4, 2), 1, None).norm().is_none());
    /// ```
    pub fn norm(&self) -> Option<&LayerNorm<E>> {
        self.norm.as_ref()
    }

    /// `decoder(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
    /// memory_key_padding_mask, tgt_is_causal, memory_is_causal)`.
    ///
    /// # Panics
    ///
    /// When the inputs or the masks do not fit, with PyTorch's message.
    ///
    /// ```
    /// use blocks_core::nn::{generate_square_subsequent_mask, DecoderMasks, DynTransformerDecoder, DynTransformerDecoderLayer};
    /// use blocks_core::Tensor;
    /// let decoder = DynTransformerDecoder::new(&DynTransformerDecoderLayer::new(4, 2), 1, None);
    /// let causal = generate_square_subsequent_mask(3).into();
    /// let masks = DecoderMasks { tgt_mask: Some(&causal), tgt_is_causal: true, ..Default::default() };
    /// assert_eq!(decoder.forward_with(&Tensor::rand([3, 1, 4]), &Tensor::rand([2, 1, 4]), &masks).shape(), vec![3, 1, 4]);
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
    /// As [`DynTransformerDecoderLayer::try_forward_with`].
    ///
    /// ```
    /// use blocks_core::nn::{DecoderMasks, DynTransformerDecoder, DynTransformerDecoderLayer};
    /// use blocks_core::Tensor;
    /// let decoder = DynTransformerDecoder::new(&DynTransformerDecoderLayer::new(4, 2), 1, None);
    /// assert!(decoder.try_forward_with(&Tensor::rand([3, 1, 4]), &Tensor::rand([2, 1, 3]), &DecoderMasks::default()).is_err());
    /// ```
    pub fn try_forward_with(
        &self,
        tgt: &TensorBase<E>,
        memory: &TensorBase<E>,
        masks: &DecoderMasks<'_, E>,
    ) -> Result<TensorBase<E>, ShapeError> {
        let mut output = tgt.clone();
        for layer in &self.layers {
            output = layer.try_forward_with(&output, memory, masks)?;
        }
        Ok(match &self.norm {
            Some(norm) => norm.forward(&output),
            None => output,
        })
    }
}
