//! `TransformerEncoderLayer<D, HEADS>`: `nn.TransformerEncoderLayer` with its
//! width and heads in its type, so that an embedding of another width before
//! it, or heads that do not divide the width, is a compile error.

use crate::nn::forward::Forward;
use crate::nn::layers::attention::typed_multihead::MultiheadAttention;
use crate::nn::layers::transformer::encoder_layer::DynTransformerEncoderLayer;
use crate::nn::layers::transformer::options::{EncoderMasks, TransformerOptions};
use crate::nn::typed::Batch;
use crate::{Element, TensorBase};

/// An encoder layer over sequences of width `D` with `HEADS` heads, like
/// `nn.TransformerEncoderLayer(D, HEADS, ...)`: it takes and gives `Batch<D>`
/// (`[L, N, D]`, or `[N, L, D]` with `batch_first`), so the compiler checks
/// the width of the block before it, and `D % HEADS != 0` does not compile.
/// Keys, printout and numbers are [`DynTransformerEncoderLayer`]'s.
///
/// ```
/// use blocks_core::nn::{Batch, Linear, Module, ModuleExt, TransformerEncoderLayer, TransformerOptions};
/// let embed = Linear::<5, 8>::new();
/// let layer = TransformerEncoderLayer::<8, 2>::new(TransformerOptions { dim_feedforward: 16, ..Default::default() });
/// let x = Batch::<5>::new(blocks_core::Tensor::rand([4, 2, 5]));
/// let y: Batch<8> = layer.forward(&embed.forward(&x));
/// assert_eq!(y.shape(), vec![4, 2, 8]);
/// assert!(layer.to_string().starts_with("TransformerEncoderLayer(\n  (self_attn): MultiheadAttention("));
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Batch<D, E>")]
pub struct TransformerEncoderLayer<const D: usize, const HEADS: usize, E: Element = f32> {
    layer: DynTransformerEncoderLayer<E>,
}

impl<const D: usize, const HEADS: usize> TransformerEncoderLayer<D, HEADS> {
    /// `nn.TransformerEncoderLayer(D, HEADS, **options)`.
    ///
    /// # Panics
    ///
    /// When `options.dropout` is not in `[0, 1]`.
    ///
    /// ```
    /// use blocks_core::nn::{TransformerEncoderLayer, TransformerOptions};
    /// let layer = TransformerEncoderLayer::<6, 3>::new(TransformerOptions::default());
    /// assert_eq!(layer.layer().self_attn().head_dim(), 2);
    /// ```
    #[allow(clippy::let_unit_value)]
    #[track_caller]
    pub fn new(options: TransformerOptions) -> Self {
        let () = MultiheadAttention::<D, HEADS>::HEADS_DIVIDE_WIDTH;
        TransformerEncoderLayer { layer: DynTransformerEncoderLayer::with_options(D, HEADS, options) }
    }
}

impl<const D: usize, const HEADS: usize, E: Element> TransformerEncoderLayer<D, HEADS, E> {
    /// The run-time layer it is.
    ///
    /// ```
    /// use blocks_core::nn::{TransformerEncoderLayer, TransformerOptions};
    /// assert_eq!(TransformerEncoderLayer::<6, 3>::new(TransformerOptions::default()).layer().linear1().in_features(), 6);
    /// ```
    pub fn layer(&self) -> &DynTransformerEncoderLayer<E> {
        &self.layer
    }

    /// `layer(src, src_mask, src_key_padding_mask, is_causal)` on a
    /// sequence of width `D`.
    ///
    /// # Panics
    ///
    /// When the masks do not fit, with PyTorch's message.
    ///
    /// ```
    /// use blocks_core::nn::{Batch, EncoderMasks, TransformerEncoderLayer, TransformerOptions};
    /// let layer = TransformerEncoderLayer::<4, 2>::new(TransformerOptions { dim_feedforward: 8, ..Default::default() });
    /// let y = layer.forward_with(&Batch::<4>::new(blocks_core::Tensor::rand([3, 1, 4])), &EncoderMasks::default());
    /// assert_eq!(y.shape(), vec![3, 1, 4]);
    /// ```
    #[track_caller]
    pub fn forward_with(&self, src: &Batch<D, E>, masks: &EncoderMasks<'_, E>) -> Batch<D, E> {
        Batch::trusted(self.layer.forward_with(src, masks))
    }
}

/// The layer without masks: takes `Batch<D>` (or a plain tensor, checked at run time).
impl<const D: usize, const HEADS: usize, E: Element, Fed> Forward<Fed>
    for TransformerEncoderLayer<D, HEADS, E>
where
    Fed: crate::nn::FeedsInto<Batch<D, E>, Self>,
{
    type Output = crate::nn::Checked<Fed, Batch<D, E>, Self, Batch<D, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Batch<D, E> {
        Batch::trusted(Forward::<TensorBase<E>>::forward(&self.layer, given.feed_ref()))
    }
}
