//! The call of `nn.MultiheadAttention`: PyTorch's
//! `F.multi_head_attention_forward`, step by step, so that its numbers are
//! PyTorch's (projections, masks merged into one float mask, the extra key
//! and value of `add_bias_kv`/`add_zero_attn`, weights averaged over heads).

use crate::nn::layers::attention::attend::Attend;
use crate::nn::layers::attention::multihead::{AttentionArgs, DynMultiheadAttention};
use crate::{Element, ShapeError, TensorBase};

/// `mask` with `count` columns of zeros appended on its last dim
/// (`F.pad(mask, (0, 1))`).
fn pad_last<E: Element>(mask: &TensorBase<E>) -> Result<TensorBase<E>, ShapeError> {
    let mut shape = mask.shape();
    if let Some(last) = shape.last_mut() {
        *last = 1;
    }
    TensorBase::try_cat(&[mask, &TensorBase::zeros(shape)], -1)
}

/// `attn_mask` as `[1 or N·heads, L, S]`: a `[L, S]` mask gains a leading
/// dim; any other shape is PyTorch's error for a 2-D or a 3-D mask.
pub(super) fn checked_attn_mask<E: Element>(
    mask: TensorBase<E>,
    tgt_len: usize,
    src_len: usize,
    bh: usize,
) -> Result<TensorBase<E>, ShapeError> {
    let shape = mask.shape();
    match shape.len() {
        2 if shape == [tgt_len, src_len] => Ok(mask.unsqueeze(0)),
        2 => Err(ShapeError::new(format!(
            "The shape of the 2D attn_mask is {shape:?}, but should be {:?}.",
            [tgt_len, src_len]
        ))),
        _ if shape == [bh, tgt_len, src_len] => Ok(mask),
        _ => Err(ShapeError::new(format!(
            "The shape of the 3D attn_mask is {shape:?}, but should be {:?}.",
            [bh, tgt_len, src_len]
        ))),
    }
}

/// `attn_mask` (`[N·heads, L, S]` or `[L, S]`) with the additive
/// `key_padding_mask` (`[N, S]`) added for every head, as PyTorch merges
/// them into one float mask; an error when the padding mask is not `[N, S]`.
pub(super) fn with_key_padding<E: Element>(
    attn_mask: Option<TensorBase<E>>,
    key_padding_mask: Option<TensorBase<E>>,
    bsz: usize,
    heads: usize,
    src_len: usize,
) -> Result<Option<TensorBase<E>>, ShapeError> {
    let Some(padding) = key_padding_mask else { return Ok(attn_mask) };
    let bh = bsz
        .checked_mul(heads)
        .ok_or_else(|| ShapeError::new("MultiheadAttention: batch × heads overflows".to_string()))?;
    if padding.shape() != [bsz, src_len] {
        return Err(ShapeError::new(format!(
            "expecting key_padding_mask shape of {:?}, but got {:?}",
            [bsz, src_len],
            padding.shape()
        )));
    }
    let padding = padding
        .reshape(&[bsz as isize, 1, 1, src_len as isize])
        .expand(&[bsz as isize, heads as isize, 1, src_len as isize])
        .reshape(&[bh as isize, 1, src_len as isize]);
    Ok(Some(match attn_mask {
        None => padding,
        Some(mask) => mask.try_add(&padding)?,
    }))
}

/// PyTorch's `_mha_shape_check`: whether the call is batched, or why it cannot run.
fn batched<E: Element>(
    query: &TensorBase<E>,
    key: &TensorBase<E>,
    value: &TensorBase<E>,
    args: &AttentionArgs<'_, E>,
    num_heads: usize,
) -> Result<bool, ShapeError> {
    let (q, k, v) = (query.ndim(), key.ndim(), value.ndim());
    let batched = match q {
        3 => true,
        2 => false,
        _ => {
            return Err(ShapeError::new(format!(
                "query should be unbatched 2D or batched 3D tensor but received {q}-D query tensor"
            )));
        }
    };
    let (name, want) = if batched { ("batched (3-D)", 3) } else { ("unbatched (2-D)", 2) };
    if k != want || v != want {
        return Err(ShapeError::new(format!(
            "For {name} `query`, expected `key` and `value` to be {want}-D but found {k}-D and {v}-D tensors respectively"
        )));
    }
    if let Some(mask) = args.key_padding_mask
        && mask.shape().len() != want - 1
    {
        return Err(ShapeError::new(format!(
            "For {name} `query`, expected `key_padding_mask` to be `None` or {}-D but found {}-D tensor instead",
            want - 1,
            mask.shape().len()
        )));
    }
    if let Some(mask) = args.attn_mask {
        let shape = mask.shape();
        if shape.len() != 2 && shape.len() != 3 {
            return Err(ShapeError::new(format!(
                "For {name} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found {}-D tensor instead",
                shape.len()
            )));
        }
        if !batched && shape.len() == 3 {
            let expected = [num_heads, query.shape()[0], key.shape()[0]];
            if shape != expected {
                return Err(ShapeError::new(format!(
                    "Expected `attn_mask` shape to be {expected:?} but got {shape:?}"
                )));
            }
        }
    }
    Ok(batched)
}

