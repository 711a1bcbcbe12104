//! Batch normalization over the channel dim of `[N, C]`, `[N, C, L]` or
//! `[N, C, H, W]` tensors, like `torch.nn.functional.batch_norm`
//! (NativeBatchNormBackward0): batch statistics in training (with the exact
//! gradient through them), running statistics in eval.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayView3, ArrayViewD, IxDyn};

use super::batch_norm_sums::{Sums, channel_stats, channel_sums};
use crate::error::or_panic;
use crate::threading::for_row_parts;
use crate::vectorized::vectorized;
use crate::{Element, ShapeError, TensorBase, get_num_threads};

/// The per-channel statistics of a training batch, returned by
/// [`batch_norm_train`](TensorBase::batch_norm_train) so that a layer can
/// update its running statistics as PyTorch does.
///
/// ```
/// use blocks_core::Tensor;
/// let x = Tensor::from_vec(vec![1.0, 3.0], [2, 1]);
/// let (_, stats) = x.batch_norm_train(None, None, 1e-5);
/// assert_eq!(stats.mean.to_vec(), vec![2.0]);
/// assert_eq!(stats.var.to_vec(), vec![2.0]); // unbiased: ((1-2)² + (3-2)²) / (2-1)
/// assert_eq!(stats.count, 2);
/// ```
#[derive(Clone, Debug)]
pub struct BatchNormStats<E: Element> {
    /// The batch mean of each channel, `[C]`.
    pub mean: TensorBase<E>,
    /// The **unbiased** batch variance of each channel, `[C]` (what PyTorch
    /// puts into the running variance; the normalization itself uses the biased one).
    pub var: TensorBase<E>,
    /// How many values each channel's statistics were taken over (`N · L` or `N · H · W`).
    pub count: usize,
}

impl<E: Element> BatchNormStats<E> {
    /// Blends these statistics into `running_mean` and `running_var` in place,
    /// like BatchNorm's forward in training: `running = (1 − f) · running + f · batch`,
    /// with `f = momentum`, or with `momentum = None` the cumulative average
    /// `f = 1 / num_batches_tracked` (the count after adding this batch, as PyTorch has it).
    ///
    /// # Panics
    /// If the running tensors are not `[C]` (see [`try_update_running`](Self::try_update_running)).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let (_, stats) = Tensor::from_vec(vec![1.0, 3.0], [2, 1]).batch_norm_train(None, None, 1e-5);
    /// let (mean, var) = (Tensor::zeros([1]), Tensor::ones([1]));
    /// stats.update_running(&mean, &var, Some(0.1), 1);
    /// assert_eq!(mean.to_vec(), vec![0.2]);
    /// assert_eq!(var.to_vec(), vec![1.1]);
    /// ```
    #[track_caller]
    pub fn update_running(
        &self,
        running_mean: &TensorBase<E>,
        running_var: &TensorBase<E>,
        momentum: Option<f64>,
        num_batches_tracked: u64,
    ) {
        or_panic(self.try_update_running(running_mean, running_var, momentum, num_batches_tracked));
    }

    /// Like [`update_running`](Self::update_running), returning an error on mismatched shapes.
    ///
    /// # Errors
    /// A [`ShapeError`] naming both shapes when a running tensor's shape is not the statistics' `[C]`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let (_, stats) = Tensor::ones([2, 3]).batch_norm_train(None, None, 1e-5);
    /// assert!(stats.try_update_running(&Tensor::zeros([4]), &Tensor::ones([3]), Some(0.1), 1).is_err());
    /// ```
    pub fn try_update_running(
        &self,
        running_mean: &TensorBase<E>,
        running_var: &TensorBase<E>,
        momentum: Option<f64>,
        num_batches_tracked: u64,
    ) -> Result<(), ShapeError> {
        let channels = self.mean.shape();
        for (name, running) in [("running_mean", running_mean), ("running_var", running_var)] {
            if running.shape() != channels {
                return Err(ShapeError::new(format!(
                    "batch_norm: {name} has shape {:?}, the batch statistics {channels:?}",
                    running.shape()
                )));
            }
        }
        let factor = E::of(match momentum {
            Some(momentum) => momentum,
            None => 1.0 / num_batches_tracked.max(1) as f64,
        });
        for (running, batch) in [(running_mean, &self.mean), (running_var, &self.var)] {
            let batch = batch.data();
            running.update_data(|running| {
                ndarray::Zip::from(running)
                    .and(&*batch)
                    .for_each(|r, &b| *r = factor * b + (E::one() - factor) * *r)
            });
        }
        Ok(())
    }
}

