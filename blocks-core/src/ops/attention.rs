//! `torch.nn.functional.scaled_dot_product_attention` and the masks that
//! attention takes ([`Mask`]: a boolean [`BoolMask`] or an additive float
//! tensor), built from `matmul`, `softmax` and `dropout` so that its backward
//! is theirs.
//!
//! A boolean mask is a [`BoolMask`] (values and a shape, as PyTorch's
//! `torch.bool` tensors), not a float tensor of 0 and 1, so that a float
//! mask (added to the scores) and a boolean one (selecting scores) cannot be
//! confused. What `true` means is PyTorch's, and differs between the two
//! APIs as in PyTorch: for `scaled_dot_product_attention` `true` means
//! "takes part in attention"; for `nn.MultiheadAttention` and the
//! Transformer layers `true` means "masked out".

use crate::ops::broadcast::broadcast_shape;
use crate::{Element, ShapeError, TensorBase};

/// A boolean tensor, as PyTorch's `torch.bool` masks: row-major values and a
/// shape.
///
/// ```
/// use blocks_core::BoolMask;
/// let causal = BoolMask::causal(2, 3);
/// assert_eq!(causal.values(), [true, false, false, true, true, false]);
/// assert_eq!(causal.shape(), [2, 3]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoolMask {
    values: Vec<bool>,
    shape: Vec<usize>,
}

impl BoolMask {
    /// A mask of `shape` holding `values` in row-major order.
    ///
    /// # Panics
    ///
    /// If the number of values is not the product of the shape; see
    /// [`try_from_vec`](Self::try_from_vec) for masks that come from users.
    ///
    /// ```
    /// let m = blocks_core::BoolMask::from_vec(vec![true, false], [1, 2]);
    /// assert_eq!(m.values(), [true, false]);
    /// ```
    #[track_caller]
    pub fn from_vec(values: Vec<bool>, shape: impl AsRef<[usize]>) -> Self {
        crate::error::or_panic(Self::try_from_vec(values, shape))
    }

    /// Like [`from_vec`](Self::from_vec), returning an error on a size mismatch.
    ///
    /// # Errors
    ///
    /// When the number of values is not the product of the shape (or it overflows).
    ///
    /// ```
    /// assert!(blocks_core::BoolMask::try_from_vec(vec![true], [2]).is_err());
    /// ```
    pub fn try_from_vec(values: Vec<bool>, shape: impl AsRef<[usize]>) -> Result<Self, ShapeError> {
        let shape = shape.as_ref().to_vec();
        let numel = crate::numel::checked_numel::<f32>("BoolMask", &shape)?;
        if numel != values.len() {
            return Err(ShapeError::new(format!(
                "BoolMask: {} values do not fill shape {shape:?} ({numel} elements)",
                values.len()
            )));
        }
        Ok(BoolMask { values, shape })
    }

    /// `true` where `tensor` is nonzero, like `tensor.bool()`.
    ///
    /// ```
    /// let t = blocks_core::Tensor::from_vec(vec![0.0, 2.0], [2]);
    /// assert_eq!(blocks_core::BoolMask::from_tensor(&t).values(), [false, true]);
    /// ```
    pub fn from_tensor<E: Element>(tensor: &TensorBase<E>) -> Self {
        BoolMask { values: tensor.to_vec().iter().map(|v| *v != E::zero()).collect(), shape: tensor.shape() }
    }

    /// `torch.ones(rows, cols, dtype=torch.bool).tril()`: `true` on and below
    /// the diagonal (what a causal `scaled_dot_product_attention` lets take part).
    ///
    /// # Panics
    ///
    /// When `rows × cols` overflows or exceeds the allocation limit.
    ///
    /// ```
    /// assert_eq!(blocks_core::BoolMask::causal(2, 2).values(), [true, false, true, true]);
    /// ```
    #[track_caller]
    pub fn causal(rows: usize, cols: usize) -> Self {
        crate::error::or_panic(crate::numel::checked_alloc::<f32>("causal mask", "the mask", &[rows, cols]));
        let values = (0..rows).flat_map(|i| (0..cols).map(move |j| j <= i)).collect();
        BoolMask { values, shape: vec![rows, cols] }
    }

