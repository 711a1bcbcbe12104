//! A watchdog for the tests that run hooks on several threads: the work runs
//! on its own thread, and the test fails (never hangs) when it does not end
//! in a minute.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on another thread and fails if it does not finish in a minute.
pub fn with_watchdog(f: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        f();
        let _ = done.send(());
    });
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => std::panic::resume_unwind(worker.join().unwrap_err()),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("hooks deadlocked (no end after 60 s)"),
    }
}
