//! `nn.Transformer`: an encoder and a decoder stack, each with a final
//! LayerNorm, the whole initialized with xavier_uniform_ as PyTorch's.

use crate::nn::Hooks;
use crate::nn::layers::transformer::decoder_layer::DynTransformerDecoderLayer;
use crate::nn::layers::transformer::encoder_layer::DynTransformerEncoderLayer;
use crate::nn::layers::transformer::options::{
    DecoderMasks, EncoderMasks, TransformerOptions, generate_square_subsequent_mask,
};
use crate::nn::layers::transformer::stacks::{DynTransformerDecoder, DynTransformerEncoder};
use crate::nn::{LayerNorm, ModuleExt, TrainingFlag};
use crate::{Element, Mask, ShapeError, Tensor, TensorBase};

/// The sizes of `nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6,
/// num_decoder_layers=6, ...)`, PyTorch's defaults in [`Default`]; the
/// other keyword arguments are in [`TransformerOptions`].
///
/// ```
/// use blocks_core::nn::TransformerSizes;
/// let sizes = TransformerSizes { d_model: 16, nhead: 2, ..Default::default() };
/// assert_eq!(sizes.num_encoder_layers, 6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransformerSizes {
    /// The model width (`d_model=512`).
    pub d_model: usize,
    /// The heads of every attention (`nhead=8`).
    pub nhead: usize,
    /// Encoder layers (`num_encoder_layers=6`).
    pub num_encoder_layers: usize,
    /// Decoder layers (`num_decoder_layers=6`).
    pub num_decoder_layers: usize,
}

impl Default for TransformerSizes {
    fn default() -> Self {
        TransformerSizes { d_model: 512, nhead: 8, num_encoder_layers: 6, num_decoder_layers: 6 }
    }
}

/// The masks of a call `transformer(src, tgt, src_mask=None, tgt_mask=None,
/// memory_mask=None, src_key_padding_mask=None, tgt_key_padding_mask=None,
/// memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
/// memory_is_causal=False)`.
///
/// ```
/// use blocks_core::nn::TransformerMasks;
/// let masks: TransformerMasks = TransformerMasks::default();
/// assert!(masks.src_mask.is_none());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TransformerMasks<'a, E: Element = f32> {
    /// On the encoder's self-attention.
    pub src_mask: Option<&'a Mask<E>>,
    /// On the decoder's self-attention.
    pub tgt_mask: Option<&'a Mask<E>>,
    /// On the decoder's attention over the memory.
    pub memory_mask: Option<&'a Mask<E>>,
    /// `[N, S]`: source positions to ignore.
    pub src_key_padding_mask: Option<&'a Mask<E>>,
    /// `[N, T]`: target positions to ignore.
    pub tgt_key_padding_mask: Option<&'a Mask<E>>,
    /// `[N, S]`: memory positions to ignore.
    pub memory_key_padding_mask: Option<&'a Mask<E>>,
    /// The hint that `src_mask` is causal.
    pub src_is_causal: bool,
    /// The hint that `tgt_mask` is causal.
    pub tgt_is_causal: bool,
    /// The hint that `memory_mask` is causal.
    pub memory_is_causal: bool,
}

impl<E: Element> Default for TransformerMasks<'_, E> {
    fn default() -> Self {
        TransformerMasks {
            src_mask: None,
            tgt_mask: None,
            memory_mask: None,
            src_key_padding_mask: None,
            tgt_key_padding_mask: None,
            memory_key_padding_mask: None,
            src_is_causal: false,
            tgt_is_causal: false,
            memory_is_causal: false,
        }
    }
}

