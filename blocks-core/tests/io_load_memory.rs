//! The memory a load holds at its peak is a small multiple of the file:
//! the file is read once into one buffer, and the tensors are made from it.
//! A counting allocator measures the bytes live at the peak of each load,
//! above those live before it; the tests run one at a time under a lock.

use std::sync::Mutex;

mod counting;

use blocks_core::Tensor;
use blocks_core::io::save_tensors;
use blocks_core::nn::StateDict;
use blocks_core::optim::OptimizerState;
use counting::peak_of;

/// The loads are measured one at a time: another test's allocations would count.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn saved(name: &str, tensors: &[(String, Tensor)], metadata: &[(&str, &str)]) -> (std::path::PathBuf, usize) {
    let path = std::env::temp_dir().join(format!("blocks-load-memory-{}-{name}", std::process::id()));
    let named: Vec<(&str, &Tensor)> = tensors.iter().map(|(n, t)| (n.as_str(), t)).collect();
    save_tensors(&path, &named, metadata).unwrap();
    let len = std::fs::metadata(&path).unwrap().len() as usize;
    (path, len)
}

#[test]
fn a_state_dict_of_large_tensors_loads_within_three_times_the_file() {
    let _one = ONE_AT_A_TIME.lock().unwrap();
    let tensors: Vec<(String, Tensor)> =
        (0..4).map(|i| (format!("layer{i}.weight"), Tensor::full([512, 1024], i as f32))).collect();
    let (path, file_len) = saved("large", &tensors, &[]);
    drop(tensors);
    let (state, peak) = peak_of(|| StateDict::read(&path).unwrap());
    std::fs::remove_file(&path).unwrap();
    assert_eq!(state.len(), 4);
    eprintln!("large tensors: peak {peak} bytes for a {file_len}-byte file");
    // The file's bytes once and the tensors once: twice the file.
    assert!(peak <= 3 * file_len, "peak {peak} bytes for a {file_len}-byte file");
}

#[test]
fn a_state_dict_of_80000_small_tensors_loads_within_a_small_multiple_of_the_file() {
    let _one = ONE_AT_A_TIME.lock().unwrap();
    let tensors: Vec<(String, Tensor)> = (0..80_000)
        .map(|i| (format!("{}.{}", i / 2, ["weight", "bias"][i % 2]), Tensor::ones([1])))
        .collect();
    let (path, file_len) = saved("small", &tensors, &[]);
    drop(tensors);
    let (state, peak) = peak_of(|| StateDict::read(&path).unwrap());
    let (optimizer, optimizer_peak) = peak_of(|| OptimizerState::read(&path).unwrap());
    std::fs::remove_file(&path).unwrap();
    assert_eq!((state.len(), optimizer.keys().len()), (80_000, 80_000));
    eprintln!("80,000 small tensors: peak {peak} / {optimizer_peak} bytes for a {file_len}-byte file");
    // Each entry is 76 bytes of file; the header's parse and index take
    // about 500 bytes per entry at the peak, each tensor's own bookkeeping
    // about 480 more (the quadratic loader peaked at 17-27 times the file).
    for (what, peak) in [("state dict", peak), ("optimizer state", optimizer_peak)] {
        assert!(peak <= 16 * file_len, "{what}: peak {peak} bytes for a {file_len}-byte file");
    }
}
