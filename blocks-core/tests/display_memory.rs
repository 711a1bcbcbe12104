//! Printing a tensor needs memory linear in the tensor, whatever its rank:
//! a tensor of rank 100,000 holding one value (a 200 KB file can hold it)
//! prints within a few MB, on an ordinary thread, in PyTorch's layout.
//!
//! A counting allocator measures the bytes live at the peak of the printing
//! (above what was live before it); this file holds one test so that no
//! other test allocates meanwhile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use blocks_core::Tensor;
use blocks_core::io::{TensorFile, save_tensors};
use ndarray::{ArrayD, IxDyn};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let live = LIVE.fetch_add(size, Ordering::SeqCst) + size;
    PEAK.fetch_max(live, Ordering::SeqCst);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            grew(new_size - layout.size());
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const RANK: usize = 100_000;

/// The bytes live at the peak of `f`, above those live when it started.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let value = f();
    (value, PEAK.load(Ordering::SeqCst) - before)
}

#[test]
fn a_rank_100000_tensor_of_one_value_prints_within_a_few_megabytes() {
    let (sender, receiver) = mpsc::channel();
    // A 2 MB stack, as test threads have: a recursive printer would overflow it.
    let worker = std::thread::Builder::new().stack_size(2 << 20).spawn(move || {
        let path = std::env::temp_dir().join(format!("blocks-rank-{}.safetensors", std::process::id()));
        let x = Tensor::from_array(ArrayD::from_shape_vec(IxDyn(&vec![1; RANK]), vec![0.5]).unwrap());
        save_tensors(&path, &[("x", &x)], &[]).unwrap();
        let file_len = std::fs::metadata(&path).unwrap().len();
        let loaded = TensorFile::read(&path).unwrap().tensor::<f32>("x").unwrap();
        std::fs::remove_file(&path).unwrap();
        let (text, peak) = peak_of(|| loaded.to_string());
        let (debug, debug_peak) = peak_of(|| format!("{loaded:?}"));
        sender.send((file_len, text, peak, debug == loaded.to_string(), debug_peak)).unwrap();
    });
    let (file_len, text, peak, debug_same, debug_peak) = receiver
        .recv_timeout(Duration::from_secs(30))
        .expect("printing a rank-100,000 tensor finished within the watchdog's 30 s");
    worker.unwrap().join().unwrap();

    let expected = format!("tensor({}0.5000{})", "[".repeat(RANK), "]".repeat(RANK));
    assert!(text == expected, "PyTorch's layout: {}...", &text[..40]);
    assert!(debug_same, "Debug prints the same");
    assert!(file_len < 400_000, "the file is small: {file_len} bytes");
    // The printout itself is 200 KB; a few MB covers it, its growth and one
    // counter per dimension. The quadratic printer needed tens of GB here.
    let limit = 4 << 20;
    assert!(peak < limit, "printing held {peak} bytes at its peak (limit {limit})");
    assert!(debug_peak < limit, "Debug held {debug_peak} bytes at its peak (limit {limit})");
}
