//! NumPy broadcasting: the shape two operands broadcast to, and the reverse
//! step for backward (summing a gradient back to an operand's shape).

use ndarray::{ArrayD, Axis, IxDyn};

use crate::{Element, ShapeError};

/// The shape `a` and `b` broadcast to, or an error naming `op` and both shapes.
pub(crate) fn broadcast_shape(op: &str, a: &[usize], b: &[usize]) -> Result<Vec<usize>, ShapeError> {
    let ndim = a.len().max(b.len());
    let mut shape = vec![0; ndim];
    for (i, size) in shape.iter_mut().enumerate() {
        let da = dim_from_right(a, ndim - 1 - i);
        let db = dim_from_right(b, ndim - 1 - i);
        *size = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(ShapeError::new(format!(
                    "{op}: shapes {a:?} and {b:?} cannot be broadcast together \
                     (dimension {i}: {da} vs {db})"
                )));
            }
        };
    }
    // Checked as for the widest element type, so no caller sizes an array by an overflowed count.
    crate::numel::checked_numel::<f64>(op, &shape)
        .map_err(|error| ShapeError::new(format!("{error}, broadcasting {a:?} and {b:?}")))?;
    Ok(shape)
}

fn dim_from_right(shape: &[usize], from_right: usize) -> usize {
    if from_right < shape.len() { shape[shape.len() - 1 - from_right] } else { 1 }
}

/// Sums `grad` over the axes along which an operand of `shape` was broadcast,
/// so that the result has exactly `shape`. Returns `grad` itself when nothing
/// was broadcast.
pub(crate) fn sum_to_shape<E: Element>(grad: ArrayD<E>, shape: &[usize]) -> ArrayD<E> {
    if grad.shape() == shape {
        return grad;
    }
    let mut grad = grad;
    let extra = grad.ndim() - shape.len();
    for _ in 0..extra {
        grad = grad.sum_axis(Axis(0));
    }
    for (axis, &size) in shape.iter().enumerate() {
        if size == 1 && grad.shape()[axis] != 1 {
            grad = grad.sum_axis(Axis(axis)).insert_axis(Axis(axis));
        }
    }
    grad.into_shape_with_order(IxDyn(shape)).expect("sum_to_shape keeps the element count")
}
