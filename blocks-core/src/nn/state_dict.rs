//! State dicts: every parameter and buffer under PyTorch's key, to save,
//! load and compare with PyTorch's `state_dict()`.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use super::{Member, Module};
use crate::Tensor;
use crate::io::{FileError, TensorFile, TensorMap, save_tensors, save_tensors_with_integers};

/// Named tensors in order, like the `OrderedDict` of `net.state_dict()`.
///
/// The tensors are handles to the model's own parameters and buffers (no
/// copy); a tied parameter appears under each of its keys. An uninitialized
/// parameter (a lazy layer before its first forward) is listed by
/// [`uninitialized_keys`](Self::uninitialized_keys) and cannot be saved.
///
/// ```
/// use blocks_core::nn::{Linear, Module, StateDict};
/// let layer = Linear::<3, 2>::new();
/// let state: StateDict = layer.state_dict();
/// assert_eq!(state.keys(), vec!["weight", "bias"]);
/// assert_eq!(state.get("weight").unwrap().shape(), vec![2, 3]);
/// ```
#[derive(Clone, Default)]
pub struct StateDict {
    entries: TensorMap,
    /// Keys whose entry is an uninitialized parameter's empty placeholder.
    uninitialized: HashSet<String>,
    /// Keys whose entry holds whole numbers, saved as int64 (BatchNorm's
    /// `num_batches_tracked`, as PyTorch saves it).
    integers: HashSet<String>,
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
    /// order; O(1), as every lookup.
    ///
    /// ```
    /// let mut state = blocks_core::nn::StateDict::new();
    /// state.insert("w", blocks_core::Tensor::ones([1]));
    /// assert_eq!(state.len(), 1);
    /// ```
    pub fn insert(&mut self, key: impl Into<String>, tensor: Tensor) {
        let key = key.into();
        if !self.uninitialized.is_empty() {
            self.uninitialized.remove(&key);
        }
        if !self.integers.is_empty() {
            self.integers.remove(&key);
        }
        self.entries.insert(key, tensor);
    }

    /// The tensor under `key`.
    ///
    /// ```
    /// let mut state = blocks_core::nn::StateDict::new();
    /// state.insert("w", blocks_core::Tensor::ones([1]));
    /// assert!(state.get("w").is_some() && state.get("v").is_none());
    /// ```
    pub fn get(&self, key: &str) -> Option<&Tensor> {
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
    /// use blocks_core::nn::{LazyLinear, Module};
    /// let layer = LazyLinear::new(4);
    /// assert_eq!(layer.state_dict().uninitialized_keys(), vec!["weight", "bias"]);
    /// layer.forward(&blocks_core::Tensor::ones([1, 2]));
    /// assert!(layer.state_dict().uninitialized_keys().is_empty());
    /// ```
    pub fn uninitialized_keys(&self) -> Vec<&str> {
        self.entries.keys().filter(|k| self.uninitialized.contains(*k)).map(String::as_str).collect()
    }

    /// The entries in order.
    ///
    /// ```
    /// let state = blocks_core::nn::Linear::<1, 1>::new();
    /// # use blocks_core::nn::Module;
    /// assert_eq!(state.state_dict().iter().count(), 2);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Tensor)> {
        self.entries.iter().map(|(k, t)| (k.as_str(), t))
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
    /// converted: the 8-bit and smaller floats, complex. Floats of every other
    /// width (F16, BF16, F32, F64) are converted to float32 as `load_state_dict`
    /// does (see [`TensorFile::tensor`]); integers and bool (such as
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
            } else {
                // Floats of any width, converted as `load_state_dict`'s `copy_` does.
                state.insert(name, file.tensor::<f32>(name)?);
            }
        }
        for (alias, target) in file.metadata() {
            if !file.contains(alias)
                && alias != "__metadata__"
                && let Some(tensor) = state.get(target).cloned()
            {
                state.insert(alias.clone(), tensor);
            }
        }
        Ok(state)
    }

    /// Saves every entry to `path` as PyTorch's `save_file(net.state_dict())`
    /// does (atomically; see [`save_tensors`]).
    ///
    /// # Errors
    ///
    /// [`FileError::Uninitialized`] if some parameter has no values yet,
    /// [`FileError::Io`] if the file cannot be written.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, StateDict};
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
        let tensors: Vec<(&str, &Tensor)> = self.iter().collect();
        if self.integers.is_empty() {
            return save_tensors(path, &tensors, &[]);
        }
        let integers: Vec<&str> = self.integers.iter().map(String::as_str).collect();
        save_tensors_with_integers(path, &tensors, &integers)
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
/// use blocks_core::nn::{DynLinear, Module};
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
                write!(f, "({}, tensor({}))", python_str(key), tensor.item() as i64)?;
            } else {
                write!(f, "({}, {})", python_str(key), tensor.detach())?;
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
/// use blocks_core::nn::{Linear, Module, StateDict};
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
/// use blocks_core::nn::{Linear, Module, StateDict};
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
/// use blocks_core::nn::{Linear, LoadError, Module};
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

/// The parameters and buffers of `module` under their keys.
pub(crate) fn state_dict_of(module: &dyn Module) -> StateDict {
    let mut state = StateDict::new();
    for (key, member) in module.named_members() {
        let uninitialized = super::uninitialized::is_uninitialized(&member);
        match member {
            Member::Parameter(p) => state.insert(key.clone(), p.tensor().clone()),
            Member::Buffer(t) => state.insert(key.clone(), t.clone()),
            Member::Child(_) => {}
        }
        if uninitialized {
            state.uninitialized.insert(key);
        }
    }
    module.visit(&mut IntegerKeys { prefix: String::new(), out: &mut state.integers });
    state
}

/// Collects the dotted keys of integer buffers (see [`Visitor::integer_buffer`](super::Visitor::integer_buffer)).
struct IntegerKeys<'a> {
    prefix: String,
    out: &'a mut HashSet<String>,
}

