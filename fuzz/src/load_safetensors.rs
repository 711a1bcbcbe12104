//! The body of the `load_safetensors` fuzz target, shared with the normal
//! test `blocks-core/tests/fuzz_seeds.rs` so that it builds and runs on stable.

use blocks_core::io::{TensorFile, serialize_tensors};
use blocks_core::nn::StateDict;

/// Reads `data` as an untrusted safetensors file. Every reader must answer
/// `Ok` or `Err` without panicking; a file that loads as a state dict must
/// write and read back bit for bit. Returns the number of entries of the
/// state dict, or `None` where the file is refused.
pub fn load_safetensors(data: &[u8]) -> Option<usize> {
    let file = TensorFile::from_bytes(data).ok()?;
    for name in file.names() {
        let shape = file.shape(name).expect("a listed tensor has a shape");
        if let Ok(tensor) = file.tensor::<f32>(name) {
            assert_eq!(tensor.shape(), shape, "tensor {name:?} keeps its shape");
        }
        let _ = file.tensor::<f64>(name);
        let _ = file.integers(name);
    }
    let _ = file.metadata().len();
    let state = StateDict::from_file(&file).ok()?;

    let tensors: Vec<_> = state.iter().collect();
    let bytes = serialize_tensors(&tensors, &[]).expect("a loaded state dict can be written");
    let again = TensorFile::from_bytes(&bytes).expect("what was written reads back");
    let again = StateDict::from_file(&again).expect("and loads as a state dict");
    let mut keys = state.keys();
    keys.sort_unstable();
    assert_eq!(again.keys(), keys, "the same keys (read back sorted)");
    for (key, tensor) in state.iter() {
        let back = again.get(key).expect("every key is back");
        assert_eq!(back.shape(), tensor.shape(), "{key}: shape");
        let bits = |t: &blocks_core::Tensor| t.to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(back), bits(tensor), "{key}: values, bit for bit");
    }
    Some(state.len())
}
