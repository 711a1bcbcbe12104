//! State dicts: every parameter and buffer under PyTorch's key, to save,
//! load and compare with PyTorch's `state_dict()`.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use crate::io::{FileError, TensorFile, TensorMap, save_entries, serialize_entries};
use crate::{AnyTensor, Element, Tensor, Tensor64, TensorBase};

/// Named tensors in order, like the `OrderedDict` of `net.state_dict()`.
///
/// The tensors are handles to the model's own parameters and buffers (no
/// copy); a tied parameter appears under each of its keys. An uninitialized
/// parameter (a lazy layer before its first forward) is listed by
/// [`uninitialized_keys`](Self::uninitialized_keys) and cannot be saved.
///
/// Each entry keeps its dtype, as PyTorch's do: a model converted with
/// [`to_f64`](crate::nn::ToElement::to_f64) gives float64 entries, saved as F64.
/// [`get`](Self::get) and [`iter`](Self::iter) give the float32 entries,
/// [`get_f64`](Self::get_f64) the float64 ones, and [`entry`](Self::entry)
/// and [`entries`](Self::entries) every entry as an [`AnyTensor`].
///
/// ```
/// use blocks_core::nn::{Linear, Module, ModuleExt, StateDict};
/// let layer = Linear::<3, 2>::new();
/// let state: StateDict = layer.state_dict();
/// assert_eq!(state.keys(), vec!["weight", "bias"]);
/// assert_eq!(state.get("weight").unwrap().shape(), vec![2, 3]);
/// ```
#[derive(Clone, Default)]
pub struct StateDict {
    pub(super) entries: TensorMap,
    /// Keys whose entry is an uninitialized parameter's empty placeholder.
    pub(super) uninitialized: HashSet<String>,
    /// Keys whose entry holds whole numbers, saved as int64 (BatchNorm's
    /// `num_batches_tracked`, as PyTorch saves it).
    pub(super) integers: HashSet<String>,
}

impl StateDict {
    /// An empty state dict.
    ///
    /// ```
    /// assert!(blocks_core::nn::StateDict::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the tensor under `key`, keeping first-insertion
    /// order; O(1), as every lookup. A `Tensor`, a `Tensor64` or an [`AnyTensor`].
    ///
    /// ```
    /// let mut state = blocks_core::nn::StateDict::new();
    /// state.insert("w", blocks_core::Tensor::ones([1]));
    /// state.insert("v", blocks_core::Tensor64::ones([1]));
    /// assert_eq!(state.len(), 2);
    /// ```
    pub fn insert(&mut self, key: impl Into<String>, tensor: impl Into<AnyTensor>) {
        let key = key.into();
        if !self.uninitialized.is_empty() {
            self.uninitialized.remove(&key);
        }
        if !self.integers.is_empty() {
            self.integers.remove(&key);
        }
        self.entries.insert(key, tensor.into());
    }

    /// The float32 tensor under `key` (`None` if there is none, or if the
    /// entry is float64: see [`get_f64`](Self::get_f64)).
    ///
    /// ```
    /// let mut state = blocks_core::nn::StateDict::new();
    /// state.insert("w", blocks_core::Tensor::ones([1]));
    /// assert!(state.get("w").is_some() && state.get("v").is_none());
    /// ```
    pub fn get(&self, key: &str) -> Option<&Tensor> {
        self.entries.get(key)?.get()
    }

    /// The float64 tensor under `key` (an entry of a model in float64, or a
    /// F64 tensor of a file).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt, ToElement};
    /// let state = Linear::<2, 1>::new().to_f64().state_dict();
    /// assert_eq!(state.get_f64("weight").unwrap().shape(), vec![1, 2]);
    /// assert!(state.get("weight").is_none());
    /// ```
    pub fn get_f64(&self, key: &str) -> Option<&Tensor64> {
        self.entries.get(key)?.get()
    }

    /// The entry under `key`, of either element type.
    ///
    /// ```
    /// let mut state = blocks_core::nn::StateDict::new();
    /// state.insert("w", blocks_core::Tensor64::ones([1]));
    /// assert_eq!(state.entry("w").unwrap().dtype(), "float64");
    /// ```
    pub fn entry(&self, key: &str) -> Option<&AnyTensor> {
        self.entries.get(key)
    }