impl IntegerKeys<'_> {
    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_string() } else { format!("{}.{name}", self.prefix) }
    }
}

impl<'m> super::Visitor<'m> for IntegerKeys<'_> {
    fn parameter(&mut self, _: &str, _: &'m super::Parameter) {}
    fn buffer(&mut self, _: &str, _: &'m Tensor) {}
    fn child(&mut self, name: &str, child: &'m dyn Module) {
        let prefix = self.key(name);
        child.visit(&mut IntegerKeys { prefix, out: self.out });
    }
    fn integer_buffer(&mut self, name: &str, _: &'m Tensor) {
        self.out.insert(self.key(name));
    }
}

/// Checks everything first, then copies: on error nothing has changed. An
/// uninitialized parameter takes the checkpoint's shape where it fits what
/// is known of it (PyTorch's lazy modules materialize from the checkpoint).
pub(crate) fn load_into(
    module: &dyn Module,
    state: &StateDict,
    strict: bool,
) -> Result<LoadReport, StateDictError> {
    let own: Vec<(String, Member<'_>)> =
        module.named_members().into_iter().filter(|(_, m)| !matches!(m, Member::Child(_))).collect();
    let own_keys: HashSet<&str> = own.iter().map(|(k, _)| k.as_str()).collect();
    let has = |key: &str| own_keys.contains(key);
    let missing: Vec<String> =
        own.iter().filter(|(k, _)| state.get(k).is_none()).map(|(k, _)| k.clone()).collect();
    let unexpected: Vec<String> = state.keys().into_iter().filter(|k| !has(k)).map(String::from).collect();
    let (mut mismatched, mut uninitialized) = (Vec::new(), Vec::new());
    for (key, member) in &own {
        let Some(source) = state.get(key) else { continue };
        let target_pending = super::uninitialized::is_uninitialized(member);
        if state.uninitialized.contains(key) {
            if !target_pending {
                uninitialized.push(key.clone());
            }
            continue;
        }
        let checkpoint = source.shape();
        let fits = match member {
            Member::Parameter(p) => p.fits(&checkpoint),
            Member::Buffer(t) => t.shape() == checkpoint,
            Member::Child(_) => true,
        };
        if !fits {
            let model = match member {
                Member::Parameter(p) => p.expected_shape(),
                Member::Buffer(t) => t.shape(),
                Member::Child(_) => Vec::new(),
            };
            mismatched.push(ShapeMismatch { key: key.clone(), checkpoint, model });
        }
    }
    if !mismatched.is_empty()
        || !uninitialized.is_empty()
        || (strict && (!missing.is_empty() || !unexpected.is_empty()))
    {
        return Err(StateDictError {
            module: module.type_name(),
            missing,
            unexpected,
            mismatched,
            uninitialized,
        });
    }
    for (key, member) in &own {
        let Some(source) = state.get(key).filter(|_| !state.uninitialized.contains(key)) else { continue };
        match member {
            Member::Parameter(p) => {
                // Materializes an uninitialized parameter; copies into any other.
                if !p.materialize_with(|| source.clone()).expect("shape checked above") {
                    p.set_data(source);
                }
            }
            Member::Buffer(t) => t.set_data(source),
            Member::Child(_) => {}
        }
    }
    Ok(LoadReport { missing_keys: missing, unexpected_keys: unexpected })
}
