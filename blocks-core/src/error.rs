//! The error returned by the fallible (`try_*`) forms of operations.

use std::fmt;

/// A shape that an operation cannot accept, with a message naming the op and the shapes.
///
/// ```
/// use blocks_core::Tensor;
/// let error = Tensor::zeros([2, 20]).try_matmul(&Tensor::zeros([256, 10])).unwrap_err();
/// assert_eq!(error.to_string(), "matmul: cannot multiply [2, 20] by [256, 10] (20 != 256)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    message: String,
}

impl ShapeError {
    /// An error with `message`, which should name the op and the shapes involved.
    ///
    /// ```
    /// let e = blocks_core::ShapeError::new("add: [2] and [3] do not broadcast");
    /// assert!(e.to_string().starts_with("add"));
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        ShapeError { message: message.into() }
    }
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ShapeError {}

/// Unwraps the result of a `try_*` op, panicking with its message (the op and both shapes).
#[track_caller]
pub(crate) fn or_panic<T>(result: Result<T, ShapeError>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("{error}"),
    }
}
