//! Fuzz target: untrusted bytes through the safetensors loader
//! (`TensorFile::from_bytes`, every reader, `StateDict::from_file`).
//! The body is shared with `blocks-core/tests/fuzz_seeds.rs`, which runs it
//! on every seed in `fuzz/seeds` and on mutations of them in `cargo test`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../src/load_safetensors.rs"]
mod body;

fuzz_target!(|data: &[u8]| {
    body::load_safetensors(data);
});
