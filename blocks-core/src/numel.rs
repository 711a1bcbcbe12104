//! Element counts of requested shapes, checked before anything is sized by them.

use crate::{Element, ShapeError};

/// The number of elements of `shape`, or an error naming `op` and the shape
/// when the count (or its size in bytes, for elements of type `E`) does not
/// fit in memory addresses: `[1 << 32, 1 << 32]` is refused rather than
/// overflowing. As in ndarray, zero-length axes do not excuse the others:
/// the product of the non-zero lengths must fit in an `isize`.
///
/// ```ignore
/// assert!(checked_numel::<f32>("zeros", &[1 << 32, 1 << 32]).is_err());
/// assert_eq!(checked_numel::<f32>("zeros", &[2, 3]).unwrap(), 6);
/// ```
pub(crate) fn checked_numel<E: Element>(op: &str, shape: &[usize]) -> Result<usize, ShapeError> {
    let empty = shape.contains(&0);
    // ndarray's rule for every shape; the bytes only matter when there are elements.
    let limit = if empty { isize::MAX as usize } else { isize::MAX as usize / size_of::<E>().max(1) };
    let nonzero = shape.iter().filter(|&&len| len != 0).try_fold(1usize, |n, &len| n.checked_mul(len));
    match nonzero {
        Some(n) if n <= limit => Ok(if empty { 0 } else { n }),
        _ => Err(ShapeError::new(format!(
            "{op}: shape {shape:?} is too large (its number of elements overflows the address space)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::checked_numel;

    #[test]
    fn counts_small_shapes_and_refuses_overflowing_ones() {
        assert_eq!(checked_numel::<f32>("op", &[2, 3]).unwrap(), 6);
        assert_eq!(checked_numel::<f32>("op", &[]).unwrap(), 1);
        assert_eq!(checked_numel::<f32>("op", &[0, 5]).unwrap(), 0);
        let error = checked_numel::<f32>("zeros", &[1 << 32, 1 << 32]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "zeros: shape [4294967296, 4294967296] is too large (its number of elements overflows the address space)"
        );
        assert!(checked_numel::<f32>("op", &[0, 1 << 32, 1 << 32]).is_err());
        assert!(checked_numel::<f64>("op", &[1 << 61]).is_err(), "bytes overflow");
        assert!(checked_numel::<f32>("op", &[usize::MAX]).is_err());
        assert_eq!(checked_numel::<f32>("op", &[1 << 62, 0]).unwrap(), 0, "no bytes, and 2^62 fits an isize");
        assert!(checked_numel::<f32>("op", &[1 << 62, 2, 0]).is_err());
    }
}
