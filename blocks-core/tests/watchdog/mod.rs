//! A watchdog for the tests that run work on several threads: the scenario
//! runs on its own thread, and the test fails after a generous bound instead
//! of hanging CI. No assertion depends on timing.
#![allow(dead_code)] // each test file uses part of this module

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

/// Long enough for a loaded machine and a debug build; a deadlock never ends.
pub const WATCHDOG: Duration = Duration::from_secs(300);

/// Runs `scenario` on its own thread and returns its result; fails the test
/// if it has not finished within [`WATCHDOG`], and re-raises its panic.
pub fn within_watchdog<T: Send + 'static>(what: &str, scenario: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    let worker = thread::spawn(move || {
        let result = scenario();
        let _ = sender.send(());
        result
    });
    match receiver.recv_timeout(WATCHDOG) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        Err(RecvTimeoutError::Timeout) => panic!("{what}: did not finish within {WATCHDOG:?} (a deadlock)"),
    }
}

/// Runs `bodies` on threads that start together and joins them all.
pub fn together(bodies: Vec<Box<dyn FnOnce() + Send>>) {
    let start = Arc::new(Barrier::new(bodies.len()));
    let handles: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                body();
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a thread of the scenario panicked");
    }
}
