//! Sums and means, over all elements or over chosen axes (with `keepdim`).

use ndarray::{ArrayD, Axis, IxDyn};

use super::axes::normalize_axes;
use crate::autograd::pool;
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// The sum of all elements as a zero-dimensional tensor (SumBackward0).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]);
    /// assert_eq!(x.sum().item(), 6.0);
    /// ```
    pub fn sum(&self) -> Self {
        let (data, shape) = {
            let x = self.data();
            (ArrayD::from_elem(IxDyn(&[]), x.sum()), x.raw_dim())
        };
        TensorBase::from_op(data, "SumBackward0", &[self], move |grad, _| {
            vec![Some(pool::full(shape.clone(), grad[[]]))]
        })
    }

    /// The mean of all elements as a zero-dimensional tensor (MeanBackward0).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]);
    /// assert_eq!(x.mean().item(), 2.0);
    /// ```
    pub fn mean(&self) -> Self {
        let (data, shape, count) = {
            let x = self.data();
            let count = E::from_usize(x.len()).expect("length fits");
            (ArrayD::from_elem(IxDyn(&[]), x.sum() / count), x.raw_dim(), count)
        };
        TensorBase::from_op(data, "MeanBackward0", &[self], move |grad, _| {
            vec![Some(pool::full(shape.clone(), grad[[]] / count))]
        })
    }

    /// The sum over `dims` (negative dims count from the end), keeping them
    /// as size-1 axes when `keepdim` (SumBackward1). Panics on a bad dim.
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([2, 3]);
    /// assert_eq!(x.sum_dim(&[1], false).to_vec(), vec![3.0, 3.0]);
    /// assert_eq!(x.sum_dim(&[-1], true).shape(), vec![2, 1]);
    /// ```
    #[track_caller]
    pub fn sum_dim(&self, dims: &[isize], keepdim: bool) -> Self {
        or_panic(self.try_reduce_dims("sum", "SumBackward1", dims, keepdim, false))
    }

    /// Like [`sum_dim`](Self::sum_dim), returning an error on a bad dim.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::ones([2]).try_sum_dim(&[3], false).is_err());
    /// ```
    pub fn try_sum_dim(&self, dims: &[isize], keepdim: bool) -> Result<Self, ShapeError> {
        self.try_reduce_dims("sum", "SumBackward1", dims, keepdim, false)
    }

    /// The mean over `dims`, keeping them when `keepdim` (MeanBackward1). Panics on a bad dim.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 3.0, 5.0, 7.0], [2, 2]);
    /// assert_eq!(x.mean_dim(&[0], false).to_vec(), vec![3.0, 5.0]);
    /// ```
    #[track_caller]
    pub fn mean_dim(&self, dims: &[isize], keepdim: bool) -> Self {
        or_panic(self.try_reduce_dims("mean", "MeanBackward1", dims, keepdim, true))
    }

    /// Like [`mean_dim`](Self::mean_dim), returning an error on a bad dim.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::ones([2]).try_mean_dim(&[-2], false).is_err());
    /// ```
    pub fn try_mean_dim(&self, dims: &[isize], keepdim: bool) -> Result<Self, ShapeError> {
        self.try_reduce_dims("mean", "MeanBackward1", dims, keepdim, true)
    }

    fn try_reduce_dims(
        &self,
        op: &str,
        grad_fn: &'static str,
        dims: &[isize],
        keepdim: bool,
        mean: bool,
    ) -> Result<Self, ShapeError> {
        let x = self.data();
        let axes = normalize_axes(op, dims, x.ndim())?;
        let input_shape = x.raw_dim();
        let mut kept_shape = x.shape().to_vec();
        let mut count = 1usize;
        // The first reduction reads the input in place; only the (smaller)
        // partial sums are owned.
        let mut data: Option<ArrayD<E>> = None;
        if x.ndim() > 0 {
            for &axis in axes.iter().rev() {
                count *= x.shape()[axis];
                kept_shape[axis] = 1;
                data = Some(match data {
                    Some(partial) => partial.sum_axis(Axis(axis)),
                    None => x.sum_axis(Axis(axis)),
                });
            }
        }
        let mut data = data.unwrap_or_else(|| x.to_owned());
        drop(x);
        let count = E::from_usize(count).expect("count fits");
        if mean {
            data.mapv_inplace(|v| v / count);
        }
        if keepdim {
            data = data.into_shape_with_order(IxDyn(&kept_shape)).expect("same element count");
        }
        Ok(TensorBase::from_op(data, grad_fn, &[self], move |grad, _| {
            let grad = grad.into_shape_with_order(IxDyn(&kept_shape)).expect("same element count");
            let grad = grad.broadcast(input_shape.clone()).expect("kept shape broadcasts");
            // One pass: the broadcast gradient (divided by the count for a mean) into new storage.
            let full = if mean { grad.mapv(|v| v / count) } else { grad.to_owned() };
            vec![Some(full)]
        }))
    }
}
