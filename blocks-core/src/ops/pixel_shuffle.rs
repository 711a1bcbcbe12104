//! `pixel_shuffle`: channels `C·r²` of `[*, C·r², H, W]` rearranged into
//! `r × r` blocks of `[*, C, H·r, W·r]`, as in sub-pixel convolution
//! upsampling (PixelShuffleBackward0).

use ndarray::{ArrayD, IxDyn};

use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// The channels of `self` (`[*, C·r², H, W]`) rearranged into space:
    /// output `[*, C, H·r, W·r]` at `(c, h·r + i, w·r + j)` is input
    /// `(c·r² + i·r + j, h, w)`, like `torch.nn.functional.pixel_shuffle`
    /// (PixelShuffleBackward0).
    ///
    /// # Panics
    /// On an input of fewer than 3 dims, a zero factor, or channels not
    /// divisible by `r²` (see [`try_pixel_shuffle`](Self::try_pixel_shuffle)).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 4, 1, 1]);
    /// let y = x.pixel_shuffle(2);
    /// assert_eq!(y.shape(), vec![1, 1, 2, 2]);
    /// assert_eq!(y.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn pixel_shuffle(&self, upscale_factor: usize) -> Self {
        or_panic(self.try_pixel_shuffle(upscale_factor))
    }

    /// Like [`pixel_shuffle`](Self::pixel_shuffle), returning an error on shapes that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] with PyTorch's message for an input of fewer than 3
    /// dims, a zero factor, or channels not divisible by the factor's square.
    ///
    /// ```
    /// let err = blocks_core::Tensor::zeros([1, 5, 2, 2]).try_pixel_shuffle(2).unwrap_err();
    /// assert!(err.to_string().ends_with("input.size(-3)=5 is not divisible by 4"));
    /// ```
    pub fn try_pixel_shuffle(&self, upscale_factor: usize) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let r = upscale_factor;
        let fail = |why: String| ShapeError::new(format!("pixel_shuffle: input {shape:?}: {why}"));
        if shape.len() < 3 {
            return Err(fail(format!(
                "pixel_shuffle expects input to have at least 3 dimensions, but got input with {} dimension(s)",
                shape.len()
            )));
        }
        if r == 0 {
            return Err(fail(format!("pixel_shuffle expects a positive upscale_factor, but got {r}")));
        }
        let rank = shape.len();
        let (c, h, w) = (shape[rank - 3], shape[rank - 2], shape[rank - 1]);
        let square = r.checked_mul(r).filter(|&s| c.is_multiple_of(s));
        let Some(square) = square else {
            return Err(fail(format!(
                "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of \
                 upscale_factor, but input.size(-3)={c} is not divisible by {}",
                r.saturating_mul(r)
            )));
        };
        let oc = c / square;
        let (Some(oh), Some(ow)) = (h.checked_mul(r), w.checked_mul(r)) else {
            return Err(fail(format!("the output's size ({h} x {w} times {r}) overflows")));
        };
        let batch: usize = shape[..rank - 3].iter().product();
        // The input index of each output element of one image, in output order.
        let sources: Vec<usize> = (0..oc)
            .flat_map(|ch| {
                (0..oh).flat_map(move |y| {
                    (0..ow).map(move |x| ((ch * square + (y % r) * r + x % r) * h + y / r) * w + x / r)
                })
            })
            .collect();
        let image = c * h * w;
        let x = self.data();
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let mut out = Vec::with_capacity(batch * image);
        for img in xs.chunks_exact(image.max(1)).take(batch) {
            out.extend(sources.iter().map(|&s| img[s]));
        }
        let mut out_shape = shape[..rank - 3].to_vec();
        out_shape.extend([oc, oh, ow]);
        let data = ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("shuffled size");
        Ok(TensorBase::from_op(data, "PixelShuffleBackward0", &[self], move |grad, _| {
            let grad = grad.as_standard_layout();
            let gs = grad.as_slice().expect("standard layout");
            let mut dx = vec![E::zero(); batch * image];
            for (d, g) in dx.chunks_exact_mut(image.max(1)).zip(gs.chunks_exact(image.max(1))) {
                for (&s, &g) in sources.iter().zip(g) {
                    d[s] = g;
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
    fn pixel_shuffle_gradcheck_in_float64() {
        let values = (0..2 * 8 * 2 * 3).map(|i| i as f64 / 10.0 - 4.0).collect();
        let x = Tensor64::from_vec(values, [2, 8, 2, 3]).requires_grad_(true);
        let f = |t: &[Tensor64]| {
            let y = t[0].pixel_shuffle(2);
            (&y * &y).sum()
        };
        gradcheck(f, std::slice::from_ref(&x)).unwrap();
        let y = x.pixel_shuffle(2);
        assert_eq!(y.shape(), vec![2, 2, 4, 6]);
        assert_eq!(y.grad_fn(), Some("PixelShuffleBackward0"));
        // Output (c=0, y=1, x=0) is input channel 0·4 + 1·2 + 0 = 2 at (0, 0).
        assert_eq!(y.to_vec()[6], x.to_vec()[2 * 6]);
    }

    #[test]
    fn hostile_factors_are_errors_not_overflows() {
        let empty = Tensor64::zeros([1, 0, 5, 5]);
        assert!(empty.try_pixel_shuffle(usize::MAX).is_err());
        assert!(empty.try_pixel_shuffle(1 << 63).is_err());
        assert!(Tensor64::zeros([1, 4, 2, 2]).try_pixel_shuffle(0).is_err());
    }
}
