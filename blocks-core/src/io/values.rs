//! `torch.save` and `torch.load` for tensors, lists of tensors and
//! name-to-tensor maps, as safetensors files (a list's keys are "0", "1", ...).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::{FileError, TensorFile, save_tensors};
use crate::nn::StateDict;
use crate::{Element, TensorBase};

/// Tensors under the names they are saved with, as [`Saveable`] gives them.
///
/// ```
/// use blocks_core::io::{NamedTensors, Saveable};
/// let x = blocks_core::Tensor::ones([1]);
/// let named: NamedTensors<'_, f32> = x.named_tensors().unwrap();
/// assert_eq!(named[0].0, "0");
/// ```
pub type NamedTensors<'a, E> = Vec<(String, &'a TensorBase<E>)>;

/// What [`save`] can write: a tensor (key `"0"`), a list of tensors (keys
/// `"0"`, `"1"`, ...), a map from names to tensors, or a [`StateDict`].
///
/// ```
/// use blocks_core::io::Saveable;
/// use blocks_core::Tensor;
/// let list = vec![Tensor::zeros([2]), Tensor::ones([3])];
/// let names: Vec<String> = list.named_tensors().unwrap().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["0", "1"]);
/// ```
pub trait Saveable {
    /// The element type of the tensors (F32 or F64 in the file).
    type Elem: Element;

    /// The tensors under the names they are saved with.
    fn named_tensors(&self) -> Result<NamedTensors<'_, Self::Elem>, FileError>;
}

/// What [`load`] can read back: the same kinds as [`Saveable`]. Float
/// tensors are converted to the element type asked for (F32 and F64 both read
/// as either, as `load_state_dict` copies across dtypes).
///
/// ```
/// use blocks_core::io::{serialize_tensors, Loadable, TensorFile};
/// use blocks_core::Tensor;
/// let bytes = serialize_tensors(&[("0", &Tensor::ones([2]))], &[]).unwrap();
/// let x = Tensor::from_tensor_file(&TensorFile::from_bytes(&bytes).unwrap()).unwrap();
/// assert_eq!(x.to_vec(), vec![1.0, 1.0]);
/// ```
pub trait Loadable: Sized {
    /// The value held by an already-read file.
    fn from_tensor_file(file: &TensorFile) -> Result<Self, FileError>;
}

/// Saves `value` to `path` as a safetensors file, like `torch.save(value, path)`:
/// a tensor, a list of tensors or a map (`{'x': x, 'y': y}`). Atomic (see
/// [`save_tensors`]); PyTorch reads it with `safetensors.torch.load_file`.
///
/// # Errors
///
/// [`FileError::Uninitialized`] for a state dict with uninitialized parameters,
/// [`FileError::Io`] if the file cannot be written.
///
/// ```
/// use std::collections::BTreeMap;
/// use blocks_core::io::{load, save};
/// use blocks_core::Tensor;
/// let dir = std::env::temp_dir().join("blocks-doc-save-values");
/// std::fs::create_dir_all(&dir).unwrap();
/// let (x, y) = (Tensor::arange(0.0, 4.0, 1.0), Tensor::zeros([4]));
///
/// save(&x, dir.join("x-file")).unwrap();
/// let x2: Tensor = load(dir.join("x-file")).unwrap();
/// assert_eq!(x2.to_vec(), x.to_vec());
///
/// save(&[x.clone(), y.clone()], dir.join("x-files")).unwrap();
/// let [x2, y2]: [Tensor; 2] = load(dir.join("x-files")).unwrap();
/// assert_eq!((x2.to_vec(), y2.to_vec()), (x.to_vec(), y.to_vec()));
///
/// let mydict = BTreeMap::from([("x".to_string(), x.clone()), ("y".to_string(), y)]);
/// save(&mydict, dir.join("mydict")).unwrap();
/// let mydict2: BTreeMap<String, Tensor> = load(dir.join("mydict")).unwrap();
/// assert_eq!(mydict2["x"].to_vec(), x.to_vec());
/// ```
pub fn save<T: Saveable + ?Sized>(value: &T, path: impl AsRef<Path>) -> Result<(), FileError> {
    let named = value.named_tensors()?;
    let tensors: Vec<(&str, &TensorBase<T::Elem>)> = named.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    save_tensors(path, &tensors, &[])
}

/// Loads what [`save`] (or PyTorch's `save_file`) wrote, like `torch.load(path)`;
/// the type asked for says how to read it.
///
/// # Errors
///
/// Any [`FileError`] of [`TensorFile::read`], or [`FileError::Content`] when the
/// file does not hold what `T` asks for.
///
/// ```
/// use blocks_core::io::{load, save};
/// use blocks_core::Tensor64;
/// let path = std::env::temp_dir().join("blocks-doc-load-value");
/// save(&vec![Tensor64::from_vec(vec![0.1, 0.2], [2])], &path).unwrap();
/// let list: Vec<Tensor64> = load(&path).unwrap();
/// assert_eq!(list[0].to_vec(), vec![0.1, 0.2]);
/// ```
pub fn load<T: Loadable>(path: impl AsRef<Path>) -> Result<T, FileError> {
    let path = path.as_ref();
    T::from_tensor_file(&TensorFile::read(path)?).map_err(|error| match error {
        FileError::Content { message, .. } => FileError::Content { path: path.to_path_buf(), message },
        other => other,
    })
}

