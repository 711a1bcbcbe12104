//! How much faster a training step runs on 2 threads than on 1, measured so
//! that a noisy machine shows as noise rather than as a slow library.
//!
//! Rounds alternate, each timing a few steps of: blocks on 1 thread, blocks
//! on 2 threads, the hand-written floor on 1 and on 2 threads, and the
//! *ceiling*: two independent blocks models stepping at once on two OS
//! threads, each on 1 thread. The ceiling is what this machine gives two
//! streams of the same work that share nothing but the hardware (caches,
//! memory bandwidth, whatever the hypervisor leaves the second vCPU); no
//! split of one step can beat it. Every ratio is taken within a round and
//! reported as quartiles over the rounds, so a change of load between
//! rounds moves the spread, not the ratios.

use std::hint::black_box;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use blocks::set_num_threads;

use super::mlp::{BlocksNet, HandNet, Problem};

/// Rounds of a scaling measurement.
const ROUNDS: usize = 41;

/// The pause before each timing (see [`time`]).
const SETTLE: Duration = Duration::from_millis(5);

/// Quartiles (25%, median, 75%) of the per-round ratios of 2-thread to
/// 1-thread speed, and the ratio of the fastest rounds.
pub struct Ratios {
    pub quartiles: [f64; 3],
    pub fastest: f64,
}

/// The scaling of one workload: blocks, the floor, and the ceiling.
pub struct Scaling {
    pub blocks: Ratios,
    pub hand: Ratios,
    pub ceiling: Ratios,
}

/// Measures [`Scaling`] on `problem`, `steps` steps per timing.
pub fn measure(problem: &Problem, steps: usize) -> Scaling {
    let (mut one, mut other) = (BlocksNet::new(problem), BlocksNet::new(problem));
    let (mut hand_one, mut hand_two) = (HandNet::new(problem, 1), HandNet::new(problem, 2));
    let rounds = with_second_stream(&mut other, BlocksNet::step, steps, |second| {
        let mut rounds = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            set_num_threads(1);
            let blocks_1 = time(steps, &mut || one.step());
            set_num_threads(2);
            let blocks_2 = time(steps, &mut || one.step());
            let hand_1 = time(steps, &mut || hand_one.step());
            let hand_2 = time(steps, &mut || hand_two.step());
            set_num_threads(1);
            let both = second.both(&mut || one.step());
            rounds.push([(blocks_1, blocks_2), (hand_1, hand_2), (blocks_1, both / 2.0)]);
        }
        rounds
    });
    let side = |which: usize| ratios(&rounds.iter().map(|r| r[which]).collect::<Vec<_>>());
    Scaling { blocks: side(0), hand: side(1), ceiling: side(2) }
}

/// The time per call of `run`, over `steps` calls after one to warm up
/// (the thread count may just have changed). It starts after a pause in
/// which the idle threads of the timing before (rayon's spin for a while
/// before they sleep) go to sleep, so that they take no time from this one.
fn time(steps: usize, run: &mut dyn FnMut() -> f32) -> f64 {
    std::thread::sleep(SETTLE);
    black_box(run());
    let start = Instant::now();
    for _ in 0..steps {
        black_box(run());
    }
    start.elapsed().as_secs_f64() / steps as f64
}

/// The speed of `run` on 2 threads against 1, in [`ROUNDS`] rounds that
/// alternate the two counts, `steps` calls per timing (a product, a step).
pub fn two_threads_against_one<O>(mut run: impl FnMut() -> O, steps: usize) -> Ratios {
    let mut time = |threads: usize| {
        set_num_threads(threads);
        std::thread::sleep(SETTLE); // as in `time`
        black_box(run()); // warm: the thread count just changed
        let start = Instant::now();
        for _ in 0..steps {
            black_box(run());
        }
        start.elapsed().as_secs_f64() / steps as f64
    };
    let rounds: Vec<(f64, f64)> = (0..ROUNDS).map(|_| (time(1), time(2))).collect();
    ratios(&rounds)
}