    /// The keys in order.
    ///
    /// ```
    /// let mut state = blocks_core::nn::StateDict::new();
    /// state.insert("b", blocks_core::Tensor::ones([1]));
    /// state.insert("a", blocks_core::Tensor::ones([1]));
    /// assert_eq!(state.keys(), vec!["b", "a"]);
    /// ```
    pub fn keys(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).collect()
    }

    /// The keys of uninitialized parameters (lazy layers that have not run
    /// yet): their entries hold no values, and saving refuses them.
    ///
    /// ```
    /// use blocks_core::nn::{LazyLinear, Module, ModuleExt};
    /// let layer = LazyLinear::new(4);
    /// assert_eq!(layer.state_dict().uninitialized_keys(), vec!["weight", "bias"]);
    /// layer.forward(&blocks_core::Tensor::ones([1, 2]));
    /// assert!(layer.state_dict().uninitialized_keys().is_empty());
    /// ```
    pub fn uninitialized_keys(&self) -> Vec<&str> {
        self.entries.keys().filter(|k| self.uninitialized.contains(*k)).map(String::as_str).collect()
    }

    /// The float32 entries in order (all of them for a float32 model; see
    /// [`entries`](Self::entries) for every entry).
    ///
    /// ```
    /// let state = blocks_core::nn::Linear::<1, 1>::new();
    /// # use blocks_core::nn::{Module, ModuleExt};
    /// assert_eq!(state.state_dict().iter().count(), 2);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.typed::<f32>()
    }

    /// The float64 entries in order.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt, ToElement};
    /// assert_eq!(Linear::<1, 1>::new().to_f64().state_dict().iter_f64().count(), 2);
    /// ```
    pub fn iter_f64(&self) -> impl Iterator<Item = (&str, &Tensor64)> {
        self.typed::<f64>()
    }

    /// Every entry in order, of either element type.
    ///
    /// ```
    /// let mut state = blocks_core::nn::StateDict::new();
    /// state.insert("a", blocks_core::Tensor::ones([1]));
    /// state.insert("b", blocks_core::Tensor64::ones([1]));
    /// let dtypes: Vec<&str> = state.entries().map(|(_, t)| t.dtype()).collect();
    /// assert_eq!(dtypes, ["float32", "float64"]);
    /// ```
    pub fn entries(&self) -> impl Iterator<Item = (&str, &AnyTensor)> {
        self.entries.iter().map(|(k, t)| (k.as_str(), t))
    }

    fn typed<E: Element>(&self) -> impl Iterator<Item = (&str, &TensorBase<E>)> {
        self.entries.iter().filter_map(|(k, t)| Some((k.as_str(), t.get::<E>()?)))
    }

    /// The number of entries.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::StateDict::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    ///
    /// ```
    /// assert!(blocks_core::nn::StateDict::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Reads a safetensors file written by PyTorch: by `save_file(net.state_dict())`
    /// (every key present, tied ones repeated) or by `save_model(net)` (one copy
    /// of a tied tensor, and the other keys as aliases in the metadata,
    /// `{"4.weight": "2.weight"}`), which this resolves.
    ///
    /// # Errors
    ///
    /// Any [`FileError`] of [`TensorFile::read`], or [`FileError::Dtype`] (naming
    /// the tensor) for a dtype PyTorch's files may hold but that is not
    /// converted: the 8-bit and smaller floats, complex. F64 tensors are kept
    /// in float64, F32, F16 and BF16 ones are float32 (exactly), and
    /// `load_state_dict` casts each to its parameter's dtype as PyTorch does
    /// (see [`TensorFile::tensor`]); integers and bool (such as
    /// `num_batches_tracked`) are kept as whole numbers and saved back as int64.
    ///
    /// ```
    /// use blocks_core::io::save_tensors;
    /// use blocks_core::{nn::StateDict, Tensor};
    /// let path = std::env::temp_dir().join("blocks-doc-alias.safetensors");
    /// save_tensors(&path, &[("2.weight", &Tensor::ones([2]))], &[("4.weight", "2.weight")]).unwrap();
    /// let state = StateDict::read(&path).unwrap();
    /// assert_eq!(state.keys(), vec!["2.weight", "4.weight"]);
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<Self, FileError> {
        Self::from_file(&TensorFile::read(path)?)
    }

    /// The float tensors of an already-read file, with aliases resolved (see [`read`](Self::read)).
    ///
    /// # Errors
    ///
    /// [`FileError::Dtype`] for a dtype that is not converted (see [`read`](Self::read)).
    ///
    /// ```
    /// use blocks_core::io::{serialize_tensors, TensorFile};
    /// let bytes = serialize_tensors(&[("w", &blocks_core::Tensor::ones([1]))], &[]).unwrap();
    /// let file = TensorFile::from_bytes(&bytes).unwrap();
    /// assert_eq!(blocks_core::nn::StateDict::from_file(&file).unwrap().len(), 1);
    /// ```
    pub fn from_file(file: &TensorFile) -> Result<Self, FileError> {
        let names = file.names();
        let mut state = StateDict { entries: TensorMap::with_capacity(names.len()), ..Self::default() };
        for name in names {
            if file.holds_integers(name) {
                // An int64 buffer (num_batches_tracked): kept as whole numbers, saved back as int64.
                let (values, shape) = file.integers(name)?;
                let values = values.into_iter().map(|v| v as f32).collect();
                state.insert(name, Tensor::from_vec(values, shape));
                state.integers.insert(name.to_string());
            } else if file.holds_float64(name) {
                // Kept in float64, as PyTorch's `load_file` does; cast when loaded into a model.
                state.insert(name, file.tensor::<f64>(name)?);
            } else {
                // Float16 and bfloat16 widen exactly to float32.
                state.insert(name, file.tensor::<f32>(name)?);
            }
        }
        for (alias, target) in file.metadata() {
            if !file.contains(alias)
                && alias != "__metadata__"
                && let Some(tensor) = state.entry(target).cloned()
            {
                state.insert(alias.clone(), tensor);
            }
        }
        Ok(state)
    }

    /// Saves every entry to `path` as PyTorch's `save_file(net.state_dict())`
    /// does, each in its dtype (F32, F64, int64 for `num_batches_tracked`;
    /// atomically, see [`save_tensors`](crate::io::save_tensors)).
    ///
    /// # Errors
    ///
    /// [`FileError::Uninitialized`] if some parameter has no values yet,
    /// [`FileError::Io`] if the file cannot be written.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt, StateDict};
    /// let path = std::env::temp_dir().join("blocks-doc-state.safetensors");
    /// Linear::<2, 1>::new().state_dict().save(&path).unwrap();
    /// assert_eq!(StateDict::read(&path).unwrap().keys(), vec!["bias", "weight"]);
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), FileError> {
        if !self.uninitialized.is_empty() {
            return Err(FileError::Uninitialized {
                keys: self.uninitialized_keys().into_iter().map(String::from).collect(),
            });
        }
        let tensors: Vec<(&str, &AnyTensor)> = self.entries().collect();
        let integers: Vec<&str> = self.integers.iter().map(String::as_str).collect();
        save_entries(path, &tensors, &integers)
    }

    /// The bytes [`save`](Self::save) writes (a safetensors file in memory).
    ///
    /// # Errors
    ///
    /// [`FileError::Uninitialized`] if some parameter has no values yet.
    ///
    /// ```
    /// use blocks_core::io::TensorFile;
    /// use blocks_core::nn::{Linear, Module, ModuleExt, StateDict, ToElement};
    /// let bytes = Linear::<2, 1>::new().to_f64().state_dict().serialize().unwrap();
    /// let state = StateDict::from_file(&TensorFile::from_bytes(&bytes).unwrap()).unwrap();
    /// assert_eq!(state.entry("weight").unwrap().dtype(), "float64");
    /// ```
    pub fn serialize(&self) -> Result<Vec<u8>, FileError> {
        if !self.uninitialized.is_empty() {
            return Err(FileError::Uninitialized {
                keys: self.uninitialized_keys().into_iter().map(String::from).collect(),
            });
        }
        let tensors: Vec<(&str, &AnyTensor)> = self.entries().collect();
        let integers: Vec<&str> = self.integers.iter().map(String::as_str).collect();
        serialize_entries(&tensors, &integers, &[])
    }
}

