//! How many threads blocks' large operations use, set and read as in
//! PyTorch: [`set_num_threads`] and [`get_num_threads`], and how work is
//! shared between them.
//!
//! The default is `OMP_NUM_THREADS` when it is set to a positive number (the
//! variable PyTorch users already set), otherwise the number of cores the
//! process may run on (`std::thread::available_parallelism`). Either way,
//! and through [`set_num_threads`], the count is clamped to those cores
//! (more threads only take turns on them; 10,000 made a 512x512 product take
//! minutes); [`set_num_threads_oversubscribed`] is the override for more,
//! up to [`MAX_THREADS`]. Work is never cut into more parts than it has
//! rows. Only work
//! large enough to gain from more threads uses them (matrix products, see
//! `ops/gemm.rs` for the measured thresholds; long optimizer updates; the
//! large loops of a convolutional net, [`for_row_parts`]); small work stays
//! on the calling thread, whatever the setting.
//!
//! With `n` threads, the calling thread is one of them: it takes a part of
//! the work itself and hands the others to `n - 1` helper threads, in a
//! rayon pool owned by blocks (never rayon's global pool), built on first use
//! and rebuilt when the count changes. Working instead of waiting means a
//! split in two wakes one thread, and no idle thread spins beside the two
//! that work.
//!
//! Between two splits, one helper stays awake for a short while
//! ([`LINGER`]), spinning on a counter that the next split changes, as
//! OpenMP's threads spin between parallel regions: a training step is many
//! short splits, and a helper that has gone to sleep takes tens of
//! microseconds to wake on a VM, about what a short split saves. For the
//! same reason the calling thread, once its own part is done, spins for a
//! short while ([`CALLER_SPIN`]) on a count of the parts still running
//! before it waits asleep at the end of rayon's scope: a helper that ends
//! its part soon after finds the caller awake, with no wake-up to pay.
//!
//! # Why this cannot deadlock
//!
//! The helpers only ever run blocks' own arithmetic on arrays handed to them
//! ([`run_parts`], [`join`]): it takes no lock of a tensor, runs no user code
//! and waits for nothing but parts it split off itself, so every part ends
//! and every wait for parts ends, whatever locks the waiting thread holds.
//! A caller that is itself a worker of another rayon pool would, while it
//! waits, run that pool's jobs, which may be user code; so work that holds a
//! tensor's lock (an optimizer update) is split only when the caller is not
//! a rayon worker ([`elementwise_parts`]). A lingering helper waits for
//! nothing but a counter or the end of [`LINGER`], whichever comes first,
//! and holds no lock while it spins; a caller spinning for its parts waits
//! for nothing but their count or the end of [`CALLER_SPIN`], then for the
//! parts themselves, which end as said above.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// The thread count; 0 until it is first read or set.
static NUM_THREADS: AtomicUsize = AtomicUsize::new(0);

/// The helpers of the last count asked for, with that count.
static HELPERS: Mutex<Option<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(None);

/// Counts the splits: a lingering helper stops spinning when it changes.
static SPLITS: AtomicUsize = AtomicUsize::new(0);

/// Whether a helper is lingering (or about to).
static LINGERING: AtomicBool = AtomicBool::new(false);

/// How long a helper stays awake after a split, waiting for the next one.
const LINGER: Duration = Duration::from_micros(300);

/// Marks the start of a split (a lingering helper stops spinning and takes
/// the new parts at once).
fn split_starts() {
    SPLITS.fetch_add(1, Ordering::AcqRel);
}

/// Keeps one helper of `pool` awake until the next split or for [`LINGER`],
/// whichever is first (one lingering helper at a time).
fn linger(pool: &rayon::ThreadPool) {
    if LINGERING.swap(true, Ordering::AcqRel) {
        return;
    }
    let seen = SPLITS.load(Ordering::Acquire);
    pool.spawn(move || {
        let start = Instant::now();
        'spin: while start.elapsed() < LINGER {
            for _ in 0..64 {
                if SPLITS.load(Ordering::Acquire) != seen {
                    break 'spin;
                }
                std::hint::spin_loop();
            }
        }
        LINGERING.store(false, Ordering::Release);
    });
}

