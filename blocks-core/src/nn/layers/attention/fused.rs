//! The fused path of `nn.MultiheadAttention`, taken, as PyTorch takes its
//! `scaled_dot_product_attention` path, when no attention weights are
//! asked for: the projections stay in their layout (no batch-first
//! transpose, no head split or merge copied), self-attention with a packed
//! `in_proj_weight` is one product for q, k and v (no slice of the weight,
//! whose backward would be a zero-filled gradient per slice), and the
//! attention itself is one op ([`fused_attention`]). Its numbers are those
//! of the step-by-step path up to the order of sums.

use crate::Mask;
use crate::nn::layers::attention::multihead::{AttentionArgs, DynMultiheadAttention};
use crate::nn::layers::attention::multihead_forward::{checked_attn_mask, with_key_padding};
use crate::ops::fused_attention::{Heads, Operand, fused_attention};
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> DynMultiheadAttention<E> {
    /// Whether a batched call with `args` can take the fused path: no
    /// weights asked for, no `add_bias_kv` or `add_zero_attn`, no dropout
    /// at work, and no mask that wants a gradient.
    pub(super) fn fusable(&self, args: &AttentionArgs<'_, E>) -> bool {
        let no_grad_mask = |m: Option<&Mask<E>>| !matches!(m, Some(Mask::Float(t)) if t.requires_grad());
        !args.need_weights
            && self.bias_k.is_none()
            && !self.add_zero_attn
            && (self.dropout == 0.0 || !self.training.get())
            && no_grad_mask(args.attn_mask)
            && no_grad_mask(args.key_padding_mask)
    }

    /// The fused call on the inputs as given (3-D, batch-first or not as the
    /// layer), with the masks already turned additive (and `is_causal`
    /// already applied): the output, in the inputs' layout.
    ///
    /// # Errors
    ///
    /// The step-by-step path's errors on masks of the wrong shape.
    pub(super) fn attend_fused(
        &self,
        [query, key, value]: [&TensorBase<E>; 3],
        attn_mask: Option<TensorBase<E>>,
        key_padding_mask: Option<TensorBase<E>>,
    ) -> Result<TensorBase<E>, ShapeError> {
        let (seq, batch) = if self.batch_first { (1, 0) } else { (0, 1) };
        let (q_shape, k_shape) = (query.shape(), key.shape());
        let (tgt_len, bsz, src_len) = (q_shape[seq], q_shape[batch], k_shape[seq]);
        let heads = self.num_heads;
        let bh = bsz
            .checked_mul(heads)
            .ok_or_else(|| ShapeError::new("MultiheadAttention: batch × heads overflows".to_string()))?;
        let mask = attn_mask.map(|mask| checked_attn_mask(mask, tgt_len, src_len, bh)).transpose()?;
        let mask = with_key_padding(mask, key_padding_mask, bsz, heads, src_len)?;
        let e = self.embed_dim;
        let spec = Heads {
            heads,
            width: e,
            batch_first: self.batch_first,
            scale: (1.0 / self.head_dim() as f64).sqrt(),
        };
        let at = |input, offset| Operand { input, offset };
        let self_attention = std::ptr::eq(query, key) && std::ptr::eq(key, value);
        let output = match &self.in_proj_weight {
            Some(weight) if self_attention => {
                let qkv = query.try_linear(weight, self.in_proj_bias.as_deref())?;
                fused_attention(&[&qkv], [at(0, 0), at(0, e), at(0, 2 * e)], spec, mask.as_ref())?
            }
            _ => {
                let (q, k, v) = self.project(query, key, value)?;
                fused_attention(&[&q, &k, &v], [at(0, 0), at(1, 0), at(2, 0)], spec, mask.as_ref())?
            }
        };
        let out_proj = self.out_proj.linear();
        output.try_linear(out_proj.weight(), out_proj.bias().map(|b| &**b))
    }
}
