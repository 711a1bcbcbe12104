//! An optimizer's state as a file: the per-parameter tensors under PyTorch's
//! keys (`state.0.exp_avg`) and the hyper-parameters as PyTorch's
//! `param_groups`, in the safetensors metadata.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::io::{FileError, TensorFile, TensorMap, serialize_entries, write_atomically};
use crate::{AnyTensor, Tensor};

/// A snapshot of an optimizer's state, like `optimizer.state_dict()`.
///
/// Tensors are keyed `state.{index}.{name}` (the parameter's index in the
/// optimizer's list, as PyTorch numbers them); the metadata holds
/// `optimizer` (the class name) and `param_groups` (JSON, PyTorch's list of
/// groups with their hyper-parameters and parameter indices). It saves to and
/// reads from safetensors, so training can stop and resume exactly.
///
/// ```
/// use blocks_core::optim::{Optimizer, OptimizerState, Sgd, SgdConfig};
/// use blocks_core::Tensor;
/// let w = Tensor::ones([2]).requires_grad_(true);
/// let mut opt = Sgd::new([&w], SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() });
/// (&w * &w).sum().backward();
/// opt.step();
/// let state = opt.state_dict();
/// assert_eq!(state.keys(), vec!["state.0.momentum_buffer"]);
/// let path = std::env::temp_dir().join("blocks-doc-optimizer-state.safetensors");
/// state.save(&path).unwrap();
/// assert_eq!(OptimizerState::read(&path).unwrap().keys(), state.keys());
/// ```
#[derive(Clone, Default)]
pub struct OptimizerState {
    tensors: TensorMap,
    metadata: BTreeMap<String, String>,
}

impl OptimizerState {
    /// An empty state.
    ///
    /// ```
    /// assert!(blocks_core::optim::OptimizerState::new().keys().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a tensor under `key`; O(1), as every lookup.
    ///
    /// ```
    /// let mut state = blocks_core::optim::OptimizerState::new();
    /// state.insert("state.0.step", blocks_core::Tensor::scalar(3.0));
    /// assert_eq!(state.get("state.0.step").unwrap().item(), 3.0);
    /// ```
    pub fn insert(&mut self, key: impl Into<String>, tensor: impl Into<AnyTensor>) {
        self.tensors.insert(key.into(), tensor.into());
    }

    /// The float32 tensor under `key` (`None` for a float64 one, the state
    /// of an optimizer of a float64 model: see [`entry`](Self::entry)).
    ///
    /// ```
    /// assert!(blocks_core::optim::OptimizerState::new().get("state.0.exp_avg").is_none());
    /// ```
    pub fn get(&self, key: &str) -> Option<&Tensor> {
        self.tensors.get(key)?.get()
    }

    /// The tensor under `key`, of either element type.
    ///
    /// ```
    /// let mut state = blocks_core::optim::OptimizerState::new();
    /// state.insert("state.0.exp_avg", blocks_core::Tensor64::zeros([2]));
    /// assert_eq!(state.entry("state.0.exp_avg").unwrap().dtype(), "float64");
    /// ```
    pub fn entry(&self, key: &str) -> Option<&AnyTensor> {
        self.tensors.get(key)
    }

    /// The tensor keys, in insertion order.
    ///
    /// ```
    /// let mut state = blocks_core::optim::OptimizerState::new();
    /// state.insert("state.1.exp_avg", blocks_core::Tensor::zeros([1]));
    /// assert_eq!(state.keys(), vec!["state.1.exp_avg"]);
    /// ```
    pub fn keys(&self) -> Vec<&str> {
        self.tensors.keys().map(String::as_str).collect()
    }

    /// Sets a metadata entry (string to string), such as a scheduler's state.
    ///
    /// ```
    /// let mut state = blocks_core::optim::OptimizerState::new();
    /// state.set_metadata("epoch", "3");
    /// assert_eq!(state.metadata("epoch"), Some("3"));
    /// ```
    pub fn set_metadata(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.metadata.insert(key.into(), value.into());
    }

