//! One SGD training step (forward, backward, update) of small MLPs, and the
//! seed net's forward pass at batch 2 (recorded and under `no_grad`): blocks
//! against a hand-written ndarray floor, on 1 and 2 threads. The peak FMA
//! throughput is measured first, and each workload's matrix-product rate is
//! printed as a fraction of it; the 2-thread workloads are compared with
//! their 1-thread twins at the end, and the thread scaling of the batch-256
//! and 784-512-512-10 steps is measured in paired rounds against the
//! machine's ceiling (two independent 1-thread steps at once, see
//! `common/scaling.rs`).
//!
//! Each workload is one criterion group with two functions, `hand_written`
//! and `blocks`, that do the same arithmetic from the same starting weights.
//! After each group the median time per step of both (as criterion measured
//! them) and their ratio are printed, then a paired measurement: both sides
//! again in alternating rounds, with the ratio of each round. Criterion
//! measures the two functions seconds apart, so on a shared machine their
//! ratio also measures how the load changed; the paired ratio does not.
//!
//! ```text
//! cargo bench --bench training_step
//! cargo bench --bench training_step -- --warm-up-time 1 --measurement-time 3
//! cargo bench --bench training_step -- mlp_784   # the 784-512-512-10 workloads and the scaling
//! BLOCKS_BENCH_CLOCK=thread-cpu cargo bench --bench training_step
//! ```
//!
//! The last form times the benchmark thread's CPU time instead of the wall
//! clock, for machines shared with other work (see [`Clock`]); it leaves out
//! the work of other threads, so use it for the 1-thread workloads only.

mod common;

use std::time::Duration;

use blocks::{no_grad, set_num_threads};
use common::mlp::{BlocksNet, HandNet, Loss, Problem};
use common::scaling;
use common::timing::{Clock, PAIRED_HALF_ROUND, PAIRED_ROUNDS, paired};
use common::{Peak, bench, median, selected};
use criterion::{Criterion, SamplingMode};

/// What a workload times.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Forward, loss, backward, SGD update, `zero_grad`.
    Step,
    /// The forward pass, recorded for backward (the parameters require grad).
    Forward,
    /// The forward pass under `no_grad`.
    ForwardNoGrad,
}

/// A workload: a network, a batch size, what is timed, on how many threads,
/// and how criterion samples it.
struct Workload {
    name: &'static str,
    widths: &'static [usize],
    batch: usize,
    loss: Loss,
    kind: Kind,
    threads: usize,
    samples: usize,
    flat: bool,
}

impl Workload {
    /// The matrix-product FLOPs of one timed call: 2·batch·in·out per layer
    /// forward, three times that for a step (forward, dX and dW).
    fn flops(&self) -> f64 {
        let forward: usize = self.widths.windows(2).map(|w| 2 * self.batch * w[0] * w[1]).sum();
        forward as f64 * if self.kind == Kind::Step { 3.0 } else { 1.0 }
    }
}

/// One side of a workload: a call to time, returning a value to keep.
type Side = Box<dyn FnMut() -> f32>;

/// The paired medians of a workload, kept to compare thread counts.
struct Measured {
    name: &'static str,
    threads: usize,
    hand: f64,
    blocks: f64,
}

