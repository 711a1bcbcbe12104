//! Layer normalization over the trailing dims, like
//! `torch.nn.functional.layer_norm` (NativeLayerNormBackward0).

use ndarray::{ArrayD, IxDyn};

use super::layer_norm_grad;
use crate::autograd::pool;
use crate::error::or_panic;
use crate::threading::{get_num_threads, loop_parts, run_parts};
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
        let (data, stats) = {
            let x = self.data();
            let x = x.as_standard_layout();
            let xs = x.as_slice().expect("standard layout");
            let mut y = pool::scratch(xs.len());
            let mut stats = vec![(0.0, 0.0); xs.len().checked_div(m).unwrap_or(0)];
            rows_in_parts(&mut y, &mut stats, m, |first, y, stats| {
                for ((r, row), stat) in y.chunks_exact_mut(m).enumerate().zip(stats.iter_mut()) {
                    let xr = &xs[(first + r) * m..(first + r + 1) * m];
                    *stat = normalize_row(xr, row, w.as_deref(), b.as_deref(), eps.as_f64());
                }
            });
            (ArrayD::from_shape_vec(x.raw_dim(), y).expect("input size"), stats)
        };
        let has_bias = bias.is_some();
        let inputs: Vec<&Self> = [Some(self), weight, bias].into_iter().flatten().collect();
        Ok(TensorBase::from_op(data, "NativeLayerNormBackward0", &inputs, move |grad, ctx| {
            let x = ctx.input(0);
            let x = x.as_standard_layout();
            let grad = grad.as_standard_layout();
            let (xs, gs) =
                (x.as_slice().expect("standard layout"), grad.as_slice().expect("standard layout"));
            let dx = ctx.needs(0).then(|| {
                let mut dx = pool::scratch(xs.len());
                let mut unused = vec![(); stats.len()];
                rows_in_parts(&mut dx, &mut unused, m, |first, dx, _| {
                    for (r, dxr) in dx.chunks_exact_mut(m).enumerate() {
                        let at = (first + r) * m..(first + r + 1) * m;
                        layer_norm_grad::row_input_grad(
                            &xs[at.clone()],
                            &gs[at],
                            stats[first + r],
                            w.as_deref(),
                            dxr,
                        );
                    }
                });
                ArrayD::from_shape_vec(IxDyn(x.shape()), dx).expect("input size")
            });
            // The parameters' gradients sum over rows in row order, whatever the threads.
            let (dw, db) = if w.is_some() || has_bias {
                layer_norm_grad::param_grads(xs, gs, &stats, m)
            } else {
                (vec![0.0; m], vec![0.0; m])
            };
            let to_array = |v: Vec<f64>, shape: &[usize]| {
                ArrayD::from_shape_vec(IxDyn(shape), v.into_iter().map(E::of).collect()).expect("sizes match")
            };
            let normalized = &x.shape()[x.ndim() - d..];
            let mut grads = vec![dx];
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

/// Sums `values` mapped by `f` in f64, in four running sums (independent
/// chains, so the loop does not wait on each add).
fn sum4<E: Element>(values: &[E], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0; 4];
    let chunks = values.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v.as_f64());
        }
    }
    let tail: f64 = rest.iter().map(|&v| f(v.as_f64())).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Normalizes one row `x` into `y` (then `· weight + bias`); returns its
/// mean and `1/√(var + eps)`.
fn normalize_row<E: Element>(x: &[E], y: &mut [E], w: Option<&[E]>, b: Option<&[E]>, eps: f64) -> (f64, f64) {
    let m = x.len() as f64;
    let mean = sum4(x, |v| v) / m;
    let var = sum4(x, |v| (v - mean) * (v - mean)) / m;
    let invstd = 1.0 / (var + eps).sqrt();
    for (o, &v) in y.iter_mut().zip(x) {
        *o = E::of((v.as_f64() - mean) * invstd);
    }
    if let Some(w) = w {
        y.iter_mut().zip(w).for_each(|(o, &w)| *o *= w);
    }
    if let Some(b) = b {
        y.iter_mut().zip(b).for_each(|(o, &b)| *o += b);
    }
    (mean, invstd)
}

