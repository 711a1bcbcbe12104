//! Fuzz target: untrusted bytes through the safetensors loaders
//! (`TensorFile::read` from a file and `from_bytes`, which must agree, every
//! reader, `StateDict::from_file`, `OptimizerState` loaded into SGD and Adam).
//! The body is shared with `blocks-core/tests/it/fuzz_seeds.rs`, which runs it
//! on every seed in `fuzz/seeds` and on mutations of them in `cargo test`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../src/load_safetensors.rs"]
mod body;

fuzz_target!(|data: &[u8]| {
    body::load_safetensors_from_disk(data);
});
