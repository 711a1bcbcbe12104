//! Cutting a tensor into consecutive pieces along a dim: `chunk`, `split`
//! (SplitBackward0) and `split_with_sizes` (SplitWithSizesBackward0). Each
//! piece is its own result; its backward places the gradient at the
//! piece's position in zeros of the input's shape.

use ndarray::{ArrayD, Axis, IxDyn, Slice};

use super::shape::{axis_for, contiguous};
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// `chunks` pieces of equal size along `dim` (the last one smaller when
    /// the size does not divide, and fewer pieces when there is not enough
    /// for all), like `x.chunk(chunks, dim)` (SplitBackward0).
    ///
    /// # Panics
    /// With PyTorch's message when `chunks` is 0, on a 0-dim input or a bad
    /// dim; see [`try_chunk`](Self::try_chunk).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::arange(0.0, 5.0, 1.0);
    /// let pieces = x.chunk(3, 0);
    /// assert_eq!(pieces.iter().map(|p| p.to_vec()).collect::<Vec<_>>(), [vec![0.0, 1.0], vec![2.0, 3.0], vec![4.0]]);
    /// ```
    #[track_caller]
    pub fn chunk(&self, chunks: usize, dim: isize) -> Vec<Self> {
        or_panic(self.try_chunk(chunks, dim))
    }

    /// Like [`chunk`](Self::chunk), returning an error instead of panicking.
    ///
    /// # Errors
    /// A [`ShapeError`] with PyTorch's wording, prefixed by `chunk:`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::zeros([2, 3]).try_chunk(0, 0).unwrap_err();
    /// assert_eq!(error.to_string(), "chunk: chunk expects `chunks` to be greater than 0, got: 0");
    /// ```
    pub fn try_chunk(&self, chunks: usize, dim: isize) -> Result<Vec<Self>, ShapeError> {
        if chunks == 0 {
            return Err(ShapeError::new("chunk: chunk expects `chunks` to be greater than 0, got: 0"));
        }
        let (axis, size) = self.split_axis("chunk", dim)?;
        if size == 0 {
            // PyTorch gives `chunks` empty pieces; each is a tensor handle (8 bytes, as an f64),
            // so the count is checked first.
            crate::numel::checked_alloc::<f64>("chunk", "the list of pieces", &[chunks])?;
            return Ok(self.pieces(axis, &vec![0; chunks], "SplitBackward0"));
        }
        let split_size = size.div_ceil(chunks);
        self.try_split_axis(axis, size, split_size)
    }

    /// Pieces of `split_size` along `dim` (the last one smaller when the size
    /// does not divide), like `x.split(split_size, dim)` (SplitBackward0).
    ///
    /// # Panics
    /// On a 0-dim input, a bad dim, or `split_size` 0 on a non-empty dim;
    /// see [`try_split`](Self::try_split).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::zeros([2, 5]);
    /// let shapes: Vec<_> = x.split(2, 1).iter().map(|p| p.shape()).collect();
    /// assert_eq!(shapes, [vec![2, 2], vec![2, 2], vec![2, 1]]);
    /// ```
    #[track_caller]
    pub fn split(&self, split_size: usize, dim: isize) -> Vec<Self> {
        or_panic(self.try_split(split_size, dim))
    }

    /// Like [`split`](Self::split), returning an error instead of panicking.
    ///
    /// # Errors
    /// A [`ShapeError`] with PyTorch's wording, prefixed by `split:`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::zeros([2, 3]).try_split(0, 1).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "split: split_size can only be 0 if dimension size is 0, but got dimension size of 3"
    /// );
    /// ```
    pub fn try_split(&self, split_size: usize, dim: isize) -> Result<Vec<Self>, ShapeError> {
        let (axis, size) = self.split_axis("split", dim)?;
        self.try_split_axis(axis, size, split_size)
    }

    fn try_split_axis(&self, axis: usize, size: usize, split_size: usize) -> Result<Vec<Self>, ShapeError> {
        if split_size == 0 && size != 0 {
            return Err(ShapeError::new(format!(
                "split: split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
            )));
        }
        let count = if split_size == 0 { 1 } else { size.div_ceil(split_size).max(1) };
        let sizes: Vec<usize> =
            (0..count).map(|i| split_size.min(size.saturating_sub(i * split_size))).collect();
        Ok(self.pieces(axis, &sizes, "SplitBackward0"))
    }

    /// Pieces of the given sizes along `dim`, which must add up to its size,
    /// like `x.split([2, 1], dim)` (SplitWithSizesBackward0).
    ///
    /// # Panics
    /// With PyTorch's message when the sizes do not add up, on a 0-dim input
    /// or a bad dim; see [`try_split_with_sizes`](Self::try_split_with_sizes).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
    /// let [a, b] = <[Tensor; 2]>::try_from(x.split_with_sizes(&[1, 2], 1)).unwrap();
    /// assert_eq!((a.to_vec(), b.to_vec()), (vec![0.0, 3.0], vec![1.0, 2.0, 4.0, 5.0]));
    /// ```
    #[track_caller]
    pub fn split_with_sizes(&self, sizes: &[usize], dim: isize) -> Vec<Self> {
        or_panic(self.try_split_with_sizes(sizes, dim))
    }

    /// Like [`split_with_sizes`](Self::split_with_sizes), returning an error instead of panicking.
    ///
    /// # Errors
    /// A [`ShapeError`] with PyTorch's wording, prefixed by `split_with_sizes:`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::zeros([2, 3]).try_split_with_sizes(&[1, 1], 1).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "split_with_sizes: split_with_sizes expects split_sizes to sum exactly to 3 \
    ///      (input tensor's size at dimension 1), but got split_sizes=[1, 1]"
    /// );
    /// ```
    pub fn try_split_with_sizes(&self, sizes: &[usize], dim: isize) -> Result<Vec<Self>, ShapeError> {
        let (axis, size) = self.split_axis("split_with_sizes", dim)?;
        let total = sizes.iter().try_fold(0usize, |sum, &s| sum.checked_add(s));
        if total != Some(size) {
            return Err(ShapeError::new(format!(
                "split_with_sizes: split_with_sizes expects split_sizes to sum exactly to {size} \
                 (input tensor's size at dimension {axis}), but got split_sizes={sizes:?}"
            )));
        }
        Ok(self.pieces(axis, sizes, "SplitWithSizesBackward0"))
    }

    /// The axis `dim` names and its size, refusing 0-dim inputs.
    fn split_axis(&self, op: &str, dim: isize) -> Result<(usize, usize), ShapeError> {
        let shape = self.shape();
        if shape.is_empty() {
            return Err(ShapeError::new(format!("{op}: {op} expects at least a 1-dimensional tensor")));
        }
        let axis = axis_for(op, dim, shape.len(), &shape)?;
        Ok((axis, shape[axis]))
    }

    /// Consecutive pieces of `sizes` along `axis` (which they fill).
    fn pieces(&self, axis: usize, sizes: &[usize], name: &'static str) -> Vec<Self> {
        let shape = self.shape();
        let data = self.data();
        let mut begin = 0;
        sizes
            .iter()
            .map(|&len| {
                let range = Slice::from(begin..begin + len);
                begin += len;
                let piece = contiguous(data.slice_axis(Axis(axis), range));
                let shape = shape.clone();
                TensorBase::from_op(piece, name, &[self], move |grad, _| {
                    let mut full = ArrayD::zeros(IxDyn(&shape));
                    full.slice_axis_mut(Axis(axis), range).assign(&grad);
                    vec![Some(full)]
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck};

    fn x() -> Tensor64 {
        Tensor64::from_vec((0..14).map(|v| v as f64 * 0.25).collect(), [2, 7]).requires_grad_(true)
    }

    #[test]
    fn pieces_pass_gradcheck() {
        for i in 0..3 {
            gradcheck(|t| t[0].chunk(3, 1)[i].clone(), &[x()]).unwrap();
            gradcheck(|t| t[0].split(3, -1)[i].clone(), &[x()]).unwrap();
            gradcheck(|t| t[0].split_with_sizes(&[1, 4, 2], 1)[i].clone(), &[x()]).unwrap();
        }
        let weighted = |t: &[Tensor64]| {
            let parts = t[0].chunk(2, 0);
            (&parts[0].mul_scalar(2.0) + &parts[1].mul_scalar(-3.0)).sum()
        };
        gradcheck(weighted, &[x()]).unwrap();
    }

    #[test]
    fn piece_sizes_follow_pytorch() {
        let sizes = |pieces: Vec<Tensor64>| pieces.iter().map(|p| p.shape()[0]).collect::<Vec<_>>();
        assert_eq!(sizes(Tensor64::zeros([5, 2]).chunk(3, 0)), [2, 2, 1]);
        assert_eq!(sizes(Tensor64::zeros([6, 2]).chunk(4, 0)), [2, 2, 2]);
        assert_eq!(sizes(Tensor64::zeros([2, 2]).chunk(3, 0)), [1, 1]);
        assert_eq!(sizes(Tensor64::zeros([0, 2]).chunk(3, 0)), [0, 0, 0]);
        assert_eq!(sizes(Tensor64::zeros([0, 2]).split(0, 0)), [0]);
        assert_eq!(sizes(Tensor64::zeros([7, 1]).split(7, 0)), [7]);
        let x = x();
        assert_eq!(x.chunk(2, 1)[0].grad_fn(), Some("SplitBackward0"));
        assert_eq!(x.split_with_sizes(&[7], 1)[0].grad_fn(), Some("SplitWithSizesBackward0"));
        assert!(Tensor64::from_vec(vec![1.0], []).try_split(1, 0).is_err());
        assert!(Tensor64::zeros([0]).try_chunk(usize::MAX, 0).is_err());
    }
}
