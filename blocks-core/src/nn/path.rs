//! The path of the block that is running (`0.block 1.2`, the prefix of its
//! keys), kept per thread by the sequential containers, so that a run-time
//! width error can say where it happened.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

/// One step down the tree: a child of a tuple `Sequential` (by position) or
/// of a `DynSequential` (by the name it was added under).
enum Step {
    Index(usize),
    Name(Arc<str>),
    Key(&'static str),
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Index(index) => write!(f, "{index}"),
            Step::Name(name) => f.write_str(name),
            Step::Key(key) => f.write_str(key),
        }
    }
}

thread_local! {
    static PATH: RefCell<Vec<Step>> = const { RefCell::new(Vec::new()) };
}

fn push_while<T>(step: Step, f: impl FnOnce() -> T) -> T {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            PATH.with(|p| p.borrow_mut().pop());
        }
    }
    PATH.with(|p| p.borrow_mut().push(step));
    let _pop = Pop;
    f()
}

/// Runs `f` with child `index` appended to the current path.
pub(crate) fn within<T>(index: usize, f: impl FnOnce() -> T) -> T {
    push_while(Step::Index(index), f)
}

/// Runs `f` with the child named `name` appended to the current path.
pub(crate) fn within_named<T>(name: &Arc<str>, f: impl FnOnce() -> T) -> T {
    push_while(Step::Name(Arc::clone(name)), f)
}

/// Runs `f` with the entry named `key` (of `sequential![key: ..]`) appended
/// to the current path.
pub(crate) fn within_key<T>(key: &'static str, f: impl FnOnce() -> T) -> T {
    push_while(Step::Key(key), f)
}

/// `0.2`: the path of the running block, empty outside any sequential container.
pub(crate) fn current() -> String {
    PATH.with(|p| p.borrow().iter().map(Step::to_string).collect::<Vec<_>>().join("."))
}

/// ` (at block 0.2)`, or nothing outside any sequential container.
pub(crate) fn describe() -> String {
    PATH.with(|p| {
        let path = p.borrow();
        if path.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = path.iter().map(Step::to_string).collect();
            format!(" (at block {})", parts.join("."))
        }
    })
}
