//! Reshaping without changing values: reshape, flatten, squeeze, unsqueeze.

use ndarray::{ArrayD, IxDyn};

use super::axes::normalize_axis;
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// The same values in a new shape (row-major), like `x.reshape(shape)`;
    /// one entry may be `-1` to be inferred (ViewBackward0).
    ///
    /// ```
    /// let x = blocks_core::Tensor::arange(0.0, 6.0, 1.0);
    /// assert_eq!(x.reshape(&[2, -1]).shape(), vec![2, 3]);
    /// ```
    pub fn reshape(&self, shape: &[isize]) -> Self {
        or_panic(self.try_reshape(shape))
    }

    /// Like [`reshape`](Self::reshape), returning an error when the sizes do not fit.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::zeros([6]).try_reshape(&[4, -1]).is_err());
    /// ```
    pub fn try_reshape(&self, shape: &[isize]) -> Result<Self, ShapeError> {
        let old_shape = self.shape();
        let numel: usize = old_shape.iter().product();
        let new_shape = infer_shape("reshape", shape, &old_shape, numel)?;
        let data = to_shape(&self.data(), &new_shape);
        Ok(TensorBase::from_op(data, "ViewBackward0", &[self], move |grad, _| {
            vec![Some(to_shape(&grad, &old_shape))]
        }))
    }

    /// Removes axis `dim` if it has size 1, like `x.squeeze(dim)` (SqueezeBackward1).
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::zeros([2, 1]).squeeze_dim(-1).shape(), vec![2]);
    /// ```
    pub fn squeeze_dim(&self, dim: isize) -> Self {
        let shape = self.shape();
        let axis = or_panic(normalize_axis("squeeze", dim, shape.len()));
        if shape.is_empty() || shape[axis] != 1 {
            return self.reshape(&shape.iter().map(|&d| d as isize).collect::<Vec<_>>());
        }
        let mut new_shape: Vec<isize> = shape.iter().map(|&d| d as isize).collect();
        new_shape.remove(axis);
        self.reshape(&new_shape)
    }
}

/// The values of `array` laid out in `shape`, in row-major order (a copy only
/// when `array` is not contiguous).
pub(crate) fn to_shape<E: Element>(array: &ArrayD<E>, shape: &[usize]) -> ArrayD<E> {
    array.to_shape((IxDyn(shape), ndarray::Order::RowMajor)).expect("element count checked").into_owned()
}

/// Resolves a `-1` in `requested` and checks the element count.
pub(crate) fn infer_shape(
    op: &str,
    requested: &[isize],
    old_shape: &[usize],
    numel: usize,
) -> Result<Vec<usize>, ShapeError> {
    let fail = || {
        ShapeError::new(format!(
            "{op}: shape {requested:?} is invalid for input of shape {old_shape:?} ({numel} elements)"
        ))
    };
    let mut inferred = None;
    let mut known = 1usize;
    for (i, &size) in requested.iter().enumerate() {
        match size {
            -1 if inferred.is_none() => inferred = Some(i),
            size if size >= 0 => known *= size as usize,
            _ => return Err(fail()),
        }
    }
    let mut shape: Vec<usize> = requested.iter().map(|&s| s.max(0) as usize).collect();
    if let Some(i) = inferred {
        if known == 0 || !numel.is_multiple_of(known) {
            return Err(fail());
        }
        shape[i] = numel / known;
    } else if known != numel {
        return Err(fail());
    }
    Ok(shape)
}
