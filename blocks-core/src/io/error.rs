//! The error of everything that reads or writes files.

use std::fmt;
use std::path::PathBuf;

/// What went wrong reading or writing a tensor file, with the file named.
///
/// ```
/// use blocks_core::io::TensorFile;
/// let error = TensorFile::read("no/such/file.safetensors").unwrap_err();
/// assert!(error.to_string().starts_with("cannot read no/such/file.safetensors"));
/// ```
#[derive(Debug)]
pub enum FileError {
    /// The operating system refused (missing file, permissions, full disk).
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done: "read", "write", ...
        action: &'static str,
        /// The system's error.
        source: std::io::Error,
    },
    /// The bytes are not a valid safetensors file.
    Format {
        /// The file (empty for in-memory bytes).
        path: PathBuf,
        /// What is wrong, in words.
        message: String,
    },
    /// A tensor the caller asked for is not in the file.
    MissingTensor {
        /// Its name.
        name: String,
    },
    /// A tensor has a dtype that cannot be read as asked.
    Dtype {
        /// The file (empty for in-memory bytes).
        path: PathBuf,
        /// Its name.
        name: String,
        /// The dtype in the file (`F16`, `I64`, ...).
        found: String,
        /// What was asked for.
        expected: &'static str,
    },
    /// A valid file that does not hold what was asked for (a list where one
    /// tensor was expected, keys that are not "0", "1", ...).
    Content {
        /// The file (empty for in-memory bytes).
        path: PathBuf,
        /// What was asked for and what the file holds.
        message: String,
    },
    /// Parameters without values (lazy layers that never ran) cannot be saved.
    Uninitialized {
        /// Their keys.
        keys: Vec<String>,
    },
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Io { path, action, source } => {
                write!(f, "cannot {action} {}: {source}", path.display())
            }
            FileError::Format { path, message } if path.as_os_str().is_empty() => {
                write!(f, "not a valid safetensors file: {message}")
            }
            FileError::Format { path, message } => {
                write!(f, "{} is not a valid safetensors file: {message}", path.display())
            }
            FileError::MissingTensor { name } => write!(f, "no tensor named {name:?} in the file"),
            FileError::Dtype { path, name, found, expected } => {
                if !path.as_os_str().is_empty() {
                    write!(f, "{}: ", path.display())?;
                }
                write!(f, "tensor {name:?} has dtype {found}, which cannot be read as {expected}")
            }
            FileError::Content { path, message } if path.as_os_str().is_empty() => f.write_str(message),
            FileError::Content { path, message } => write!(f, "{}: {message}", path.display()),
            FileError::Uninitialized { keys } => write!(
                f,
                "cannot save uninitialized parameter(s) {}: run the model once on a dummy batch (or load a \
                 checkpoint) so that its lazy layers know their widths",
                keys.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

impl std::error::Error for FileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FileError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
