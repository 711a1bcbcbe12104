//! Peak heap memory of the 784-512-512-10 training step at batch 128:
//! blocks against the hand-written floor, counted by a global allocator
//! that tracks the bytes live and their high-water mark.
//!
//! ```text
//! cargo bench --bench peak_memory
//! ```
//!
//! Each side is built after the shared problem (weights, data) exists; its
//! peak is the most heap it held above that point while it was built and ran
//! five steps: its own copy of weights and data, gradients, activations, the
//! graph, and (for blocks) the storage cache kept between steps.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use blocks::set_num_threads;
use common::mlp::{BlocksNet, HandNet, Loss, Problem};

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call forwards to the system allocator with the caller's
// arguments unchanged; the counters only observe sizes.
#[allow(unsafe_code)] // measurement only (see Cargo.toml)
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const STEPS: usize = 5;

/// The peak bytes above the live count at the start, while `f` runs on a
/// fresh thread (so that blocks' per-thread storage cache starts empty).
fn peak_of(f: impl FnOnce() -> f32 + Send) -> usize {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    std::thread::scope(|scope| std::hint::black_box(scope.spawn(f).join().expect("the side ran")));
    PEAK.load(Ordering::Relaxed) - base
}

fn main() {
    // One thread: the counts do not depend on it, and the pool's threads
    // would only add noise.
    set_num_threads(1);
    // Built on its own thread: the tensors made for it leave nothing in the
    // storage cache of the threads that run the two sides.
    let problem = std::thread::spawn(|| Problem::new(&[784, 512, 512, 10], 128, Loss::CrossEntropy))
        .join()
        .expect("the problem was built");
    let hand = peak_of(|| {
        let mut net = HandNet::new(&problem, 1);
        (0..STEPS).map(|_| net.step()).sum()
    });
    let blocks = peak_of(|| {
        let mut net = BlocksNet::new(&problem);
        (0..STEPS).map(|_| net.step()).sum()
    });
    let mib = |bytes: usize| bytes as f64 / (1 << 20) as f64;
    println!(
        "peak heap of the 784-512-512-10 step, batch 128 ({STEPS} steps): hand_written {:.2} MiB, blocks {:.2} MiB, \
         ratio blocks/hand_written {:.3} (target 1.3)",
        mib(hand),
        mib(blocks),
        blocks as f64 / hand as f64
    );
}
