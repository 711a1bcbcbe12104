//! One SGD training step (forward, backward, update) of small MLPs: blocks
//! against a hand-written ndarray floor, on one thread.
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
//! BLOCKS_BENCH_CLOCK=thread-cpu cargo bench --bench training_step
//! ```
//!
//! The last form times the benchmark thread's CPU time instead of the wall
//! clock, for machines shared with other work (see [`Clock`]).

use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use blocks::{Tensor, manual_seed, no_grad};
use criterion::{Criterion, SamplingMode};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, Ix1, Ix2, Zip};

/// The learning rate of the SGD update (small, so thousands of steps stay finite).
const LR: f32 = 1e-3;

/// The loss of a workload; both sides compute the same arithmetic.
#[derive(Clone, Copy, PartialEq)]
enum Loss {
    /// `mean((y - t)²)` against a random target of the output's shape.
    Mse,
    /// Cross-entropy of the logits against one class label per row, averaged.
    CrossEntropy,
}

/// The weights, data and targets that both sides start from.
struct Problem {
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
    fn new(widths: &[usize], batch: usize, loss: Loss) -> Self {
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
struct HandNet {
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
}

impl HandNet {
    fn new(problem: &Problem) -> Self {
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
        }
    }

    /// Forward, loss, backward and SGD update; returns the loss.
    fn step(&mut self) -> f32 {
        let layers = self.weights.len();
        // Forward: z = b (broadcast) + a_prev · Wᵀ, then ReLU in place on hidden layers.
        for l in 0..layers {
            let (done, rest) = self.acts.split_at_mut(l);
            let input = if l == 0 { &self.x } else { &done[l - 1] };
            let out = &mut rest[0];
            out.assign(&self.biases[l]);
            general_mat_mul(1.0, input, &self.weights[l].t(), 1.0, out);
            if l + 1 < layers {
                out.mapv_inplace(|v| v.max(0.0));
            }
        }
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
            general_mat_mul(1.0, &delta.t(), input, 0.0, &mut self.grad_w[l]);
            let grad_b = self.grad_b[l].as_slice_mut().expect("contiguous");
            grad_b.fill(0.0);
            for row in delta.as_slice().expect("contiguous").chunks_exact(grad_b.len()) {
                for (g, &d) in grad_b.iter_mut().zip(row) {
                    *g += d;
                }
            }
            if l > 0 {
                let prev = &mut before[l - 1];
                general_mat_mul(1.0, delta, &self.weights[l], 0.0, prev);
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
fn cross_entropy(y: &Array2<f32>, labels: &[usize], delta: &mut Array2<f32>) -> f32 {
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
/// forward pass, `backward`, and an SGD update through the public API.
struct BlocksNet {
    layers: Vec<(Tensor, Tensor)>,
    x: Tensor,
    target: Tensor,
    labels: Vec<usize>,
    loss: Loss,
}

impl BlocksNet {
    fn new(problem: &Problem) -> Self {
        let param = |a: ndarray::ArrayD<f32>| Tensor::from_array(a).requires_grad_(true);
        BlocksNet {
            layers: (problem.layers.iter())
                .map(|(w, b)| (param(w.clone().into_dyn()), param(b.clone().into_dyn())))
                .collect(),
            x: Tensor::from_array(problem.x.clone().into_dyn()),
            target: Tensor::from_array(problem.target.clone().into_dyn()),
            labels: problem.labels.clone(),
            loss: problem.loss,
        }
    }

    /// Forward, loss, backward and SGD update; returns the loss.
    fn step(&mut self) -> f32 {
        let mut h = self.x.clone();
        for (l, (w, b)) in self.layers.iter().enumerate() {
            h = h.linear(w, Some(b));
            if l + 1 < self.layers.len() {
                h = h.relu();
            }
        }
        let loss = match self.loss {
            Loss::Mse => h.mse_loss(&self.target),
            Loss::CrossEntropy => h.cross_entropy(&self.labels),
        };
        loss.backward();
        no_grad(|| {
            for param in self.layers.iter().flat_map(|(w, b)| [w, b]) {
                param.with_grad(|grad| {
                    param.data_mut().scaled_add(-LR, grad.expect("every parameter has a gradient"));
                });
                param.zero_grad();
            }
        });
        loss.item()
    }
}

/// The `(iterations, elapsed)` pairs of every call criterion made to one
/// benchmark's routine; the last `samples` are its measurement.
type Timings = Rc<RefCell<Vec<(u64, Duration)>>>;

/// The median time per iteration over the last `samples` calls, as criterion
/// computes its median (of each sample's mean time per iteration).
fn median(timings: &Timings, samples: usize) -> Option<Duration> {
    let timings = timings.borrow();
    if timings.len() < samples {
        return None;
    }
    let mut per_iter: Vec<f64> = (timings[timings.len() - samples..].iter())
        .map(|&(iters, elapsed)| elapsed.as_secs_f64() / iters as f64)
        .collect();
    per_iter.sort_by(f64::total_cmp);
    let mid = per_iter.len() / 2;
    let value = if per_iter.len().is_multiple_of(2) {
        (per_iter[mid - 1] + per_iter[mid]) / 2.0
    } else {
        per_iter[mid]
    };
    Some(Duration::from_secs_f64(value))
}

/// What times a sample: the wall clock (the default), or the CPU time of the
/// benchmark thread with `BLOCKS_BENCH_CLOCK=thread-cpu`, which leaves out
/// the time the thread waits while other processes run (on a shared machine
/// the wall clock mostly measures the neighbours). Caches shared with those
/// processes still count.
#[derive(Clone, Copy, PartialEq)]
enum Clock {
    Wall,
    ThreadCpu,
}

impl Clock {
    fn from_env() -> Self {
        match std::env::var("BLOCKS_BENCH_CLOCK").as_deref() {
            Ok("thread-cpu") if thread_cpu_time().is_some() => Clock::ThreadCpu,
            Ok("thread-cpu") => {
                eprintln!("BLOCKS_BENCH_CLOCK=thread-cpu is not supported here; using the wall clock");
                Clock::Wall
            }
            Ok("wall") | Err(_) => Clock::Wall,
            Ok(other) => panic!("BLOCKS_BENCH_CLOCK must be `wall` or `thread-cpu`, not {other:?}"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Clock::Wall => "wall clock",
            Clock::ThreadCpu => "thread CPU time",
        }
    }

    /// A reading of this clock, as a time since an arbitrary origin.
    fn now(self) -> Duration {
        match self {
            Clock::Wall => EPOCH.with(|epoch| epoch.elapsed()),
            Clock::ThreadCpu => thread_cpu_time().expect("checked in from_env"),
        }
    }

    fn since(self, start: Duration) -> Duration {
        self.now().saturating_sub(start)
    }
}

thread_local! {
    static EPOCH: Instant = Instant::now();
}

/// The CPU time this thread has used, from `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
fn thread_cpu_time() -> Option<Duration> {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    unsafe extern "C" {
        fn clock_gettime(clock_id: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec (two 64-bit fields on 64-bit
    // Linux), and the clock id is a constant the kernel defines.
    let status = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (status == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
fn thread_cpu_time() -> Option<Duration> {
    None
}

/// Benchmarks `step` under `id` in `group`, recording the timings.
fn bench_step(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    clock: Clock,
    mut step: impl FnMut() -> f32,
) -> Timings {
    let timings = Timings::default();
    let record = Rc::clone(&timings);
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let start = clock.now();
            for _ in 0..iters {
                black_box(step());
            }
            let elapsed = clock.since(start);
            record.borrow_mut().push((iters, elapsed));
            elapsed
        })
    });
    timings
}

/// A workload: a network, a batch size and how criterion samples it.
struct Workload {
    name: &'static str,
    widths: &'static [usize],
    batch: usize,
    loss: Loss,
    samples: usize,
    flat: bool,
}

fn run(c: &mut Criterion, workload: &Workload, clock: Clock) {
    let problem = Problem::new(workload.widths, workload.batch, workload.loss);
    let mut hand = HandNet::new(&problem);
    let mut blocks = BlocksNet::new(&problem);
    let (hand_loss, blocks_loss) = (hand.step(), blocks.step());
    assert!(
        (hand_loss - blocks_loss).abs() <= 1e-4 * hand_loss.abs().max(1.0),
        "{}: the two sides disagree: hand-written loss {hand_loss}, blocks loss {blocks_loss}",
        workload.name
    );
    let mut group = c.benchmark_group(workload.name);
    group.sample_size(workload.samples);
    if workload.flat {
        group.sampling_mode(SamplingMode::Flat);
    }
    let hand_timings = bench_step(&mut group, "hand_written", clock, || hand.step());
    let blocks_timings = bench_step(&mut group, "blocks", clock, || blocks.step());
    group.finish();
    if let (Some(h), Some(b)) =
        (median(&hand_timings, workload.samples), median(&blocks_timings, workload.samples))
    {
        println!(
            "{}: median hand_written {h:.2?}, blocks {b:.2?}, ratio blocks/hand_written {:.3} ({})",
            workload.name,
            b.as_secs_f64() / h.as_secs_f64(),
            clock.name()
        );
        let steps = (PAIRED_HALF_ROUND.as_secs_f64() / h.as_secs_f64()).ceil().max(1.0) as usize;
        let paired = paired(&mut hand, &mut blocks, clock, steps);
        let [low, mid, high] = paired.ratio;
        println!(
            "{}: paired: hand_written {:.2?}, blocks {:.2?} per step (medians over rounds), ratio \
             blocks/hand_written {mid:.3} (quartiles {low:.3}..{high:.3}; {PAIRED_ROUNDS} rounds of \
             {steps} steps each, alternating)\n",
            workload.name,
            Duration::from_secs_f64(paired.hand),
            Duration::from_secs_f64(paired.blocks),
        );
    }
}

/// Rounds of the paired measurement that follows each group.
const PAIRED_ROUNDS: usize = 41;
/// About how long each side runs in one round.
const PAIRED_HALF_ROUND: Duration = Duration::from_millis(25);

/// The result of [`paired`].
struct Paired {
    /// The median over rounds of the hand-written time per step, in seconds.
    hand: f64,
    /// The same for blocks.
    blocks: f64,
    /// The ratio blocks/hand-written of each round: quartiles over the rounds.
    ratio: [f64; 3],
}

/// Both sides timed in alternating rounds of `steps` steps each (which side
/// goes first alternates too). Criterion times the two functions one after
/// the other, seconds apart; on a shared machine the load can change in
/// between, and pairing each blocks round with the hand-written round next
/// to it cancels that.
fn paired(hand: &mut HandNet, blocks: &mut BlocksNet, clock: Clock, steps: usize) -> Paired {
    let time = |run: &mut dyn FnMut() -> f32| {
        let start = clock.now();
        for _ in 0..steps {
            black_box(run());
        }
        clock.since(start).as_secs_f64() / steps as f64
    };
    let rounds: Vec<(f64, f64)> = (0..PAIRED_ROUNDS)
        .map(|round| {
            if round % 2 == 0 {
                let h = time(&mut || hand.step());
                (h, time(&mut || blocks.step()))
            } else {
                let b = time(&mut || blocks.step());
                (time(&mut || hand.step()), b)
            }
        })
        .collect();
    let quantile = |mut values: Vec<f64>, q: f64| {
        values.sort_by(f64::total_cmp);
        values[((values.len() - 1) as f64 * q).round() as usize]
    };
    let ratios: Vec<f64> = rounds.iter().map(|&(h, b)| b / h).collect();
    Paired {
        hand: quantile(rounds.iter().map(|r| r.0).collect(), 0.5),
        blocks: quantile(rounds.iter().map(|r| r.1).collect(), 0.5),
        ratio: [0.25, 0.5, 0.75].map(|q| quantile(ratios.clone(), q)),
    }
}

const WORKLOADS: [Workload; 3] = [
    Workload {
        name: "seed_net_batch2",
        widths: &[20, 256, 10],
        batch: 2,
        loss: Loss::Mse,
        samples: 100,
        flat: false,
    },
    Workload {
        name: "seed_net_batch256",
        widths: &[20, 256, 10],
        batch: 256,
        loss: Loss::Mse,
        samples: 100,
        flat: false,
    },
    Workload {
        name: "mlp_784_512_512_10_batch128",
        widths: &[784, 512, 512, 10],
        batch: 128,
        loss: Loss::CrossEntropy,
        samples: 40,
        flat: true,
    },
];

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let clock = Clock::from_env();
    for workload in &WORKLOADS {
        run(&mut c, workload, clock);
    }
    c.final_summary();
}
