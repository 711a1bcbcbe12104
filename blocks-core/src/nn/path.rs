//! The path of the block that is running (`0.2`), kept per thread by
//! `Sequential`, so that a run-time width error can say where it happened.

use std::cell::RefCell;

thread_local! {
    static PATH: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with child `index` appended to the current path.
pub(crate) fn within<T>(index: usize, f: impl FnOnce() -> T) -> T {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            PATH.with(|p| p.borrow_mut().pop());
        }
    }
    PATH.with(|p| p.borrow_mut().push(index));
    let _pop = Pop;
    f()
}

/// ` (at block 0.2)`, or nothing outside any `Sequential`.
pub(crate) fn describe() -> String {
    PATH.with(|p| {
        let path = p.borrow();
        if path.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = path.iter().map(usize::to_string).collect();
            format!(" (at block {})", parts.join("."))
        }
    })
}
