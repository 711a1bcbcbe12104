//! The MLPs of the training-step benches, built twice from the same
//! weights: a hand-written ndarray floor and the same network in blocks.

#![allow(dead_code)] // each bench uses part of this module

use blocks::optim::{Optimizer, Sgd, SgdConfig};
use blocks::{Tensor, manual_seed};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, Axis, Ix1, Ix2, Zip};

/// The learning rate of the SGD update (small, so thousands of steps stay finite).
pub const LR: f32 = 1e-3;

/// The loss of a workload; both sides compute the same arithmetic.
#[derive(Clone, Copy, PartialEq)]
pub enum Loss {
    /// `mean((y - t)²)` against a random target of the output's shape.
    Mse,
    /// Cross-entropy of the logits against one class label per row, averaged.
    CrossEntropy,
}

/// The weights, data and targets that both sides start from.
pub struct Problem {
    /// `(weight [out, in], bias [out])` per layer.
    layers: Vec<(Array2<f32>, Array1<f32>)>,
    x: Array2<f32>,
    /// The regression target (used with [`Loss::Mse`]).
    target: Array2<f32>,
    /// One class label per row (used with [`Loss::CrossEntropy`]).
    labels: Vec<usize>,
    loss: Loss,
}

impl Problem {
    /// Random weights scaled by `1/sqrt(in)`, a random input of `batch` rows,
    /// a random target and labels.
    pub fn new(widths: &[usize], batch: usize, loss: Loss) -> Self {
        manual_seed(0);
        let array2 = |t: Tensor| t.to_array().into_dimensionality::<Ix2>().expect("2-D");
        let layers = widths
            .windows(2)
            .map(|pair| {
                let (fan_in, fan_out) = (pair[0], pair[1]);
                let scale = 1.0 / (fan_in as f32).sqrt();
                let w = array2(Tensor::randn([fan_out, fan_in]) * scale);
                let b = (Tensor::randn([fan_out]) * scale).to_array().into_dimensionality::<Ix1>();
                (w, b.expect("1-D"))
            })
            .collect();
        let classes = *widths.last().expect("at least one layer");
        let x = array2(Tensor::randn([batch, widths[0]]));
        let target = array2(Tensor::randn([batch, classes]));
        let labels = (0..batch).map(|i| (i * 7 + 3) % classes).collect();
        Problem { layers, x, target, labels, loss }
    }
}

/// The hand-written floor: every buffer allocated once, matrix products by
/// `general_mat_mul` straight into them, ReLU and the SGD update in place.
pub struct HandNet {
    weights: Vec<Array2<f32>>,
    biases: Vec<Array1<f32>>,
    x: Array2<f32>,
    target: Array2<f32>,
    labels: Vec<usize>,
    loss: Loss,
    /// The output of each layer (after ReLU for hidden layers).
    acts: Vec<Array2<f32>>,
    /// The gradient with respect to each layer's pre-activation output.
    deltas: Vec<Array2<f32>>,
    grad_w: Vec<Array2<f32>>,
    grad_b: Vec<Array1<f32>>,
    /// Threads for the large products (see [`hand_mm`]).
    threads: usize,
}

impl HandNet {
    /// The floor for `problem`, its large products on `threads` threads.
    pub fn new(problem: &Problem, threads: usize) -> Self {
        let batch = problem.x.nrows();
        let (weights, biases): (Vec<_>, Vec<_>) = problem.layers.iter().cloned().unzip();
        let acts: Vec<_> = weights.iter().map(|w| Array2::zeros((batch, w.nrows()))).collect();
        HandNet {
            deltas: acts.clone(),
            acts,
            grad_w: weights.iter().map(|w| Array2::zeros(w.raw_dim())).collect(),
            grad_b: biases.iter().map(|b| Array1::zeros(b.raw_dim())).collect(),
            weights,
            biases,
            x: problem.x.clone(),
            target: problem.target.clone(),
            labels: problem.labels.clone(),
            loss: problem.loss,
            threads,
        }
    }

