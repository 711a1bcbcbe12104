//! Hostile thread counts: 0 is refused, a huge count (10,000, 2^40,
//! `usize::MAX`) is clamped to the cores, so a large product neither starts
//! thousands of threads, nor aborts on an allocation for them, nor panics
//! with "capacity overflow"; the documented override goes beyond the cores
//! but never beyond `MAX_THREADS`. Each scenario runs under a watchdog.

mod watchdog;

use std::sync::Mutex;

use blocks_core::{MAX_THREADS, Tensor, get_num_threads, set_num_threads, set_num_threads_oversubscribed};
use watchdog::within_watchdog;

/// The tests of this file change the process-wide count: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The threads of this process now, from `/proc/self/status` (Linux).
fn os_threads() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| line.strip_prefix("Threads:")).and_then(|n| n.trim().parse().ok())
}

/// A 512x512 product of known answer: every element of ones · ones is 512.
fn product_of_ones() {
    let a = Tensor::ones([512, 512]);
    let y = a.matmul(&a).to_vec();
    assert!(y.iter().all(|&v| v == 512.0), "a wrong product");
}

#[test]
fn zero_threads_are_refused_with_a_message() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let refused = std::panic::catch_unwind(|| set_num_threads(0)).expect_err("0 is refused");
    let message = refused
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| refused.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    assert!(message.contains("must be positive, got 0"), "{message}");
    assert!(std::panic::catch_unwind(|| set_num_threads_oversubscribed(0)).is_err());
}

#[test]
fn huge_counts_are_clamped_to_the_cores_and_large_work_still_runs() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = get_num_threads();
    for huge in [10_000, 1 << 40, usize::MAX] {
        set_num_threads(huge);
        assert_eq!(get_num_threads(), cores().min(MAX_THREADS), "set_num_threads({huge})");
        within_watchdog("a product at a huge thread count", product_of_ones);
        if let Some(threads) = os_threads() {
            // The test harness, the watchdog and at most one helper per core.
            assert!(threads <= 64 + cores(), "{threads} threads after set_num_threads({huge})");
        }
    }
    set_num_threads(before);
}

#[test]
fn the_override_goes_beyond_the_cores_but_not_beyond_the_ceiling() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = get_num_threads();
    set_num_threads_oversubscribed(cores() + 1);
    assert_eq!(get_num_threads(), cores() + 1);
    within_watchdog("a product on more threads than cores", product_of_ones);
    set_num_threads_oversubscribed(usize::MAX);
    assert_eq!(get_num_threads(), MAX_THREADS);
    // Never more parts than rows: a product of 3 rows on MAX_THREADS threads.
    within_watchdog("a short product on the ceiling", || {
        let y = Tensor::ones([3, 4096]).matmul(&Tensor::ones([4096, 3])).to_vec();
        assert_eq!(y, vec![4096.0; 9]);
    });
    set_num_threads(before);
}