    /// Its shape.
    ///
    /// ```
    /// assert_eq!(blocks_core::BoolMask::causal(2, 3).shape(), [2, 3]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Its values, row-major.
    ///
    /// ```
    /// assert_eq!(blocks_core::BoolMask::causal(1, 2).values(), [true, false]);
    /// ```
    pub fn values(&self) -> &[bool] {
        &self.values
    }

    /// `~mask`, PyTorch's `logical_not`.
    ///
    /// ```
    /// assert_eq!(blocks_core::BoolMask::causal(1, 2).not().values(), [false, true]);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn not(&self) -> Self {
        BoolMask { values: self.values.iter().map(|v| !v).collect(), shape: self.shape.clone() }
    }

    /// A float tensor of the same shape: `-inf` where the value is `blocked`,
    /// 0 elsewhere (PyTorch's `_canonical_mask`, which turns a bool mask into
    /// the float mask it adds to the scores).
    ///
    /// ```
    /// let m = blocks_core::BoolMask::from_vec(vec![true, false], [2]);
    /// assert_eq!(m.to_additive::<f32>(true).to_vec(), vec![f32::NEG_INFINITY, 0.0]);
    /// ```
    pub fn to_additive<E: Element>(&self, blocked: bool) -> TensorBase<E> {
        let values = self.values.iter().map(|&v| if v == blocked { E::neg_infinity() } else { E::zero() });
        TensorBase::from_vec(values.collect(), &self.shape)
    }
}

/// An attention mask as PyTorch takes it: a boolean tensor or a float one
/// added to the attention scores. What a boolean `true` means depends on the
/// API, as in PyTorch (see [`BoolMask`] and the module docs).
///
/// ```
/// use blocks_core::{BoolMask, Mask, Tensor};
/// let float: Mask = Tensor::zeros([2, 2]).into();
/// let boolean: Mask = BoolMask::causal(2, 2).into();
/// assert_eq!(float.shape(), boolean.shape());
/// ```
#[derive(Clone, Debug)]
pub enum Mask<E: Element = f32> {
    /// A `torch.bool` mask.
    Bool(BoolMask),
    /// A float mask, added to the scores (`-inf` blocks a position).
    Float(TensorBase<E>),
}

impl<E: Element> Mask<E> {
    /// Its shape.
    ///
    /// ```
    /// let m: blocks_core::Mask = blocks_core::Tensor::zeros([3, 4]).into();
    /// assert_eq!(m.shape(), vec![3, 4]);
    /// ```
    pub fn shape(&self) -> Vec<usize> {
        match self {
            Mask::Bool(mask) => mask.shape.clone(),
            Mask::Float(tensor) => tensor.shape(),
        }
    }

    /// The float mask to add to the scores: a float mask itself, a boolean
    /// one as `-inf` where its value is `blocked` and 0 elsewhere.
    ///
    /// ```
    /// use blocks_core::{BoolMask, Mask};
    /// let m: Mask = BoolMask::from_vec(vec![true, false], [2]).into();
    /// assert_eq!(m.to_additive(false).to_vec(), vec![0.0, f32::NEG_INFINITY]);
    /// ```
    pub fn to_additive(&self, blocked: bool) -> TensorBase<E> {
        match self {
            Mask::Bool(mask) => mask.to_additive(blocked),
            Mask::Float(tensor) => tensor.clone(),
        }
    }

    /// The mask for a model of element type `T` (a float mask cast, as
    /// [`to_f64`](crate::nn::ToElement::to_f64) casts a model).
    ///
    /// ```
    /// let m: blocks_core::Mask = blocks_core::Tensor::zeros([2]).into();
    /// assert_eq!(m.cast::<f64>().shape(), vec![2]);
    /// ```
    pub fn cast<T: Element>(&self) -> Mask<T> {
        match self {
            Mask::Bool(mask) => Mask::Bool(mask.clone()),
            Mask::Float(tensor) => Mask::Float(tensor.cast()),
        }
    }
}

impl<E: Element> From<BoolMask> for Mask<E> {
    fn from(mask: BoolMask) -> Self {
        Mask::Bool(mask)
    }
}

impl<E: Element> From<TensorBase<E>> for Mask<E> {
    fn from(tensor: TensorBase<E>) -> Self {
        Mask::Float(tensor)
    }
}