fn run(c: &mut Criterion, workload: &Workload, clock: Clock, peak: Option<&Peak>) -> Option<Measured> {
    set_num_threads(workload.threads);
    let problem = Problem::new(workload.widths, workload.batch, workload.loss);
    let mut hand = HandNet::new(&problem, workload.threads);
    let mut blocks = BlocksNet::new(&problem);
    let (hand_loss, blocks_loss) = (hand.step(), blocks.step());
    assert!(
        (hand_loss - blocks_loss).abs() <= 1e-4 * hand_loss.abs().max(1.0),
        "{}: the two sides disagree: hand-written loss {hand_loss}, blocks loss {blocks_loss}",
        workload.name
    );
    let (mut hand_side, mut blocks_side): (Side, Side) = match workload.kind {
        Kind::Step => (Box::new(move || hand.step()), Box::new(move || blocks.step())),
        Kind::Forward => (Box::new(move || hand.forward()), Box::new(move || blocks.forward().to_vec()[0])),
        Kind::ForwardNoGrad => {
            (Box::new(move || hand.forward()), Box::new(move || no_grad(|| blocks.forward().to_vec()[0])))
        }
    };
    let mut group = c.benchmark_group(workload.name);
    group.sample_size(workload.samples);
    if workload.flat {
        group.sampling_mode(SamplingMode::Flat);
    }
    let hand_timings = bench(&mut group, "hand_written", clock, &mut hand_side);
    let blocks_timings = bench(&mut group, "blocks", clock, &mut blocks_side);
    group.finish();
    let (h, b) = (median(&hand_timings, workload.samples)?, median(&blocks_timings, workload.samples)?);
    println!(
        "{}: median hand_written {h:.2?}, blocks {b:.2?}, ratio blocks/hand_written {:.3} ({})",
        workload.name,
        b.as_secs_f64() / h.as_secs_f64(),
        clock.name()
    );
    let steps = (PAIRED_HALF_ROUND.as_secs_f64() / h.as_secs_f64()).ceil().max(1.0) as usize;
    let paired = paired(&mut hand_side, &mut blocks_side, clock, steps);
    let [low, mid, high] = paired.ratio;
    println!(
        "{}: paired: hand_written {:.2?}, blocks {:.2?} per call (medians over rounds), ratio \
         blocks/hand_written {mid:.3} (quartiles {low:.3}..{high:.3}; {PAIRED_ROUNDS} rounds of \
         {steps} calls each, alternating)",
        workload.name,
        Duration::from_secs_f64(paired.hand),
        Duration::from_secs_f64(paired.blocks),
    );
    if let Some(peak) = peak {
        let gflops = |t: f64| workload.flops() / t / 1e9;
        let of_peak = peak.of(workload.threads);
        println!(
            "{}: matrix-product rate (paired medians): hand_written {:.1} GFLOP/s ({:.0}% of the {}-thread peak), \
             blocks {:.1} GFLOP/s ({:.0}%)",
            workload.name,
            gflops(paired.hand),
            100.0 * gflops(paired.hand) / of_peak,
            workload.threads,
            gflops(paired.blocks),
            100.0 * gflops(paired.blocks) / of_peak,
        );
    }
    println!();
    Some(Measured {
        name: workload.name,
        threads: workload.threads,
        hand: paired.hand,
        blocks: paired.blocks,
    })
}

const SEED: &[usize] = &[20, 256, 10];
const MLP: &[usize] = &[784, 512, 512, 10];

/// A workload with the defaults: a training step on one thread, 100 samples.
const fn workload(name: &'static str, widths: &'static [usize], batch: usize, loss: Loss) -> Workload {
    Workload { name, widths, batch, loss, kind: Kind::Step, threads: 1, samples: 100, flat: false }
}

const WORKLOADS: [Workload; 7] = [
    workload("seed_net_batch2", SEED, 2, Loss::Mse),
    Workload { kind: Kind::Forward, ..workload("seed_net_batch2_forward", SEED, 2, Loss::Mse) },
    Workload { kind: Kind::ForwardNoGrad, ..workload("seed_net_batch2_forward_no_grad", SEED, 2, Loss::Mse) },
    workload("seed_net_batch256", SEED, 256, Loss::Mse),
    Workload { threads: 2, ..workload("seed_net_batch256_2_threads", SEED, 256, Loss::Mse) },
    Workload {
        samples: 30,
        flat: true,
        ..workload("mlp_784_512_512_10_batch128", MLP, 128, Loss::CrossEntropy)
    },
    Workload {
        threads: 2,
        samples: 30,
        flat: true,
        ..workload("mlp_784_512_512_10_batch128_2_threads", MLP, 128, Loss::CrossEntropy)
    },
];

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let clock = Clock::from_env();
    let peak = Peak::measure(2);
    let mut measured = Vec::new();
    for workload in &WORKLOADS {
        if let Some(m) = run(&mut c, workload, clock, peak.as_ref()) {
            measured.push(m);
        }
    }
    // Thread scaling: each 2-thread workload against its 1-thread twin.
    for two in measured.iter().filter(|m| m.threads > 1) {
        let base = two.name.trim_end_matches("_2_threads");
        if let Some(one) = measured.iter().find(|m| m.name == base) {
            println!(
                "{base}: {} threads against 1: blocks {:.2}x the speed, hand_written {:.2}x",
                two.threads,
                one.blocks / two.blocks,
                one.hand / two.hand
            );
        }
    }
    // Thread scaling in paired rounds: (name, widths, batch, loss, steps per timing).
    let scaled = [
        ("seed_net_batch256", SEED, 256, Loss::Mse, 50),
        ("mlp_784_512_512_10_batch128", MLP, 128, Loss::CrossEntropy, 10),
    ];
    for (name, widths, batch, loss, steps) in scaled {
        if selected(name) {
            scaling::measure(&Problem::new(widths, batch, loss), steps).print(name);
        }
    }
    c.final_summary();
}
