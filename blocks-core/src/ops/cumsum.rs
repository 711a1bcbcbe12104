//! Running sums along a dim: `cumsum` (CumsumBackward0), whose backward is
//! the running sum of the gradient taken from the other end.

use ndarray::{ArrayD, Axis};

use super::axes::normalize_axis;
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

/// `array` with each lane along `axis` replaced by its running sum, from the
/// end when `reverse`.
fn running_sum<E: Element>(mut array: ArrayD<E>, axis: Axis, reverse: bool) -> ArrayD<E> {
    if array.ndim() == 0 {
        return array;
    }
    for mut lane in array.lanes_mut(axis) {
        let mut total = E::zero();
        let mut add = |v: &mut E| {
            total += *v;
            *v = total;
        };
        if reverse {
            lane.iter_mut().rev().for_each(&mut add);
        } else {
            lane.iter_mut().for_each(&mut add);
        }
    }
    array
}

impl<E: Element> TensorBase<E> {
    /// The running sum along `dim`, like `torch.cumsum(x, dim)` (CumsumBackward0).
    ///
    /// # Panics
    /// When `dim` is out of range; see [`try_cumsum`](Self::try_cumsum).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]).requires_grad_(true);
    /// let y = x.cumsum(1);
    /// assert_eq!(y.to_vec(), vec![1.0, 3.0, 3.0, 7.0]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![2.0, 1.0, 2.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn cumsum(&self, dim: isize) -> Self {
        or_panic(self.try_cumsum(dim))
    }

    /// Like [`cumsum`](Self::cumsum), returning an error when `dim` is out of range.
    ///
    /// # Errors
    /// A [`ShapeError`] with PyTorch's "Dimension out of range" wording.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::zeros([2, 3]).try_cumsum(2).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "cumsum: Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    /// );
    /// ```
    pub fn try_cumsum(&self, dim: isize) -> Result<Self, ShapeError> {
        let axis = Axis(normalize_axis("cumsum", dim, self.ndim())?);
        let data = running_sum(self.to_array(), axis, false);
        Ok(TensorBase::from_op(data, "CumsumBackward0", &[self], move |grad, _| {
            vec![Some(running_sum(grad, axis, true))]
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck};

    #[test]
    fn cumsum_passes_gradcheck_along_every_dim() {
        let x = Tensor64::from_vec((0..24).map(|v| (v as f64 * 0.37).sin()).collect(), [2, 3, 4])
            .requires_grad_(true);
        for dim in [0, 1, 2, -1] {
            gradcheck(|t| t[0].cumsum(dim), std::slice::from_ref(&x)).unwrap();
        }
        assert_eq!(x.cumsum(0).grad_fn(), Some("CumsumBackward0"));
    }

    #[test]
    fn cumsum_of_a_scalar_is_itself() {
        let x = Tensor64::from_vec(vec![2.5], []);
        assert_eq!(x.cumsum(0).to_vec(), vec![2.5]);
        assert_eq!(x.cumsum(-1).shape(), Vec::<usize>::new());
    }
}