/// `[N, C, rest...]` seen as `[N, C, S]`.
fn channels_view<E: Element>(x: ArrayViewD<'_, E>) -> ArrayView3<'_, E> {
    let shape = x.shape();
    let dims = (shape[0], shape[1], shape[2..].iter().product());
    x.into_shape_with_order(dims).expect("standard layout")
}

/// Checks the input (at least 2-D) and the per-channel tensors; gives C.
fn check_channels(
    op: &str,
    x_shape: &[usize],
    per_channel: &[(&str, Option<Vec<usize>>)],
) -> Result<usize, ShapeError> {
    if x_shape.len() < 2 {
        return Err(ShapeError::new(format!(
            "{op}: expected an input of at least 2 dims (N, C, ...), got input of shape {x_shape:?}"
        )));
    }
    let channels = x_shape[1];
    for (name, shape) in per_channel {
        if let Some(shape) = shape
            && shape.as_slice() != [channels]
        {
            return Err(ShapeError::new(format!(
                "{op}: input {x_shape:?}, {name} {shape:?}: expected {name} of shape [{channels}]"
            )));
        }
    }
    Ok(channels)
}

/// What the backward needs per channel: the mean and `1/√(var + eps)` used, and the affine weight.
struct Normalization<E> {
    mean: Vec<f64>,
    invstd: Vec<f64>,
    weight: Option<Vec<E>>,
    training: bool,
    /// For statistics taken across processes (SyncBatchNorm): the count of
    /// values per channel over all of them, and the sum that combines the
    /// backward's per-channel sums across them.
    across: Option<(f64, Reduce)>,
}

/// Sums values element-wise across the processes of a job, in place, on
/// every process (an all-reduce): what [`TensorBase::batch_norm_train_across`]
/// combines statistics and gradient sums with.
pub(crate) type Reduce = Arc<dyn Fn(&mut [f64]) + Send + Sync>;

impl<E: Element> TensorBase<E> {
    /// Batch normalization with the batch's statistics, as a BatchNorm layer
    /// does in training (NativeBatchNormBackward0).
    ///
    /// Each channel (dim 1) is normalized with its mean and **biased**
    /// variance over the batch and the spatial dims, then scaled by `weight`
    /// and shifted by `bias` (both `[C]`, optional). Returns the result and
    /// the batch statistics (mean and **unbiased** variance) for the running
    /// estimates. The gradient flows through the statistics, exactly.
    ///
    /// # Panics
    /// On shapes that do not fit, or a single value per channel (see
    /// [`try_batch_norm_train`](Self::try_batch_norm_train)).
    ///
    /// ```
    /// use blocks_core::Tensor64;
    /// let x = Tensor64::from_vec(vec![1.0, 3.0], [2, 1]);
    /// let (y, _) = x.batch_norm_train(None, None, 0.0);
    /// assert_eq!(y.to_vec(), vec![-1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn batch_norm_train(
        &self,
        weight: Option<&Self>,
        bias: Option<&Self>,
        eps: E,
    ) -> (Self, BatchNormStats<E>) {
        or_panic(self.try_batch_norm_train(weight, bias, eps))
    }

    /// Like [`batch_norm_train`](Self::batch_norm_train), returning an error on bad shapes.
    ///
    /// # Errors
    /// A [`ShapeError`] for an input of fewer than 2 dims, a `weight` or
    /// `bias` that is not `[C]`, or only one value per channel (PyTorch's
    /// "Expected more than 1 value per channel when training").
    ///
    /// ```
    /// let err = blocks_core::Tensor::zeros([1, 4]).try_batch_norm_train(None, None, 1e-5).unwrap_err();
    /// assert!(err.to_string().contains("more than 1 value per channel"));
    /// ```
    pub fn try_batch_norm_train(
        &self,
        weight: Option<&Self>,
        bias: Option<&Self>,
        eps: E,
    ) -> Result<(Self, BatchNormStats<E>), ShapeError> {
        let x_shape = self.shape();
        let per_channel = [("weight", weight.map(Self::shape)), ("bias", bias.map(Self::shape))];
        let channels = check_channels("batch_norm", &x_shape, &per_channel)?;
        let count = self.numel().checked_div(channels).unwrap_or(0);
        if count <= 1 {
            return Err(ShapeError::new(format!(
                "batch_norm: Expected more than 1 value per channel when training, got input size {x_shape:?}"
            )));
        }
        let (mean, biased) = {
            let x = self.data();
            let x = x.as_standard_layout();
            channel_stats(channels_view(x.view()))
        };
        let invstd: Vec<f64> = biased.iter().map(|v| 1.0 / (v + eps.as_f64()).sqrt()).collect();
        let unbiased = biased.iter().map(|v| E::of(v * count as f64 / (count - 1) as f64)).collect();
        let stats = BatchNormStats {
            mean: TensorBase::from_vec(mean.iter().map(|&m| E::of(m)).collect(), [channels]),
            var: TensorBase::from_vec(unbiased, [channels]),
            count,
        };
        let norm =
            Normalization { mean, invstd, weight: weight.map(Self::to_vec), training: true, across: None };
        Ok((self.normalize(norm, weight, bias), stats))
    }

    /// Batch normalization with given running statistics, as a BatchNorm layer
    /// does in eval (NativeBatchNormBackward0): `(x − running_mean) /
    /// √(running_var + eps) · weight + bias` per channel. The statistics get no gradient.
    ///
    /// # Panics
    /// On shapes that do not fit (see [`try_batch_norm_eval`](Self::try_batch_norm_eval)).
    ///
    /// ```
    /// use blocks_core::Tensor64;
    /// let x = Tensor64::from_vec(vec![3.0, 5.0], [2, 1]);
    /// let (mean, var) = (Tensor64::full([1], 1.0), Tensor64::full([1], 4.0));
    /// assert_eq!(x.batch_norm_eval(&mean, &var, None, None, 0.0).to_vec(), vec![1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn batch_norm_eval(
        &self,
        running_mean: &Self,
        running_var: &Self,
        weight: Option<&Self>,
        bias: Option<&Self>,
        eps: E,
    ) -> Self {
        or_panic(self.try_batch_norm_eval(running_mean, running_var, weight, bias, eps))
    }

    /// Like [`batch_norm_eval`](Self::batch_norm_eval), returning an error on bad shapes.
    ///
    /// # Errors
    /// A [`ShapeError`] for an input of fewer than 2 dims or statistics,
    /// `weight` or `bias` that are not `[C]`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::zeros([2, 3]);
    /// assert!(x.try_batch_norm_eval(&Tensor::zeros([4]), &Tensor::ones([3]), None, None, 1e-5).is_err());
    /// ```
    pub fn try_batch_norm_eval(
        &self,
        running_mean: &Self,
        running_var: &Self,
        weight: Option<&Self>,
        bias: Option<&Self>,
        eps: E,
    ) -> Result<Self, ShapeError> {
        let per_channel = [
            ("running_mean", Some(running_mean.shape())),
            ("running_var", Some(running_var.shape())),
            ("weight", weight.map(Self::shape)),
            ("bias", bias.map(Self::shape)),
        ];
        check_channels("batch_norm", &self.shape(), &per_channel)?;
        let mean = running_mean.to_vec().iter().map(|m| m.as_f64()).collect();
        let invstd = running_var.to_vec().iter().map(|v| 1.0 / (v.as_f64() + eps.as_f64()).sqrt()).collect();
        let norm =
            Normalization { mean, invstd, weight: weight.map(Self::to_vec), training: false, across: None };
        Ok(self.normalize(norm, weight, bias))
    }

    /// Batch normalization in training with the statistics of the batch
    /// split across processes (SyncBatchNorm): each process passes its part,
    /// `reduce` sums across them. The mean and biased variance are those of
    /// the whole batch (each part's mean and squared deviations, combined
    /// exactly in float64); the backward sums `Σ g` and `Σ g · x̂` across the
    /// processes too, so each part's input gradient is the whole batch's,
    /// while the weight and bias get this part's (summed, as every gradient
    /// is, by data-parallel training). The statistics returned are the whole
    /// batch's, with its count. Every process must call it, and run the
    /// backward, alike.
    ///
    /// # Errors
    /// As [`try_batch_norm_train`](Self::try_batch_norm_train), with one
    /// value per channel counted over the whole batch.
    pub(crate) fn batch_norm_train_across(
        &self,
        weight: Option<&Self>,
        bias: Option<&Self>,
        eps: E,
        reduce: Reduce,
    ) -> Result<(Self, BatchNormStats<E>), ShapeError> {
        let x_shape = self.shape();
        let per_channel = [("weight", weight.map(Self::shape)), ("bias", bias.map(Self::shape))];
        let channels = check_channels("batch_norm", &x_shape, &per_channel)?;
        let local = self.numel().checked_div(channels).unwrap_or(0);
        let (local_mean, local_var) = if local == 0 {
            (vec![0.0; channels], vec![0.0; channels])
        } else {
            let x = self.data();
            let x = x.as_standard_layout();
            channel_stats(channels_view(x.view()))
        };
        // The count and the sums, then the squared deviations from the
        // whole batch's mean: two sums across the processes.
        let mut sums: Vec<f64> =
            std::iter::once(local as f64).chain(local_mean.iter().map(|m| m * local as f64)).collect();
        reduce(&mut sums);
        let count = sums[0];
        if count <= 1.0 {
            return Err(ShapeError::new(format!(
                "batch_norm: Expected more than 1 value per channel when training, got input size {x_shape:?} \
                 ({count} values per channel over every process)"
            )));
        }
        let mean: Vec<f64> = sums[1..].iter().map(|s| s / count).collect();
        let mut squares: Vec<f64> = local_mean
            .iter()
            .zip(&local_var)
            .zip(&mean)
            .map(|((m, v), global)| local as f64 * (v + (m - global) * (m - global)))
            .collect();
        reduce(&mut squares);
        let biased: Vec<f64> = squares.iter().map(|s| s / count).collect();
        let invstd: Vec<f64> = biased.iter().map(|v| 1.0 / (v + eps.as_f64()).sqrt()).collect();
        let stats = BatchNormStats {
            mean: TensorBase::from_vec(mean.iter().map(|&m| E::of(m)).collect(), [channels]),
            var: TensorBase::from_vec(
                biased.iter().map(|v| E::of(v * count / (count - 1.0))).collect(),
                [channels],
            ),
            count: count as usize,
        };
        let weights = weight.map(Self::to_vec);
        let norm =
            Normalization { mean, invstd, weight: weights, training: true, across: Some((count, reduce)) };
        Ok((self.normalize(norm, weight, bias), stats))
    }

    /// `(x − mean) · invstd · weight + bias` per channel, recorded with its backward.
    ///
    /// One pass from the input into new storage: per channel the mean, the
    /// scale `invstd · weight` and the bias are rounded to `E` once, and each
    /// value is `(x − mean) · scale + bias` in `E` (as PyTorch computes it).
    fn normalize(&self, norm: Normalization<E>, weight: Option<&Self>, bias: Option<&Self>) -> Self {
        let data = {
            let x = self.data();
            let x = x.as_standard_layout();
            let shape = x.shape().to_vec();
            let values = x.as_slice().expect("standard layout");
            let bias = bias.map(Self::to_vec);
            let c = shape[1];
            let spatial = values.len().checked_div(shape[0] * c).unwrap_or(0);
            let per_channel: Vec<(E, E, E)> = (0..c)
                .map(|ch| {
                    let w = norm.weight.as_ref().map_or(1.0, |w| w[ch].as_f64());
                    let b = bias.as_ref().map_or(E::zero(), |b| b[ch]);
                    (E::of(norm.mean[ch]), E::of(norm.invstd[ch] * w), b)
                })
                .collect();
            // Every element is written below.
            let mut y = crate::autograd::pool::scratch(values.len());
            if spatial > 0 {
                // One plane (image, channel) at a time: the channel is fixed within it.
                let per_channel = &per_channel;
                for_row_parts(&mut y, spatial, spatial, get_num_threads(), |first, planes| {
                    vectorized(
                        #[inline(always)]
                        || normalize_planes(&values[first * spatial..], spatial, per_channel, first, planes),
                    );
                });
            }
            ArrayD::from_shape_vec(IxDyn(&shape), y).expect("input size")
        };
        let (has_weight, has_bias) = (weight.is_some(), bias.is_some());
        let inputs: Vec<&Self> = [Some(self), weight, bias].into_iter().flatten().collect();
        TensorBase::from_op(data, "NativeBatchNormBackward0", &inputs, move |grad, ctx| {
            let x = ctx.input(0);
            let x = x.as_standard_layout();
            let grad = grad.as_standard_layout();
            let (x3, g3) = (channels_view(x.view()), channels_view(grad.view()));
            let (dx, dw, db) = batch_norm_backward(x3, g3, &norm);
            let dx = ArrayD::from_shape_vec(IxDyn(x.shape()), dx).expect("input size");
            let mut grads = vec![ctx.needs(0).then_some(dx)];
            let channels = norm.mean.len();
            if has_weight {
                grads
                    .push(ctx.needs(1).then(|| ArrayD::from_shape_vec(IxDyn(&[channels]), dw).expect("[C]")));
            }
            if has_bias {
                let i = 1 + usize::from(has_weight);
                grads
                    .push(ctx.needs(i).then(|| ArrayD::from_shape_vec(IxDyn(&[channels]), db).expect("[C]")));
            }
            grads
        })
    }
}

