//! The path of the block that is running (`0.block 1.2`, the prefix of its
//! keys), kept per thread, so that a run-time width error can say where it
//! happened and a global hook is told which block runs.
//!
//! Containers (a `Sequential`, a `DynSequential`, a `#[module(chain)]`
//! block) push the key of the child they run. A block that a hand-written
//! `forward` calls (`self.p1_1.forward(x)`) is found by its address among
//! the children of the block running it: while global hooks exist, each
//! hooked run [`enter`]s its block, recording its children's addresses and
//! keys. (With no global hook, nothing reads the path but an error
//! message, and the containers' keys are all it holds.)

use std::any::TypeId;
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use crate::nn::Module;
use crate::nn::ModuleExt;

/// One step down the tree: a child of a tuple `Sequential` (by position) or
/// of a `DynSequential` (by the name it was added under), or a field.
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

/// A child's identity: its address and its type (a struct and its first
/// field share an address, not a type).
type Identity = (usize, TypeId);

/// A level of the path: the step to it (none for the model run at the top,
/// or a block no key names), whether the block at it has entered, and that
/// block's children, recorded while global hooks exist.
struct Frame {
    step: Option<Step>,
    entered: bool,
    children: Vec<Child>,
}

thread_local! {
    static PATH: RefCell<Vec<Frame>> = const { RefCell::new(Vec::new()) };
}

/// A container's step in the path while its child runs: pushed by
/// [`within`] (and the others), popped when dropped (also when the child
/// panics). A guard rather than a closure, so `#[track_caller]` reaches
/// through a container to the caller's line.
pub(crate) struct StepGuard(());

impl Drop for StepGuard {
    fn drop(&mut self) {
        PATH.with(|p| p.borrow_mut().pop());
    }
}

fn push(step: Step) -> StepGuard {
    PATH.with(|p| p.borrow_mut().push(Frame { step: Some(step), entered: false, children: Vec::new() }));
    StepGuard(())
}

/// Child `index` appended to the current path while the guard lives.
pub(crate) fn within(index: usize) -> StepGuard {
    push(Step::Index(index))
}

/// The child named `name` appended to the current path while the guard lives.
pub(crate) fn within_named(name: &Arc<str>) -> StepGuard {
    push(Step::Name(Arc::clone(name)))
}

/// The entry or field named `key` appended to the current path while the
/// guard lives.
pub(crate) fn within_key(key: &'static str) -> StepGuard {
    push(Step::Key(key))
}

fn identity<M: Module + ?Sized>(block: &M) -> Identity {
    let any = block.as_any();
    (any as *const dyn std::any::Any as *const () as usize, any.type_id())
}

/// A child of the running block: its identity and its key.
pub(crate) type Child = (Identity, String);

/// The children of `block`, with their keys.
pub(crate) fn children_of<M: Module + ?Sized>(block: &M) -> Vec<Child> {
    block.named_children().into_iter().map(|(key, child)| (identity(child), key)).collect()
}

/// The block `me` starts running: it takes the step a container pushed for
/// it, or else its key among the children of the block running it, and
/// records its own `children` for the blocks its forward calls. Undone when
/// the returned guard drops (also when the forward panics).
pub(crate) fn enter(me: Identity, children: Vec<Child>) -> Entered {
    PATH.with(|p| {
        let mut path = p.borrow_mut();
        let pushed = match path.last_mut() {
            Some(top) if !top.entered && top.step.is_some() => {
                top.entered = true;
                false
            }
            parent => {
                let step = parent
                    .and_then(|parent| parent.children.iter().find(|(child, _)| *child == me))
                    .map(|(_, key)| Step::Name(Arc::from(key.as_str())));
                path.push(Frame { step, entered: true, children: Vec::new() });
                true
            }
        };
        let top = path.last_mut().expect("a frame was just found or pushed");
        let outer = std::mem::replace(&mut top.children, children);
        Entered { pushed, outer }
    })
}

/// A block's part of the path while it runs (see [`enter`]).
pub(crate) struct Entered {
    pushed: bool,
    /// The frame's children before the block entered (none for a pushed frame).
    outer: Vec<Child>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        PATH.with(|p| {
            let mut path = p.borrow_mut();
            if self.pushed {
                path.pop();
            } else if let Some(top) = path.last_mut() {
                top.entered = false;
                top.children = std::mem::take(&mut self.outer);
            }
        });
    }
}

/// The keys of the path, outermost first.
fn steps() -> Vec<String> {
    PATH.with(|p| p.borrow().iter().filter_map(|frame| frame.step.as_ref().map(Step::to_string)).collect())
}

/// `0.2`: the path of the running block, empty outside any container.
pub(crate) fn current() -> String {
    steps().join(".")
}

/// ` (at block 0.2)`, or nothing outside any container.
pub(crate) fn describe() -> String {
    let steps = steps();
    if steps.is_empty() { String::new() } else { format!(" (at block {})", steps.join(".")) }
}

/// The value of an op's `try_` form, or a panic with its error and the
/// place of the running block (` (at block 0.2)`): how a layer reports a
/// shape its op refuses, at the caller's line.
#[track_caller]
pub(crate) fn or_panic<T>(result: Result<T, crate::ShapeError>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{error}{}", describe()),
    }
}
