//! d2l's sequence task (9.1, "Working with Sequences") with an LSTM: a noisy
//! sine wave, `x_t = sin(0.01 t) + ε` (ε ~ N(0, 0.2²), t = 1..1000), each
//! value predicted from the `tau = 4` before it. Trained on the first 600
//! windows, it reports the one-step-ahead error on the rest and, as the
//! book does, how predictions fed back as inputs drift: the k-step-ahead
//! error for k = 1, 4, 16 and 64.
//!
//! ```text
//! cargo run --release --example lstm_sine
//! ```

use blocks::nn::{LSTM, Linear, RecurrentOptions, Seq};
use blocks::optim::{Adam, AdamConfig, Optimizer};
use blocks::prelude::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// The length of the series.
const T: usize = 1000;
/// Values a prediction reads.
const TAU: usize = 4;
/// Windows trained on.
const N_TRAIN: usize = 600;

/// An LSTM over the window (batch first, one feature a step) and a linear
/// read-out of its last output: `nn.LSTM(1, 16, batch_first=True)`,
/// `nn.Linear(16, 1)`.
#[derive(Module)]
struct Forecaster {
    lstm: LSTM<1, 16>,
    head: Linear<16, 1>,
}

impl Forecaster {
    fn new() -> Self {
        Forecaster {
            lstm: LSTM::with_options(RecurrentOptions { batch_first: true, ..Default::default() }),
            head: Linear::new(),
        }
    }
}

/// Windows `[N, TAU]` in, predictions `[N, 1]` out.
impl Forward<Tensor> for Forecaster {
    type Output = Tensor;

    fn forward(&self, windows: &Tensor) -> Tensor {
        let n = windows.shape()[0];
        let steps = Seq::<1>::new(windows.reshape(&[n as isize, TAU as isize, 1]));
        let (output, _) = self.lstm.forward(&steps);
        self.head.forward(&output.select(1, -1)).into()
    }
}

/// The windows `x[i..i + TAU]` and the value after each, `x[i + TAU]`.
fn windows(x: &[f32]) -> (Tensor, Tensor) {
    let n = x.len() - TAU;
    let features: Vec<f32> = (0..n).flat_map(|i| x[i..i + TAU].iter().copied()).collect();
    (Tensor::from_vec(features, [n, TAU]), Tensor::from_vec(x[TAU..].to_vec(), [n, 1]))
}

/// Predicting `k` steps ahead from each window of true values, every
/// prediction after the first fed back as an input (d2l's `k`-step-ahead
/// prediction): the mean squared error of the `k`-th prediction against the
/// true value, over every start from the end of the training part on.
fn k_step_error(net: &Forecaster, x: &[f32], k: usize) -> f32 {
    let starts: Vec<usize> = (N_TRAIN..x.len() - TAU - k + 1).collect();
    let mut history: Vec<Vec<f32>> = starts.iter().map(|&s| x[s..s + TAU].to_vec()).collect();
    for _ in 0..k {
        let rows: Vec<f32> = history.iter().flat_map(|h| h[h.len() - TAU..].to_vec()).collect();
        let predicted = no_grad(|| net.forward(&Tensor::from_vec(rows, [history.len(), TAU]))).to_vec();
        for (h, p) in history.iter_mut().zip(predicted) {
            h.push(p);
        }
    }
    let errors: Vec<f32> =
        starts.iter().zip(&history).map(|(&s, h)| (h[h.len() - 1] - x[s + TAU + k - 1]).powi(2)).collect();
    errors.iter().sum::<f32>() / errors.len() as f32
}

/// The errors of one run: one-step-ahead on the test part, and the
/// k-step-ahead errors for k = 1, 4, 16, 64.
pub struct Errors {
    /// The last epoch's training loss.
    pub train: f32,
    /// One-step-ahead test loss.
    pub test: f32,
    /// `(k, error)`.
    pub k_step: Vec<(usize, f32)>,
}

fn main() {
    run(true);
}

/// Trains as the book does and measures; prints when `print`.
pub fn run(print: bool) -> Errors {
    manual_seed(0);
    let noise = (Tensor::randn([T]) * 0.2).to_vec();
    let x: Vec<f32> = (1..=T).zip(noise).map(|(t, e)| (0.01 * t as f32).sin() + e).collect();
    let (features, labels) = windows(&x);
    let net = Forecaster::new();
    if print {
        println!("{net}");
    }
    let mut optimizer = Adam::new(net.parameters(), AdamConfig { lr: 0.01, ..Default::default() });
    let mut rng = StdRng::seed_from_u64(0);
    let mut order: Vec<usize> = (0..N_TRAIN).collect();
    let mut train = 0.0;
    for epoch in 0..10 {
        let mut total = 0.0;
        order.shuffle(&mut rng);
        for batch in order.chunks(16) {
            let (inputs, targets) = (features.index_select(0, batch), labels.index_select(0, batch));
            let loss = net.forward(&inputs).mse_loss(&targets);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            total += loss.item() * inputs.shape()[0] as f32;
        }
        train = total / N_TRAIN as f32;
        if print {
            println!("epoch {}, training loss {train:.4}", epoch + 1);
        }
    }
    let n = features.shape()[0];
    let test = no_grad(|| net.forward(&features.narrow(0, N_TRAIN as isize, n - N_TRAIN)));
    let test_loss = test.mse_loss(&labels.narrow(0, N_TRAIN as isize, n - N_TRAIN)).item();
    let k_step: Vec<(usize, f32)> =
        [1, 4, 16, 64].into_iter().map(|k| (k, k_step_error(&net, &x, k))).collect();
    if print {
        println!("one-step-ahead test loss {test_loss:.4} (the noise alone: {:.4})", 0.2f32 * 0.2);
        for (k, error) in &k_step {
            println!("{k}-step-ahead prediction error {error:.4}");
        }
    }
    Errors { train, test: test_loss, k_step }
}