impl<E: Element> TensorBase<E> {
    /// Attention of this query `[..., L, E]` over `key` `[..., S, E]` and
    /// `value` `[..., S, Ev]`, like
    /// `F.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale)`:
    /// `softmax(q kᵀ · scale + bias) v`, `scale` `1/√E` unless given, `bias`
    /// from `attn_mask` (a boolean mask lets `true` take part, as PyTorch's; a
    /// float mask is added) and `-inf` above the diagonal when `is_causal`.
    /// Leading dims and the mask broadcast as in PyTorch. Dropout with
    /// probability `dropout_p` is applied to the weights whenever it is not 0
    /// (as PyTorch's function, which has no training flag).
    ///
    /// # Panics
    ///
    /// When the shapes do not fit (naming them), `is_causal` is given with a
    /// mask, or `dropout_p` is not in `[0, 1]`; see
    /// [`try_scaled_dot_product_attention`](Self::try_scaled_dot_product_attention).
    ///
    /// ```
    /// use blocks_core::{BoolMask, Tensor};
    /// let (q, k, v) = (Tensor::rand([2, 3, 4]), Tensor::rand([2, 5, 4]), Tensor::rand([2, 5, 6]));
    /// let y = q.scaled_dot_product_attention(&k, &v, None, 0.0, false, None);
    /// assert_eq!(y.shape(), vec![2, 3, 6]);
    /// // only the first key takes part: every row is value row 0
    /// let first = BoolMask::from_vec(vec![true, false, false, false, false], [5]).into();
    /// let y = q.scaled_dot_product_attention(&k, &v, Some(&first), 0.0, false, None);
    /// assert!((y.select(1, 2).to_vec()[0] - v.select(1, 0).to_vec()[0]).abs() < 1e-6);
    /// ```
    #[track_caller]
    pub fn scaled_dot_product_attention(
        &self,
        key: &Self,
        value: &Self,
        attn_mask: Option<&Mask<E>>,
        dropout_p: f64,
        is_causal: bool,
        scale: Option<f64>,
    ) -> Self {
        crate::error::or_panic(
            self.try_scaled_dot_product_attention(key, value, attn_mask, dropout_p, is_causal, scale),
        )
    }

    /// Like [`scaled_dot_product_attention`](Self::scaled_dot_product_attention),
    /// returning an error when the shapes do not fit.
    ///
    /// # Errors
    ///
    /// When query, key and value are not at least 1-D with matching
    /// feature and sequence sizes, their leading dims or the mask do not
    /// broadcast, `is_causal` comes with a mask, or `dropout_p` is not in `[0, 1]`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let (q, k) = (Tensor::rand([3, 4]), Tensor::rand([5, 3]));
    /// let error = q.try_scaled_dot_product_attention(&k, &k, None, 0.0, false, None).unwrap_err();
    /// assert!(error.to_string().starts_with("scaled_dot_product_attention: query [3, 4] and key [5, 3]"));
    /// ```
    pub fn try_scaled_dot_product_attention(
        &self,
        key: &Self,
        value: &Self,
        attn_mask: Option<&Mask<E>>,
        dropout_p: f64,
        is_causal: bool,
        scale: Option<f64>,
    ) -> Result<Self, ShapeError> {
        let (q_shape, k_shape, v_shape) = (self.shape(), key.shape(), value.shape());
        let op = "scaled_dot_product_attention";
        if q_shape.len() < 2 || k_shape.len() < 2 || v_shape.len() < 2 {
            return Err(ShapeError::new(format!(
                "{op}: query {q_shape:?}, key {k_shape:?} and value {v_shape:?} must be at least 2-D ([..., L, E])"
            )));
        }
        let (l, s, e) = (q_shape[q_shape.len() - 2], k_shape[k_shape.len() - 2], q_shape[q_shape.len() - 1]);
        if k_shape[k_shape.len() - 1] != e {
            return Err(ShapeError::new(format!(
                "{op}: query {q_shape:?} and key {k_shape:?} must have the same last dim"
            )));
        }
        if v_shape[v_shape.len() - 2] != s {
            return Err(ShapeError::new(format!(
                "{op}: key {k_shape:?} and value {v_shape:?} must have the same sequence length (dim -2)"
            )));
        }
        let lead = |shape: &[usize]| shape[..shape.len() - 2].to_vec();
        let batch = broadcast_shape(op, &lead(&q_shape), &lead(&k_shape))
            .and_then(|b| broadcast_shape(op, &b, &lead(&v_shape)))
            .map_err(|_| {
                ShapeError::new(format!(
                    "{op}: the batch dims of query {q_shape:?}, key {k_shape:?} and value {v_shape:?} do not broadcast"
                ))
            })?;
        if !(0.0..=1.0).contains(&dropout_p) {
            return Err(ShapeError::new(format!(
                "dropout probability has to be between 0 and 1, but got {dropout_p}"
            )));
        }
        let mut scores_shape = batch;
        scores_shape.extend([l, s]);
        crate::numel::checked_alloc::<E>(op, "the attention weights", &scores_shape)?;
        let bias = match (attn_mask, is_causal) {
            (Some(_), true) => {
                return Err(ShapeError::new(format!(
                    "{op}: _scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True"
                )));
            }
            (None, true) => Some(BoolMask::causal(l, s).to_additive::<E>(false)),
            (Some(mask), false) => {
                let shape = mask.shape();
                broadcast_shape(op, &shape, &scores_shape).ok().filter(|b| *b == scores_shape).ok_or_else(
                    || {
                        ShapeError::new(format!(
                            "{op}: attn_mask {shape:?} does not broadcast to the attention weights {scores_shape:?}"
                        ))
                    },
                )?;
                Some(mask.to_additive(false))
            }
            (None, false) => None,
        };
        let scale = scale.unwrap_or(1.0 / (e as f64).sqrt());
        let mut scores = self.try_matmul(&key.transpose(-2, -1))?.mul_scalar(E::of(scale));
        if let Some(bias) = bias {
            scores = scores.try_add(&bias)?;
        }
        let weights = scores.try_softmax(-1)?.dropout(dropout_p, true);
        weights.try_matmul(value)
    }
}

