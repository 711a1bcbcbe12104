//! Group normalization over channel groups, like
//! `torch.nn.functional.group_norm` (NativeGroupNormBackward0).

use ndarray::{ArrayD, IxDyn};

use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// Splits the `C` channels of an `[N, C, *]` input into `num_groups`
    /// groups of `C / num_groups` channels, normalizes each group of each
    /// sample (mean 0, biased variance 1, `eps` added to the variance), then
    /// applies the optional per-channel `weight` and `bias` (both `[C]`), like
    /// `torch.nn.functional.group_norm(x, num_groups, weight, bias, eps)`
    /// (NativeGroupNormBackward0).
    ///
    /// # Panics
    /// On shapes that do not fit (see [`try_group_norm`](Self::try_group_norm)).
    ///
    /// ```
    /// use blocks_core::Tensor64;
    /// // one sample, 2 channels of 2 values, 2 groups: each channel on its own
    /// let x = Tensor64::from_vec(vec![1.0, 3.0, 10.0, 20.0], [1, 2, 2]);
    /// assert_eq!(x.group_norm(2, None, None, 0.0).to_vec(), vec![-1.0, 1.0, -1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn group_norm(&self, num_groups: usize, weight: Option<&Self>, bias: Option<&Self>, eps: E) -> Self {
        or_panic(self.try_group_norm(num_groups, weight, bias, eps))
    }

    /// Like [`group_norm`](Self::group_norm), returning an error on bad shapes.
    ///
    /// # Errors
    /// A [`ShapeError`] naming the shapes when the input has fewer than 2
    /// dims, `num_groups` is 0 or does not divide the channels (dim 1), or
    /// `weight` or `bias` is not `[C]`.
    ///
    /// ```
    /// let err = blocks_core::Tensor::zeros([2, 5, 3]).try_group_norm(2, None, None, 1e-5).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "group_norm: expected the number of channels of input [2, 5, 3] (5, in dim 1) to be divisible by num_groups=2"
    /// );
    /// ```
    pub fn try_group_norm(
        &self,
        num_groups: usize,
        weight: Option<&Self>,
        bias: Option<&Self>,
        eps: E,
    ) -> Result<Self, ShapeError> {
        let shape = self.shape();
        if shape.len() < 2 {
            return Err(ShapeError::new(format!(
                "group_norm: expected an input [N, C, *] of at least 2 dims, but got input of size {shape:?}"
            )));
        }
        let channels = shape[1];
        if num_groups == 0 || !channels.is_multiple_of(num_groups) {
            return Err(ShapeError::new(format!(
                "group_norm: expected the number of channels of input {shape:?} ({channels}, in dim 1) to be \
                 divisible by num_groups={num_groups}"
            )));
        }
        for (name, t) in [("weight", weight), ("bias", bias)] {
            if let Some(t) = t
                && t.shape() != [channels]
            {
                return Err(ShapeError::new(format!(
                    "group_norm: input {shape:?}, {name} {:?}: expected {name} of shape [{channels}]",
                    t.shape()
                )));
            }
        }
        let spatial: usize = shape[2..].iter().product();
        let group = GroupLayout { spatial, per_group: channels / num_groups, groups: num_groups };
        let (w, b) = (weight.map(Self::to_vec), bias.map(Self::to_vec));
        let (data, stats) = {
            let x = self.data();
            let mut y = x.as_standard_layout().into_owned();
            let stats = normalize(y.as_slice_mut().expect("standard layout"), &group, eps, &w, &b);
            (y, stats)
        };
        let has_bias = bias.is_some();
        let inputs: Vec<&Self> = [Some(self), weight, bias].into_iter().flatten().collect();
        Ok(TensorBase::from_op(data, "NativeGroupNormBackward0", &inputs, move |grad, ctx| {
            let x = ctx.input(0);
            let x = x.as_standard_layout();
            let grad = grad.as_standard_layout();
            let (x, g) = (x.as_slice().expect("standard layout"), grad.as_slice().expect("standard layout"));
            let (dx, dw, db) = backward(x, g, &group, &stats, &w);
            let to_array = |v: Vec<f64>, shape: &[usize]| {
                ArrayD::from_shape_vec(IxDyn(shape), v.into_iter().map(E::of).collect()).expect("sizes match")
            };
            let mut grads = vec![ctx.needs(0).then(|| to_array(dx, &shape))];
            let mut next = 1;
            if w.is_some() {
                grads.push(ctx.needs(next).then(|| to_array(dw, &[channels])));
                next += 1;
            }
            if has_bias {
                grads.push(ctx.needs(next).then(|| to_array(db, &[channels])));
            }
            grads
        }))
    }
}