/// The machine's ceiling for `step` (as in [`measure`]): in [`ROUNDS`]
/// rounds, one stream's 1-thread step against two independent streams
/// stepping at once, each on 1 thread; `steps` steps per timing. The
/// speed-up no split of one step can beat.
pub fn two_streams_against_one<S: Send>(
    one: &mut S,
    other: &mut S,
    step: fn(&mut S) -> f32,
    steps: usize,
) -> Ratios {
    set_num_threads(1);
    let rounds = with_second_stream(other, step, steps, |second| {
        (0..ROUNDS)
            .map(|_| {
                let alone = time(steps, &mut || step(one));
                (alone, second.both(&mut || step(one)) / 2.0)
            })
            .collect::<Vec<_>>()
    });
    ratios(&rounds)
}

/// A second stream of steps on a thread of its own that lives for the whole
/// measurement: a thread started per timing would begin with an empty
/// buffer cache (blocks keeps one per thread) and pay fresh allocations and
/// page faults the first stream does not.
pub struct SecondStream {
    go: mpsc::Sender<bool>,
    done: mpsc::Receiver<()>,
    steps: usize,
}

impl SecondStream {
    /// The time per step of each stream while both run their steps at once,
    /// `one` on the calling thread.
    pub fn both(&self, one: &mut dyn FnMut() -> f32) -> f64 {
        std::thread::sleep(SETTLE); // as in `time`
        let start = Instant::now();
        self.go.send(true).expect("the second stream is running");
        for _ in 0..self.steps {
            black_box(one());
        }
        self.done.recv().expect("the second stream finished its steps");
        start.elapsed().as_secs_f64() / self.steps as f64
    }
}

/// Runs `body` with a [`SecondStream`] stepping `other` (`steps` steps each
/// time it is asked), warmed up by one round first.
fn with_second_stream<S: Send, R>(
    other: &mut S,
    step: fn(&mut S) -> f32,
    steps: usize,
    body: impl FnOnce(&SecondStream) -> R,
) -> R {
    let (go, orders) = mpsc::channel();
    let (finished, done) = mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            // Stops when told to or when the measuring side is gone (a panic).
            while orders.recv() == Ok(true) {
                for _ in 0..steps {
                    black_box(step(other));
                }
                if finished.send(()).is_err() {
                    break;
                }
            }
        });
        let second = SecondStream { go, done, steps };
        second.both(&mut || 0.0);
        let result = body(&second);
        let _ = second.go.send(false);
        result
    })
}

/// [`Ratios`] of per-round (1-thread, 2-thread) times.
fn ratios(rounds: &[(f64, f64)]) -> Ratios {
    let mut per_round: Vec<f64> = rounds.iter().map(|r| r.0 / r.1).collect();
    per_round.sort_by(f64::total_cmp);
    let at = |q: f64| per_round[((per_round.len() - 1) as f64 * q).round() as usize];
    let fastest = |side: fn(&(f64, f64)) -> f64| rounds.iter().map(side).fold(f64::MAX, f64::min);
    Ratios { quartiles: [at(0.25), at(0.5), at(0.75)], fastest: fastest(|p| p.0) / fastest(|p| p.1) }
}

impl Ratios {
    /// `1.85x (quartiles 1.70..1.93; fastest rounds 1.90x)`.
    pub fn show(&self) -> String {
        let [low, mid, high] = self.quartiles;
        format!("{mid:.2}x (quartiles {low:.2}..{high:.2}; fastest rounds {:.2}x)", self.fastest)
    }
}

impl Scaling {
    /// Prints the ratios, `name` first.
    pub fn print(&self, name: &str) {
        println!(
            "{name}: 2 threads against 1, paired over {ROUNDS} rounds: blocks {}; hand_written {}; \
             ceiling (two independent 1-thread blocks steps at once) {}; blocks reaches {:.0}% of the ceiling",
            self.blocks.show(),
            self.hand.show(),
            self.ceiling.show(),
            100.0 * self.blocks.quartiles[1] / self.ceiling.quartiles[1],
        );
    }
}