/// Runs `work(first_row, rows, their stats)` on `data` (rows of `m`) and
/// `stats` (one per row), in runs of whole rows on the threads when the
/// rows are long enough in all: a row costs about four element-steps per
/// element (two sums, a normalization, the affine step).
fn rows_in_parts<E: Element, S: Send>(
    data: &mut [E],
    stats: &mut [S],
    m: usize,
    work: impl Fn(usize, &mut [E], &mut [S]) + Sync,
) {
    let rows = stats.len();
    let parts = loop_parts(data.len().saturating_mul(4), rows, get_num_threads());
    if parts <= 1 || m == 0 {
        work(0, data, stats);
        return;
    }
    let mut pieces = Vec::with_capacity(parts);
    let (mut data, mut stats, mut first) = (data, stats, 0);
    for p in 1..=parts {
        let count = rows * p / parts - first;
        let (d, d_rest) = data.split_at_mut(count * m);
        let (s, s_rest) = stats.split_at_mut(count);
        pieces.push((first, d, s));
        (data, stats, first) = (d_rest, s_rest, first + count);
    }
    run_parts(pieces, |(first, d, s)| work(first, d, s));
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck, set_num_threads};

    /// The plain definition: `(x − mean) / √(var + eps) · w + b` from ops.
    fn plain(x: &Tensor64, w: &Tensor64, b: &Tensor64, eps: f64) -> Tensor64 {
        let centered = x.try_sub(&x.mean_dim(&[-1], true)).unwrap();
        let var = centered.try_mul(&centered).unwrap().mean_dim(&[-1], true);
        let std = var.add_scalar(eps).sqrt();
        centered.try_div(&std).unwrap().try_mul(w).unwrap().try_add(b).unwrap()
    }

    #[test]
    fn matches_the_plain_definition_and_passes_gradcheck_on_odd_sizes() {
        for m in [1, 3, 7, 13] {
            let x = Tensor64::randn([5, m]).requires_grad_(true);
            let (w, b) =
                (Tensor64::randn([m]).requires_grad_(true), Tensor64::randn([m]).requires_grad_(true));
            let ours = x.layer_norm(&[m], Some(&w), Some(&b), 1e-5);
            for (a, e) in ours.to_vec().iter().zip(plain(&x, &w, &b, 1e-5).to_vec()) {
                assert!((a - e).abs() < 1e-12, "{a} against {e} (m = {m})");
            }
            gradcheck(|t| t[0].layer_norm(&[m], Some(&t[1]), Some(&t[2]), 1e-5).tanh().sum(), &[x, w, b])
                .unwrap();
        }
    }

    #[test]
    fn the_same_numbers_on_one_two_and_three_threads() {
        // long enough to be cut among the threads (4 steps an element)
        let x = Tensor64::randn([613, 857]);
        assert!(crate::threading::loop_parts(613 * 857 * 4, 613, 3) == 3);
        let (w, b, g) = (Tensor64::randn([857]), Tensor64::randn([857]), Tensor64::randn([613, 857]));
        let run = |threads| {
            set_num_threads(threads);
            let (x, w, b) = (
                x.detach().requires_grad_(true),
                w.detach().requires_grad_(true),
                b.detach().requires_grad_(true),
            );
            let y = x.layer_norm(&[857], Some(&w), Some(&b), 1e-5);
            (&y * &g).sum().backward();
            set_num_threads(1);
            [y, x.grad().unwrap(), w.grad().unwrap(), b.grad().unwrap()].map(|t| t.to_vec())
        };
        let one = run(1);
        assert!(run(2) == one && run(3) == one);
    }
}