/// How an `[N, C, *]` input splits into groups: each group of each sample is
/// one run of `per_group * spatial` values in standard layout.
struct GroupLayout {
    spatial: usize,
    per_group: usize,
    groups: usize,
}

impl GroupLayout {
    /// The values in one group of one sample.
    fn len(&self) -> usize {
        self.per_group * self.spatial
    }

    /// The channel of value `j` of group run `r`.
    fn channel(&self, r: usize, j: usize) -> usize {
        (r % self.groups) * self.per_group + j / self.spatial
    }
}

/// Normalizes `y` in place group by group, returning each run's mean and
/// 1/std (the backward's saved statistics).
fn normalize<E: Element>(
    y: &mut [E],
    group: &GroupLayout,
    eps: E,
    w: &Option<Vec<E>>,
    b: &Option<Vec<E>>,
) -> Vec<(f64, f64)> {
    let m = group.len();
    if m == 0 {
        return Vec::new();
    }
    let mut stats = Vec::with_capacity(y.len() / m);
    for (r, run) in y.chunks_exact_mut(m).enumerate() {
        let mean = run.iter().map(|v| v.as_f64()).sum::<f64>() / m as f64;
        let var = run.iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / m as f64;
        let invstd = 1.0 / (var + eps.as_f64()).sqrt();
        for (j, v) in run.iter_mut().enumerate() {
            let c = group.channel(r, j);
            let mut out = E::of((v.as_f64() - mean) * invstd);
            if let Some(w) = w {
                out *= w[c];
            }
            if let Some(b) = b {
                out += b[c];
            }
            *v = out;
        }
        stats.push((mean, invstd));
    }
    stats
}

/// The gradients of the input, the weight and the bias, given the output's
/// gradient `g`, the input `x` and the saved statistics.
fn backward<E: Element>(
    x: &[E],
    g: &[E],
    group: &GroupLayout,
    stats: &[(f64, f64)],
    w: &Option<Vec<E>>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let m = group.len();
    let channels = group.per_group * group.groups;
    let (mut dx, mut dw, mut db) = (Vec::with_capacity(x.len()), vec![0.0; channels], vec![0.0; channels]);
    if m == 0 {
        dx.resize(x.len(), 0.0);
        return (dx, dw, db);
    }
    let weight = |c: usize| w.as_ref().map_or(1.0, |w| w[c].as_f64());
    for (r, (xr, gr)) in x.chunks_exact(m).zip(g.chunks_exact(m)).enumerate() {
        let (mean, invstd) = stats[r];
        let xhat = |j: usize| (xr[j].as_f64() - mean) * invstd;
        let (mut sum_d, mut sum_d_xhat) = (0.0, 0.0);
        for (j, gj) in gr.iter().enumerate() {
            let c = group.channel(r, j);
            let gj = gj.as_f64();
            let d = gj * weight(c);
            sum_d += d;
            sum_d_xhat += d * xhat(j);
            dw[c] += gj * xhat(j);
            db[c] += gj;
        }
        for (j, gj) in gr.iter().enumerate() {
            let d = gj.as_f64() * weight(group.channel(r, j));
            dx.push(invstd * (d - sum_d / m as f64 - xhat(j) * sum_d_xhat / m as f64));
        }
    }
    (dx, dw, db)
}
