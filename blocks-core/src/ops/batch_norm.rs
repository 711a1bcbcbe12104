//! Batch normalization over the channel dim of `[N, C]`, `[N, C, L]` or
//! `[N, C, H, W]` tensors, like `torch.nn.functional.batch_norm`
//! (NativeBatchNormBackward0): batch statistics in training (with the exact
//! gradient through them), running statistics in eval.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayView3, ArrayViewD, IxDyn};

use crate::error::or_panic;
use crate::threading::for_row_parts;
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
    fn normalize(&self, norm: Normalization<E>, weight: Option<&Self>, bias: Option<&Self>) -> Self {
        let data = {
            let x = self.data();
            let mut y = x.as_standard_layout().into_owned();
            let bias = bias.map(Self::to_vec);
            let (n, c) = (y.shape()[0], y.shape()[1]);
            let spatial = y.len().checked_div(n * c).unwrap_or(0);
            if spatial > 0 {
                // One plane (image, channel) at a time: the channel is fixed within it.
                let values = y.as_slice_mut().expect("standard layout");
                let (norm, bias) = (&norm, &bias);
                for_row_parts(values, spatial, spatial, get_num_threads(), |first, planes| {
                    for (index, chunk) in planes.chunks_exact_mut(spatial).enumerate() {
                        let ch = (first + index) % c;
                        let (mean, invstd) = (norm.mean[ch], norm.invstd[ch]);
                        let (w, b) = (norm.weight.as_ref().map(|w| w[ch]), bias.as_ref().map(|b| b[ch]));
                        for value in chunk {
                            let mut v = E::of((value.as_f64() - mean) * invstd);
                            if let Some(w) = w {
                                v *= w;
                            }
                            if let Some(b) = b {
                                v += b;
                            }
                            *value = v;
                        }
                    }
                });
            }
            y
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

/// The per-channel mean and biased variance of `[N, C, S]`, in float64 (two
/// passes). Large inputs are cut into runs of channels, one per thread; each
/// channel is summed as on one thread, so the statistics are the same bit
/// for bit on any number of threads.
fn channel_stats<E: Element>(x: ArrayView3<'_, E>) -> (Vec<f64>, Vec<f64>) {
    let (n, c, s) = x.dim();
    let count = (n * s) as f64;
    let x = x.as_slice().expect("standard layout");
    let plane = |img: usize, ch: usize| &x[(img * c + ch) * s..][..s];
    let mut stats = vec![(0.0, 0.0); c];
    for_row_parts(&mut stats, 1, n * s, get_num_threads(), |first, channels| {
        for (index, slot) in channels.iter_mut().enumerate() {
            let ch = first + index;
            let m = (0..n).map(|img| sum_f64(plane(img, ch), |v| v)).sum::<f64>() / count;
            let var = (0..n).map(|img| sum_f64(plane(img, ch), |v| (v - m) * (v - m))).sum::<f64>() / count;
            *slot = (m, var);
        }
    });
    stats.into_iter().unzip()
}

/// `Σ f(v)` over `values` in float64, in four interleaved partial sums so
/// that the additions do not wait on one another.
fn sum_f64<E: Element>(values: &[E], f: impl Fn(f64) -> f64) -> f64 {
    let mut sums = [0.0; 4];
    let chunks = values.chunks_exact(4);
    let tail: f64 = chunks.remainder().iter().map(|v| f(v.as_f64())).sum();
    for chunk in chunks {
        for (sum, v) in sums.iter_mut().zip(chunk) {
            *sum += f(v.as_f64());
        }
    }
    (sums[0] + sums[1]) + (sums[2] + sums[3]) + tail
}

/// `(Σ g, Σ g · x)` over two slices of the same length, in float64, in four
/// interleaved partial sums each.
fn sums_of_products<E: Element>(x: &[E], g: &[E], f: impl Fn(f64) -> f64) -> (f64, f64) {
    let (mut sum_g, mut sum_gx) = ([0.0; 4], [0.0; 4]);
    let (x_chunks, g_chunks) = (x.chunks_exact(4), g.chunks_exact(4));
    let (mut tail_g, mut tail_gx) = (0.0, 0.0);
    for (&xv, &gv) in x_chunks.remainder().iter().zip(g_chunks.remainder()) {
        tail_g += gv.as_f64();
        tail_gx += gv.as_f64() * f(xv.as_f64());
    }
    for (xs, gs) in x_chunks.zip(g_chunks) {
        for lane in 0..4 {
            let gv = gs[lane].as_f64();
            sum_g[lane] += gv;
            sum_gx[lane] += gv * f(xs[lane].as_f64());
        }
    }
    let total = |s: [f64; 4]| (s[0] + s[1]) + (s[2] + s[3]);
    (total(sum_g) + tail_g, total(sum_gx) + tail_gx)
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
    // The plane of image `img` and channel `ch` within a `[N, C, S]` slice.
    let plane = |img: usize, ch: usize| (img * c + ch) * s..(img * c + ch + 1) * s;
    // (Σ g, Σ g · x̂) per channel, each channel summed as on one thread.
    let mut sums = vec![(0.0, 0.0); c];
    for_row_parts(&mut sums, 1, n * s, threads, |first, channels| {
        for (index, slot) in channels.iter_mut().enumerate() {
            let ch = first + index;
            let (mean, invstd) = (norm.mean[ch], norm.invstd[ch]);
            *slot = (0..n).fold((0.0, 0.0), |(sum_g, sum_g_xhat), img| {
                let (sg, sgx) =
                    sums_of_products(&x[plane(img, ch)], &g[plane(img, ch)], |xv| (xv - mean) * invstd);
                (sum_g + sg, sum_g_xhat + sgx)
            });
        }
    });
    // This part's weight and bias gradients; then, across processes, the
    // sums over the whole batch for the input's.
    let dw = sums.iter().map(|&(_, sum_g_xhat)| E::of(sum_g_xhat)).collect();
    let db = sums.iter().map(|&(sum_g, _)| E::of(sum_g)).collect();
    if let Some((_, reduce)) = &norm.across {
        let mut flat: Vec<f64> = sums.iter().flat_map(|&(g, gx)| [g, gx]).collect();
        reduce(&mut flat);
        sums = flat.chunks_exact(2).map(|pair| (pair[0], pair[1])).collect();
    }
    // Every element is written below.
    let mut dx = crate::autograd::pool::scratch(n * c * s);
    if s > 0 {
        let sums = &sums;
        for_row_parts(&mut dx, s, s, threads, |first, planes| {
            for (index, out) in planes.chunks_exact_mut(s).enumerate() {
                let (img, ch) = ((first + index) / c, (first + index) % c);
                let (mean, invstd) = (norm.mean[ch], norm.invstd[ch]);
                let w = norm.weight.as_ref().map_or(1.0, |w| w[ch].as_f64());
                let (sum_g, sum_g_xhat) = sums[ch];
                let values = x[plane(img, ch)].iter().zip(&g[plane(img, ch)]);
                for (out, (&xv, &gv)) in out.iter_mut().zip(values) {
                    let gv = gv.as_f64();
                    let value = if norm.training {
                        let xhat = (xv.as_f64() - mean) * invstd;
                        w * invstd * (gv - sum_g / count - xhat * sum_g_xhat / count)
                    } else {
                        w * invstd * gv
                    };
                    *out = E::of(value);
                }
            }
        });
    }
    (dx, dw, db)
}
