//! Picking entries by int64 indices: `gather` along a dim (GatherBackward0,
//! whose backward scatter-adds) and `one_hot` (indices to a float one-hot
//! encoding, no gradient). Indices are [`Indices`], PyTorch's int64 tensors.

use ndarray::{ArrayD, IxDyn};

use super::axes::normalize_axis;
use super::shape::contiguous;
use crate::error::or_panic;
use crate::{Element, Indices, ShapeError, TensorBase};

/// Row-major strides of `shape`.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * shape[i + 1];
    }
    strides
}

/// For every index position (row-major), the offset of the element of an
/// input of `shape` it picks: its own coordinates with `index` in `axis`.
fn source_offsets(shape: &[usize], axis: usize, index: &Indices) -> Vec<usize> {
    let (source, target) = (strides(shape), strides(index.shape()));
    index
        .as_slice()
        .iter()
        .enumerate()
        .map(|(flat, &picked)| {
            let mut offset = 0;
            for (d, (&s, &t)) in source.iter().zip(&target).enumerate() {
                let coordinate = if d == axis { picked } else { (flat / t) % index.shape()[d] };
                offset += coordinate * s;
            }
            offset
        })
        .collect()
}

impl<E: Element> TensorBase<E> {
    /// The entries of `self` picked along `dim` by `index`, like
    /// `torch.gather(x, dim, index)` (GatherBackward0): for a 3-D input and
    /// `dim = 1`, `out[i][j][k] = x[i][index[i][j][k]][k]`. The output has the
    /// index's shape; the gradient of a repeated pick accumulates.
    ///
    /// # Panics
    /// With PyTorch's messages, when `index` has another number of dims, is
    /// larger than `self` in a dim other than `dim`, or holds an index out of
    /// range; see [`try_gather`](Self::try_gather).
    ///
    /// ```
    /// use blocks_core::{Indices, Tensor};
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    /// let picked = x.gather(1, &Indices::from_vec(vec![0, 0, 1, 0], [2, 2]));
    /// assert_eq!(picked.to_vec(), vec![1.0, 1.0, 4.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn gather(&self, dim: isize, index: &Indices) -> Self {
        or_panic(self.try_gather(dim, index))
    }

    /// Like [`gather`](Self::gather), returning an error on a bad dim or index.
    ///
    /// # Errors
    /// A [`ShapeError`] with PyTorch's wording, prefixed by `gather:`.
    ///
    /// ```
    /// use blocks_core::{Indices, Tensor};
    /// let error = Tensor::zeros([2, 3]).try_gather(1, &Indices::from_vec(vec![3], [1, 1])).unwrap_err();
    /// assert_eq!(error.to_string(), "gather: index 3 is out of bounds for dimension 1 with size 3");
    /// ```
    pub fn try_gather(&self, dim: isize, index: &Indices) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let axis = normalize_axis("gather", dim, shape.len())?;
        // A 0-dim input is one entry along a dim of size 1, as in PyTorch.
        let work_shape = if shape.is_empty() { vec![1] } else { shape.clone() };
        let index_ndim = index.shape().len().max(1);
        if index_ndim != work_shape.len() {
            return Err(ShapeError::new(format!(
                "gather: Index tensor must have the same number of dimensions as input tensor \
                 (index {:?}, input {shape:?})",
                index.shape()
            )));
        }
        let index_work_shape = if index.shape().is_empty() { vec![1] } else { index.shape().to_vec() };
        for d in 0..work_shape.len() {
            if d != axis && index_work_shape[d] > work_shape[d] {
                return Err(ShapeError::new(format!(
                    "gather: Size does not match at dimension {d} expected index {:?} to be no larger \
                     than self {shape:?} apart from dimension {axis}",
                    index.shape()
                )));
            }
        }
        if let Some(&bad) = index.as_slice().iter().find(|&&i| i >= work_shape[axis]) {
            return Err(ShapeError::new(format!(
                "gather: index {bad} is out of bounds for dimension {axis} with size {}",
                work_shape[axis]
            )));
        }
        let work_index = Indices::try_from_vec(index.to_vec(), &index_work_shape)?;
        let offsets = source_offsets(&work_shape, axis, &work_index);
        let data = {
            let x = contiguous(self.data().view());
            let x = x.as_slice().expect("a row-major copy");
            let values = offsets.iter().map(|&o| x[o]).collect();
            ArrayD::from_shape_vec(IxDyn(index.shape()), values).expect("one value per index")
        };
        Ok(TensorBase::from_op(data, "GatherBackward0", &[self], move |grad, _| {
            let mut full = vec![E::zero(); shape.iter().product()];
            for (&o, &g) in offsets.iter().zip(grad.iter()) {
                full[o] += g;
            }
            vec![Some(ArrayD::from_shape_vec(IxDyn(&shape), full).expect("the input's element count"))]
        }))
    }
}