#[cfg(test)]
mod tests {
    use crate::{BoolMask, Mask, Tensor64, gradcheck};

    #[test]
    fn gradcheck_with_float_and_bool_masks() {
        let q = Tensor64::randn([2, 3, 4]).requires_grad_(true);
        let k = Tensor64::randn([2, 5, 4]).requires_grad_(true);
        let v = Tensor64::randn([2, 5, 3]).requires_grad_(true);
        let float: Mask<f64> = Tensor64::randn([3, 5]).into();
        let keep = BoolMask::from_vec((0..15).map(|i| i % 5 != 3).collect(), [1, 3, 5]).into();
        for mask in [None, Some(&float), Some(&keep)] {
            gradcheck(
                |xs| xs[0].scaled_dot_product_attention(&xs[1], &xs[2], mask, 0.0, false, Some(0.7)).sum(),
                &[q.clone(), k.clone(), v.clone()],
            )
            .unwrap();
        }
        gradcheck(
            |xs| xs[0].scaled_dot_product_attention(&xs[1], &xs[2], None, 0.0, true, None).tanh().sum(),
            &[q, k, v],
        )
        .unwrap();
    }

    #[test]
    fn causal_rows_see_the_past_only() {
        let q = Tensor64::randn([3, 2]);
        let v = Tensor64::from_vec(vec![1.0, 2.0, 3.0], [3, 1]);
        let y = q.scaled_dot_product_attention(&q, &v, None, 0.0, true, None);
        assert_eq!(y.to_vec()[0], 1.0);
        let error = q.try_scaled_dot_product_attention(
            &q,
            &v,
            Some(&Tensor64::zeros([3, 3]).into()),
            0.0,
            true,
            None,
        );
        assert!(error.unwrap_err().to_string().contains("is_causal=True"));
    }

    #[test]
    fn masks_that_do_not_broadcast_are_refused() {
        let q = Tensor64::randn([2, 3, 4]);
        let mask: Mask<f64> = BoolMask::from_vec(vec![true; 4], [2, 2]).into();
        let error = q.try_scaled_dot_product_attention(&q, &q, Some(&mask), 0.0, false, None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "scaled_dot_product_attention: attn_mask [2, 2] does not broadcast to the attention weights [2, 3, 3]"
        );
    }
}
