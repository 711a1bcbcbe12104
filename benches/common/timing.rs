//! Timing shared by the paired benches: which clock, criterion's routine
//! with its timings kept, and the paired measurement of two sides.

#![allow(dead_code)] // each bench uses part of this module

use std::hint::black_box;
use std::time::{Duration, Instant};

/// What times a sample: the wall clock (the default), or the CPU time of the
/// benchmark thread with `BLOCKS_BENCH_CLOCK=thread-cpu`, which leaves out
/// the time the thread waits while other processes run (on a shared machine
/// the wall clock mostly measures the neighbours). Caches shared with those
/// processes still count.
#[derive(Clone, Copy, PartialEq)]
pub enum Clock {
    Wall,
    ThreadCpu,
}

impl Clock {
    pub fn from_env() -> Self {
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

    pub fn name(self) -> &'static str {
        match self {
            Clock::Wall => "wall clock",
            Clock::ThreadCpu => "thread CPU time",
        }
    }

    /// A reading of this clock, as a time since an arbitrary origin.
    pub fn now(self) -> Duration {
        match self {
            Clock::Wall => EPOCH.with(|epoch| epoch.elapsed()),
            Clock::ThreadCpu => thread_cpu_time().expect("checked in from_env"),
        }
    }

    pub fn since(self, start: Duration) -> Duration {
        self.now().saturating_sub(start)
    }
}

thread_local! {
    static EPOCH: Instant = Instant::now();
}

/// The CPU time this thread has used, from `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
#[allow(unsafe_code)] // measurement only (see Cargo.toml)
pub fn thread_cpu_time() -> Option<Duration> {
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
pub fn thread_cpu_time() -> Option<Duration> {
    None
}

/// Rounds of the paired measurement that follows each group.
pub const PAIRED_ROUNDS: usize = 41;
/// About how long each side runs in one round.
pub const PAIRED_HALF_ROUND: Duration = Duration::from_millis(25);

/// The result of [`paired`].
pub struct Paired {
    /// The median over rounds of the hand-written time per call, in seconds.
    pub hand: f64,
    /// The same for blocks.
    pub blocks: f64,
    /// The ratio blocks/hand-written of each round: quartiles over the rounds.
    pub ratio: [f64; 3],
}

/// Both sides timed in alternating rounds of `steps` calls each (which side
/// goes first alternates too). Criterion times the two functions one after
/// the other, seconds apart; on a shared machine the load can change in
/// between, and pairing each blocks round with the hand-written round next
/// to it cancels that.
pub fn paired(
    hand: &mut dyn FnMut() -> f32,
    blocks: &mut dyn FnMut() -> f32,
    clock: Clock,
    steps: usize,
) -> Paired {
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
