//! `nn.TransformerEncoder` and `nn.TransformerDecoder`: `num_layers` copies
//! of a layer (a `ModuleList` under `layers`) and an optional final `norm`.

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::layers::transformer::decoder_layer::DynTransformerDecoderLayer;
use crate::nn::layers::transformer::encoder_layer::DynTransformerEncoderLayer;
use crate::nn::layers::transformer::options::{DecoderMasks, EncoderMasks};
use crate::nn::{DeepCopy, LayerNorm, Module, ModuleExt, TrainingFlag};
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
/// let state = encoder.state_dict();
/// assert_eq!(state.keys().last(), Some(&"norm.bias"));
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "TransformerEncoder", input = "TensorBase<E>")]
pub struct DynTransformerEncoder<E: Element = f32> {
    layers: Vec<DynTransformerEncoderLayer<E>>,
    norm: Option<LayerNorm<E>>,
    #[module(skip)]
    use_nested_tensor: bool,
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
            use_nested_tensor: nested_tensor_applies(layer),
            training: TrainingFlag::default(),
            hooks: Hooks::new(),
        }
    }

    /// PyTorch's `enable_nested_tensor` (`True` by default, as in
    /// [`new`](Self::new)): in eval without gradients, with a
    /// `src_key_padding_mask` whose padding ends each row, no `mask`, and a
    /// layer PyTorch's fast path runs (`batch_first`, not `norm_first`,
    /// biases, an even number of heads), PyTorch runs the layers on nested
    /// tensors and gives zeros at the padded positions (before the final
    /// norm); so does this encoder. The other positions are the same either way.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformerEncoder, DynTransformerEncoderLayer, EncoderMasks, ModuleExt, TransformerOptions};
    /// use blocks_core::{BoolMask, Tensor};
    /// let layer = DynTransformerEncoderLayer::with_options(4, 2, TransformerOptions { batch_first: true, ..Default::default() });
    /// let encoder = DynTransformerEncoder::new(&layer, 1, None);
    /// encoder.eval();
    /// let padding = BoolMask::from_vec(vec![false, true], [1, 2]).into();
    /// let masks = EncoderMasks { src_key_padding_mask: Some(&padding), ..Default::default() };
    /// let y = blocks_core::no_grad(|| encoder.forward_with(&Tensor::rand([1, 2, 4]), &masks));
    /// assert_eq!(y.to_vec()[4..], [0.0; 4]);
    /// let y = blocks_core::no_grad(|| encoder.clone().with_enable_nested_tensor(false).forward_with(&Tensor::rand([1, 2, 4]), &masks));
    /// assert!(y.to_vec()[4..].iter().all(|v| *v != 0.0));
    /// ```
    pub fn with_enable_nested_tensor(mut self, enable: bool) -> Self {
        self.use_nested_tensor = enable && self.layers.first().is_some_and(nested_tensor_applies);
        self
    }

    /// Where PyTorch's nested-tensor path keeps a position (`[N, L, 1]`,
    /// 1 kept, 0 padded), when it takes that path (see
    /// [`with_enable_nested_tensor`](Self::with_enable_nested_tensor)).
    fn nested_keep(&self, src: &TensorBase<E>, masks: &EncoderMasks<'_, E>) -> Option<TensorBase<E>> {
        let first = self.layers.first()?;
        if !self.use_nested_tensor || first.is_training() || src.ndim() != 3 || masks.src_mask.is_some() {
            return None;
        }
        let padding = masks.src_key_padding_mask?.to_additive(true);
        let needs_grad =
            || src.requires_grad() || first.parameters_of::<E>().iter().any(|p| p.requires_grad());
        if crate::is_grad_enabled() && needs_grad() {
            return None;
        }
        let (n, l) = (src.shape()[0], src.shape()[1]);
        if padding.shape() != [n, l] || l == 0 {
            return None;
        }
        let keep: Vec<bool> = padding.to_vec().iter().map(|v| *v == E::zero()).collect();
        if keep.chunks(l).any(|row| row.windows(2).any(|w| !w[0] && w[1])) {
            return None;
        }
        Some(TensorBase::from_vec(
            keep.iter().map(|&k| if k { E::one() } else { E::zero() }).collect(),
            [n, l, 1],
        ))
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
        if let Some(keep) = self.nested_keep(src, masks) {
            output = TensorBase::try_where(&keep, &output, &TensorBase::zeros([1]))?;
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

/// PyTorch's `TransformerEncoder.__init__` test for `use_nested_tensor`:
/// whether its fast path can run `layer`.
fn nested_tensor_applies<E: Element>(layer: &DynTransformerEncoderLayer<E>) -> bool {
    let attention = layer.self_attn();
    !layer.norm_first()
        && attention.batch_first()
        && attention.in_proj_weight().is_some()
        && attention.in_proj_bias().is_some()
        && attention.num_heads().is_multiple_of(2)
}
