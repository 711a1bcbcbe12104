//! Axis arguments as PyTorch takes them: negative values count from the end.

use crate::ShapeError;

/// Turns a possibly negative `dim` into an axis index of a tensor with `ndim`
/// dimensions, or an error naming `op`, like PyTorch's "Dimension out of range".
pub(crate) fn normalize_axis(op: &str, dim: isize, ndim: usize) -> Result<usize, ShapeError> {
    let rank = ndim.max(1) as isize;
    let axis = if dim < 0 { dim + rank } else { dim };
    if axis < 0 || axis >= rank {
        return Err(ShapeError::new(format!(
            "{op}: Dimension out of range (expected to be in range of [{}, {}], but got {dim})",
            -rank,
            rank - 1
        )));
    }
    Ok(axis as usize)
}

/// Normalizes a list of dims, refusing repeats; sorted ascending.
pub(crate) fn normalize_axes(op: &str, dims: &[isize], ndim: usize) -> Result<Vec<usize>, ShapeError> {
    let mut axes = Vec::with_capacity(dims.len());
    for &dim in dims {
        let axis = normalize_axis(op, dim, ndim)?;
        if axes.contains(&axis) {
            return Err(ShapeError::new(format!(
                "{op}: dim {axis} appears multiple times in the list of dims"
            )));
        }
        axes.push(axis);
    }
    axes.sort_unstable();
    Ok(axes)
}
