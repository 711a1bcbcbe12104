//! Joining tensors: `cat` along an existing dim and `stack` along a new one.
//! Each backward splits the gradient back into one piece per input.

use ndarray::{ArrayD, Axis, IxDyn, Slice};

use super::shape::{axis_for, contiguous};
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// The tensors joined along the existing dim `dim`, like `torch.cat(tensors, dim)`
    /// (CatBackward0). All must have the same shape except in `dim`. Panics
    /// naming every shape that does not fit; see [`try_cat`](Self::try_cat).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0], [1, 2]);
    /// let b = Tensor::from_vec(vec![3.0, 4.0, 5.0, 6.0], [2, 2]);
    /// assert_eq!(Tensor::cat(&[&a, &b], 0).shape(), vec![3, 2]);
    /// assert_eq!(Tensor::cat(&[&a, &a], -1).to_vec(), vec![1.0, 2.0, 1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn cat(tensors: &[&Self], dim: isize) -> Self {
        or_panic(Self::try_cat(tensors, dim))
    }

    /// Like [`cat`](Self::cat), returning an error when the shapes do not fit.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let (a, b) = (Tensor::zeros([2, 3]), Tensor::zeros([3, 3]));
    /// let error = Tensor::try_cat(&[&a, &b], 1).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "cat: sizes of tensors must match except in dimension 1, but got shapes \
    ///      [[2, 3], [3, 3]]: tensor 1 [3, 3] differs from tensor 0 [2, 3]"
    /// );
    /// ```
    pub fn try_cat(tensors: &[&Self], dim: isize) -> Result<Self, ShapeError> {
        // One snapshot per input (the same tensor may appear twice), taken
        // once, so that shapes and values agree even while others write.
        let values: Vec<_> = tensors.iter().map(|t| t.data()).collect();
        let shapes: Vec<Vec<usize>> = values.iter().map(|v| v.shape().to_vec()).collect();
        let Some(first) = shapes.first() else {
            return Err(ShapeError::new("cat: expected a non-empty list of tensors"));
        };
        if let Some(i) = shapes.iter().position(Vec::is_empty) {
            return Err(ShapeError::new(format!(
                "cat: zero-dimensional tensor (at position {i}) cannot be concatenated; got shapes {shapes:?}"
            )));
        }
        let axis = axis_for("cat", dim, first.len(), first)?;
        let fits = |shape: &Vec<usize>| {
            shape.len() == first.len()
                && shape.iter().zip(first).enumerate().all(|(i, (a, b))| i == axis || a == b)
        };
        let misfits = mismatches(&shapes, fits);
        if !misfits.is_empty() {
            return Err(ShapeError::new(format!(
                "cat: sizes of tensors must match except in dimension {axis}, but got shapes {shapes:?}: \
                 {misfits}"
            )));
        }
        let lengths: Vec<usize> = shapes.iter().map(|shape| shape[axis]).collect();
        let mut out_shape = first.clone();
        let total = lengths.iter().try_fold(0usize, |sum, &length| sum.checked_add(length));
        out_shape[axis] = total.unwrap_or(usize::MAX);
        crate::numel::checked_numel::<E>("cat", &out_shape)?;
        let mut out = ArrayD::zeros(IxDyn(&out_shape));
        let mut offset = 0;
        for (value, &length) in values.iter().zip(&lengths) {
            let range = Slice::from(offset..offset + length);
            out.slice_axis_mut(Axis(axis), range).assign(&**value);
            offset += length;
        }
        Ok(TensorBase::from_op(out, "CatBackward0", tensors, move |grad, ctx| {
            let mut offset = 0;
            let mut grads = Vec::with_capacity(lengths.len());
            for (i, &length) in lengths.iter().enumerate() {
                let range = Slice::from(offset..offset + length);
                grads.push(ctx.needs(i).then(|| contiguous(grad.slice_axis(Axis(axis), range))));
                offset += length;
            }
            grads
        }))
    }

    /// The tensors joined along a new dim `dim`, like `torch.stack(tensors, dim)`
    /// (StackBackward0). All must have the same shape; `dim` may range over
    /// `-(ndim + 1)..=ndim`. Panics naming every shape that differs; see
    /// [`try_stack`](Self::try_stack).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0], [2]);
    /// let b = Tensor::from_vec(vec![3.0, 4.0], [2]);
    /// assert_eq!(Tensor::stack(&[&a, &b], 0).to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(Tensor::stack(&[&a, &b], -1).to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn stack(tensors: &[&Self], dim: isize) -> Self {
        or_panic(Self::try_stack(tensors, dim))
    }

    /// Like [`stack`](Self::stack), returning an error when the shapes differ.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let (a, b) = (Tensor::zeros([2, 3]), Tensor::zeros([2, 4]));
    /// let error = Tensor::try_stack(&[&a, &b, &a], 0).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "stack: expects each tensor to be equal size, but got shapes \
    ///      [[2, 3], [2, 4], [2, 3]]: tensor 1 [2, 4] differs from tensor 0 [2, 3]"
    /// );
    /// ```
    pub fn try_stack(tensors: &[&Self], dim: isize) -> Result<Self, ShapeError> {
        let values: Vec<_> = tensors.iter().map(|t| t.data()).collect();
        let shapes: Vec<Vec<usize>> = values.iter().map(|v| v.shape().to_vec()).collect();
        let Some(first) = shapes.first() else {
            return Err(ShapeError::new("stack: expected a non-empty list of tensors"));
        };
        let axis = axis_for("stack", dim, first.len() + 1, first)?;
        let misfits = mismatches(&shapes, |shape| shape == first);
        if !misfits.is_empty() {
            return Err(ShapeError::new(format!(
                "stack: expects each tensor to be equal size, but got shapes {shapes:?}: {misfits}"
            )));
        }
        let mut out_shape = first.clone();
        out_shape.insert(axis, tensors.len());
        crate::numel::checked_numel::<E>("stack", &out_shape)?;
        let mut out = ArrayD::zeros(IxDyn(&out_shape));
        for (i, value) in values.iter().enumerate() {
            out.index_axis_mut(Axis(axis), i).assign(&**value);
        }
        let count = tensors.len();
        Ok(TensorBase::from_op(out, "StackBackward0", tensors, move |grad, ctx| {
            (0..count).map(|i| ctx.needs(i).then(|| contiguous(grad.index_axis(Axis(axis), i)))).collect()
        }))
    }
}

/// "tensor 1 [3, 3] and tensor 2 [4] differ from tensor 0 [2, 3]" for the
/// shapes after the first that do not pass `fits`; empty when all do.
fn mismatches(shapes: &[Vec<usize>], fits: impl Fn(&Vec<usize>) -> bool) -> String {
    let bad: Vec<String> = shapes
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, shape)| !fits(shape))
        .map(|(i, shape)| format!("tensor {i} {shape:?}"))
        .collect();
    if bad.is_empty() {
        return String::new();
    }
    let verb = if bad.len() == 1 { "differs" } else { "differ" };
    format!("{} {verb} from tensor 0 {:?}", join_words(&bad), shapes[0])
}

/// "a", "a and b", "a, b and c".
fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [only] => only.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