/// How long the calling thread spins for its helpers' parts once its own
/// part is done, before it waits asleep (rayon's scope end).
const CALLER_SPIN: Duration = Duration::from_micros(50);

/// Spins until `pending` parts are done or for [`CALLER_SPIN`], whichever
/// is first: a helper that ends its part within that time finds the caller
/// awake, with no wake-up to pay. It waits for nothing but the counter or
/// the time (a part that panics never counts down: the spin ends at the
/// time, and the scope's end reports the panic).
fn await_parts(pending: &AtomicUsize) {
    let start = Instant::now();
    while pending.load(Ordering::Acquire) > 0 && start.elapsed() < CALLER_SPIN {
        for _ in 0..64 {
            std::hint::spin_loop();
        }
    }
}

/// The most threads blocks ever uses, even through
/// [`set_num_threads_oversubscribed`]: a count beyond it only starts threads
/// that wait for each other (and 10,000 of them make a 512x512 product take
/// minutes instead of milliseconds).
pub const MAX_THREADS: usize = 256;

/// Sets the number of threads that large work uses (matrix products of
/// linear layers, `matmul` and convolutions, long optimizer updates and
/// elementwise loops), like `torch.set_num_threads`; the calling thread is
/// one of them. `1` keeps all work on the calling thread. Results do not
/// depend on the count.
///
/// The count is clamped to the logical cores the process may run on
/// (`std::thread::available_parallelism`): more threads than cores only
/// take turns on them, so [`get_num_threads`] reports the clamped count.
/// To run more threads than cores anyway (to test a machine with more
/// cores, say), use [`set_num_threads_oversubscribed`].
///
/// The setting is process-wide and may be changed at any time, from any
/// thread: work already running finishes with the count it started with.
///
/// # Panics
///
/// If `n` is 0, as PyTorch refuses it ("Number of threads must be positive").
///
/// ```
/// use blocks_core::{get_num_threads, set_num_threads};
/// let before = get_num_threads();
/// set_num_threads(1);
/// assert_eq!(get_num_threads(), 1);
/// // A huge count is clamped to the cores.
/// set_num_threads(usize::MAX);
/// assert!(get_num_threads() <= std::thread::available_parallelism().map_or(1, |n| n.get()));
/// set_num_threads(before);
/// ```
#[track_caller]
pub fn set_num_threads(n: usize) {
    assert!(n > 0, "set_num_threads: the number of threads must be positive, got 0");
    NUM_THREADS.store(n.min(cores()), Ordering::Relaxed);
}

/// Sets the number of threads as [`set_num_threads`] does, but without
/// clamping it to the cores: the documented override for a user who insists
/// on more threads than cores. Even so the count is at most
/// [`MAX_THREADS`].
///
/// # Panics
///
/// If `n` is 0.
///
/// ```
/// use blocks_core::{MAX_THREADS, get_num_threads, set_num_threads_oversubscribed};
/// let before = get_num_threads();
/// set_num_threads_oversubscribed(3);
/// assert_eq!(get_num_threads(), 3);
/// set_num_threads_oversubscribed(usize::MAX);
/// assert_eq!(get_num_threads(), MAX_THREADS);
/// set_num_threads_oversubscribed(before);
/// ```
#[track_caller]
pub fn set_num_threads_oversubscribed(n: usize) {
    assert!(n > 0, "set_num_threads_oversubscribed: the number of threads must be positive, got 0");
    NUM_THREADS.store(n.min(MAX_THREADS), Ordering::Relaxed);
}

