//! Printing tensors (placeholder until PyTorch's layout lands).

use std::fmt;

use crate::{Element, TensorBase};

impl<E: Element> fmt::Debug for TensorBase<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tensor({:?})", self.to_vec())
    }
}
