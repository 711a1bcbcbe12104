//! Reading safetensors files (as written by `safetensors.torch.save_file`),
//! through the `safetensors` crate, which validates the header and offsets.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use safetensors::{Dtype, SafeTensors};

use super::FileError;
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
    tensors: BTreeMap<String, Stored>,
    metadata: BTreeMap<String, String>,
}

/// One tensor's dtype, shape and little-endian bytes, as stored.
#[derive(Debug, Clone)]
struct Stored {
    dtype: Dtype,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl TensorFile {
    /// Reads and validates the file at `path`. The 8-byte header length is
    /// checked against the file's size before the rest is read, so a damaged
    /// length never makes it read or allocate more than the file holds.
    ///
    /// ```
    /// assert!(blocks_core::io::TensorFile::read("missing.safetensors").is_err());
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<Self, FileError> {
        let path = path.as_ref();
        let io = |source| FileError::Io { path: path.to_path_buf(), action: "read", source };
        let format = |message| FileError::Format { path: path.to_path_buf(), message };
        let file = std::fs::File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut prefix = [0u8; 8];
        if file_len < 8 {
            return Err(format(too_short(file_len)));
        }
        let mut file = file.take(file_len);
        file.read_exact(&mut prefix).map_err(io)?;
        check_header_length(u64::from_le_bytes(prefix), file_len).map_err(format)?;
        let capacity =
            usize::try_from(file_len).map_err(|_| format("the file is too large to read".into()))?;
        let mut bytes = Vec::with_capacity(capacity);
        bytes.extend_from_slice(&prefix);
        file.read_to_end(&mut bytes).map_err(io)?;
        Self::parse(&bytes, path.to_path_buf())
    }

    /// Validates and decodes a safetensors file held in memory.
    ///
    /// ```
    /// let error = blocks_core::io::TensorFile::from_bytes(b"\x10\0\0\0").unwrap_err();
    /// assert!(error.to_string().contains("not a valid safetensors file"));
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, FileError> {
        Self::parse(bytes, PathBuf::new())
    }

    fn parse(bytes: &[u8], path: PathBuf) -> Result<Self, FileError> {
        let format = |message: String| FileError::Format { path: path.clone(), message };
        let file_len = bytes.len() as u64;
        let prefix: [u8; 8] = match bytes.get(..8) {
            Some(prefix) => prefix.try_into().expect("8 bytes"),
            None => return Err(format(too_short(file_len))),
        };
        check_header_length(u64::from_le_bytes(prefix), file_len).map_err(format)?;
        let parsed = SafeTensors::deserialize(bytes).map_err(|e| format(describe(&e, bytes.len())))?;
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| format(describe(&e, bytes.len())))?;
        let metadata = header.metadata().clone().unwrap_or_default().into_iter().collect();
        let tensors = parsed
            .iter()
            .map(|(name, view)| {
                let stored =
                    Stored { dtype: view.dtype(), shape: view.shape().to_vec(), bytes: view.data().to_vec() };
                (name.to_string(), stored)
            })
            .collect();
        Ok(TensorFile { tensors, metadata })
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

    /// Tensor `name` as a float tensor of element type `E`, converting from
    /// F32 or F64 (as `load_state_dict` copies across dtypes).
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
        let values: Vec<E> = match stored.dtype {
            Dtype::F32 => stored
                .bytes
                .chunks_exact(4)
                .map(|b| E::of(f32::from_le_bytes(b.try_into().expect("4 bytes")) as f64))
                .collect(),
            Dtype::F64 => stored
                .bytes
                .chunks_exact(8)
                .map(|b| E::of(f64::from_le_bytes(b.try_into().expect("8 bytes"))))
                .collect(),
            other => {
                return Err(FileError::Dtype {
                    name: name.to_string(),
                    found: format!("{other:?}"),
                    expected: E::DTYPE,
                });
            }
        };
        let array = ArrayD::from_shape_vec(IxDyn(&stored.shape), values).map_err(|error| {
            let problem = match error.kind() {
                ndarray::ErrorKind::Overflow => "is too large for an array on this machine",
                _ => "does not match the tensor's data",
            };
            FileError::Format {
                path: PathBuf::new(),
                message: format!("tensor {name:?}: shape {:?} {problem}", stored.shape),
            }
        })?;
        Ok(TensorBase::from_array(array))
    }

    /// Tensor `name` as integers (class labels saved as int64 by PyTorch),
    /// with its shape; accepts I64, I32, U8 and U64 (when it fits in i64).
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
        let wrong = || FileError::Dtype {
            name: name.to_string(),
            found: format!("{:?}", stored.dtype),
            expected: "int64",
        };
        let values = match stored.dtype {
            Dtype::I64 => {
                stored.bytes.chunks_exact(8).map(|b| i64::from_le_bytes(b.try_into().expect("8"))).collect()
            }
            Dtype::I32 => stored
                .bytes
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes(b.try_into().expect("4")) as i64)
                .collect(),
            Dtype::U8 => stored.bytes.iter().map(|&b| b as i64).collect(),
            Dtype::U64 => stored
                .bytes
                .chunks_exact(8)
                .map(|b| i64::try_from(u64::from_le_bytes(b.try_into().expect("8"))).map_err(|_| wrong()))
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err(wrong()),
        };
        Ok((values, stored.shape.clone()))
    }

    fn stored(&self, name: &str) -> Result<&Stored, FileError> {
        self.tensors.get(name).ok_or_else(|| FileError::MissingTensor { name: name.to_string() })
    }
}

/// The largest header the safetensors format allows (100 MB), as its readers check.
const MAX_HEADER: u64 = 100_000_000;

fn too_short(file_len: u64) -> String {
    format!("the file is {file_len} bytes, too short to hold the 8-byte header length")
}

/// Checks the header length read from the first 8 bytes against the format's
/// limit and the file's size, before anything else is read or allocated.
fn check_header_length(header_len: u64, file_len: u64) -> Result<(), String> {
    if header_len > MAX_HEADER {
        return Err(format!(
            "the header length ({header_len} bytes) is larger than the 100 MB safetensors allows: damaged, \
             or not a safetensors file"
        ));
    }
    if header_len > file_len - 8 {
        return Err(format!(
            "the header length ({header_len} bytes) points past the end of the file ({file_len} bytes): \
             truncated or damaged"
        ));
    }
    Ok(())
}

/// The crate's error in words a user can act on.
fn describe(error: &safetensors::SafeTensorError, file_len: usize) -> String {
    use safetensors::SafeTensorError as E;
    match error {
        E::HeaderTooSmall => {
            format!("the file is {file_len} bytes, too short to hold the 8-byte header length")
        }
        E::HeaderTooLarge => "the header length is larger than the 100 MB safetensors allows".into(),
        E::InvalidHeaderLength => {
            format!(
                "the header length points past the end of the file ({file_len} bytes): truncated or damaged"
            )
        }
        E::InvalidHeader(e) => format!("the header is not UTF-8: {e}"),
        E::InvalidHeaderDeserialization(e) => format!("the header is not valid JSON for safetensors: {e}"),
        E::InvalidOffset(name) => {
            format!("tensor {name:?} has data offsets that are out of order, overlapping or out of range")
        }
        E::ValidationOverflow => "a tensor's shape is so large that its size overflows".into(),
        E::TensorInvalidInfo => "a tensor's data offsets do not match its shape and dtype".into(),
        E::MetadataIncompleteBuffer => {
            "the data section does not match the header (truncated, or extra bytes at the end)".into()
        }
        other => other.to_string(),
    }
}