/// The number of threads that large work uses, like
/// `torch.get_num_threads`: the last [`set_num_threads`] (clamped to the
/// cores) or [`set_num_threads_oversubscribed`], or else
/// `OMP_NUM_THREADS` when set to a positive number (clamped to the cores),
/// or else the number of cores available to the process.
///
/// ```
/// use blocks_core::get_num_threads;
/// assert!(get_num_threads() >= 1);
/// ```
pub fn get_num_threads() -> usize {
    match NUM_THREADS.load(Ordering::Relaxed) {
        0 => {
            let n = default_threads(std::env::var("OMP_NUM_THREADS").ok().as_deref());
            // Another thread may have set a count meanwhile: keep that one.
            match NUM_THREADS.compare_exchange(0, n, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => n,
                Err(set) => set,
            }
        }
        n => n,
    }
}

/// The logical cores the process may run on (at least 1, at most
/// [`MAX_THREADS`]), read once.
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS))
}

/// The default count: `omp` (the value of `OMP_NUM_THREADS`) when it is a
/// positive number, otherwise the cores available; never more than the
/// cores.
fn default_threads(omp: Option<&str>) -> usize {
    omp.and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .map_or_else(cores, |n| n.min(cores()))
}

/// The `threads - 1` helper threads that work beside the caller when
/// `threads` threads share work (built on first use, rebuilt when the count
/// changes), or `None` for one thread or if no thread can be started.
fn helpers(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    let threads = threads.min(MAX_THREADS);
    if threads < 2 {
        return None;
    }
    let mut slot = HELPERS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((count, pool)) = slot.as_ref()
        && *count == threads
    {
        return Some(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads - 1)
        .thread_name(|i| format!("blocks-helper-{i}"))
        .build()
        .ok()?;
    let pool = Arc::new(pool);
    *slot = Some((threads, Arc::clone(&pool)));
    Some(pool)
}

/// Runs `first` on the calling thread and `second` on a helper thread at the
/// same time, `threads` shared between them (`first` gets the larger half),
/// and returns both results; each closure is told how many threads it may
/// use. With fewer than two threads, or no pool, they run one after the
/// other on the calling thread, each with all of `threads`.
///
/// For two large, independent pieces of work (the two gradient products of
/// a linear layer): each then runs on its own thread at full speed, with no
/// split inside it. Neither closure may take a tensor's lock: the caller
/// waits for `second`, and if it is itself a worker of another rayon pool it
/// runs that pool's jobs while it waits.
///
/// ```text
/// let (dx, dw) = join(get_num_threads(), |t| product_on(g, w, t), |t| product_on(gt, x, t));
/// ```
///
/// # Panics
///
/// If either closure panics (the other finishes first).
pub(crate) fn join<A: Send, B: Send>(
    threads: usize,
    first: impl FnOnce(usize) -> A + Send,
    second: impl FnOnce(usize) -> B + Send,
) -> (A, B) {
    let pool = if threads >= 2 { helpers(get_num_threads().max(threads)) } else { None };
    let Some(pool) = pool else {
        return (first(threads), second(threads));
    };
    let (own, other) = (threads - threads / 2, threads / 2);
    let mut second_result = None;
    let slot = &mut second_result;
    let pending = AtomicUsize::new(1);
    let pending = &pending;
    split_starts();
    let first_result = pool.in_place_scope(|scope| {
        scope.spawn(move |_| {
            *slot = Some(second(other));
            pending.fetch_sub(1, Ordering::Release);
        });
        let result = first(own);
        await_parts(pending);
        result
    });
    linger(&pool);
    (first_result, second_result.expect("the scope waits for the spawned half"))
}

/// Runs `work` on every part at the same time: the first part on the
/// calling thread, each other one on a helper thread; returns when
/// all are done. With one part, or no helpers, they run in turn on the
/// caller. `work` takes no tensor's lock (see the module doc).
///
/// ```text
/// run_parts(halves_of_the_output, |(a, b, c)| multiply(a, b, c));
/// ```
///
/// # Panics
///
/// If `work` panics on any part (the others finish first).
pub(crate) fn run_parts<T: Send>(parts: Vec<T>, work: impl Fn(T) + Sync) {
    let mut parts = parts.into_iter();
    let Some(own) = parts.next() else { return };
    let pool = if parts.len() > 0 { helpers(get_num_threads().max(parts.len() + 1)) } else { None };
    let Some(pool) = pool else {
        work(own);
        parts.for_each(work);
        return;
    };
    let work = &work;
    let pending = AtomicUsize::new(parts.len());
    let pending = &pending;
    split_starts();
    pool.in_place_scope(|scope| {
        for part in parts {
            scope.spawn(move |_| {
                work(part);
                pending.fetch_sub(1, Ordering::Release);
            });
        }
        work(own);
        await_parts(pending);
    });
    linger(&pool);
}

/// Elementwise work on fewer elements than this stays on one thread:
/// below it, handing a part to a helper costs about what it saves. Lowered
/// from 2^18 with [`LOOP_PARALLEL_MIN`] once the caller spun for its parts
/// (measured there; 2^16 was no better).
const ELEMENTWISE_PARALLEL_MIN: usize = 1 << 17;

/// Into how many parts to cut an elementwise loop over `len` elements (an
/// optimizer update): the thread count for long loops, 1 for short ones, and
/// 1 when the caller is a worker of some rayon pool (rayon would have it run
/// other jobs of that pool while it waits, and the caller may hold a
/// tensor's lock).
///
/// ```text
/// let parts = elementwise_parts(data.len());
/// ```
pub(crate) fn elementwise_parts(len: usize) -> usize {
    parts_of(len, len, get_num_threads(), ELEMENTWISE_PARALLEL_MIN)
}

/// The rule behind [`elementwise_parts`] and [`loop_parts`]: `work` below
/// `min` (or a caller that is a rayon worker) stays whole; otherwise one
/// part per thread, each of at least `min / 2`, and no more than `items`.
fn parts_of(work: usize, items: usize, threads: usize, min: usize) -> usize {
    if threads < 2 || work < min || rayon::current_thread_index().is_some() {
        return 1;
    }
    threads.min(work / (min / 2)).min(items).max(1)
}

/// Runs `work` on `whole` (an ndarray `Zip` over `len` elements), cut into
/// one part per thread when [`elementwise_parts`] says the loop is long
/// enough, each part on its own thread (see [`run_parts`]).
///
/// ```text
/// in_parts(Zip::from(data).and(grad), data.len(), |zip| zip.split(), |zip| zip.for_each(update));
/// ```
pub(crate) fn in_parts<Z: Send>(whole: Z, len: usize, split: impl Fn(Z) -> (Z, Z), work: impl Fn(Z) + Sync) {
    match elementwise_parts(len) {
        1 => work(whole),
        parts => run_parts(split_evenly(whole, parts, split), work),
    }
}

/// `whole` cut into at least `parts` pieces (a power of two) by halving it
/// with `split` (ndarray's `Zip::split`), or whole when `parts` is 1.
///
/// ```text
/// let zips = split_evenly(Zip::from(data).and(grad), 2, Zip::split);
/// ```
pub(crate) fn split_evenly<T>(whole: T, parts: usize, split: impl Fn(T) -> (T, T)) -> Vec<T> {
    let mut pieces = vec![whole];
    while pieces.len() < parts {
        pieces = pieces
            .into_iter()
            .flat_map(|piece| {
                let (first, second) = split(piece);
                [first, second]
            })
            .collect();
    }
    pieces
}

/// Loops of a convolutional net (im2col, col2im, layout changes, batch
/// norm, pooling) over fewer element-steps than this stay on one thread.
/// These loops copy or add a few values per step (about a nanosecond), and
/// a helper that has gone to sleep between two of them takes tens of
/// microseconds to wake on a loaded VM. Measured with `cargo bench --bench
/// cnn_step -- digits_cnn_threads` (2 threads against 1, paired): at 2^17
/// the digits CNN's batch-256 step ran at 0.62-0.68x its 1-thread speed
/// (its loops of 0.1-1.2 M steps each woke a helper), with no loop split
/// 1.04x, at 2^21 1.07x; a wider layer (16 to 32 channels, 32x32, batch 32,
/// loops of 4.7 M steps) gains 1.21x at 2^21 against 1.15x unsplit. Those
/// figures predate the lingering helper and the spinning caller; with both,
/// on a quiet machine, 2^19 against 2^21 (paired 2-against-1 ratios and
/// 2-thread times, several rounds each): that wider layer 1.30-1.31x ->
/// 1.52-1.56x, ResNet-18's forward 20.9-21.8 -> 18.6-20.1 ms, the encoder
/// layer's step 64.0-65.9 -> 60.2-68.1 ms, the digits CNN at batch 256
/// 1.08-1.10x -> 1.06x, at batch 64 and W6 unchanged; 2^18 was no better.
pub(crate) const LOOP_PARALLEL_MIN: usize = 1 << 19;

/// Into how many parts to cut a loop over `items` independent items (rows,
/// planes, channels) costing `work` element-steps in all, on at most
/// `threads` threads: 1 for short loops, and 1 on a worker of any rayon pool
/// (as [`elementwise_parts`]: the caller may hold a tensor's lock).
///
/// ```text
/// let parts = loop_parts(rows * cols, rows, get_num_threads());
/// ```
pub(crate) fn loop_parts(work: usize, items: usize, threads: usize) -> usize {
    parts_of(work, items, threads, LOOP_PARALLEL_MIN)
}

/// `data`, rows of `row_len` elements, cut into `parts` runs of whole rows
/// (as even as can be), each with the index of its first row.
///
/// ```text
/// let halves = row_parts(&mut planes, h * w, 2); // [(0, first half), (n / 2, second half)]
/// ```
pub(crate) fn row_parts<T>(data: &mut [T], row_len: usize, parts: usize) -> Vec<(usize, &mut [T])> {
    let rows = data.len().checked_div(row_len).unwrap_or(0);
    let parts = parts.clamp(1, rows.max(1));
    let mut out = Vec::with_capacity(parts);
    let mut rest = data;
    let mut first = 0;
    for part in 1..parts {
        let count = rows * part / parts - first;
        let (head, tail) = rest.split_at_mut(count * row_len);
        out.push((first, head));
        rest = tail;
        first += count;
    }
    out.push((first, rest));
    out
}

/// Runs `work(first_row, rows)` on `data` (rows of `row_len` elements, each
/// costing `row_work` element-steps), cut by [`loop_parts`] into runs of
/// whole rows, each run on its own thread ([`run_parts`]); short loops run
/// whole on the calling thread. Each run writes only its own rows, so the
/// result is the same for every thread count when `work` computes each row
/// from its index alone.
///
/// ```text
/// for_row_parts(&mut out, plane, plane, get_num_threads(), |first, planes| fill(first, planes));
/// ```
///
/// # Panics
///
/// If `work` panics on any run (the others finish first).
pub(crate) fn for_row_parts<T: Send>(
    data: &mut [T],
    row_len: usize,
    row_work: usize,
    threads: usize,
    work: impl Fn(usize, &mut [T]) + Sync,
) {
    let rows = data.len().checked_div(row_len).unwrap_or(0);
    match loop_parts(rows.saturating_mul(row_work), rows, threads) {
        1 => work(0, data),
        parts => run_parts(row_parts(data, row_len, parts), |(first, rows)| work(first, rows)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omp_num_threads_is_read_when_positive() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(default_threads(Some("3")), 3.min(cores));
        assert_eq!(default_threads(Some(" 1 ")), 1);
        assert_eq!(default_threads(Some("0")), cores);
        assert_eq!(default_threads(Some("two")), cores);
        assert_eq!(default_threads(None), cores);
        assert_eq!(default_threads(Some("10000")), cores);
        assert_eq!(default_threads(Some("18446744073709551615")), cores);
    }

    #[test]
    fn helpers_follow_the_count() {
        assert!(helpers(1).is_none());
        let three = helpers(3).expect("helpers");
        assert_eq!(three.current_num_threads(), 2);
        let two = helpers(2).expect("helpers");
        assert_eq!(two.current_num_threads(), 1);
        // Work still holding the old helpers keeps them alive.
        assert_eq!(three.install(|| 1 + 1), 2);
    }

    #[test]
    fn run_parts_runs_every_part_once() {
        let parts: Vec<usize> = (0..7).collect();
        let seen = Mutex::new(Vec::new());
        run_parts(parts, |part| seen.lock().expect("no panic").push(part));
        let mut seen = seen.into_inner().expect("no panic");
        seen.sort_unstable();
        assert_eq!(seen, (0..7).collect::<Vec<_>>());
    }

    #[test]
    fn join_runs_both_halves_with_their_share_of_threads() {
        assert_eq!(join(1, |t| t * 10, |t| t + 1), (10, 2));
        assert_eq!(join(2, |t| t * 10, |t| t + 1), (10, 2));
        assert_eq!(join(5, |t| t, |t| t), (3, 2));
        // The second half runs on another thread when there are two.
        let caller = std::thread::current().id();
        let (here, there) = join(2, |_| std::thread::current().id(), |_| std::thread::current().id());
        assert_eq!(here, caller);
        assert_ne!(there, caller);
    }

    #[test]
    #[should_panic(expected = "the second half failed")]
    fn a_panic_in_the_second_half_reaches_the_caller() {
        join(2, |_| (), |_| panic!("the second half failed"));
    }

    #[test]
    fn the_caller_waits_for_a_part_longer_than_its_spin() {
        let done = AtomicBool::new(false);
        join(
            2,
            |_| (),
            |_| {
                std::thread::sleep(CALLER_SPIN * 20);
                done.store(true, Ordering::SeqCst);
            },
        );
        assert!(done.load(Ordering::SeqCst));
    }

    #[test]
    #[should_panic(expected = "a helper's part failed")]
    fn a_panic_in_a_helpers_part_reaches_the_caller() {
        run_parts(vec![0, 1], |part| assert!(part == 0, "a helper's part failed"));
    }

    #[test]
    #[should_panic(expected = "number of threads must be positive")]
    fn zero_threads_are_refused() {
        set_num_threads(0);
    }

    #[test]
    fn row_parts_cut_whole_rows_evenly() {
        let mut data: Vec<usize> = (0..21).collect();
        let parts = row_parts(&mut data, 3, 3);
        let cut: Vec<(usize, Vec<usize>)> =
            parts.into_iter().map(|(first, rows)| (first, rows.to_vec())).collect();
        assert_eq!(cut, vec![(0, (0..6).collect()), (2, (6..12).collect()), (4, (12..21).collect())]);
        // More parts than rows: one row each.
        assert_eq!(row_parts(&mut data[..6], 3, 5).len(), 2);
        assert_eq!(row_parts(&mut [0u8; 0], 3, 2).len(), 1);
    }

    #[test]
    fn loop_parts_keeps_short_loops_whole() {
        assert_eq!(loop_parts(LOOP_PARALLEL_MIN - 1, 100, 4), 1);
        assert_eq!(loop_parts(1 << 30, 100, 1), 1);
        assert_eq!(loop_parts(1 << 30, 3, 4), 3);
        assert_eq!(loop_parts(LOOP_PARALLEL_MIN, 100, 4), 2);
        assert_eq!(loop_parts(1 << 30, 100, 4), 4);
    }
}