/// PyTorch's printout of `net.state_dict()`, as d2l shows it:
/// `OrderedDict([('weight', tensor(...)), ('bias', tensor(...))])`, each
/// tensor printed by its values alone (a state dict's tensors are detached,
/// so no `requires_grad=True`), an uninitialized parameter as
/// `<UninitializedParameter>`. (Python 3.12 and later print the same
/// entries as `OrderedDict({'weight': ..., 'bias': ...})`.)
///
/// ```
/// use blocks_core::nn::{DynLinear, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let layer = DynLinear::from_tensors(Tensor::from_vec(vec![0.5, -0.25], [1, 2]), Some(Tensor::zeros([1]))).unwrap();
/// assert_eq!(
///     layer.state_dict().to_string(),
///     "OrderedDict([('weight', tensor([[ 0.5000, -0.2500]])), ('bias', tensor([0.]))])"
/// );
/// ```
impl fmt::Display for StateDict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entries.is_empty() {
            return f.write_str("OrderedDict()");
        }
        f.write_str("OrderedDict([")?;
        for (index, (key, tensor)) in self.entries.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            if self.uninitialized.contains(key) {
                write!(f, "({}, <UninitializedParameter>)", python_str(key))?;
            } else if self.integers.contains(key) && tensor.shape().is_empty() {
                // An int64 scalar, as PyTorch prints `num_batches_tracked`: `tensor(3)`.
                write!(f, "({}, tensor({}))", python_str(key), tensor.cast::<f64>().item() as i64)?;
            } else {
                match tensor {
                    AnyTensor::F32(t) => write!(f, "({}, {})", python_str(key), t.detach())?,
                    AnyTensor::F64(t) => write!(f, "({}, {})", python_str(key), t.detach())?,
                }
            }
        }
        f.write_str("])")
    }
}

