//! `adaptive_max_pool2d`: the largest value over an adaptive grid of
//! windows giving the output size exactly (PyTorch's window rule: window
//! `i` of `out` over `input` is `floor(i·input/out) .. ceil((i+1)·input/out)`),
//! the first largest value on ties (AdaptiveMaxPool2DBackward0).

use ndarray::{ArrayD, IxDyn};

use crate::error::or_panic;
use crate::numel::checked_alloc;
use crate::{Element, ShapeError, TensorBase};

/// The window `floor(i·input/output) .. ceil((i+1)·input/output)`, in u128
/// so that the products cannot overflow.
fn bounds(i: usize, input: usize, output: usize) -> (usize, usize) {
    let (i, input, output) = (i as u128, input as u128, output as u128);
    ((i * input / output) as usize, ((i + 1) * input).div_ceil(output) as usize)
}

impl<E: Element> TensorBase<E> {
    /// The largest value over an adaptive grid of windows, like
    /// `torch.nn.functional.adaptive_max_pool2d(input, output_size)`
    /// (AdaptiveMaxPool2DBackward0); the gradient goes to the first largest
    /// value of each window (a NaN counts as the largest).
    ///
    /// # Panics
    /// On an input that is not 3-D or 4-D, or a zero size (see [`try_adaptive_max_pool2d`](Self::try_adaptive_max_pool2d)).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec((0..12).map(|v| v as f32).collect(), [1, 1, 3, 4]);
    /// assert_eq!(x.adaptive_max_pool2d([2, 2]).to_vec(), vec![5.0, 7.0, 9.0, 11.0]);
    /// ```
    #[track_caller]
    pub fn adaptive_max_pool2d(&self, output_size: [usize; 2]) -> Self {
        or_panic(self.try_adaptive_max_pool2d(output_size))
    }

    /// Like [`adaptive_max_pool2d`](Self::adaptive_max_pool2d), returning an error on sizes that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] naming the op and the shapes for an input that is
    /// not 3-D or 4-D, a zero input or output size, or an output too large.
    ///
    /// ```
    /// let err = blocks_core::Tensor::zeros([2, 3]).try_adaptive_max_pool2d([1, 1]).unwrap_err();
    /// assert!(err.to_string().starts_with("adaptive_max_pool2d: input [2, 3]"));
    /// ```
    pub fn try_adaptive_max_pool2d(&self, output_size: [usize; 2]) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let fail = |why: String| {
            ShapeError::new(format!(
                "adaptive_max_pool2d: input {shape:?}, output_size {output_size:?}: {why}"
            ))
        };
        if shape.len() != 3 && shape.len() != 4 {
            return Err(fail("expected a 3-D (unbatched) or 4-D (batched) input".into()));
        }
        let (h, w) = (shape[shape.len() - 2], shape[shape.len() - 1]);
        let planes: usize = shape[..shape.len() - 2].iter().product();
        let [oh, ow] = output_size;
        if h == 0 || w == 0 || oh == 0 || ow == 0 {
            return Err(fail("sizes must be positive".into()));
        }
        checked_alloc::<E>("adaptive_max_pool2d", "the output", &[planes, oh, ow])
            .map_err(|error| fail(error.to_string().replacen("adaptive_max_pool2d: ", "", 1)))?;
        let mut values = Vec::with_capacity(planes * oh * ow);
        let mut argmax = Vec::with_capacity(planes * oh * ow);
        {
            let x = self.data();
            let x = x.as_standard_layout();
            for plane in x.as_slice().expect("standard layout").chunks_exact(h * w) {
                for oy in 0..oh {
                    let (y0, y1) = bounds(oy, h, oh);
                    for ox in 0..ow {
                        let (x0, x1) = bounds(ox, w, ow);
                        let mut best = (y0 * w + x0, plane[y0 * w + x0]);
                        for y in y0..y1 {
                            for (at, &v) in plane.iter().enumerate().take(y * w + x1).skip(y * w + x0) {
                                if v > best.1 || (v.is_nan() && !best.1.is_nan()) {
                                    best = (at, v);
                                }
                            }
                        }
                        argmax.push(best.0);
                        values.push(best.1);
                    }
                }
            }
        }
        let mut out_shape = shape[..shape.len() - 2].to_vec();
        out_shape.extend([oh, ow]);
        let data = ArrayD::from_shape_vec(IxDyn(&out_shape), values).expect("pooled size");
        Ok(TensorBase::from_op(data, "AdaptiveMaxPool2DBackward0", &[self], move |grad, _| {
            let grad = grad.as_standard_layout();
            let grad = grad.as_slice().expect("standard layout");
            let mut dx = vec![E::zero(); planes * h * w];
            for ((dx, g), picks) in
                dx.chunks_exact_mut(h * w).zip(grad.chunks_exact(oh * ow)).zip(argmax.chunks_exact(oh * ow))
            {
                for (&g, &at) in g.iter().zip(picks) {
                    dx[at] += g;
                }
            }
            vec![Some(ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input size"))]
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck};

    #[test]
    fn adaptive_max_pool2d_gradcheck_in_float64() {
        let len = 2 * 3 * 5 * 7;
        let values = (0..len).map(|i| ((i * 41) % len) as f64 / 10.0 - 5.0).collect();
        let x = Tensor64::from_vec(values, [2, 3, 5, 7]).requires_grad_(true);
        for size in [[2, 3], [5, 7], [1, 1], [4, 2]] {
            let f = |t: &[Tensor64]| {
                let y = t[0].adaptive_max_pool2d(size);
                (&y * &y).sum()
            };
            gradcheck(f, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("{size:?}: {e}"));
        }
        assert_eq!(x.adaptive_max_pool2d([2, 3]).grad_fn(), Some("AdaptiveMaxPool2DBackward0"));
        // Overlapping windows: 5 -> 3 gives 0..2, 1..4, 3..5.
        let row = Tensor64::from_vec(vec![1.0, 9.0, 2.0, 3.0, 4.0], [1, 1, 5]).requires_grad_(true);
        let y = row.adaptive_max_pool2d([1, 3]);
        assert_eq!(y.to_vec(), vec![9.0, 9.0, 4.0]);
        y.sum().backward();
        assert_eq!(row.grad().unwrap().to_vec(), vec![0.0, 2.0, 0.0, 0.0, 1.0]);
    }

    #[test]
    fn hostile_sizes_are_errors_not_overflows() {
        let x = Tensor64::zeros([1, 1, 2, 2]);
        assert!(x.try_adaptive_max_pool2d([usize::MAX, usize::MAX]).is_err());
        assert!(x.try_adaptive_max_pool2d([0, 1]).is_err());
    }
}