    /// A metadata entry: `optimizer` (`SGD`, `Adam`, `AdamW`), `param_groups` (JSON), or one set by the user.
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// assert_eq!(opt.state_dict().metadata("optimizer"), Some("SGD"));
    /// ```
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    /// Saves to a safetensors file, each tensor in its dtype (atomically, see
    /// [`save_tensors`](crate::io::save_tensors)).
    ///
    /// # Errors
    ///
    /// [`FileError::Io`] if the file cannot be written.
    ///
    /// ```
    /// let path = std::env::temp_dir().join("blocks-doc-optimizer-save.safetensors");
    /// blocks_core::optim::OptimizerState::new().save(&path).unwrap();
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), FileError> {
        let bytes = self.to_bytes()?;
        write_atomically(path.as_ref(), |file| std::io::Write::write_all(file, &bytes))
    }

    /// The bytes of the safetensors file [`save`](Self::save) writes.
    ///
    /// # Errors
    ///
    /// [`FileError::Format`] if a key is `__metadata__`, which safetensors reserves.
    ///
    /// ```
    /// use blocks_core::optim::OptimizerState;
    /// let bytes = OptimizerState::new().to_bytes().unwrap();
    /// assert!(OptimizerState::from_bytes(&bytes).unwrap().keys().is_empty());
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>, FileError> {
        let tensors: Vec<(&str, &AnyTensor)> = self.tensors.iter().map(|(k, t)| (k.as_str(), t)).collect();
        let metadata: Vec<(&str, &str)> =
            self.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        serialize_entries(&tensors, &[], &metadata)
    }

    /// Reads a file written by [`save`](Self::save).
    ///
    /// # Errors
    ///
    /// Any [`FileError`] of [`TensorFile::read`], or [`FileError::Dtype`] for a
    /// tensor that is not F32 or F64.
    ///
    /// ```
    /// assert!(blocks_core::optim::OptimizerState::read("no-such-state.safetensors").is_err());
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<Self, FileError> {
        Self::from_file(&TensorFile::read(path)?)
    }

    /// Decodes the bytes of a file written by [`save`](Self::save).
    ///
    /// # Errors
    ///
    /// [`FileError::Format`] if the bytes are not a valid safetensors file,
    /// [`FileError::Dtype`] for a tensor that is not F32 or F64.
    ///
    /// ```
    /// assert!(blocks_core::optim::OptimizerState::from_bytes(b"junk").is_err());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FileError> {
        Self::from_file(&TensorFile::from_bytes(bytes)?)
    }

    fn from_file(file: &TensorFile) -> Result<Self, FileError> {
        let names = file.names();
        let mut state = OptimizerState {
            tensors: TensorMap::with_capacity(names.len()),
            metadata: file.metadata().clone(),
        };
        for name in names {
            // Each tensor in its dtype (an optimizer of a float64 model saves F64).
            match file.holds_float64(name) {
                true => state.insert(name, file.tensor::<f64>(name)?),
                false => state.insert(name, file.tensor::<f32>(name)?),
            }
        }
        Ok(state)
    }
}

impl fmt::Debug for OptimizerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shapes: Vec<(&str, Vec<usize>)> =
            self.tensors.iter().map(|(k, t)| (k.as_str(), t.shape())).collect();
        f.debug_struct("OptimizerState").field("tensors", &shapes).field("metadata", &self.metadata).finish()
    }
}

/// Why an optimizer state could not be loaded: it belongs to another kind of
/// optimizer or another list of parameters, or a value is missing or malformed.
/// Nothing is changed when loading fails.
///
/// ```
/// use blocks_core::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
/// let w = blocks_core::Tensor::ones([1]).requires_grad_(true);
/// let sgd = Sgd::new([&w], SgdConfig::default());
/// let mut adam = Adam::new([&w], AdamConfig::default());
/// let error = adam.load_state_dict(&sgd.state_dict()).unwrap_err();
/// assert!(error.to_string().contains("SGD"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateError {
    message: String,
}

impl StateError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        StateError { message: message.into() }
    }
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot load the optimizer state: {}", self.message)
    }
}

impl std::error::Error for StateError {}

/// Why [`Optimizer::load`](super::Optimizer::load) failed: the file, or its contents.
///
/// ```
/// use blocks_core::optim::{LoadStateError, Optimizer, Sgd, SgdConfig};
/// let mut opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
/// assert!(matches!(opt.load("no-such-file.safetensors"), Err(LoadStateError::File(_))));
/// ```
#[derive(Debug)]
pub enum LoadStateError {
    /// The file could not be read or is not a valid safetensors file.
    File(FileError),
    /// The file's state does not fit this optimizer.
    State(StateError),
}

impl fmt::Display for LoadStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadStateError::File(e) => e.fmt(f),
            LoadStateError::State(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LoadStateError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadStateError::File(e) => Some(e),
            LoadStateError::State(e) => Some(e),
        }
    }
}

impl From<FileError> for LoadStateError {
    fn from(error: FileError) -> Self {
        LoadStateError::File(error)
    }
}

impl From<StateError> for LoadStateError {
    fn from(error: StateError) -> Self {
        LoadStateError::State(error)
    }
}