    /// The forward pass alone; returns the first output.
    pub fn forward(&mut self) -> f32 {
        let layers = self.weights.len();
        // z = b (broadcast) + a_prev · Wᵀ, then ReLU in place on hidden layers.
        for l in 0..layers {
            let (done, rest) = self.acts.split_at_mut(l);
            let input = if l == 0 { &self.x } else { &done[l - 1] };
            let out = &mut rest[0];
            out.assign(&self.biases[l]);
            hand_mm(&input.view(), &self.weights[l].t(), 1.0, &mut out.view_mut(), self.threads);
            if l + 1 < layers {
                out.mapv_inplace(|v| v.max(0.0));
            }
        }
        self.acts[layers - 1][[0, 0]]
    }

    /// Forward, loss, backward and SGD update; returns the loss.
    pub fn step(&mut self) -> f32 {
        let layers = self.weights.len();
        self.forward();
        let output = &self.acts[layers - 1];
        let delta = &mut self.deltas[layers - 1];
        let loss = match self.loss {
            Loss::Mse => mse(output, &self.target, delta),
            Loss::CrossEntropy => cross_entropy(output, &self.labels, delta),
        };
        // Backward: dW = dᵀ · a_prev, db = Σ_rows d, d_prev = (d · W) ⊙ [a_prev > 0].
        for l in (0..layers).rev() {
            let input = if l == 0 { &self.x } else { &self.acts[l - 1] };
            let (before, from) = self.deltas.split_at_mut(l);
            let delta = &from[0];
            hand_mm(&delta.t(), &input.view(), 0.0, &mut self.grad_w[l].view_mut(), self.threads);
            let grad_b = self.grad_b[l].as_slice_mut().expect("contiguous");
            grad_b.fill(0.0);
            for row in delta.as_slice().expect("contiguous").chunks_exact(grad_b.len()) {
                for (g, &d) in grad_b.iter_mut().zip(row) {
                    *g += d;
                }
            }
            if l > 0 {
                let prev = &mut before[l - 1];
                hand_mm(&delta.view(), &self.weights[l].view(), 0.0, &mut prev.view_mut(), self.threads);
                Zip::from(prev).and(&self.acts[l - 1]).for_each(|d, &a| *d = if a > 0.0 { *d } else { 0.0 });
            }
        }
        // SGD update in place.
        for l in 0..layers {
            self.weights[l].scaled_add(-LR, &self.grad_w[l]);
            self.biases[l].scaled_add(-LR, &self.grad_b[l]);
        }
        loss
    }
}

/// `mean((y - t)²)`, with its gradient `2 (y - t) / n` written to `delta`.
fn mse(y: &Array2<f32>, target: &Array2<f32>, delta: &mut Array2<f32>) -> f32 {
    let scale = 2.0 / y.len() as f32;
    let mut sum = 0.0;
    Zip::from(delta).and(y).and(target).for_each(|d, &y, &t| {
        let diff = y - t;
        sum += diff * diff;
        *d = scale * diff;
    });
    sum / y.len() as f32
}

/// The mean over rows of `log Σ exp(y) - y[label]`, computed stably, with its
/// gradient `(softmax(y) - onehot(label)) / rows` written to `delta`.
pub fn cross_entropy(y: &Array2<f32>, labels: &[usize], delta: &mut Array2<f32>) -> f32 {
    let scale = 1.0 / y.nrows() as f32;
    let mut total = 0.0;
    for ((row, mut d), &label) in y.rows().into_iter().zip(delta.rows_mut()).zip(labels) {
        let m = row.fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m });
        let log_sum = row.fold(0.0, |s, &v| s + (v - m).exp()).ln();
        total += log_sum - (row[label] - m);
        Zip::from(&mut d).and(&row).for_each(|d, &v| *d = scale * (v - m - log_sum).exp());
        d[label] -= scale;
    }
    total * scale
}

/// The same network in blocks: leaf tensors that require grad, a recorded
/// forward pass, `backward`, then `optim::Sgd`'s `step` and `zero_grad`, as a
/// PyTorch training loop does.
pub struct BlocksNet {
    layers: Vec<(Tensor, Tensor)>,
    /// `torch.optim.SGD` over the layers' parameters, without momentum.
    optimizer: Sgd,
    x: Tensor,
    target: Tensor,
    labels: Vec<usize>,
    loss: Loss,
}

