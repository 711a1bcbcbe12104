//! Element counts of requested shapes, checked before anything is sized by
//! them: against the address space ([`checked_numel`]) and, for the storage
//! an op is about to allocate, against the machine's memory
//! ([`checked_alloc`]), so that a huge option is an error, not an abort.

use std::sync::OnceLock;

use crate::{Element, ShapeError};

/// The most bytes one piece of storage an op allocates may take: the
/// machine's physical memory (`MemTotal` in `/proc/meminfo`), or
/// `isize::MAX` where that cannot be read. An allocation beyond it would
/// abort the process (or, overcommitted, be killed when touched).
pub(crate) fn allocation_limit() -> usize {
    static LIMIT: OnceLock<usize> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|info| mem_total(&info))
            .map_or(isize::MAX as usize, |bytes| bytes.min(isize::MAX as usize))
    })
}

/// The `MemTotal` line of a `/proc/meminfo` text, in bytes.
fn mem_total(info: &str) -> Option<usize> {
    let line = info.lines().find_map(|line| line.strip_prefix("MemTotal:"))?;
    let kib: usize = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kib.checked_mul(1024)
}

/// The element count `factors` multiply to, for storage of `E` that `op`
/// is about to allocate for `what`, or an error naming the op and the size
/// when the product overflows or its bytes exceed [`allocation_limit`].
///
/// ```ignore
/// assert_eq!(checked_alloc::<f32>("conv2d", "the output", &[2, 3]).unwrap(), 6);
/// assert!(checked_alloc::<f32>("conv2d", "the output", &[1 << 40, 1 << 40]).is_err());
/// ```
pub(crate) fn checked_alloc<E: Element>(
    op: &str,
    what: &str,
    factors: &[usize],
) -> Result<usize, ShapeError> {
    checked_alloc_under::<E>(op, what, factors, allocation_limit())
}

/// [`checked_alloc`] against a given `limit` in bytes.
fn checked_alloc_under<E: Element>(
    op: &str,
    what: &str,
    factors: &[usize],
    limit: usize,
) -> Result<usize, ShapeError> {
    let sizes = factors.iter().map(usize::to_string).collect::<Vec<_>>().join(" x ");
    let elements = factors.iter().try_fold(1usize, |n, &len| n.checked_mul(len));
    let bytes = elements.and_then(|n| n.checked_mul(size_of::<E>()));
    match (elements, bytes) {
        (Some(elements), Some(bytes)) if bytes <= limit => Ok(elements),
        (Some(elements), Some(bytes)) => Err(ShapeError::new(format!(
            "{op}: {what} would have {sizes} = {elements} elements ({bytes} bytes), \
             more than the allocation limit of {limit} bytes"
        ))),
        _ => Err(ShapeError::new(format!(
            "{op}: {what} would have {sizes} elements, which overflows the address space"
        ))),
    }
}

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
    use super::{checked_alloc, checked_alloc_under, checked_numel, mem_total};

    #[test]
    fn allocations_are_checked_against_the_limit() {
        assert_eq!(checked_alloc::<f32>("conv2d", "the output", &[2, 3]).unwrap(), 6);
        assert_eq!(checked_alloc::<f32>("conv2d", "the output", &[]).unwrap(), 1);
        assert_eq!(
            checked_alloc_under::<f32>("conv2d", "the output", &[4, 5], 79).unwrap_err().to_string(),
            "conv2d: the output would have 4 x 5 = 20 elements (80 bytes), more than the allocation limit of 79 bytes"
        );
        assert_eq!(checked_alloc_under::<f32>("conv2d", "the output", &[4, 5], 80).unwrap(), 20);
        assert_eq!(
            checked_alloc::<f64>("max_pool2d", "the output", &[1 << 32, 1 << 32]).unwrap_err().to_string(),
            "max_pool2d: the output would have 4294967296 x 4294967296 elements, which overflows the address space"
        );
        assert!(checked_alloc::<f64>("op", "x", &[1 << 61]).is_err(), "bytes overflow");
        assert!(checked_alloc::<f32>("op", "x", &[1 << 46]).is_err(), "256 TB is more than any test machine");
    }

    #[test]
    fn mem_total_is_read_in_bytes() {
        assert_eq!(mem_total("MemFree: 1 kB\nMemTotal:       16384 kB\n"), Some(16 << 20));
        assert_eq!(mem_total("MemTotal: lots"), None);
        assert_eq!(mem_total(""), None);
    }

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
