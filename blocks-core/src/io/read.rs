//! Reading safetensors files (as written by `safetensors.torch.save_file`),
//! through the `safetensors` crate, which validates the header and offsets.
//!
//! A read is bounded by the file: the header length is checked against the
//! file's size, the header (at most 100 MB, at most the file) is parsed and
//! the data size it declares is checked against the file before the data is
//! read, in one piece, into the one buffer the tensors are then decoded from.

use std::collections::BTreeMap;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use safetensors::Dtype;
use safetensors::tensor::Metadata;

use super::FileError;
use super::header::{check_header_length, parse_header, too_short};
use crate::{Element, TensorBase};

/// The contents of a safetensors file: named tensors and string metadata.
///
/// Reading never panics: a truncated, damaged or hostile file gives a
/// [`FileError`] that says what is wrong, and nothing larger than the file is
/// allocated.
///
/// ```
/// use blocks_core::io::{save_tensors, TensorFile};
/// use blocks_core::Tensor;
/// let dir = std::env::temp_dir().join("blocks-doc-read");
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("x.safetensors");
/// save_tensors(&path, &[("x", &Tensor::arange(0.0, 4.0, 1.0))], &[]).unwrap();
/// let file = TensorFile::read(&path).unwrap();
/// assert_eq!(file.tensor::<f32>("x").unwrap().to_vec(), vec![0.0, 1.0, 2.0, 3.0]);
/// ```
#[derive(Debug, Clone)]
pub struct TensorFile {
    /// The file (empty for in-memory bytes), named by errors.
    path: PathBuf,
    /// The whole file, read once; every tensor is a range of it.
    bytes: Vec<u8>,
    tensors: BTreeMap<String, Stored>,
    metadata: BTreeMap<String, String>,
}

/// One tensor's dtype, shape and where its little-endian bytes are in the file.
#[derive(Debug, Clone)]
struct Stored {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Range<usize>,
}

impl TensorFile {
    /// Reads and validates the file at `path`. The 8-byte header length is
    /// checked against the file's size, then the header is parsed and the
    /// data size it declares is checked against the file, before the data
    /// is read: a damaged or hostile file never makes it read or allocate
    /// more than the file holds (a sparse file of a terabyte is refused at once).
    ///
    /// # Errors
    ///
    /// [`FileError::Io`] if the file cannot be read, [`FileError::Format`]
    /// if it is not a valid safetensors file (a PyTorch pickle or zip file
    /// written by `torch.save` is named as such).
    ///
    /// ```
    /// assert!(blocks_core::io::TensorFile::read("missing.safetensors").is_err());
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<Self, FileError> {
        let path = path.as_ref();
        let io = |source| FileError::Io { path: path.to_path_buf(), action: "read", source };
        let format = |message| FileError::Format { path: path.to_path_buf(), message };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        if file_len < 8 {
            return Err(format(too_short(file_len)));
        }
        let mut prefix = [0u8; 8];
        file.read_exact(&mut prefix).map_err(io)?;
        let header_len = check_header_length(prefix, file_len).map_err(format)?;
        // At most 100 MB and at most the file, as just checked.
        let mut bytes = prefix.to_vec();
        (&mut file).take(header_len as u64).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() != 8 + header_len {
            return Err(format("the file changed while it was read".into()));
        }
        let header = parse_header(&bytes, file_len).map_err(format)?;
        // Now the file's length is the size its header declares: read it all.
        let total = usize::try_from(file_len).map_err(|_| format("the file is too large to read".into()))?;
        bytes.try_reserve_exact(total - bytes.len()).map_err(|_| {
            format(format!("there is not enough memory to read the {file_len} bytes of this file"))
        })?;
        (&mut file).take(file_len - bytes.len() as u64).read_to_end(&mut bytes).map_err(io)?;
        if bytes.len() != total {
            return Err(format("the file changed while it was read".into()));
        }
        Ok(Self::index(bytes, header_len, &header, path.to_path_buf()))
    }