/// Planes `first..` of a normalization (`spatial` values each) from `x`
/// (starting at plane `first`): `(x − mean) · scale + shift` with each
/// plane's channel's `(mean, scale, shift)`.
#[inline(always)]
fn normalize_planes<E: Element>(
    x: &[E],
    spatial: usize,
    per_channel: &[(E, E, E)],
    first: usize,
    planes: &mut [E],
) {
    let c = per_channel.len();
    for (index, (out, input)) in planes.chunks_exact_mut(spatial).zip(x.chunks_exact(spatial)).enumerate() {
        let (mean, scale, shift) = per_channel[(first + index) % c];
        for (out, &v) in out.iter_mut().zip(input) {
            *out = (v - mean) * scale + shift;
        }
    }
}

/// The gradients of input, weight and bias, in float64 per channel:
/// `dx = w · invstd · (g − mean(g) − x̂ · mean(g · x̂))` in training (through
/// the batch statistics), `dx = w · invstd · g` in eval; `dw = Σ g · x̂`, `db = Σ g`.
fn batch_norm_backward<E: Element>(
    x: ArrayView3<'_, E>,
    g: ArrayView3<'_, E>,
    norm: &Normalization<E>,
) -> (Vec<E>, Vec<E>, Vec<E>) {
    let (n, c, s) = x.dim();
    let count = norm.across.as_ref().map_or((n * s) as f64, |(count, _)| *count);
    let threads = get_num_threads();
    let (x, g) = (x.as_slice().expect("standard layout"), g.as_slice().expect("standard layout"));
    // (Σ g, Σ g · x̂) per channel, the same on any number of threads.
    let mut sums = channel_sums(x, g, (n, c, s), Sums::Products(&norm.mean), threads);
    for ((_, sum_g_xhat), invstd) in sums.iter_mut().zip(&norm.invstd) {
        *sum_g_xhat *= invstd;
    }
    // This part's weight and bias gradients; then, across processes, the
    // sums over the whole batch for the input's.
    let dw = sums.iter().map(|&(_, sum_g_xhat)| E::of(sum_g_xhat)).collect();
    let db = sums.iter().map(|&(sum_g, _)| E::of(sum_g)).collect();
    if let Some((_, reduce)) = &norm.across {
        let mut flat: Vec<f64> = sums.iter().flat_map(|&(g, gx)| [g, gx]).collect();
        reduce(&mut flat);
        sums = flat.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect();
    }
    // Every element is written below. Per channel, in float64 and then
    // rounded to `E` once: dx = a · (g − mean(g) − (x − mean) · k) with
    // a = w · invstd and k = invstd · mean(g · x̂) (training; eval: a · g).
    let coefficients: Vec<[E; 4]> = (0..c)
        .map(|ch| {
            let (mean, invstd) = (norm.mean[ch], norm.invstd[ch]);
            let w = norm.weight.as_ref().map_or(1.0, |w| w[ch].as_f64());
            let (sum_g, sum_g_xhat) = sums[ch];
            [w * invstd, sum_g / count, mean, invstd * sum_g_xhat / count].map(E::of)
        })
        .collect();
    let mut dx = crate::autograd::pool::scratch(n * c * s);
    if s > 0 {
        let coefficients = &coefficients;
        for_row_parts(&mut dx, s, s, threads, |first, planes| {
            vectorized(
                #[inline(always)]
                || dx_planes(x, g, (c, s), norm.training, coefficients, first, planes),
            );
        });
    }
    (dx, dw, db)
}

