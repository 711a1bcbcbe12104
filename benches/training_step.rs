//! One SGD training step (forward, backward, update) of small MLPs, and the
//! seed net's forward pass at batch 2 (recorded and under `no_grad`): blocks
//! against a hand-written ndarray floor, on 1 and 2 threads. The peak FMA
//! throughput is measured first, and each workload's matrix-product rate is
//! printed as a fraction of it; the 2-thread workloads are compared with
//! their 1-thread twins at the end.
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
//! clock, for machines shared with other work (see [`Clock`]); it leaves out
//! the work of other threads, so use it for the 1-thread workloads only.


mod common;

use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use blocks::{no_grad, set_num_threads};
use common::mlp::{BlocksNet, HandNet, Loss, Problem};
use common::{Peak, Timings, median};
use criterion::{Criterion, SamplingMode};

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
    let (mut hand_side, mut blocks_side): (Box<dyn FnMut() -> f32>, Box<dyn FnMut() -> f32>) = match workload.kind {
        Kind::Step => (Box::new(move || hand.step()), Box::new(move || blocks.step())),
        Kind::Forward => (Box::new(move || hand.forward()), Box::new(move || blocks.forward().to_vec()[0])),
        Kind::ForwardNoGrad => (
            Box::new(move || hand.forward()),
            Box::new(move || no_grad(|| blocks.forward().to_vec()[0])),
        ),
    };
    let mut group = c.benchmark_group(workload.name);
    group.sample_size(workload.samples);
    if workload.flat {
        group.sampling_mode(SamplingMode::Flat);
    }
    let hand_timings = bench_step(&mut group, "hand_written", clock, &mut hand_side);
    let blocks_timings = bench_step(&mut group, "blocks", clock, &mut blocks_side);
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
    Some(Measured { name: workload.name, threads: workload.threads, hand: paired.hand, blocks: paired.blocks })
}

/// Rounds of the paired measurement that follows each group.
const PAIRED_ROUNDS: usize = 41;
/// About how long each side runs in one round.
const PAIRED_HALF_ROUND: Duration = Duration::from_millis(25);

/// The result of [`paired`].
struct Paired {
    /// The median over rounds of the hand-written time per call, in seconds.
    hand: f64,
    /// The same for blocks.
    blocks: f64,
    /// The ratio blocks/hand-written of each round: quartiles over the rounds.
    ratio: [f64; 3],
}

/// Both sides timed in alternating rounds of `steps` calls each (which side
/// goes first alternates too). Criterion times the two functions one after
/// the other, seconds apart; on a shared machine the load can change in
/// between, and pairing each blocks round with the hand-written round next
/// to it cancels that.
fn paired(hand: &mut dyn FnMut() -> f32, blocks: &mut dyn FnMut() -> f32, clock: Clock, steps: usize) -> Paired {
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
                let h = time(hand);
                (h, time(blocks))
            } else {
                let b = time(blocks);
                (time(hand), b)
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
    Workload { samples: 30, flat: true, ..workload("mlp_784_512_512_10_batch128", MLP, 128, Loss::CrossEntropy) },
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
    c.final_summary();
}
