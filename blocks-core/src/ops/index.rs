//! Taking parts of a tensor along one dim: narrow, slice, select (and `get`,
//! PyTorch's `x[i]`) and index_select. Each backward scatters the gradient
//! into zeros of the input's shape.

use ndarray::{ArrayD, Axis, IxDyn, Slice};

use super::shape::{axis_for, contiguous, reshape_owned};
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// `length` entries of dim `dim` from `start` on, like `x.narrow(dim, start, length)`
    /// (SliceBackward0, as PyTorch records it). A negative `start` counts from
    /// the end. Panics when the range does not fit in the dim.
    ///
    /// ```
    /// let x = blocks_core::Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
    /// assert_eq!(x.narrow(1, 1, 2).to_vec(), vec![1.0, 2.0, 4.0, 5.0]);
    /// assert_eq!(x.narrow(-1, -1, 1).to_vec(), vec![2.0, 5.0]);
    /// ```
    #[track_caller]
    pub fn narrow(&self, dim: isize, start: isize, length: usize) -> Self {
        let shape = self.shape();
        assert!(!shape.is_empty(), "narrow: cannot be applied to a 0-dim tensor");
        let axis = or_panic(axis_for("narrow", dim, shape.len(), &shape));
        let size = shape[axis] as isize;
        assert!(
            (-size..=size).contains(&start),
            "narrow: start out of range (expected to be in range of [{}, {size}], but got {start}) \
             for dim {axis} of shape {shape:?}",
            -size
        );
        let begin = if start < 0 { start + size } else { start } as usize;
        assert!(
            length <= shape[axis] - begin,
            "narrow: start ({begin}) + length ({length}) exceeds dimension size ({size}) \
             for dim {axis} of shape {shape:?}"
        );
        self.slice_axis(shape, axis, begin, begin + length, 1)
    }

    /// Every `step`-th entry of dim `dim` from `start` up to (not including)
    /// `end`, like Python's `x[..., start:end:step]` along that dim
    /// (SliceBackward0). Negative `start`/`end` count from the end, and both
    /// are clamped to the dim as in Python, so `isize::MAX` means "to the end".
    /// Panics on a bad dim, a 0-dim tensor or a zero step.
    ///
    /// ```
    /// let x = blocks_core::Tensor::arange(0.0, 6.0, 1.0);
    /// assert_eq!(x.slice(0, 1, isize::MAX, 2).to_vec(), vec![1.0, 3.0, 5.0]);
    /// assert_eq!(x.slice(-1, -3, -1, 1).to_vec(), vec![3.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn slice(&self, dim: isize, start: isize, end: isize, step: usize) -> Self {
        let shape = self.shape();
        assert!(!shape.is_empty(), "slice: cannot be applied to a 0-dim tensor");
        assert!(step > 0, "slice: step must be positive");
        let axis = or_panic(axis_for("slice", dim, shape.len(), &shape));
        let size = shape[axis] as isize;
        let clamp =
            |index: isize| (if index < 0 { index.saturating_add(size) } else { index }).clamp(0, size);
        let begin = clamp(start);
        let end = clamp(end).max(begin);
        self.slice_axis(shape, axis, begin as usize, end as usize, step)
    }

    fn slice_axis(&self, shape: Vec<usize>, axis: usize, begin: usize, end: usize, step: usize) -> Self {
        let range = Slice::new(begin as isize, Some(end as isize), step as isize);
        let data = contiguous(self.data().slice_axis(Axis(axis), range));
        TensorBase::from_op(data, "SliceBackward0", &[self], move |grad, _| {
            let mut full = ArrayD::zeros(IxDyn(&shape));
            full.slice_axis_mut(Axis(axis), range).assign(&grad);
            vec![Some(full)]
        })
    }

    /// Entry `index` of dim `dim`, removing that dim, like `x.select(dim, index)`
    /// (SelectBackward0). A negative `index` counts from the end. Panics on a
    /// bad dim or index.
    ///
    /// ```
    /// let x = blocks_core::Tensor::arange(0.0, 6.0, 1.0).reshape(&[2, 3]);
    /// assert_eq!(x.select(1, -1).to_vec(), vec![2.0, 5.0]);
    /// ```
    #[track_caller]
    pub fn select(&self, dim: isize, index: isize) -> Self {
        let shape = self.shape();
        assert!(!shape.is_empty(), "select: cannot be applied to a 0-dim tensor");
        let axis = or_panic(axis_for("select", dim, shape.len(), &shape));
        let size = shape[axis] as isize;
        assert!(
            (-size..size).contains(&index),
            "select: index {index} out of range for tensor of shape {shape:?} at dimension {axis}"
        );
        let index = if index < 0 { index + size } else { index } as usize;
        let data = contiguous(self.data().index_axis(Axis(axis), index));
        TensorBase::from_op(data, "SelectBackward0", &[self], move |grad, _| {
            let mut full = ArrayD::zeros(IxDyn(&shape));
            full.index_axis_mut(Axis(axis), index).assign(&grad);
            vec![Some(full)]
        })
    }

    /// Row `index` (entry `index` of dim 0), like `x[index]` in PyTorch
    /// (SelectBackward0). A negative `index` counts from the end.
    ///
    /// ```
    /// let x = blocks_core::Tensor::arange(0.0, 6.0, 1.0).reshape(&[3, 2]);
    /// assert_eq!(x.get(1).to_vec(), vec![2.0, 3.0]);
    /// assert_eq!(x.get(-1).to_vec(), vec![4.0, 5.0]);
    /// ```
    #[track_caller]
    pub fn get(&self, index: isize) -> Self {
        self.select(0, index)
    }

    /// The entries `indices` of dim `dim`, in that order and repeats allowed,
    /// like `x.index_select(dim, index)` (IndexSelectBackward0; the gradient
    /// of a repeated entry accumulates). Panics on a bad dim or index; see
    /// [`try_index_select`](Self::try_index_select).
    ///
    /// ```
    /// let x = blocks_core::Tensor::arange(0.0, 6.0, 1.0).reshape(&[3, 2]);
    /// assert_eq!(x.index_select(0, &[2, 0, 2]).to_vec(), vec![4.0, 5.0, 0.0, 1.0, 4.0, 5.0]);
    /// ```
    #[track_caller]
    pub fn index_select(&self, dim: isize, indices: &[usize]) -> Self {
        or_panic(self.try_index_select(dim, indices))
    }

    /// Like [`index_select`](Self::index_select), returning an error on a bad dim or index.
    ///
    /// ```
    /// let x = blocks_core::Tensor::zeros([3, 2]);
    /// let error = x.try_index_select(0, &[1, 3]).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "index_select: index 3 out of range for tensor of shape [3, 2] at dimension 0"
    /// );
    /// ```
    pub fn try_index_select(&self, dim: isize, indices: &[usize]) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let axis = axis_for("index_select", dim, shape.len(), &shape)?;
        // A 0-dim tensor is treated as one entry along a dim of size 1, as in PyTorch.
        let scalar = shape.is_empty();
        if scalar && indices.len() != 1 {
            return Err(ShapeError::new(format!(
                "index_select: index to a 0-dim tensor can have only 1 value, got {}",
                indices.len()
            )));
        }
        let work_shape = if scalar { vec![1] } else { shape.clone() };
        if let Some(&bad) = indices.iter().find(|&&i| i >= work_shape[axis]) {
            return Err(ShapeError::new(format!(
                "index_select: index {bad} out of range for tensor of shape {shape:?} at dimension {axis}"
            )));
        }
        let mut out_shape = work_shape.clone();
        out_shape[axis] = indices.len();
        crate::numel::checked_numel::<E>("index_select", &out_shape)?;
        let mut out = ArrayD::zeros(IxDyn(&out_shape));
        {
            let x = self.data();
            let x = x.view().into_shape_with_order(IxDyn(&work_shape)).expect("same element count");
            for (i, &index) in indices.iter().enumerate() {
                out.index_axis_mut(Axis(axis), i).assign(&x.index_axis(Axis(axis), index));
            }
        }
        let data = if scalar { out.into_shape_with_order(IxDyn(&[])).expect("one element") } else { out };
        let indices = indices.to_vec();
        Ok(TensorBase::from_op(data, "IndexSelectBackward0", &[self], move |grad, _| {
            let grad = reshape_owned(grad, &out_shape);
            let mut full = ArrayD::zeros(IxDyn(&work_shape));
            for (i, &index) in indices.iter().enumerate() {
                let mut row = full.index_axis_mut(Axis(axis), index);
                row += &grad.index_axis(Axis(axis), i);
            }
            vec![Some(reshape_owned(full, &shape))]
        }))
    }
}