/// The encoder-decoder Transformer of "Attention Is All You Need", like
/// `nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers,
/// dim_feedforward, dropout, activation, custom_encoder=None,
/// custom_decoder=None, layer_norm_eps, batch_first, norm_first, bias)`:
/// keys `encoder.layers.0.self_attn.in_proj_weight`, ..., `decoder.norm.weight`,
/// every parameter of 2 or more dims drawn by xavier_uniform_.
///
/// ```
/// use blocks_core::nn::{DynTransformer, TransformerMasks, TransformerOptions, TransformerSizes};
/// use blocks_core::Tensor;
/// let sizes = TransformerSizes { d_model: 8, nhead: 2, num_encoder_layers: 1, num_decoder_layers: 1 };
/// let model = DynTransformer::new(sizes, TransformerOptions { dim_feedforward: 16, ..Default::default() });
/// let (src, tgt) = (Tensor::rand([5, 2, 8]), Tensor::rand([3, 2, 8]));
/// let causal = DynTransformer::generate_square_subsequent_mask(3).into();
/// let masks = TransformerMasks { tgt_mask: Some(&causal), ..Default::default() };
/// assert_eq!(model.forward_with(&src, &tgt, &masks).shape(), vec![3, 2, 8]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "Transformer")]
pub struct DynTransformer<E: Element = f32> {
    encoder: DynTransformerEncoder<E>,
    decoder: DynTransformerDecoder<E>,
    #[module(skip)]
    d_model: usize,
    #[module(skip)]
    batch_first: bool,
    training: TrainingFlag,
    hooks: Hooks,
}

impl DynTransformer {
    /// `nn.Transformer(**sizes, **options)`.
    ///
    /// # Panics
    ///
    /// As [`DynTransformerEncoderLayer::with_options`].
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformer, ModuleExt, TransformerOptions, TransformerSizes};
    /// let sizes = TransformerSizes { d_model: 4, nhead: 2, num_encoder_layers: 1, num_decoder_layers: 2 };
    /// let model = DynTransformer::new(sizes, TransformerOptions { dim_feedforward: 8, ..Default::default() });
    /// assert_eq!(model.state_dict().keys()[0], "encoder.layers.0.self_attn.in_proj_weight");
    /// ```
    #[track_caller]
    pub fn new(sizes: TransformerSizes, options: TransformerOptions) -> Self {
        let (d, heads) = (sizes.d_model, sizes.nhead);
        let norm = || LayerNorm::with_options([d], options.layer_norm_eps, true, options.bias);
        let encoder_layer = DynTransformerEncoderLayer::with_options(d, heads, options);
        let decoder_layer = DynTransformerDecoderLayer::with_options(d, heads, options);
        let model = DynTransformer {
            encoder: DynTransformerEncoder::new(&encoder_layer, sizes.num_encoder_layers, Some(norm())),
            decoder: DynTransformerDecoder::new(&decoder_layer, sizes.num_decoder_layers, Some(norm())),
            d_model: d,
            batch_first: options.batch_first,
            training: TrainingFlag::default(),
            hooks: Hooks::new(),
        };
        model.reset_parameters();
        model
    }

    /// PyTorch's `_reset_parameters`: xavier_uniform_ on every parameter of
    /// 2 or more dims.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformer, ModuleExt, TransformerOptions, TransformerSizes};
    /// let sizes = TransformerSizes { d_model: 4, nhead: 2, num_encoder_layers: 1, num_decoder_layers: 1 };
    /// let model = DynTransformer::new(sizes, TransformerOptions { dim_feedforward: 8, ..Default::default() });
    /// model.reset_parameters();
    /// ```
    pub fn reset_parameters(&self) {
        for p in self.parameters() {
            if p.ndim() > 1 {
                crate::nn::init::xavier_uniform_(&p, 1.0);
            }
        }
    }

    /// `nn.Transformer.generate_square_subsequent_mask(sz)`: `-inf` above
    /// the diagonal, 0 elsewhere.
    ///
    /// # Panics
    ///
    /// When `sz × sz` exceeds the allocation limit.
    ///
    /// ```
    /// let mask = blocks_core::nn::DynTransformer::generate_square_subsequent_mask(2);
    /// assert_eq!(mask.to_vec(), vec![0.0, f32::NEG_INFINITY, 0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn generate_square_subsequent_mask(sz: usize) -> Tensor {
        generate_square_subsequent_mask(sz)
    }
}

impl<E: Element> DynTransformer<E> {
    /// The encoder stack.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformer, TransformerOptions, TransformerSizes};
    /// let sizes = TransformerSizes { d_model: 4, nhead: 2, num_encoder_layers: 2, num_decoder_layers: 1 };
    /// let model = DynTransformer::new(sizes, TransformerOptions { dim_feedforward: 8, ..Default::default() });
    /// assert_eq!(model.encoder().layers().len(), 2);
    /// ```
    pub fn encoder(&self) -> &DynTransformerEncoder<E> {
        &self.encoder
    }