impl<E: Element> DynMultiheadAttention<E> {
    /// The call `mha(query, key, value, key_padding_mask, need_weights,
    /// attn_mask, average_attn_weights, is_causal)`: the output `[L, N, E]`
    /// (`[N, L, E]` with `batch_first`, `[L, E]` unbatched) and, with
    /// `need_weights`, the attention weights `[N, L, S]` (averaged over
    /// heads) or `[N, heads, L, S]`. Runs through the block's hooks (they
    /// see the query and the output), as a call does.
    ///
    /// # Panics
    ///
    /// When the shapes or masks do not fit, with PyTorch's message; see
    /// [`try_attend`](Self::try_attend).
    ///
    /// ```
    /// use blocks_core::nn::{AttentionArgs, DynMultiheadAttention, MultiheadAttentionOptions};
    /// use blocks_core::{BoolMask, Tensor};
    /// let options = MultiheadAttentionOptions { batch_first: true, kdim: Some(3), ..Default::default() };
    /// let mha = DynMultiheadAttention::with_options(4, 2, options);
    /// let (q, k, v) = (Tensor::rand([2, 5, 4]), Tensor::rand([2, 7, 3]), Tensor::rand([2, 7, 4]));
    /// let padding = BoolMask::from_vec((0..14).map(|i| i % 7 == 6).collect(), [2, 7]).into();
    /// let args = AttentionArgs { key_padding_mask: Some(&padding), average_attn_weights: false, ..Default::default() };
    /// let (y, w) = mha.attend(&q, &k, &v, &args);
    /// let w = w.unwrap();
    /// assert_eq!((y.shape(), w.shape()), (vec![2, 5, 4], vec![2, 2, 5, 7]));
    /// assert_eq!(w.to_vec()[6], 0.0); // the padded key gets no weight
    /// ```
    #[track_caller]
    pub fn attend(
        &self,
        query: &TensorBase<E>,
        key: &TensorBase<E>,
        value: &TensorBase<E>,
        args: &AttentionArgs<'_, E>,
    ) -> (TensorBase<E>, Option<TensorBase<E>>) {
        crate::nn::run(self, &Attend::new(query, key, value, *args))
    }

