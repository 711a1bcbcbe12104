//! `repeat_interleave`: each entry along a dim repeated in place, a fixed
//! number of times or a count per entry, with the gradients of the copies
//! summed back.

use ndarray::{ArrayD, Axis, IxDyn};

use super::axes::normalize_axis;
use super::shape::{reshape_owned, to_shape};
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// Every entry along `dim` repeated `repeats` times in place, like
    /// `x.repeat_interleave(repeats, dim)` (ViewBackward0, as PyTorch records
    /// it); `None` flattens the input first, as PyTorch's `dim=None` does.
    ///
    /// # Panics
    /// On a bad dim or an output too large to allocate; see
    /// [`try_repeat_interleave`](Self::try_repeat_interleave).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    /// assert_eq!(x.repeat_interleave(2, Some(0)).to_vec(), vec![1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 3.0, 4.0]);
    /// assert_eq!(x.repeat_interleave(2, None).to_vec(), vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn repeat_interleave(&self, repeats: usize, dim: Option<isize>) -> Self {
        or_panic(self.try_repeat_interleave(repeats, dim))
    }

    /// Like [`repeat_interleave`](Self::repeat_interleave), returning an error
    /// on a bad dim or an output too large to allocate.
    ///
    /// # Errors
    /// A [`ShapeError`] naming `repeat_interleave` and the problem.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// assert!(Tensor::zeros([2]).try_repeat_interleave(2, Some(1)).is_err());
    /// assert!(Tensor::zeros([1 << 20]).try_repeat_interleave(1 << 60, None).is_err());
    /// ```
    pub fn try_repeat_interleave(&self, repeats: usize, dim: Option<isize>) -> Result<Self, ShapeError> {
        self.repeat_entries("ViewBackward0", &[repeats], dim)
    }

    /// Entry `i` along `dim` repeated `counts[i]` times in place (0 drops
    /// it), like `x.repeat_interleave(torch.tensor(counts), dim)`
    /// (IndexSelectBackward0). One count applies to every entry, as PyTorch
    /// broadcasts it; `None` flattens the input first.
    ///
    /// # Panics
    /// With PyTorch's message when the number of counts is neither 1 nor the
    /// dim's size; see [`try_repeat_interleave_counts`](Self::try_repeat_interleave_counts).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]);
    /// assert_eq!(x.repeat_interleave_counts(&[2, 0, 1], Some(0)).to_vec(), vec![1.0, 1.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn repeat_interleave_counts(&self, counts: &[usize], dim: Option<isize>) -> Self {
        or_panic(self.try_repeat_interleave_counts(counts, dim))
    }

    /// Like [`repeat_interleave_counts`](Self::repeat_interleave_counts),
    /// returning an error on a bad dim, a wrong number of counts or an output
    /// too large to allocate.
    ///
    /// # Errors
    /// A [`ShapeError`] with PyTorch's wording, prefixed by `repeat_interleave:`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::zeros([2, 3]).try_repeat_interleave_counts(&[1, 2, 3], Some(0)).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "repeat_interleave: repeats must have the same size as input along dim, \
    ///      but got repeats.size(0) = 3 and input.size(0) = 2"
    /// );
    /// ```
    pub fn try_repeat_interleave_counts(
        &self,
        counts: &[usize],
        dim: Option<isize>,
    ) -> Result<Self, ShapeError> {
        self.repeat_entries("IndexSelectBackward0", counts, dim)
    }

    fn repeat_entries(
        &self,
        name: &'static str,
        counts: &[usize],
        dim: Option<isize>,
    ) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let (work_shape, axis) = match dim {
            None => (vec![shape.iter().product()], 0),
            Some(dim) => {
                let axis = normalize_axis("repeat_interleave", dim, shape.len())?;
                (if shape.is_empty() { vec![1] } else { shape.clone() }, axis)
            }
        };
        let size = work_shape[axis];
        if counts.len() != 1 && counts.len() != size {
            return Err(ShapeError::new(format!(
                "repeat_interleave: repeats must have the same size as input along dim, but got \
                 repeats.size(0) = {} and input.size(0) = {size}",
                counts.len()
            )));
        }
        let count_of = |i: usize| if counts.len() == 1 { counts[0] } else { counts[i] };
        let total = (0..size).try_fold(0usize, |sum, i| sum.checked_add(count_of(i)));
        let mut out_shape = work_shape.clone();
        out_shape[axis] = total.ok_or_else(|| {
            ShapeError::new("repeat_interleave: the repeated size overflows the address space")
        })?;
        crate::numel::checked_alloc::<E>("repeat_interleave", "the output", &out_shape)?;
        let sources: Vec<usize> = (0..size).flat_map(|i| std::iter::repeat_n(i, count_of(i))).collect();
        let data = {
            let x = to_shape(&self.data(), &work_shape);
            let mut out = ArrayD::zeros(IxDyn(&out_shape));
            for (p, &source) in sources.iter().enumerate() {
                out.index_axis_mut(Axis(axis), p).assign(&x.index_axis(Axis(axis), source));
            }
            out
        };
        Ok(TensorBase::from_op(data, name, &[self], move |grad, _| {
            let mut full = ArrayD::zeros(IxDyn(&work_shape));
            for (p, &source) in sources.iter().enumerate() {
                let mut row = full.index_axis_mut(Axis(axis), source);
                row += &grad.index_axis(Axis(axis), p);
            }
            vec![Some(reshape_owned(full, &shape))]
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck};

    fn x() -> Tensor64 {
        Tensor64::from_vec((0..6).map(|v| v as f64 * 0.5 - 1.0).collect(), [2, 3]).requires_grad_(true)
    }

    #[test]
    fn repeat_interleave_passes_gradcheck() {
        gradcheck(|t| t[0].repeat_interleave(3, Some(1)), &[x()]).unwrap();
        gradcheck(|t| t[0].repeat_interleave(2, None), &[x()]).unwrap();
        gradcheck(|t| t[0].repeat_interleave_counts(&[2, 0, 3], Some(-1)), &[x()]).unwrap();
        gradcheck(|t| t[0].repeat_interleave_counts(&[1, 3], Some(0)), &[x()]).unwrap();
    }

    #[test]
    fn repeat_interleave_shapes_values_and_names() {
        let x = x();
        let y = x.repeat_interleave(2, Some(0));
        assert_eq!(y.shape(), [4, 3]);
        assert_eq!(y.to_vec()[3..6], [-1.0, -0.5, 0.0]);
        assert_eq!(y.grad_fn(), Some("ViewBackward0"));
        let z = x.repeat_interleave_counts(&[2], Some(1));
        assert_eq!(z.shape(), [2, 6]);
        assert_eq!(z.grad_fn(), Some("IndexSelectBackward0"));
        assert_eq!(x.repeat_interleave(0, None).shape(), [0]);
        let scalar = Tensor64::from_vec(vec![2.0], []);
        assert_eq!(scalar.repeat_interleave(3, None).to_vec(), vec![2.0; 3]);
    }
}
