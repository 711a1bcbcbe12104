//! Writing safetensors files that PyTorch reads with
//! `safetensors.torch.load_file`, atomically.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, View};

use super::FileError;
use crate::{AnyTensor, Element, TensorBase};

/// One tensor's bytes in the layout safetensors wants (row-major, little-endian).
struct Bytes {
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &Bytes {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn to_bytes<E: Element>(tensor: &TensorBase<E>) -> Bytes {
    let data = tensor.data();
    let mut bytes = Vec::with_capacity(data.len() * std::mem::size_of::<E>());
    let dtype = if E::DTYPE == "float64" { Dtype::F64 } else { Dtype::F32 };
    for &value in data.iter() {
        match dtype {
            Dtype::F64 => bytes.extend_from_slice(&value.as_f64().to_le_bytes()),
            _ => bytes.extend_from_slice(&(value.as_f64() as f32).to_le_bytes()),
        }
    }
    Bytes { dtype, shape: data.shape().to_vec(), data: bytes }
}

/// The bytes of a safetensors file holding `tensors` and `metadata`; the
/// name `__metadata__` is reserved by the format and refused.
///
/// ```
/// use blocks_core::io::{serialize_tensors, TensorFile};
/// let bytes = serialize_tensors(&[("x", &blocks_core::Tensor::ones([2]))], &[]).unwrap();
/// assert_eq!(TensorFile::from_bytes(&bytes).unwrap().names(), vec!["x"]);
/// ```
pub fn serialize_tensors<E: Element>(
    tensors: &[(&str, &TensorBase<E>)],
    metadata: &[(&str, &str)],
) -> Result<Vec<u8>, FileError> {
    refuse_reserved_name(tensors.iter().map(|(name, _)| *name))?;
    let bytes: Vec<(String, Bytes)> =
        tensors.iter().map(|(name, t)| (name.to_string(), to_bytes(t))).collect();
    let info: Option<HashMap<String, String>> = (!metadata.is_empty())
        .then(|| metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    safetensors::serialize(bytes.iter().map(|(name, b)| (name.as_str(), b)), info)
        .map_err(|e| FileError::Format { path: PathBuf::new(), message: e.to_string() })
}

/// Saves `tensors` (name, tensor) with optional `metadata` to `path` as a
/// safetensors file, like `safetensors.torch.save_file`. Atomic: the data
/// goes to a temporary file in the same folder, is synced, then renamed over
/// `path`, so a crash or a full disk never leaves a half-written file.
///
/// ```
/// use blocks_core::io::{save_tensors, TensorFile};
/// use blocks_core::Tensor;
/// let dir = std::env::temp_dir().join("blocks-doc-save");
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("xy.safetensors");
/// let (x, y) = (Tensor::arange(0.0, 4.0, 1.0), Tensor::zeros([4]));
/// save_tensors(&path, &[("x", &x), ("y", &y)], &[]).unwrap();
/// assert_eq!(TensorFile::read(&path).unwrap().names(), vec!["x", "y"]);
/// ```
pub fn save_tensors<E: Element>(
    path: impl AsRef<Path>,
    tensors: &[(&str, &TensorBase<E>)],
    metadata: &[(&str, &str)],
) -> Result<(), FileError> {
    let bytes = serialize_tensors(tensors, metadata)?;
    write_atomically(path.as_ref(), |file| file.write_all(&bytes))
}

/// Like [`save_tensors`], for tensors of either element type (each saved
/// in its own dtype, F32 or F64), writing those named in `integers` as int64
/// (their values rounded), as PyTorch saves integer buffers such as
/// BatchNorm's `num_batches_tracked`.
pub(crate) fn save_entries(
    path: impl AsRef<Path>,
    tensors: &[(&str, &AnyTensor)],
    integers: &[&str],
) -> Result<(), FileError> {
    let serialized = serialize_entries(tensors, integers, &[])?;
    write_atomically(path.as_ref(), |file| file.write_all(&serialized))
}

/// The bytes [`save_entries`] writes.
pub(crate) fn serialize_entries(
    tensors: &[(&str, &AnyTensor)],
    integers: &[&str],
    metadata: &[(&str, &str)],
) -> Result<Vec<u8>, FileError> {
    refuse_reserved_name(tensors.iter().map(|(name, _)| *name))?;
    let bytes: Vec<(String, Bytes)> = tensors
        .iter()
        .map(|(name, t)| {
            let bytes = match t {
                AnyTensor::F32(t) if integers.contains(name) => to_integer_bytes(t),
                AnyTensor::F64(t) if integers.contains(name) => to_integer_bytes(t),
                AnyTensor::F32(t) => to_bytes(t),
                AnyTensor::F64(t) => to_bytes(t),
            };
            (name.to_string(), bytes)
        })
        .collect();
    let info: Option<HashMap<String, String>> = (!metadata.is_empty())
        .then(|| metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    safetensors::serialize(bytes.iter().map(|(name, b)| (name.as_str(), b)), info)
        .map_err(|e| FileError::Format { path: PathBuf::new(), message: e.to_string() })
}

fn to_integer_bytes<E: Element>(tensor: &TensorBase<E>) -> Bytes {
    let data = tensor.data();
    let bytes: Vec<u8> = data.iter().flat_map(|v| (v.as_f64().round() as i64).to_le_bytes()).collect();
    Bytes { dtype: Dtype::I64, shape: tensor.shape(), data: bytes }
}

/// Writes through `write` into a temporary file next to `path`, syncs it and
/// renames it over `path`. On any error the temporary file is removed and
/// `path` is left as it was. When `path` is a symbolic link, the file it
/// points to (at the end of its chain of links) is the one replaced, with
/// its temporary file beside it, and the link stays; a path that names a
/// directory or a device (`/dev/null`) is refused before anything is written.
///
/// The temporary file is `.{name}.{process id}.{count}.tmp` and is locked
/// (an OS file lock, released when its process ends) while it is written.
/// Each save removes the temporary files of earlier saves of the same
/// target that no live process holds any more (left by a save that was
/// killed midway), and never one that is being written.
///
/// # Errors
///
/// [`FileError::Io`] when the folder or file cannot be created, written,
/// synced or renamed, or `path` is not a regular file ("cannot save to
/// /dev/null: it is a character device, not a regular file; nothing was
/// written").
///
/// ```
/// use std::io::Write;
/// let path = std::env::temp_dir().join("blocks-doc-atomic.txt");
/// blocks_core::io::write_atomically(&path, |f| f.write_all(b"hello")).unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"hello");
/// ```
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), FileError> {
    let io_error = |action: &'static str, source| FileError::Io { path: path.to_path_buf(), action, source };
    // Through a link, the file it points to is replaced (the link stays);
    // a directory or a device is refused here, before anything is written.
    let target = super::target::save_target(path).map_err(|e| io_error("save to", e))?;
    let folder = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (temporary, mut file) =
        locked_temporary(&folder, &name).map_err(|e| io_error("create a temporary file for", e))?;
    remove_stale_temporaries(&folder, &name, &temporary);
    let result = (|| {
        write(&mut file).map_err(|e| io_error("write", e))?;
        file.sync_all().map_err(|e| io_error("sync", e))?;
        // Renamed while still locked, so no other save takes it for a leftover.
        std::fs::rename(&temporary, &target).map_err(|e| io_error("replace", e))?;
        // Makes the rename itself durable where the system allows syncing a folder.
        if let Ok(folder) = std::fs::File::open(&folder) {
            let _ = folder.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    drop(file);
    result
}

/// A new temporary file beside the target, locked. Unique per process and
/// per call, so two saves racing to one path never share it.
fn locked_temporary(folder: &Path, name: &str) -> std::io::Result<(PathBuf, std::fs::File)> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    // Another save may take a new file for a leftover between its creation
    // and its lock (it removes only what it could lock): then start again,
    // a bounded number of times.
    for _ in 0..16 {
        let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temporary = folder.join(format!(".{name}.{}.{count}.tmp", std::process::id()));
        let file = std::fs::File::create(&temporary)?;
        file.lock()?;
        if temporary.exists() {
            return Ok((temporary, file));
        }
    }
    Err(std::io::Error::other("other saves kept removing the temporary file"))
}

/// Removes the temporary files `.{name}.{pid}.{count}.tmp` in `folder` that
/// no process holds locked (their save was killed), except `own`. Best
/// effort: a file that cannot be opened, locked or removed is left alone.
fn remove_stale_temporaries(folder: &Path, name: &str, own: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else { continue };
        let is_temporary =
            rest.strip_suffix(".tmp").and_then(|ids| ids.split_once('.')).is_some_and(|(pid, count)| {
                let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                digits(pid) && digits(count)
            });
        let candidate = entry.path();
        if !is_temporary || candidate == own {
            continue;
        }
        let Ok(file) = std::fs::File::open(&candidate) else { continue };
        if file.try_lock().is_ok() {
            let _ = std::fs::remove_file(&candidate);
        }
    }
}

/// An error for a tensor named `__metadata__`, which safetensors reserves
/// for the file's metadata.
fn refuse_reserved_name<'a>(mut names: impl Iterator<Item = &'a str>) -> Result<(), FileError> {
    match names.find(|name| *name == "__metadata__") {
        Some(name) => Err(FileError::Format {
            path: PathBuf::new(),
            message: format!("{name:?} is reserved by safetensors for the metadata and cannot name a tensor"),
        }),
        None => Ok(()),
    }
}