    /// Like [`attend`](Self::attend), returning an error when the shapes do
    /// not fit, and without the block's hooks (the form the hooked call runs).
    ///
    /// # Errors
    ///
    /// PyTorch's checks: query, key and value 3-D (or 2-D unbatched) with
    /// widths `embed_dim`, `kdim`, `vdim` and the same batch, key and value
    /// of the same length, `attn_mask` `[L, S]` or `[N·heads, L, S]`,
    /// `key_padding_mask` `[N, S]`, `is_causal` only with an `attn_mask`.
    ///
    /// ```
    /// use blocks_core::nn::{AttentionArgs, DynMultiheadAttention};
    /// use blocks_core::Tensor;
    /// let mha = DynMultiheadAttention::new(4, 2);
    /// let x = Tensor::rand([3, 1, 5]);
    /// let error = mha.try_attend(&x, &x, &x, &AttentionArgs::default()).unwrap_err();
    /// assert_eq!(error.to_string(), "was expecting embedding dimension of 4, but got 5");
    /// ```
    pub fn try_attend(
        &self,
        query: &TensorBase<E>,
        key: &TensorBase<E>,
        value: &TensorBase<E>,
        args: &AttentionArgs<'_, E>,
    ) -> Result<(TensorBase<E>, Option<TensorBase<E>>), ShapeError> {
        let batched = batched(query, key, value, args, self.num_heads)?;
        let given = [query, key, value];
        let (mut query, mut key, mut value) = (query.clone(), key.clone(), value.clone());
        if batched && self.batch_first {
            (query, key, value) = (query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1));
        }
        let mut key_padding_mask = args.key_padding_mask.map(|m| m.to_additive(true));
        let mut attn_mask = args.attn_mask.map(|m| m.to_additive(true));
        if !batched {
            (query, key, value) = (query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1));
            key_padding_mask = key_padding_mask.map(|m| m.unsqueeze(0));
        }
        let (q_shape, k_shape, v_shape) = (query.shape(), key.shape(), value.shape());
        let (tgt_len, bsz, embed_dim) = (q_shape[0], q_shape[1], q_shape[2]);
        if embed_dim != self.embed_dim {
            return Err(ShapeError::new(format!(
                "was expecting embedding dimension of {}, but got {embed_dim}",
                self.embed_dim
            )));
        }
        if k_shape[..2] != v_shape[..2] {
            return Err(ShapeError::new(format!(
                "key's sequence and batch dims {:?} do not match value's {:?}",
                &k_shape[..2],
                &v_shape[..2]
            )));
        }
        if k_shape[1] != bsz {
            return Err(ShapeError::new(format!(
                "key's batch size {} does not match query's {bsz}",
                k_shape[1]
            )));
        }
        if k_shape[2] != self.kdim || v_shape[2] != self.vdim {
            return Err(ShapeError::new(format!(
                "MultiheadAttention: expected key and value widths {} and {}, but got key {k_shape:?} and value {v_shape:?}",
                self.kdim, self.vdim
            )));
        }
        if args.is_causal && attn_mask.is_none() {
            return Err(ShapeError::new(
                "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method \
                 `generate_square_subsequent_mask` to create this mask."
                    .to_string(),
            ));
        }
        if args.is_causal && key_padding_mask.is_none() && !args.need_weights {
            // PyTorch then drops the mask and lets scaled_dot_product_attention apply its own causal mask.
            attn_mask = Some(crate::BoolMask::causal(tgt_len, k_shape[0]).to_additive(false));
        }
        if batched && self.fusable(args) {
            return Ok((self.attend_fused(given, attn_mask, key_padding_mask)?, None));
        }
        let (q, mut k, mut v) = self.project(&query, &key, &value)?;
        let src_len = k_shape[0];
        let heads = self.num_heads;
        let bh = bsz
            .checked_mul(heads)
            .ok_or_else(|| ShapeError::new("MultiheadAttention: batch × heads overflows".to_string()))?;
        crate::numel::checked_alloc::<E>(
            "MultiheadAttention",
            "the attention weights",
            &[bh, tgt_len, src_len + 2],
        )?;
        if let Some(mask) = attn_mask.take() {
            attn_mask = Some(checked_attn_mask(mask, tgt_len, src_len, bh)?);
        }
        if let (Some(bias_k), Some(bias_v)) = (&self.bias_k, &self.bias_v) {
            let grow = |x: &TensorBase<E>, b: &TensorBase<E>| {
                TensorBase::try_cat(&[x, &b.expand(&[1, bsz as isize, embed_dim as isize])], 0)
            };
            (k, v) = (grow(&k, bias_k)?, grow(&v, bias_v)?);
            attn_mask = attn_mask.map(|m| pad_last(&m)).transpose()?;
            key_padding_mask = key_padding_mask.map(|m| pad_last(&m)).transpose()?;
        }
        let head_dim = self.head_dim() as isize;
        let split = |x: &TensorBase<E>, len: usize| {
            x.try_reshape(&[len as isize, bh as isize, head_dim]).map(|x| x.transpose(0, 1))
        };
        let q = split(&q, tgt_len)?;
        let (k_len, v_len) = (k.shape()[0], v.shape()[0]);
        let (mut k, mut v) = (split(&k, k_len)?, split(&v, v_len)?);
        if self.add_zero_attn {
            let zeros = TensorBase::zeros([bh, 1, head_dim as usize]);
            k = TensorBase::try_cat(&[&k, &zeros], 1)?;
            v = TensorBase::try_cat(&[&v, &zeros], 1)?;
            attn_mask = attn_mask.map(|m| pad_last(&m)).transpose()?;
            key_padding_mask = key_padding_mask.map(|m| pad_last(&m)).transpose()?;
        }
        let src_len = k.shape()[1];
        attn_mask = with_key_padding(attn_mask, key_padding_mask, bsz, heads, src_len)?;
        let dropout_p = if self.training.get() { self.dropout } else { 0.0 };
        let q_scaled = q.mul_scalar(E::of((1.0 / head_dim as f64).sqrt()));
        let mut scores = q_scaled.try_matmul(&k.transpose(-2, -1))?;
        if let Some(mask) = &attn_mask {
            scores = mask.try_add(&scores)?;
        }
        let weights = scores.try_softmax(-1)?;
        let dropped = weights.dropout(dropout_p, true);
        let output = dropped
            .try_matmul(&v)?
            .transpose(0, 1)
            .try_reshape(&[(tgt_len * bsz) as isize, embed_dim as isize])?;
        let out_proj = self.out_proj.linear();
        let output = output.try_linear(out_proj.weight(), out_proj.bias().map(|b| &**b))?.try_reshape(&[
            tgt_len as isize,
            bsz as isize,
            embed_dim as isize,
        ])?;
        let weights = if args.need_weights {
            let w =
                weights.try_reshape(&[bsz as isize, heads as isize, tgt_len as isize, src_len as isize])?;
            let w = if args.average_attn_weights { w.mean_dim(&[1], false) } else { w };
            Some(if batched { w } else { w.squeeze_dim(0) })
        } else {
            None
        };
        let output = match (batched, self.batch_first) {
            (false, _) => output.squeeze_dim(1),
            (true, true) => output.transpose(0, 1),
            (true, false) => output,
        };
        Ok((output, weights))
    }

    /// The input projections: q, k and v, each `[len, N, E]`.
    #[allow(clippy::type_complexity)]
    pub(super) fn project(
        &self,
        query: &TensorBase<E>,
        key: &TensorBase<E>,
        value: &TensorBase<E>,
    ) -> Result<(TensorBase<E>, TensorBase<E>, TensorBase<E>), ShapeError> {
        let e = self.embed_dim;
        let bias = |i: usize| self.in_proj_bias.as_ref().map(|b| b.narrow(0, (i * e) as isize, e));
        let (wq, wk, wv) =
            match (&self.in_proj_weight, &self.q_proj_weight, &self.k_proj_weight, &self.v_proj_weight) {
                (Some(w), _, _, _) => {
                    (w.narrow(0, 0, e), w.narrow(0, e as isize, e), w.narrow(0, (2 * e) as isize, e))
                }
                (None, Some(q), Some(k), Some(v)) => ((**q).clone(), (**k).clone(), (**v).clone()),
                _ => unreachable!("MultiheadAttention holds a packed or three separate projections"),
            };
        Ok((
            query.try_linear(&wq, bias(0).as_ref())?,
            key.try_linear(&wk, bias(1).as_ref())?,
            value.try_linear(&wv, bias(2).as_ref())?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::nn::layers::attention::multihead::{AttentionArgs, DynMultiheadAttention};
    use crate::{Mask, Tensor};

    #[test]
    fn a_mask_of_the_wrong_shape_is_refused_with_pytorchs_words_with_and_without_weights() {
        let mha = DynMultiheadAttention::new(8, 2);
        let (q, kv) = (Tensor::randn([3, 2, 8]), Tensor::randn([5, 2, 8]));
        for need_weights in [true, false] {
            for (mask, words) in [
                (Tensor::zeros([3, 4]), "The shape of the 2D attn_mask is [3, 4], but should be [3, 5]."),
                (
                    Tensor::zeros([2, 3, 5]),
                    "The shape of the 3D attn_mask is [2, 3, 5], but should be [4, 3, 5].",
                ),
            ] {
                let mask = Mask::from(mask);
                let args = AttentionArgs { attn_mask: Some(&mask), need_weights, ..Default::default() };
                let error = mha.try_attend(&q, &kv, &kv, &args).unwrap_err().to_string();
                assert!(error.contains(words), "need_weights = {need_weights}: {error}");
            }
            let mask = Mask::from(Tensor::zeros([3, 5]));
            let args = AttentionArgs { attn_mask: Some(&mask), need_weights, ..Default::default() };
            assert_eq!(mha.try_attend(&q, &kv, &kv, &args).unwrap().0.shape(), vec![3, 2, 8]);
        }
    }
}
