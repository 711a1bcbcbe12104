//! Softmax and log-softmax along a dim, numerically stable (the lane's
//! maximum is subtracted before exponentiating).

use ndarray::{ArrayD, ArrayView1, ArrayViewD, ArrayViewMutD, Axis, IxDyn, Zip};

use super::axes::normalize_axis;
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

/// The maximum `m` of a lane and `log Σ exp(v − m)`; their sum is the lane's
/// log-sum-exp. Kept apart, `(v − m) − log_sum` is exact for large logits.
///
/// As in PyTorch's kernels, a lane that holds NaN or whose maximum is infinite gives NaN.
pub(crate) fn max_and_log_sum<E: Element>(lane: ArrayView1<'_, E>) -> (E, E) {
    let m = lane_max(lane);
    (m, lane.fold(E::zero(), |s, &v| s + (v - m).exp()).ln())
}

/// The largest value of a lane (NaN is skipped here and propagates through the sums).
fn lane_max<E: Element>(lane: ArrayView1<'_, E>) -> E {
    lane.fold(E::neg_infinity(), |m, &v| if v > m { v } else { m })
}

/// `array` seen with at least one axis (a 0-d array as shape `[1]`).
fn lanes_view<E: Element>(array: &ArrayD<E>) -> ArrayViewD<'_, E> {
    if array.ndim() == 0 {
        array.view().into_shape_with_order(IxDyn(&[1])).expect("one element")
    } else {
        array.view()
    }
}

fn lanes_view_mut<E: Element>(array: &mut ArrayD<E>) -> ArrayViewMutD<'_, E> {
    if array.ndim() == 0 {
        array.view_mut().into_shape_with_order(IxDyn(&[1])).expect("one element")
    } else {
        array.view_mut()
    }
}

impl<E: Element> TensorBase<E> {
    /// `exp(x) / Σ exp(x)` along `dim`, like `torch.softmax(x, dim)` (SoftmaxBackward0).
    ///
    /// Stable for large inputs. Panics on a bad dim.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let p = Tensor::from_vec(vec![1.0, 2.0, 3.0], [3]).softmax(0);
    /// let rounded: Vec<f32> = p.to_vec().iter().map(|v| (v * 1e4).round() / 1e4).collect();
    /// assert_eq!(rounded, vec![0.09, 0.2447, 0.6652]);
    /// ```
    #[track_caller]
    pub fn softmax(&self, dim: isize) -> Self {
        or_panic(self.try_softmax(dim))
    }

    /// Like [`softmax`](Self::softmax), returning an error on a bad dim.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::zeros([2, 3]).try_softmax(2).is_err());
    /// ```
    pub fn try_softmax(&self, dim: isize) -> Result<Self, ShapeError> {
        let mut data = self.data().to_owned();
        let axis = normalize_axis("softmax", dim, data.ndim())?;
        for mut lane in lanes_view_mut(&mut data).lanes_mut(Axis(axis)) {
            let m = lane_max(lane.view());
            lane.mapv_inplace(|v| (v - m).exp());
            let sum = lane.sum();
            lane.mapv_inplace(|v| v / sum);
        }
        Ok(TensorBase::from_op(data, "SoftmaxBackward0", &[self], move |mut grad, ctx| {
            let y = ctx.output();
            // dx = y * (g - Σ g·y) along the dim.
            Zip::from(lanes_view_mut(&mut grad).lanes_mut(Axis(axis)))
                .and(lanes_view(&y).lanes(Axis(axis)))
                .for_each(|mut g, y| {
                    let dot = g.iter().zip(y.iter()).fold(E::zero(), |s, (&g, &y)| s + g * y);
                    Zip::from(&mut g).and(&y).for_each(|g, &y| *g = y * (*g - dot));
                });
            vec![Some(grad)]
        }))
    }

    /// `x − log Σ exp(x)` along `dim`, like `torch.log_softmax(x, dim)` (LogSoftmaxBackward0).
    ///
    /// Stable for large inputs (no overflow, no `log 0`). Panics on a bad dim.
    ///
    /// ```
    /// use blocks_core::Tensor64;
    /// let y = Tensor64::from_vec(vec![1000.0, 1000.0], [1, 2]).log_softmax(-1);
    /// assert_eq!(y.to_vec(), vec![-std::f64::consts::LN_2; 2]);
    /// ```
    #[track_caller]
    pub fn log_softmax(&self, dim: isize) -> Self {
        or_panic(self.try_log_softmax(dim))
    }

    /// Like [`log_softmax`](Self::log_softmax), returning an error on a bad dim.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::zeros([2, 3]).try_log_softmax(-3).is_err());
    /// ```
    pub fn try_log_softmax(&self, dim: isize) -> Result<Self, ShapeError> {
        let mut data = self.data().to_owned();
        let axis = normalize_axis("log_softmax", dim, data.ndim())?;
        for mut lane in lanes_view_mut(&mut data).lanes_mut(Axis(axis)) {
            let (m, log_sum) = max_and_log_sum(lane.view());
            lane.mapv_inplace(|v| v - m - log_sum);
        }
        Ok(TensorBase::from_op(data, "LogSoftmaxBackward0", &[self], move |mut grad, ctx| {
            let y = ctx.output();
            // dx = g - exp(y) * Σ g along the dim.
            Zip::from(lanes_view_mut(&mut grad).lanes_mut(Axis(axis)))
                .and(lanes_view(&y).lanes(Axis(axis)))
                .for_each(|mut g, y| {
                    let sum = g.sum();
                    Zip::from(&mut g).and(&y).for_each(|g, &y| *g -= y.exp() * sum);
                });
            vec![Some(grad)]
        }))
    }
}
