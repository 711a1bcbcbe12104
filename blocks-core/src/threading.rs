//! How many threads the large matrix products use, set and read as in
//! PyTorch: [`set_num_threads`] and [`get_num_threads`].
//!
//! The default is `OMP_NUM_THREADS` when it is set to a positive number (the
//! variable PyTorch users already set), otherwise the number of cores the
//! process may run on (`std::thread::available_parallelism`). Only products
//! large enough to gain from more threads use them; small ones stay on the
//! calling thread, whatever the setting (see `ops/gemm.rs` for the measured
//! thresholds). The threads live in a pool owned by blocks, separate from
//! rayon's global pool, built on first use and rebuilt when the count changes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// The thread count; 0 until it is first read or set.
static NUM_THREADS: AtomicUsize = AtomicUsize::new(0);

/// The pool of the last count asked for, with that count.
static POOL: Mutex<Option<(usize, Arc<rayon::ThreadPool>)>> = Mutex::new(None);

/// Sets the number of threads the large matrix products (linear layers,
/// `matmul`, convolutions) use, like `torch.set_num_threads`. `1` keeps all
/// work on the calling thread.
///
/// The setting is process-wide and may be changed at any time, from any
/// thread: a product already running finishes with the count it started with.
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
/// set_num_threads(before);
/// ```
pub fn set_num_threads(n: usize) {
    assert!(n > 0, "set_num_threads: the number of threads must be positive, got 0");
    NUM_THREADS.store(n, Ordering::Relaxed);
}

/// The number of threads the large matrix products use, like
/// `torch.get_num_threads`: the last [`set_num_threads`], or else
/// `OMP_NUM_THREADS` when set to a positive number, or else the number of
/// cores available to the process.
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

/// The default count: `omp` (the value of `OMP_NUM_THREADS`) when it is a
/// positive number, otherwise the cores available.
fn default_threads(omp: Option<&str>) -> usize {
    omp.and_then(|value| value.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// The pool to run a product on with `threads` threads (built on first use,
/// rebuilt when the count changes), or `None` if no pool can be built.
pub(crate) fn pool(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    let mut slot = POOL.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((count, pool)) = slot.as_ref()
        && *count == threads
    {
        return Some(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("blocks-gemm-{i}"))
        .build()
        .ok()?;
    let pool = Arc::new(pool);
    *slot = Some((threads, Arc::clone(&pool)));
    Some(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omp_num_threads_is_read_when_positive() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(default_threads(Some("3")), 3);
        assert_eq!(default_threads(Some(" 1 ")), 1);
        assert_eq!(default_threads(Some("0")), cores);
        assert_eq!(default_threads(Some("two")), cores);
        assert_eq!(default_threads(None), cores);
    }

    #[test]
    fn pools_follow_the_count() {
        let two = pool(2).expect("a pool");
        assert_eq!(two.current_num_threads(), 2);
        let one = pool(1).expect("a pool");
        assert_eq!(one.current_num_threads(), 1);
        // A product still holding the old pool keeps it alive.
        assert_eq!(two.install(|| 1 + 1), 2);
    }

    #[test]
    #[should_panic(expected = "number of threads must be positive")]
    fn zero_threads_are_refused() {
        set_num_threads(0);
    }
}
