//! A driver for profilers: the 784-512-512-10 training step (batch 128, the
//! training-step bench's `BlocksNet`) run back to back for a given thread
//! count and number of steps, printing the time per step. Nothing is
//! asserted or compared; point `perf` at it to see where a step's time goes.
//!
//! ```text
//! cargo bench --bench step_profile --no-run     # prints the binary's path
//! perf stat -e task-clock,context-switches target/release/deps/step_profile-* 2 600
//! perf record -F 2999 -o step.data target/release/deps/step_profile-* 2 600
//! perf report -i step.data --no-children --sort comm,symbol
//! ```
//!
//! Arguments: the thread count (default 2) and the number of timed steps
//! (default 600), after 50 untimed ones.

mod common;

use std::time::Instant;

use blocks::set_num_threads;
use common::mlp::{BlocksNet, Loss, Problem};

fn main() {
    // `cargo bench` passes `--bench`; the numbers are the first two plain words.
    let numbers: Vec<usize> = std::env::args().skip(1).filter_map(|arg| arg.parse().ok()).collect();
    let threads = numbers.first().copied().unwrap_or(2).max(1);
    let steps = numbers.get(1).copied().unwrap_or(600).max(1);
    set_num_threads(threads);
    let mut net = BlocksNet::new(&Problem::new(&[784, 512, 512, 10], 128, Loss::CrossEntropy));
    for _ in 0..50 {
        net.step();
    }
    let start = Instant::now();
    let mut loss = 0.0;
    for _ in 0..steps {
        loss = net.step();
    }
    let per_step = start.elapsed() / steps as u32;
    println!(
        "784-512-512-10 step, batch 128, {threads} threads: {per_step:.2?} per step over {steps} steps (loss {loss:.4})"
    );
}
