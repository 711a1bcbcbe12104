//! What the test modules share: the conformance folder, tolerance checks
//! against PyTorch's numbers, panic messages, a watchdog, and the examples'
//! blocks.

pub mod convnets;
pub mod optim_metadata;
pub mod resnet18;
pub mod seed;
pub mod watchdog;

use std::any::Any;
use std::path::{Path, PathBuf};

use blocks::Tensor;

/// The folder of PyTorch-written cases: `BLOCKS_CONFORMANCE_DIR` if set,
/// else the repository's copy, `tests/data/conformance`.
pub fn conformance_dir() -> PathBuf {
    match std::env::var_os("BLOCKS_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance"),
    }
}

/// Panics, naming `what` and the element, unless the shapes agree and
/// |ours - PyTorch| <= atol + rtol |PyTorch| for every element (a NaN on
/// either side fails).
#[track_caller]
pub fn assert_close(what: &str, ours: &Tensor, theirs: &Tensor, atol: f32, rtol: f32) {
    assert_eq!(
        ours.shape(),
        theirs.shape(),
        "{what}: shape {:?} vs PyTorch's {:?}",
        ours.shape(),
        theirs.shape()
    );
    for (i, (a, b)) in ours.to_vec().into_iter().zip(theirs.to_vec()).enumerate() {
        assert!((a - b).abs() <= atol + rtol * b.abs(), "{what}: element {i} is {a}, PyTorch has {b}");
    }
}

/// [`assert_close`] as a `Result`, for checks that report every case before
/// failing; here a NaN matches a NaN (PyTorch's output may hold some).
pub fn check_close(what: &str, ours: &Tensor, theirs: &Tensor, atol: f32, rtol: f32) -> Result<(), String> {
    if ours.shape() != theirs.shape() {
        return Err(format!("{what}: shape {:?}, PyTorch has {:?}", ours.shape(), theirs.shape()));
    }
    for (i, (a, b)) in ours.to_vec().into_iter().zip(theirs.to_vec()).enumerate() {
        if (a - b).abs() > atol + rtol * b.abs() || a.is_nan() != b.is_nan() {
            return Err(format!("{what}: element {i} is {a}, PyTorch has {b}"));
        }
    }
    Ok(())
}

/// The message of a caught panic (`panic!` with a format string or a
/// literal), empty if it carried something else.
pub fn panic_message(caught: Box<dyn Any + Send>) -> String {
    match caught.downcast::<String>() {
        Ok(message) => *message,
        Err(caught) => caught.downcast_ref::<&str>().map(|s| s.to_string()).unwrap_or_default(),
    }
}

/// Held while a test replaces the process's panic hook (see [`panic_site`]):
/// tests run on several threads at once, and one test restoring the hook
/// while another's is in place would lose the other's record.
static PANIC_HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f`, which must panic, and gives its message and the `file:line`
/// the panic points at (`#[track_caller]` through the library should make
/// it the caller's line). Only this thread's panic is recorded.
///
/// # Panics
///
/// When `f` does not panic.
pub fn panic_site<T>(f: impl FnOnce() -> T) -> (String, String) {
    use std::sync::{Arc, Mutex, PoisonError};
    let _serial = PANIC_HOOK.lock().unwrap_or_else(PoisonError::into_inner);
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = Arc::clone(&seen);
    let this_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == this_thread
            && let Some(location) = info.location()
        {
            record.lock().unwrap().push(format!("{}:{}", location.file(), location.line()));
        }
    }));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    let message = panic_message(caught.err().expect("it must panic"));
    let site = seen.lock().unwrap().first().cloned().unwrap_or_default();
    (message, site)
}