    /// Validates and decodes a safetensors file held in memory.
    ///
    /// # Errors
    ///
    /// [`FileError::Format`] if the bytes are not a valid safetensors file.
    ///
    /// ```
    /// let error = blocks_core::io::TensorFile::from_bytes(b"\x10\0\0\0").unwrap_err();
    /// assert!(error.to_string().contains("not a valid safetensors file"));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FileError> {
        let format = |message| FileError::Format { path: PathBuf::new(), message };
        let file_len = bytes.len() as u64;
        let prefix: [u8; 8] = match bytes.get(..8) {
            Some(prefix) => prefix.try_into().expect("8 bytes"),
            None => return Err(format(too_short(file_len))),
        };
        let header_len = check_header_length(prefix, file_len).map_err(format)?;
        let header = parse_header(&bytes[..8 + header_len], file_len).map_err(format)?;
        Ok(Self::index(bytes.to_vec(), header_len, &header, PathBuf::new()))
    }

    /// The tensors of a file whose `header` (of `header_len` bytes) the
    /// `safetensors` crate validated against the file's length.
    fn index(bytes: Vec<u8>, header_len: usize, header: &Metadata, path: PathBuf) -> Self {
        let data_start = 8 + header_len;
        let metadata = header.metadata().clone().unwrap_or_default().into_iter().collect();
        let tensors = header
            .offset_keys()
            .into_iter()
            .filter_map(|name| {
                let info = header.info(&name)?;
                let (start, end) = info.data_offsets;
                let bytes = data_start + start..data_start + end;
                Some((name, Stored { dtype: info.dtype, shape: info.shape.clone(), bytes }))
            })
            .collect();
        TensorFile { path, bytes, tensors, metadata }
    }

    /// The tensor names, sorted.
    ///
    /// ```
    /// # use blocks_core::io::{save_tensors, TensorFile};
    /// # let dir = std::env::temp_dir().join("blocks-doc-names");
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let path = dir.join("n.safetensors");
    /// # save_tensors(&path, &[("b", &blocks_core::Tensor::ones([1])), ("a", &blocks_core::Tensor::ones([1]))], &[]).unwrap();
    /// assert_eq!(TensorFile::read(&path).unwrap().names(), vec!["a", "b"]);
    /// ```
    pub fn names(&self) -> Vec<&str> {
        self.tensors.keys().map(String::as_str).collect()
    }

    /// Whether the file holds a tensor named `name`.
    ///
    /// ```
    /// # use blocks_core::io::{save_tensors, TensorFile};
    /// # let dir = std::env::temp_dir().join("blocks-doc-contains");
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let path = dir.join("c.safetensors");
    /// # save_tensors(&path, &[("a", &blocks_core::Tensor::ones([1]))], &[]).unwrap();
    /// assert!(TensorFile::read(&path).unwrap().contains("a"));
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// The file's `__metadata__` (string to string).
    ///
    /// ```
    /// # use blocks_core::io::{save_tensors, TensorFile};
    /// # let dir = std::env::temp_dir().join("blocks-doc-meta");
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let path = dir.join("m.safetensors");
    /// save_tensors(&path, &[("a", &blocks_core::Tensor::ones([1]))], &[("format", "pt")]).unwrap();
    /// assert_eq!(TensorFile::read(&path).unwrap().metadata()["format"], "pt");
    /// ```
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The shape of tensor `name`.
    ///
    /// # Errors
    ///
    /// [`FileError::MissingTensor`] if there is no tensor `name`.
    ///
    /// ```
    /// # use blocks_core::io::{save_tensors, TensorFile};
    /// # let dir = std::env::temp_dir().join("blocks-doc-shape");
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let path = dir.join("s.safetensors");
    /// # save_tensors(&path, &[("a", &blocks_core::Tensor::ones([2, 3]))], &[]).unwrap();
    /// assert_eq!(TensorFile::read(&path).unwrap().shape("a").unwrap(), vec![2, 3]);
    /// ```
    pub fn shape(&self, name: &str) -> Result<Vec<usize>, FileError> {
        Ok(self.stored(name)?.shape.clone())
    }

    /// The dtype of tensor `name` as the file names it: `"F32"`, `"F64"`,
    /// `"BF16"`, `"I64"`, ...
    ///
    /// # Errors
    ///
    /// [`FileError::MissingTensor`] if there is no tensor `name`.
    ///
    /// ```
    /// use blocks_core::io::{serialize_tensors, TensorFile};
    /// let bytes = serialize_tensors(&[("x", &blocks_core::Tensor64::ones([1]))], &[]).unwrap();
    /// assert_eq!(TensorFile::from_bytes(&bytes).unwrap().dtype("x").unwrap(), "F64");
    /// ```
    pub fn dtype(&self, name: &str) -> Result<String, FileError> {
        Ok(format!("{:?}", self.stored(name)?.dtype))
    }

    /// Tensor `name` as a float tensor of element type `E`, converting from
    /// the file's dtype as PyTorch's `copy_` (and so `load_state_dict`) does:
    /// F16 and BF16 exactly, F64 into `f32` rounded to nearest (ties to even),
    /// integers rounded once to the nearest float, BOOL as 0 and 1.
    /// (`torch.load` keeps the file's dtype; a typed loader converting to the
    /// element type asked for is the equivalent here.) The conversion is per
    /// tensor: nothing but the result is allocated.
    ///
    /// # Errors
    ///
    /// [`FileError::MissingTensor`] if there is no tensor `name`, [`FileError::Dtype`]
    /// (naming the file and the tensor) for a dtype that is not converted (the
    /// 8-bit and smaller floats, complex), [`FileError::Format`] if its shape
    /// is too large for an array.
    ///
    /// ```
    /// # use blocks_core::io::{save_tensors, TensorFile};
    /// # let dir = std::env::temp_dir().join("blocks-doc-tensor");
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// # let path = dir.join("t.safetensors");
    /// # save_tensors(&path, &[("a", &blocks_core::Tensor::ones([2]))], &[]).unwrap();
    /// let a = TensorFile::read(&path).unwrap().tensor::<f64>("a").unwrap();
    /// assert_eq!(a.to_vec(), vec![1.0f64, 1.0]);
    /// ```
    pub fn tensor<E: Element>(&self, name: &str) -> Result<TensorBase<E>, FileError> {
        let stored = self.stored(name)?;
        let data = &self.bytes[stored.bytes.clone()];
        let values: Vec<E> = super::cast::decode(stored.dtype, data).ok_or_else(|| FileError::Dtype {
            path: self.path.clone(),
            name: name.to_string(),
            found: format!("{:?}", stored.dtype),
            expected: E::DTYPE,
        })?;
        let array = ArrayD::from_shape_vec(IxDyn(&stored.shape), values).map_err(|error| {
            let problem = match error.kind() {
                ndarray::ErrorKind::Overflow => "is too large for an array on this machine",
                _ => "does not match the tensor's data",
            };
            FileError::Format {
                path: self.path.clone(),
                message: format!("tensor {name:?}: shape {:?} {problem}", stored.shape),
            }
        })?;
        Ok(TensorBase::from_array(array))
    }

    /// Tensor `name` as integers (class labels saved as int64 by PyTorch),
    /// with its shape; accepts every integer dtype (U64 when it fits in i64)
    /// and BOOL (0 and 1).
    ///
    /// # Errors
    ///
    /// [`FileError::MissingTensor`] if there is no tensor `name`, [`FileError::Dtype`]
    /// (naming the file) for another dtype or a U64 above `i64::MAX`.
    ///
    /// ```
    /// # use blocks_core::io::TensorFile;
    /// # let header = br#"{"t":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}"#;
    /// # let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    /// # bytes.extend_from_slice(header);
    /// # bytes.extend_from_slice(&3i64.to_le_bytes());
    /// # bytes.extend_from_slice(&7i64.to_le_bytes());
    /// let file = TensorFile::from_bytes(&bytes).unwrap();
    /// assert_eq!(file.integers("t").unwrap(), (vec![3, 7], vec![2]));
    /// ```
    pub fn integers(&self, name: &str) -> Result<(Vec<i64>, Vec<usize>), FileError> {
        let stored = self.stored(name)?;
        let data = &self.bytes[stored.bytes.clone()];
        let wrong = || FileError::Dtype {
            path: self.path.clone(),
            name: name.to_string(),
            found: format!("{:?}", stored.dtype),
            expected: "int64",
        };
        let values = super::cast::decode_integers(stored.dtype, data).ok_or_else(wrong)?;
        Ok((values, stored.shape.clone()))
    }

    /// The file this was read from (empty for in-memory bytes).
    ///
    /// ```
    /// # use blocks_core::io::{save_tensors, TensorFile};
    /// let path = std::env::temp_dir().join("blocks-doc-path.safetensors");
    /// save_tensors(&path, &[("a", &blocks_core::Tensor::ones([1]))], &[]).unwrap();
    /// assert_eq!(TensorFile::read(&path).unwrap().path(), path);
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether tensor `name` holds whole numbers or bool (a state dict keeps
    /// it as an integer buffer); `false` if there is no such tensor.
    pub(crate) fn holds_integers(&self, name: &str) -> bool {
        self.tensors.get(name).is_some_and(|stored| super::cast::is_integer(stored.dtype))
    }

    /// Whether tensor `name` is F64 (a state dict keeps it in float64).
    pub(crate) fn holds_float64(&self, name: &str) -> bool {
        self.tensors.get(name).is_some_and(|stored| stored.dtype == Dtype::F64)
    }

    fn stored(&self, name: &str) -> Result<&Stored, FileError> {
        self.tensors.get(name).ok_or_else(|| FileError::MissingTensor { name: name.to_string() })
    }
}