impl BlocksNet {
    pub fn new(problem: &Problem) -> Self {
        let param = |a: ndarray::ArrayD<f32>| Tensor::from_array(a).requires_grad_(true);
        let layers: Vec<(Tensor, Tensor)> = (problem.layers.iter())
            .map(|(w, b)| (param(w.clone().into_dyn()), param(b.clone().into_dyn())))
            .collect();
        let params = layers.iter().flat_map(|(w, b)| [w.clone(), b.clone()]);
        BlocksNet {
            optimizer: Sgd::new(
                params.collect::<Vec<_>>(),
                SgdConfig { lr: LR as f64, ..Default::default() },
            ),
            layers,
            x: Tensor::from_array(problem.x.clone().into_dyn()),
            target: Tensor::from_array(problem.target.clone().into_dyn()),
            labels: problem.labels.clone(),
            loss: problem.loss,
        }
    }

    /// The forward pass alone, recorded for backward when grad mode is on.
    pub fn forward(&self) -> Tensor {
        let mut h = self.x.clone();
        for (l, (w, b)) in self.layers.iter().enumerate() {
            h = h.linear(w, Some(b));
            if l + 1 < self.layers.len() {
                h = h.relu();
            }
        }
        h
    }

    /// Forward, loss, backward and SGD update; returns the loss.
    pub fn step(&mut self) -> f32 {
        let h = self.forward();
        let loss = match self.loss {
            Loss::Mse => h.mse_loss(&self.target),
            Loss::CrossEntropy => h.cross_entropy(&self.labels),
        };
        loss.backward();
        self.optimizer.step();
        self.optimizer.zero_grad();
        loss.item()
    }
}

/// Rows (or inner sizes) up to this many are multiplied by the floor without packing.
const UNPACKED_MAX: usize = 4;
/// Products with at least this many multiply-adds are split across threads.
const PARALLEL_MIN: usize = 1 << 21;

/// The floor's product `c = a · b + beta · c`, written the plainest fast way
/// for each size: at batch 2 dot products of contiguous rows (`x · Wᵀ`) or
/// row updates (`G · W`, `Gᵀ · X`), since packing costs more than it saves
/// there; large products cut into `threads` blocks of rows on rayon's
/// global pool; otherwise one `general_mat_mul`.
pub fn hand_mm(
    a: &ArrayView2<'_, f32>,
    b: &ArrayView2<'_, f32>,
    beta: f32,
    c: &mut ArrayViewMut2<'_, f32>,
    threads: usize,
) {
    let (m, k) = a.dim();
    let bt = b.t();
    if m <= UNPACKED_MAX && a.is_standard_layout() && bt.is_standard_layout() {
        for (a_row, mut c_row) in a.rows().into_iter().zip(c.rows_mut()) {
            for (b_col, out) in bt.rows().into_iter().zip(c_row.iter_mut()) {
                *out = beta * *out + a_row.dot(&b_col);
            }
        }
        return;
    }
    if m.min(k) <= UNPACKED_MAX && b.is_standard_layout() && c.is_standard_layout() {
        for (a_row, mut c_row) in a.rows().into_iter().zip(c.rows_mut()) {
            if beta == 0.0 {
                c_row.fill(0.0);
            }
            for (&coef, b_row) in a_row.iter().zip(b.rows()) {
                c_row.scaled_add(coef, &b_row);
            }
        }
        return;
    }
    let n = c.ncols();
    if threads > 1 && m * n * k >= PARALLEL_MIN {
        let (by_rows, size) = if m >= n { (true, m) } else { (false, n) };
        let chunk = size.div_ceil(threads);
        rayon::scope(|scope| {
            if by_rows {
                for (a, mut c) in
                    a.axis_chunks_iter(Axis(0), chunk).zip(c.axis_chunks_iter_mut(Axis(0), chunk))
                {
                    scope.spawn(move |_| general_mat_mul(1.0, &a, b, beta, &mut c));
                }
            } else {
                for (b, mut c) in
                    b.axis_chunks_iter(Axis(1), chunk).zip(c.axis_chunks_iter_mut(Axis(1), chunk))
                {
                    scope.spawn(move |_| general_mat_mul(1.0, a, &b, beta, &mut c));
                }
            }
        });
        return;
    }
    general_mat_mul(1.0, a, b, beta, c);
}
