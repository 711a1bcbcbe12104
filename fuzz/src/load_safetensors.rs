//! The body of the `load_safetensors` fuzz target, shared with the normal
//! test `blocks-core/tests/it/fuzz_seeds.rs` so that it builds and runs on stable.

use blocks_core::io::TensorFile;
use blocks_core::nn::StateDict;
use blocks_core::optim::{Adam, AdamConfig, Optimizer, OptimizerState, Sgd, SgdConfig};
use blocks_core::{AnyTensor, Tensor};

/// [`load_safetensors`], after reading `data` from a file on disk as well
/// (`TensorFile::read`, which checks the header against the file's length
/// before reading the data): the two readers must agree.
pub fn load_safetensors_from_disk(data: &[u8]) -> Option<usize> {
    let from_disk = read_from_disk(data);
    let from_memory = TensorFile::from_bytes(data);
    assert_eq!(
        from_disk.as_ref().ok().map(TensorFile::names),
        from_memory.as_ref().ok().map(TensorFile::names),
        "the file reader and the bytes reader agree"
    );
    load_safetensors(data)
}

/// Reads `data` as an untrusted safetensors file, as a state dict and as an
/// optimizer state loaded into SGD and Adam. Every reader must answer `Ok`
/// or `Err` without panicking; a file that loads as a state dict must write
/// and read back bit for bit. Returns the number of entries of the state
/// dict, or `None` where the file is refused.
pub fn load_safetensors(data: &[u8]) -> Option<usize> {
    load_optimizer_state(data);
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

    let bytes = state.serialize().expect("a loaded state dict can be written");
    let again = TensorFile::from_bytes(&bytes).expect("what was written reads back");
    let again = StateDict::from_file(&again).expect("and loads as a state dict");
    let mut keys = state.keys();
    keys.sort_unstable();
    assert_eq!(again.keys(), keys, "the same keys (read back sorted)");
    for (key, tensor) in state.entries() {
        let back = again.entry(key).expect("every key is back");
        assert_eq!(back.shape(), tensor.shape(), "{key}: shape");
        assert_eq!(back.dtype(), tensor.dtype(), "{key}: dtype");
        let bits = |t: &AnyTensor| t.cast::<f64>().to_vec().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(back), bits(tensor), "{key}: values, bit for bit");
    }
    Some(state.len())
}

/// `TensorFile::read` on `data` written to a file of this thread's own
/// (rewritten in place for every input, as creating and removing a file
/// each time is many times slower).
fn read_from_disk(data: &[u8]) -> Result<TensorFile, blocks_core::io::FileError> {
    let path = std::env::temp_dir().join(format!(
        "blocks-fuzz-{}-{:?}.safetensors",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, data).expect("the temporary folder is writable");
    TensorFile::read(&path)
}

/// An optimizer state from `data`, loaded into SGD and Adam over one
/// parameter and stepped: refused or accepted, never a panic.
fn load_optimizer_state(data: &[u8]) {
    let Ok(state) = OptimizerState::from_bytes(data) else { return };
    let w = Tensor::ones([2]).requires_grad_(true);
    (&w * &w).sum().backward();
    let mut sgd = Sgd::new([&w], SgdConfig::default());
    if sgd.load_state_dict(&state).is_ok() {
        sgd.step();
    }
    let mut adam = Adam::new([&w], AdamConfig::default());
    if adam.load_state_dict(&state).is_ok() {
        adam.step();
    }
}