impl<E: Element> Saveable for TensorBase<E> {
    type Elem = E;

    fn named_tensors(&self) -> Result<NamedTensors<'_, E>, FileError> {
        Ok(vec![("0".to_string(), self)])
    }
}

impl<E: Element> Loadable for TensorBase<E> {
    /// The only tensor in the file, whatever its name.
    fn from_tensor_file(file: &TensorFile) -> Result<Self, FileError> {
        match file.names()[..] {
            [name] => file.tensor(name),
            ref names => Err(content_error(format!(
                "a single tensor was asked for, but the file holds {} ({}): load it as a list or a map",
                names.len(),
                quoted(names)
            ))),
        }
    }
}

impl<E: Element> Saveable for [TensorBase<E>] {
    type Elem = E;

    fn named_tensors(&self) -> Result<NamedTensors<'_, E>, FileError> {
        Ok(self.iter().enumerate().map(|(i, t)| (i.to_string(), t)).collect())
    }
}

impl<E: Element> Saveable for Vec<TensorBase<E>> {
    type Elem = E;

    fn named_tensors(&self) -> Result<NamedTensors<'_, E>, FileError> {
        self.as_slice().named_tensors()
    }
}

impl<E: Element, const N: usize> Saveable for [TensorBase<E>; N] {
    type Elem = E;

    fn named_tensors(&self) -> Result<NamedTensors<'_, E>, FileError> {
        self.as_slice().named_tensors()
    }
}

impl<E: Element> Loadable for Vec<TensorBase<E>> {
    /// The tensors under keys "0", "1", ... (every key must be one, none missing).
    fn from_tensor_file(file: &TensorFile) -> Result<Self, FileError> {
        let names = file.names();
        let count = names.len();
        let strange: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !n.parse::<usize>().is_ok_and(|i| i < count && i.to_string() == *n))
            .collect();
        if !strange.is_empty() {
            return Err(content_error(format!(
                "a list was asked for, whose {count} tensors are named \"0\" to \"{}\", but the file has {}",
                count.saturating_sub(1),
                quoted(&strange)
            )));
        }
        (0..count).map(|i| file.tensor(&i.to_string())).collect()
    }
}

impl<E: Element, const N: usize> Loadable for [TensorBase<E>; N] {
    /// A list of exactly `N` tensors.
    fn from_tensor_file(file: &TensorFile) -> Result<Self, FileError> {
        let list = Vec::<TensorBase<E>>::from_tensor_file(file)?;
        let found = list.len();
        list.try_into().map_err(|_| {
            content_error(format!("a list of {N} tensors was asked for, but the file holds {found}"))
        })
    }
}

impl<E: Element> Saveable for BTreeMap<String, TensorBase<E>> {
    type Elem = E;

    fn named_tensors(&self) -> Result<NamedTensors<'_, E>, FileError> {
        Ok(self.iter().map(|(k, t)| (k.clone(), t)).collect())
    }
}

impl<E: Element> Loadable for BTreeMap<String, TensorBase<E>> {
    fn from_tensor_file(file: &TensorFile) -> Result<Self, FileError> {
        file.names().into_iter().map(|name| Ok((name.to_string(), file.tensor(name)?))).collect()
    }
}

impl<E: Element, S: std::hash::BuildHasher> Saveable for HashMap<String, TensorBase<E>, S> {
    type Elem = E;

    fn named_tensors(&self) -> Result<NamedTensors<'_, E>, FileError> {
        Ok(self.iter().map(|(k, t)| (k.clone(), t)).collect())
    }
}

impl<E: Element, S: std::hash::BuildHasher + Default> Loadable for HashMap<String, TensorBase<E>, S> {
    fn from_tensor_file(file: &TensorFile) -> Result<Self, FileError> {
        file.names().into_iter().map(|name| Ok((name.to_string(), file.tensor(name)?))).collect()
    }
}

impl Saveable for StateDict {
    type Elem = f32;

    /// Every entry; an error if some parameter is uninitialized, or if
    /// some entry is float64 ([`StateDict::save`] writes every dtype).
    fn named_tensors(&self) -> Result<NamedTensors<'_, f32>, FileError> {
        let keys = self.uninitialized_keys();
        if !keys.is_empty() {
            return Err(FileError::Uninitialized { keys: keys.into_iter().map(String::from).collect() });
        }
        if let Some((key, _)) = self.iter_f64().next() {
            return Err(content_error(format!(
                "the state dict holds float64 tensors ({key:?}, ...): save it with `state.save(path)`, \
                 which writes each tensor in its dtype"
            )));
        }
        Ok(self.iter().map(|(k, t)| (k.to_string(), t)).collect())
    }
}

impl Loadable for StateDict {
    fn from_tensor_file(file: &TensorFile) -> Result<Self, FileError> {
        StateDict::from_file(file)
    }
}

fn content_error(message: String) -> FileError {
    FileError::Content { path: Default::default(), message }
}

fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("{n:?}")).collect::<Vec<_>>().join(", ")
}
