//! `MultiheadAttention<D, HEADS>`: `nn.MultiheadAttention` with its width
//! and heads in its type, so that a wrong input width or a width that the
//! heads do not divide is a compile error.

use crate::nn::forward::Forward;
use crate::nn::kinds::size_check::SizeMessage;
use crate::nn::layers::attention::multihead::{
    AttentionArgs, DynMultiheadAttention, MultiheadAttentionOptions,
};
use crate::nn::typed::Batch;
use crate::{Element, TensorBase};

/// Multi-head attention over sequences of width `D` with `HEADS` heads, like
/// `nn.MultiheadAttention(D, HEADS)`: it takes `Batch<D>` (`[L, N, D]`, or
/// `[N, L, D]` with `batch_first`), so the compiler checks the width of what
/// it is fed, and `D % HEADS != 0` is a compile error where the layer is
/// made ("`MultiheadAttention<96, 5>`: 96 is not divisible by 5 heads").
/// Its key and value have width `D` too (for other widths use
/// [`DynMultiheadAttention`]).
///
/// ```
/// use blocks_core::nn::{AttentionArgs, Batch, Module, ModuleExt, MultiheadAttention};
/// let mha = MultiheadAttention::<8, 2>::new();
/// let x = Batch::<8>::new(blocks_core::Tensor::rand([5, 3, 8]));
/// let y: Batch<8> = mha.forward(&x); // self-attention
/// assert_eq!(y.shape(), vec![5, 3, 8]);
/// let (y, w) = mha.attend(&x, &x, &x, &AttentionArgs::default());
/// assert_eq!(w.unwrap().shape(), vec![3, 5, 5]);
/// ```
///
/// Heads that do not divide the width do not compile (`cargo build` reports
/// "`MultiheadAttention<96, 5>`: 96 is not divisible by 5 heads" where the
/// layer is made; `cargo check` stops before evaluating it):
///
/// ```compile_fail,E0080
/// let mha = blocks_core::nn::MultiheadAttention::<96, 5>::new();
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Batch<D, E>")]
pub struct MultiheadAttention<const D: usize, const HEADS: usize, E: Element = f32> {
    layer: DynMultiheadAttention<E>,
}

/// Why `heads` do not divide `d`, in plain words, or `None` when they do.
const fn heads_message(d: usize, heads: usize) -> Option<SizeMessage> {
    if heads != 0 && d.is_multiple_of(heads) {
        return None;
    }
    let message = SizeMessage::new().layer("MultiheadAttention", &[d, heads]).number(d);
    Some(if heads == 0 {
        message.text(" features need at least one head")
    } else {
        message.text(" is not divisible by ").number(heads).text(" heads")
    })
}

impl<const D: usize, const HEADS: usize, E: Element> MultiheadAttention<D, HEADS, E> {
    /// The check that `HEADS` divides `D`, evaluated when the type is made.
    pub(crate) const HEADS_DIVIDE_WIDTH: () = if let Some(message) = &heads_message(D, HEADS) {
        panic!("{}", message.as_str())
    };
}

impl<const D: usize, const HEADS: usize> MultiheadAttention<D, HEADS> {
    /// `nn.MultiheadAttention(D, HEADS)` with PyTorch's defaults.
    ///
    /// ```
    /// let mha = blocks_core::nn::MultiheadAttention::<6, 3>::new();
    /// assert_eq!(mha.layer().head_dim(), 2);
    /// ```
    #[allow(clippy::let_unit_value)]
    pub fn new() -> Self {
        let () = Self::HEADS_DIVIDE_WIDTH;
        MultiheadAttention { layer: DynMultiheadAttention::new(D, HEADS) }
    }

    /// `nn.MultiheadAttention(D, HEADS, dropout, bias, add_bias_kv,
    /// add_zero_attn, batch_first=...)`; `kdim` and `vdim` must be `None` or `D`.
    ///
    /// # Panics
    ///
    /// When `kdim` or `vdim` is another width, or `dropout` is not in `[0, 1]`.
    ///
    /// ```
    /// use blocks_core::nn::{MultiheadAttention, MultiheadAttentionOptions};
    /// let options = MultiheadAttentionOptions { batch_first: true, ..Default::default() };
    /// assert!(MultiheadAttention::<6, 3>::with_options(options).layer().batch_first());
    /// ```
    #[allow(clippy::let_unit_value)]
    #[track_caller]
    pub fn with_options(options: MultiheadAttentionOptions) -> Self {
        let () = Self::HEADS_DIVIDE_WIDTH;
        assert!(
            options.kdim.unwrap_or(D) == D && options.vdim.unwrap_or(D) == D,
            "MultiheadAttention<{D}, {HEADS}>: kdim and vdim must be {D}; use DynMultiheadAttention for other widths"
        );
        MultiheadAttention { layer: DynMultiheadAttention::with_options(D, HEADS, options) }
    }
}

impl<const D: usize, const HEADS: usize> Default for MultiheadAttention<D, HEADS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const D: usize, const HEADS: usize, E: Element> MultiheadAttention<D, HEADS, E> {
    /// The run-time layer it is.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::MultiheadAttention::<6, 3>::new().layer().embed_dim(), 6);
    /// ```
    pub fn layer(&self) -> &DynMultiheadAttention<E> {
        &self.layer
    }

    /// The call `mha(query, key, value, ...)` on sequences of width `D`:
    /// the output (width `D`) and, with `need_weights`, the weights (see
    /// [`DynMultiheadAttention::attend`]).
    ///
    /// # Panics
    ///
    /// When the lengths, batches or masks do not fit, with PyTorch's message.
    ///
    /// ```
    /// use blocks_core::nn::{AttentionArgs, Batch, MultiheadAttention};
    /// let mha = MultiheadAttention::<4, 2>::new();
    /// let (q, kv) = (Batch::<4>::new(blocks_core::Tensor::rand([2, 1, 4])), Batch::<4>::new(blocks_core::Tensor::rand([3, 1, 4])));
    /// let (y, _) = mha.attend(&q, &kv, &kv, &AttentionArgs { need_weights: false, ..Default::default() });
    /// assert_eq!(y.shape(), vec![2, 1, 4]);
    /// ```
    #[track_caller]
    pub fn attend(
        &self,
        query: &Batch<D, E>,
        key: &Batch<D, E>,
        value: &Batch<D, E>,
        args: &AttentionArgs<'_, E>,
    ) -> (Batch<D, E>, Option<TensorBase<E>>) {
        let (output, weights) = self.layer.attend(query, key, value, args);
        (Batch::trusted(output), weights)
    }
}

/// Self-attention without masks, as [`DynMultiheadAttention`]'s: takes
/// `Batch<D>` (or a plain tensor, its width checked at run time).
impl<const D: usize, const HEADS: usize, E: Element, Fed> Forward<Fed> for MultiheadAttention<D, HEADS, E>
where
    Fed: crate::nn::FeedsInto<Batch<D, E>, Self>,
{
    type Output = crate::nn::Checked<Fed, Batch<D, E>, Self, Batch<D, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Batch<D, E> {
        Batch::trusted(Forward::<TensorBase<E>>::forward(&self.layer, given.feed_ref()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_compile_time_message_reads_in_plain_words() {
        let message = |d, heads| super::heads_message(d, heads).map(|m| m.as_str().to_string());
        assert_eq!(message(96, 5).unwrap(), "`MultiheadAttention<96, 5>`: 96 is not divisible by 5 heads");
        assert_eq!(message(8, 0).unwrap(), "`MultiheadAttention<8, 0>`: 8 features need at least one head");
        assert_eq!(message(96, 8), None);
    }
}
