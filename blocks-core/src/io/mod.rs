//! Files: safetensors reading and writing, as PyTorch users save and load
//! with `safetensors.torch`.

mod cast;
mod error;
mod header;
mod read;
mod target;
mod tensor_map;
mod values;
mod write;

pub use error::FileError;
pub use read::TensorFile;
pub(crate) use tensor_map::TensorMap;
pub use values::{Loadable, NamedTensors, Saveable, load, save};
pub(crate) use write::{save_entries, serialize_entries};
pub use write::{save_tensors, serialize_tensors, write_atomically};