/// Planes `first..` of the input's gradient (see [`batch_norm_backward`]).
#[inline(always)]
fn dx_planes<E: Element>(
    x: &[E],
    g: &[E],
    (c, s): (usize, usize),
    training: bool,
    coefficients: &[[E; 4]],
    first: usize,
    planes: &mut [E],
) {
    let plane = |img: usize, ch: usize| (img * c + ch) * s..(img * c + ch + 1) * s;
    for (index, out) in planes.chunks_exact_mut(s).enumerate() {
        let (img, ch) = ((first + index) / c, (first + index) % c);
        let [a, mean_g, mean, k] = coefficients[ch];
        let values = x[plane(img, ch)].iter().zip(&g[plane(img, ch)]);
        if training {
            for (out, (&xv, &gv)) in out.iter_mut().zip(values) {
                *out = a * (gv - mean_g - (xv - mean) * k);
            }
        } else {
            for (out, &gv) in out.iter_mut().zip(&g[plane(img, ch)]) {
                *out = a * gv;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_matches_the_definition() {
        let (n, c, s) = (2, 3, 5);
        let x = TensorBase::<f64>::from_vec(
            (0..n * c * s).map(|i| ((i * 37) % 11) as f64 - 5.0).collect(),
            [n, c, s],
        );
        let weight = TensorBase::<f64>::from_vec(vec![0.5, -2.0, 1.5], [c]).requires_grad_(true);
        let bias = TensorBase::<f64>::from_vec(vec![0.25, 0.0, -1.0], [c]);
        let x = x.requires_grad_(true);
        let (y, _) = x.batch_norm_train(Some(&weight), Some(&bias), 1e-5);
        let xs = x.to_vec();
        let at = |img: usize, ch: usize, i: usize| (img * c + ch) * s + i;
        for ch in 0..c {
            let values: Vec<f64> = (0..n)
                .flat_map(|img| (0..s).map(move |i| (img, i)))
                .map(|(img, i)| xs[at(img, ch, i)])
                .collect();
            let m = values.iter().sum::<f64>() / values.len() as f64;
            let v = values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / values.len() as f64;
            let (w, b) = (weight.to_vec()[ch], bias.to_vec()[ch]);
            for img in 0..n {
                for i in 0..s {
                    let expected = (xs[at(img, ch, i)] - m) / (v + 1e-5).sqrt() * w + b;
                    assert!((y.to_vec()[at(img, ch, i)] - expected).abs() < 1e-12);
                }
            }
        }
    }
}
