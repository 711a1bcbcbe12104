//! Printing a tensor needs memory linear in the tensor, whatever its rank:
//! a tensor of rank 100,000 holding one value (a 200 KB file can hold it)
//! prints within a few MB, on an ordinary thread, in PyTorch's layout.
//!
//! A counting allocator measures the bytes live at the peak of the printing
//! (above what was live before it); this file holds one test so that no
//! other test allocates meanwhile.

use std::sync::mpsc;
use std::time::Duration;

mod counting;

use blocks_core::Tensor;
use blocks_core::io::{TensorFile, save_tensors};
use counting::peak_of;
use ndarray::{ArrayD, IxDyn};

const RANK: usize = 100_000;

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
