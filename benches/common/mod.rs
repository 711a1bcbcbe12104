//! What the benches share: the machine's peak FMA throughput, measured in
//! the same run, and criterion timings kept so that each bench can print its
//! medians as GFLOP/s and as a fraction of that peak.

#![allow(dead_code)] // each bench uses part of this module

use std::cell::RefCell;
use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Independent accumulators in the probe loop: enough to cover the FMA
/// latency (4 cycles) times its throughput (2 per cycle) with room to spare.
const CHAINS: usize = 12;

/// Peak f32 FMA throughput, in GFLOP/s: one thread alone, and `threads`
/// threads at once (their sum).
pub struct Peak {
    pub one_thread: f64,
    pub threads: usize,
    pub all_threads: f64,
}

impl Peak {
    /// Measures the peak: a tight loop of 256-bit fused multiply-adds
    /// (AVX2/FMA, 16 flops each) on 1 thread, then on `threads` at once
    /// (each thread timed by its CPU time, see [`fma_gflops`]).
    /// `None` where the CPU has no AVX2/FMA.
    pub fn measure(threads: usize) -> Option<Peak> {
        let one_thread = best_of(5, || fma_gflops(1))?;
        let all_threads = best_of(5, || fma_gflops(threads))?;
        let peak = Peak { one_thread, threads, all_threads };
        println!(
            "peak FMA throughput (f32, AVX2/FMA, best of 5, per-thread CPU time): {one_thread:.1} GFLOP/s on \
             1 thread, {all_threads:.1} GFLOP/s on {threads} threads\n"
        );
        Some(peak)
    }

    /// The peak of `threads` threads (1, or the measured count).
    pub fn of(&self, threads: usize) -> f64 {
        if threads <= 1 { self.one_thread } else { self.all_threads }
    }
}

fn best_of(runs: usize, mut f: impl FnMut() -> Option<f64>) -> Option<f64> {
    (0..runs).map(|_| f()).try_fold(0.0f64, |best, run| run.map(|g| best.max(g)))
}

/// GFLOP/s of `threads` threads running the probe loop at once (about
/// 50 ms each), summed. Each thread is timed by its own CPU time where the
/// platform has it, so that time the machine gave to other processes does
/// not count (on a quiet machine this equals the wall clock).
fn fma_gflops(threads: usize) -> Option<f64> {
    const ITERS: u64 = 10_000_000;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let (cpu, wall) = (timing::thread_cpu_time(), Instant::now());
                    let flops = fma_loop(ITERS)?;
                    let seconds = match (cpu, timing::thread_cpu_time()) {
                        (Some(start), Some(end)) => (end - start).as_secs_f64(),
                        _ => wall.elapsed().as_secs_f64(),
                    };
                    Some(flops / seconds / 1e9)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("probe thread")).sum::<Option<f64>>()
    })
}

/// Runs the FMA loop for `iters` iterations; the flops done, or `None`
/// without AVX2/FMA.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)] // measurement only (see Cargo.toml)
fn fma_loop(iters: u64) -> Option<f64> {
    if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
        return None;
    }
    // SAFETY: the CPU supports AVX2 and FMA (checked just above).
    let sum = unsafe { fma_kernel(black_box(iters)) };
    black_box(sum);
    Some((iters * CHAINS as u64 * 16) as f64)
}

#[cfg(not(target_arch = "x86_64"))]
fn fma_loop(_iters: u64) -> Option<f64> {
    None
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(unsafe_code)] // measurement only (see Cargo.toml)
fn fma_kernel(iters: u64) -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm256_set1_ps(0.0); CHAINS];
    let x = _mm256_set1_ps(black_box(0.999_999));
    let y = _mm256_set1_ps(black_box(1e-7));
    for _ in 0..iters {
        for a in acc.iter_mut() {
            *a = _mm256_fmadd_ps(*a, x, y);
        }
    }
    let mut total = _mm256_setzero_ps();
    for a in acc {
        total = _mm256_add_ps(total, a);
    }
    let mut lanes = [0.0f32; 8];
    // SAFETY: `lanes` holds 8 f32, the width of one __m256.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), total) };
    lanes.iter().sum()
}

/// The `(iterations, elapsed)` pairs of every call criterion made to one
/// routine; the last `samples` are its measurement.
pub type Timings = Rc<RefCell<Vec<(u64, Duration)>>>;

/// The median time per iteration over the last `samples` calls, as criterion
/// computes its median (of each sample's mean time per iteration).
pub fn median(timings: &Timings, samples: usize) -> Option<Duration> {
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

/// Benchmarks `routine` under `id` in `group` on `clock` (the thread CPU
/// time only for routines that run on the calling thread alone), recording
/// the timings.
pub fn bench<O>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    clock: timing::Clock,
    mut routine: impl FnMut() -> O,
) -> Timings {
    let timings = Timings::default();
    let record = Rc::clone(&timings);
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let start = clock.now();
            for _ in 0..iters {
                black_box(routine());
            }
            let elapsed = clock.since(start);
            record.borrow_mut().push((iters, elapsed));
            elapsed
        })
    });
    timings
}

/// Whether the command line's filters (criterion's, taken here as plain
/// substrings) select `name`: true when there are none. A word after an
/// option that takes a value (`--measurement-time 3`) is that value.
pub fn selected(name: &str) -> bool {
    const FLAGS: [&str; 9] = [
        "--bench",
        "--exact",
        "--list",
        "--noplot",
        "--quick",
        "--verbose",
        "--quiet",
        "--discard-baseline",
        "--test",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let takes_value =
        |option: &str| option.starts_with("--") && !option.contains('=') && !FLAGS.contains(&option);
    let filters: Vec<&String> = (0..args.len())
        .filter(|&i| !args[i].starts_with('-') && (i == 0 || !takes_value(&args[i - 1])))
        .map(|i| &args[i])
        .collect();
    filters.is_empty() || filters.iter().any(|filter| name.contains(filter.as_str()))
}

pub mod mlp;
pub mod scaling;
pub mod timing;
