//! Layer normalization over the trailing dims, like
//! `torch.nn.functional.layer_norm` (NativeLayerNormBackward0).

use ndarray::{ArrayD, IxDyn};

use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// Normalizes over the last `normalized_shape.len()` dims (which must equal
    /// `normalized_shape`) with the biased variance, then applies the optional
    /// elementwise `weight` and `bias` (both of `normalized_shape`), like
    /// `torch.nn.functional.layer_norm(x, normalized_shape, weight, bias, eps)`
    /// (NativeLayerNormBackward0).
    ///
    /// # Panics
    /// On shapes that do not fit (see [`try_layer_norm`](Self::try_layer_norm)).
    ///
    /// ```
    /// use blocks_core::Tensor64;
    /// let x = Tensor64::from_vec(vec![1.0, 3.0, 10.0, 20.0], [2, 2]);
    /// assert_eq!(x.layer_norm(&[2], None, None, 0.0).to_vec(), vec![-1.0, 1.0, -1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn layer_norm(
        &self,
        normalized_shape: &[usize],
        weight: Option<&Self>,
        bias: Option<&Self>,
        eps: E,
    ) -> Self {
        or_panic(self.try_layer_norm(normalized_shape, weight, bias, eps))
    }

    /// Like [`layer_norm`](Self::layer_norm), returning an error on bad shapes.
    ///
    /// # Errors
    /// A [`ShapeError`] naming the shapes when the input's trailing dims are not
    /// `normalized_shape`, or `weight` or `bias` is not of `normalized_shape`.
    ///
    /// ```
    /// let err = blocks_core::Tensor::zeros([3, 8]).try_layer_norm(&[16], None, None, 1e-5).unwrap_err();
    /// assert!(err.to_string().contains("expected input with shape [*, 16]"));
    /// ```
    pub fn try_layer_norm(
        &self,
        normalized_shape: &[usize],
        weight: Option<&Self>,
        bias: Option<&Self>,
        eps: E,
    ) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let d = normalized_shape.len();
        if d == 0 || shape.len() < d || shape[shape.len() - d..] != *normalized_shape {
            let dims = normalized_shape.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
            return Err(ShapeError::new(format!(
                "layer_norm: Given normalized_shape={normalized_shape:?}, expected input with shape [*, {dims}], \
                 but got input of size {shape:?}"
            )));
        }
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let Some(t) = t
                && t.shape() != normalized_shape
            {
                return Err(ShapeError::new(format!(
                    "layer_norm: input {shape:?}, {name} {:?}: expected {name} of shape {normalized_shape:?}",
                    t.shape()
                )));
            }
        }
        let m: usize = normalized_shape.iter().product();
        let (w, b) = (weight.map(Self::to_vec), bias.map(Self::to_vec));
        let (data, mean, invstd) = {
            let x = self.data();
            let mut y = x.as_standard_layout().into_owned();
            let (mut means, mut invstds) = (Vec::new(), Vec::new());
            for row in y.as_slice_mut().expect("standard layout").chunks_exact_mut(m) {
                let mean = row.iter().map(|v| v.as_f64()).sum::<f64>() / m as f64;
                let var = row.iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / m as f64;
                let invstd = 1.0 / (var + eps.as_f64()).sqrt();
                for (j, v) in row.iter_mut().enumerate() {
                    let mut out = E::of((v.as_f64() - mean) * invstd);
                    if let Some(w) = &w {
                        out *= w[j];
                    }
                    if let Some(b) = &b {
                        out += b[j];
                    }
                    *v = out;
                }
                means.push(mean);
                invstds.push(invstd);
            }
            (y, means, invstds)
        };
        let has_bias = bias.is_some();
        let inputs: Vec<&Self> = [Some(self), weight, bias].into_iter().flatten().collect();
        Ok(TensorBase::from_op(data, "NativeLayerNormBackward0", &inputs, move |grad, ctx| {
            let x = ctx.input(0);
            let x = x.as_standard_layout();
            let grad = grad.as_standard_layout();
            let rows = x.as_slice().expect("standard layout").chunks_exact(m);
            let grad_rows = grad.as_slice().expect("standard layout").chunks_exact(m);
            let mut dx = Vec::with_capacity(x.len());
            let (mut dw, mut db) = (vec![0.0; m], vec![0.0; m]);
            for (r, (xr, gr)) in rows.zip(grad_rows).enumerate() {
                let (mean, invstd) = (mean[r], invstd[r]);
                let xhat = |j: usize| (xr[j].as_f64() - mean) * invstd;
                let wj = |j: usize| w.as_ref().map_or(1.0, |w| w[j].as_f64());
                let (mut sum_d, mut sum_d_xhat) = (0.0, 0.0);
                for j in 0..m {
                    let g = gr[j].as_f64();
                    let d = g * wj(j);
                    sum_d += d;
                    sum_d_xhat += d * xhat(j);
                    dw[j] += g * xhat(j);
                    db[j] += g;
                }
                for (j, g) in gr.iter().enumerate() {
                    let d = g.as_f64() * wj(j);
                    dx.push(E::of(invstd * (d - sum_d / m as f64 - xhat(j) * sum_d_xhat / m as f64)));
                }
            }
            let to_array = |v: Vec<f64>, shape: &[usize]| {
                ArrayD::from_shape_vec(IxDyn(shape), v.into_iter().map(E::of).collect()).expect("sizes match")
            };
            let normalized = &x.shape()[x.ndim() - d..];
            let mut grads =
                vec![ctx.needs(0).then(|| ArrayD::from_shape_vec(IxDyn(x.shape()), dx).expect("input size"))];
            let mut next = 1;
            if w.is_some() {
                grads.push(ctx.needs(next).then(|| to_array(dw, normalized)));
                next += 1;
            }
            if has_bias {
                grads.push(ctx.needs(next).then(|| to_array(db, normalized)));
            }
            grads
        }))
    }
}