    /// The decoder stack.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformer, TransformerOptions, TransformerSizes};
    /// let sizes = TransformerSizes { d_model: 4, nhead: 2, num_encoder_layers: 2, num_decoder_layers: 1 };
    /// let model = DynTransformer::new(sizes, TransformerOptions { dim_feedforward: 8, ..Default::default() });
    /// assert_eq!(model.decoder().layers().len(), 1);
    /// ```
    pub fn decoder(&self) -> &DynTransformerDecoder<E> {
        &self.decoder
    }

    /// `transformer(src, tgt, ...masks)`: the encoder on `src`, then the
    /// decoder on `tgt` over the encoder's output.
    ///
    /// # Panics
    ///
    /// When the inputs or the masks do not fit, with PyTorch's message; see
    /// [`try_forward_with`](Self::try_forward_with).
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformer, TransformerMasks, TransformerOptions, TransformerSizes};
    /// use blocks_core::Tensor;
    /// let sizes = TransformerSizes { d_model: 4, nhead: 2, num_encoder_layers: 1, num_decoder_layers: 1 };
    /// let model = DynTransformer::new(sizes, TransformerOptions { dim_feedforward: 8, ..Default::default() });
    /// let y = model.forward_with(&Tensor::rand([6, 1, 4]), &Tensor::rand([2, 1, 4]), &TransformerMasks::default());
    /// assert_eq!(y.shape(), vec![2, 1, 4]);
    /// ```
    #[track_caller]
    pub fn forward_with(
        &self,
        src: &TensorBase<E>,
        tgt: &TensorBase<E>,
        masks: &TransformerMasks<'_, E>,
    ) -> TensorBase<E> {
        crate::nn::path::or_panic(self.try_forward_with(src, tgt, masks))
    }

    /// Like [`forward_with`](Self::forward_with), returning an error when
    /// the inputs or the masks do not fit.
    ///
    /// # Errors
    ///
    /// PyTorch's: "the batch number of src and tgt must be equal", "the
    /// feature number of src and tgt must be equal to d_model", and the
    /// layers' errors.
    ///
    /// ```
    /// use blocks_core::nn::{DynTransformer, TransformerMasks, TransformerOptions, TransformerSizes};
    /// use blocks_core::Tensor;
    /// let sizes = TransformerSizes { d_model: 4, nhead: 2, num_encoder_layers: 1, num_decoder_layers: 1 };
    /// let model = DynTransformer::new(sizes, TransformerOptions { dim_feedforward: 8, ..Default::default() });
    /// let error = model.try_forward_with(&Tensor::rand([6, 1, 4]), &Tensor::rand([2, 3, 4]), &TransformerMasks::default());
    /// assert_eq!(error.unwrap_err().to_string(), "the batch number of src and tgt must be equal");
    /// ```
    pub fn try_forward_with(
        &self,
        src: &TensorBase<E>,
        tgt: &TensorBase<E>,
        masks: &TransformerMasks<'_, E>,
    ) -> Result<TensorBase<E>, ShapeError> {
        let (s, t) = (src.shape(), tgt.shape());
        let batch = if self.batch_first { 0 } else { 1 };
        if s.len() == 3 && (t.len() != 3 || s[batch] != t[batch]) {
            return Err(ShapeError::new("the batch number of src and tgt must be equal".to_string()));
        }
        if s.last() != Some(&self.d_model) || t.last() != Some(&self.d_model) {
            return Err(ShapeError::new(
                "the feature number of src and tgt must be equal to d_model".to_string(),
            ));
        }
        let encoder_masks = EncoderMasks {
            src_mask: masks.src_mask,
            src_key_padding_mask: masks.src_key_padding_mask,
            is_causal: masks.src_is_causal,
        };
        let memory = self.encoder.try_forward_with(src, &encoder_masks)?;
        let decoder_masks = DecoderMasks {
            tgt_mask: masks.tgt_mask,
            memory_mask: masks.memory_mask,
            tgt_key_padding_mask: masks.tgt_key_padding_mask,
            memory_key_padding_mask: masks.memory_key_padding_mask,
            tgt_is_causal: masks.tgt_is_causal,
            memory_is_causal: masks.memory_is_causal,
        };
        self.decoder.try_forward_with(tgt, &memory, &decoder_masks)
    }
}
