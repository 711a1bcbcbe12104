//! The sequence layers' training steps of issue 18, on 1 and 2 threads,
//! with the machine's FMA peak probe in the same run:
//!
//! - **LSTM step**, d2l's language-model size: `nn.LSTM(28, 256)` on
//!   `[35, 64, 28]` (35 steps, batch 64), a `Linear(256, 28)` on every
//!   step's output, cross-entropy, backward, `clip_grad_norm_(1.0)`, SGD.
//! - **TransformerEncoderLayer step**: `TransformerEncoderLayer(256, 8,
//!   dim_feedforward=1024, dropout=0, batch_first=True)` on `[32, 64, 256]`,
//!   the mean of the output's squares as the loss, backward, Adam.
//!
//! ```text
//! cargo bench --bench sequence -- --warm-up-time 1 --measurement-time 3
//! python3 benches/pytorch_sequence.py
//! ```
//!
//! `benches/pytorch_sequence.py` runs the same steps in PyTorch.

mod common;

use std::time::Duration;

use blocks::nn::utils::clip_grad_norm_;
use blocks::nn::{DynLSTM, DynLinear, DynTransformerEncoderLayer, ModuleExt, TransformerOptions};
use blocks::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use blocks::prelude::*;
use blocks::set_num_threads;
use common::timing::Clock;
use common::{Peak, bench, median};
use criterion::Criterion;

const LSTM_STEPS: usize = 35;
const LSTM_BATCH: usize = 64;
const LSTM_INPUT: usize = 28;
const LSTM_HIDDEN: usize = 256;

const TF_BATCH: usize = 32;
const TF_LENGTH: usize = 64;
const TF_WIDTH: usize = 256;
const TF_HEADS: usize = 8;
const TF_FEEDFORWARD: usize = 1024;

fn lstm_step(c: &mut Criterion, clock: Clock) -> [f64; 2] {
    manual_seed(0);
    let lstm = DynLSTM::new(LSTM_INPUT, LSTM_HIDDEN);
    let head = DynLinear::new(LSTM_HIDDEN, LSTM_INPUT);
    let params: Vec<_> = lstm.parameters().into_iter().chain(head.parameters()).collect();
    let mut sgd = Sgd::new(&params, SgdConfig { lr: 0.1, ..Default::default() });
    let x = Tensor::randn([LSTM_STEPS, LSTM_BATCH, LSTM_INPUT]);
    let targets: Vec<usize> = (0..LSTM_STEPS * LSTM_BATCH).map(|i| (i * 7) % LSTM_INPUT).collect();
    let mut step = || {
        let (output, _) = lstm.forward(&x);
        let logits = head.forward(&output.reshape(&[-1, LSTM_HIDDEN as isize]));
        let loss = logits.cross_entropy(&targets);
        sgd.zero_grad();
        loss.backward();
        clip_grad_norm_(&params, 1.0, 2.0);
        sgd.step();
    };
    timed(c, "lstm_step", clock, &mut step)
}

fn encoder_layer_step(c: &mut Criterion, clock: Clock) -> [f64; 2] {
    manual_seed(0);
    let options = TransformerOptions {
        dim_feedforward: TF_FEEDFORWARD,
        dropout: 0.0,
        batch_first: true,
        ..Default::default()
    };
    let layer = DynTransformerEncoderLayer::with_options(TF_WIDTH, TF_HEADS, options);
    let mut adam = Adam::new(layer.parameters(), AdamConfig { lr: 1e-4, ..Default::default() });
    let x = Tensor::randn([TF_BATCH, TF_LENGTH, TF_WIDTH]);
    let mut step = || {
        let y = layer.forward(&x);
        let loss = (&y * &y).mean();
        adam.zero_grad();
        loss.backward();
        adam.step();
    };
    timed(c, "transformer_encoder_layer_step", clock, &mut step)
}

/// Median seconds of `step` on 1 thread (by `clock`) and on 2 (wall clock).
fn timed(c: &mut Criterion, name: &str, clock: Clock, step: &mut dyn FnMut()) -> [f64; 2] {
    let samples = 10;
    let mut group = c.benchmark_group(name);
    group.sample_size(samples);
    set_num_threads(1);
    let one = bench(&mut group, "blocks_1_thread", clock, &mut *step);
    set_num_threads(2);
    let two = bench(&mut group, "blocks_2_threads", Clock::Wall, &mut *step);
    set_num_threads(1);
    group.finish();
    [&one, &two].map(|t| median(t, samples).map_or(f64::NAN, |d| d.as_secs_f64()))
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let clock = Clock::from_env();
    let _peak = Peak::measure(2);
    let [l1, l2] = lstm_step(&mut c, clock);
    let [t1, t2] = encoder_layer_step(&mut c, clock);
    println!(
        "lstm step (LSTM(28, 256), [35, 64, 28], head, cross-entropy, clip, SGD): 1 thread {:.2} ms, 2 threads {:.2} ms",
        l1 * 1e3,
        l2 * 1e3
    );
    println!(
        "transformer encoder layer step ((256, 8, ff 1024), [32, 64, 256], Adam): 1 thread {:.2} ms, 2 threads {:.2} ms",
        t1 * 1e3,
        t2 * 1e3
    );
    c.final_summary();
}