impl fmt::Debug for StateDict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Python's `repr` of a string: single quotes, or double quotes when it
/// holds a single quote and no double quote; backslashes escaped.
fn python_str(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') { '"' } else { '\'' };
    let mut out = String::from(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A key whose tensor has another shape than the model's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeMismatch {
    /// The key.
    pub key: String,
    /// The shape in the state dict (the checkpoint).
    pub checkpoint: Vec<usize>,
    /// The shape in the model.
    pub model: Vec<usize>,
}

/// Why a state dict did not load: every problem at once, as PyTorch lists them.
///
/// ```
/// use blocks_core::nn::{Linear, Module, ModuleExt, StateDict};
/// let error = Linear::<2, 1>::new().load_state_dict(&StateDict::new()).unwrap_err();
/// assert_eq!(error.missing, vec!["weight", "bias"]);
/// assert!(error.to_string().starts_with("Error(s) in loading state_dict for Linear:"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDictError {
    /// The model's class name.
    pub module: String,
    /// Keys the model has and the state dict lacks.
    pub missing: Vec<String>,
    /// Keys the state dict has and the model lacks.
    pub unexpected: Vec<String>,
    /// Keys present in both with different shapes.
    pub mismatched: Vec<ShapeMismatch>,
    /// Keys whose tensor in the state dict is an uninitialized parameter
    /// (taken from a lazy model that never ran), for an initialized one.
    pub uninitialized: Vec<String>,
}

impl fmt::Display for StateDictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = |keys: &[String]| keys.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ");
        write!(f, "Error(s) in loading state_dict for {}:", self.module)?;
        if !self.missing.is_empty() {
            write!(f, "\n\tMissing key(s) in state_dict: {}. ", quoted(&self.missing))?;
        }
        if !self.unexpected.is_empty() {
            write!(f, "\n\tUnexpected key(s) in state_dict: {}. ", quoted(&self.unexpected))?;
        }
        if !self.uninitialized.is_empty() {
            write!(
                f,
                "\n\tUninitialized parameter(s) in state_dict: {}: the model it was taken from has lazy \
                 layers that never ran a forward pass. ",
                quoted(&self.uninitialized)
            )?;
        }
        for m in &self.mismatched {
            write!(
                f,
                "\n\tsize mismatch for {}: copying a param with shape {:?} from checkpoint, the shape in current model is {:?}.",
                m.key, m.checkpoint, m.model
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for StateDictError {}

/// The keys a non-strict load passed over (PyTorch's `_IncompatibleKeys`).
///
/// ```
/// use blocks_core::nn::{Linear, Module, ModuleExt, StateDict};
/// let report = Linear::<2, 1>::new().load_state_dict_with(&StateDict::new(), false).unwrap();
/// assert_eq!(report.missing_keys, vec!["weight", "bias"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Keys of the model that the state dict lacked (left unchanged).
    pub missing_keys: Vec<String>,
    /// Keys of the state dict that the model lacks (ignored).
    pub unexpected_keys: Vec<String>,
}

/// Why loading a model from a file failed: the file, or its contents.
///
/// ```
/// use blocks_core::nn::{Linear, LoadError, Module, ModuleExt};
/// let error = Linear::<2, 1>::new().load("no-such-file.safetensors").unwrap_err();
/// assert!(matches!(error, LoadError::File(_)));
/// ```
#[derive(Debug)]
pub enum LoadError {
    /// The file could not be read or is not a valid safetensors file.
    File(FileError),
    /// The file's tensors do not fit the model.
    StateDict(StateDictError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::File(e) => e.fmt(f),
            LoadError::StateDict(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::File(e) => Some(e),
            LoadError::StateDict(e) => Some(e),
        }
    }
}

impl From<FileError> for LoadError {
    fn from(error: FileError) -> Self {
        LoadError::File(error)
    }
}

impl From<StateDictError> for LoadError {
    fn from(error: StateDictError) -> Self {
        LoadError::StateDict(error)
    }
}