impl Indices {
    /// The one-hot encoding of these class indices as floats, like
    /// `F.one_hot(index, num_classes).float()`: shape `[..., C]` with a 1 at
    /// each index and 0 elsewhere, no gradient. `None` takes `C` as the
    /// largest index plus one, like PyTorch's `num_classes=-1`.
    ///
    /// # Panics
    /// With PyTorch's message when an index is `>= num_classes`; see
    /// [`try_one_hot`](Self::try_one_hot).
    ///
    /// ```
    /// use blocks_core::{Indices, Tensor};
    /// let labels = Indices::from_vec(vec![0, 2], [2]);
    /// let encoded: Tensor = labels.one_hot(Some(3));
    /// assert_eq!(encoded.shape(), [2, 3]);
    /// assert_eq!(encoded.to_vec(), vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn one_hot<E: Element>(&self, num_classes: Option<usize>) -> TensorBase<E> {
        or_panic(self.try_one_hot(num_classes))
    }

    /// Like [`one_hot`](Self::one_hot), returning an error on an index out
    /// of range or an output too large to allocate.
    ///
    /// # Errors
    /// A [`ShapeError`] naming `one_hot` and the problem.
    ///
    /// ```
    /// use blocks_core::{Indices, Tensor};
    /// let error = Indices::from_vec(vec![3], [1]).try_one_hot::<f32>(Some(3)).unwrap_err();
    /// assert_eq!(error.to_string(), "one_hot: Class values must be smaller than num_classes (got 3 for 3 classes)");
    /// ```
    pub fn try_one_hot<E: Element>(&self, num_classes: Option<usize>) -> Result<TensorBase<E>, ShapeError> {
        let largest = self.as_slice().iter().copied().max();
        let classes = match num_classes {
            Some(classes) => classes,
            None if self.numel() == 0 => {
                return Err(ShapeError::new(
                    "one_hot: Can not infer total number of classes from empty tensor.",
                ));
            }
            None => largest.expect("not empty") + 1,
        };
        if let Some(bad) = largest.filter(|&l| l >= classes) {
            return Err(ShapeError::new(format!(
                "one_hot: Class values must be smaller than num_classes (got {bad} for {classes} classes)"
            )));
        }
        let mut shape = self.shape().to_vec();
        shape.push(classes);
        crate::numel::checked_numel::<E>("one_hot", &shape)?;
        crate::numel::checked_alloc::<E>("one_hot", "the output", &shape)?;
        let mut values = vec![E::zero(); self.numel() * classes];
        for (row, &class) in self.as_slice().iter().enumerate() {
            values[row * classes + class] = E::one();
        }
        Ok(TensorBase::from_vec(values, &shape))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Indices, Tensor64, gradcheck};

    #[test]
    fn gather_passes_gradcheck_with_repeats() {
        let x = Tensor64::from_vec((0..12).map(|v| v as f64 * 0.3 - 1.0).collect(), [2, 3, 2])
            .requires_grad_(true);
        let index = Indices::from_vec(vec![2, 0, 2, 2, 1, 0, 0, 1], [2, 2, 2]);
        gradcheck(|t| t[0].gather(1, &index), std::slice::from_ref(&x)).unwrap();
        let last = Indices::from_vec(vec![1, 1, 0], [1, 3, 1]);
        gradcheck(|t| t[0].gather(-1, &last), std::slice::from_ref(&x)).unwrap();
        assert_eq!(x.gather(1, &index).grad_fn(), Some("GatherBackward0"));
    }

    #[test]
    fn gather_accumulates_the_gradient_of_repeated_picks() {
        let x = Tensor64::from_vec(vec![1.0, 2.0, 3.0], [3]).requires_grad_(true);
        let y = x.gather(0, &Indices::from_vec(vec![2, 2, 0, 2], [4]));
        assert_eq!(y.to_vec(), vec![3.0, 3.0, 1.0, 3.0]);
        y.sum().backward();
        assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 0.0, 3.0]);
    }

    #[test]
    fn gather_refuses_bad_indices_with_pytorchs_words() {
        let x = Tensor64::zeros([2, 3]);
        let message = |index: Indices| x.try_gather(1, &index).unwrap_err().to_string();
        assert_eq!(
            message(Indices::from_vec(vec![0, 0], [2])),
            "gather: Index tensor must have the same number of dimensions as input tensor (index [2], input [2, 3])"
        );
        assert_eq!(
            message(Indices::from_vec(vec![0; 9], [3, 3])),
            "gather: Size does not match at dimension 0 expected index [3, 3] to be no larger than self [2, 3] \
             apart from dimension 1"
        );
        assert!(x.try_gather(2, &Indices::from_vec(vec![0], [1, 1])).is_err());
        let gather = std::panic::AssertUnwindSafe(|| x.gather(0, &Indices::from_vec(vec![2], [1, 1])));
        let caught = std::panic::catch_unwind(gather).unwrap_err();
        assert_eq!(
            *caught.downcast::<String>().unwrap(),
            "gather: index 2 is out of bounds for dimension 0 with size 2"
        );
    }

    #[test]
    fn one_hot_infers_the_class_count_and_refuses_large_indices() {
        let labels = Indices::from_vec(vec![1, 0, 3, 1], [2, 2]);
        let encoded: Tensor64 = labels.one_hot(None);
        assert_eq!(encoded.shape(), [2, 2, 4]);
        assert_eq!(encoded.sum_dim(&[-1], false).to_vec(), vec![1.0; 4]);
        assert_eq!(encoded.to_vec()[8..12], [0.0, 0.0, 0.0, 1.0]);
        assert!(!encoded.requires_grad());
        assert!(labels.try_one_hot::<f64>(Some(3)).is_err());
        assert!(Indices::from_vec(vec![], [0]).try_one_hot::<f64>(None).is_err());
        assert_eq!(Indices::from_vec(vec![], [0]).one_hot::<f64>(Some(2)).shape(), [0, 2]);
        assert!(labels.try_one_hot::<f64>(Some(usize::MAX / 2)).is_err());
    }
}
