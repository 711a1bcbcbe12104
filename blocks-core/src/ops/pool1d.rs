//! Pools over signals `[N, C, L]` (or unbatched `[C, L]`): `max_pool1d`,
//! `avg_pool1d` and `adaptive_avg_pool1d`, as PyTorch computes them: the
//! signal seen as an image one row high (`unsqueeze(-2)`), pooled by the
//! 2-d op with a window one row high, and the row taken off again
//! (`squeeze(-2)`, so the grad_fn is SqueezeBackward1, as there).

use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// Checks that `self` is a 2-D or 3-D signal, for `op`.
    fn signal(&self, op: &str) -> Result<(), ShapeError> {
        let shape = self.shape();
        if shape.len() != 2 && shape.len() != 3 {
            return Err(ShapeError::new(format!(
                "{op}: input {shape:?}: expected a 2-D (unbatched) or 3-D (batched) input"
            )));
        }
        Ok(())
    }

    /// The 2-d op's result on the signal one row high, its errors named for `op`.
    fn as_row(
        &self,
        op: &str,
        pool: impl FnOnce(&Self) -> Result<Self, ShapeError>,
    ) -> Result<Self, ShapeError> {
        self.signal(op)?;
        let pooled = pool(&self.unsqueeze(-2)).map_err(|error| {
            let why = error.to_string();
            let why = why.split_once(": ").map_or(why.as_str(), |(_, rest)| rest).to_string();
            ShapeError::new(format!("{op}: input {:?} (as one row): {why}", self.shape()))
        })?;
        Ok(pooled.squeeze_dim(-2))
    }

    /// The largest value of each window of the signal, like
    /// `torch.nn.functional.max_pool1d(input, kernel_size, stride, padding,
    /// dilation, ceil_mode)` (SqueezeBackward1 over the 2-d pool).
    ///
    /// # Panics
    /// On shapes or windows that do not fit (see [`try_max_pool1d`](Self::try_max_pool1d)).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 5.0, 2.0, 4.0, 3.0], [1, 1, 5]);
    /// assert_eq!(x.max_pool1d(2, 2, 0, 1, false).to_vec(), vec![5.0, 4.0]);
    /// assert_eq!(x.max_pool1d(2, 2, 0, 1, true).to_vec(), vec![5.0, 4.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn max_pool1d(
        &self,
        kernel: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
        ceil_mode: bool,
    ) -> Self {
        or_panic(self.try_max_pool1d(kernel, stride, padding, dilation, ceil_mode))
    }

    /// Like [`max_pool1d`](Self::max_pool1d), returning an error on shapes that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] for an input that is not 2-D or 3-D, a zero kernel,
    /// stride or dilation, padding over half the kernel, or an empty output.
    ///
    /// ```
    /// let err = blocks_core::Tensor::zeros([1, 1, 2]).try_max_pool1d(3, 1, 0, 1, false).unwrap_err();
    /// assert!(err.to_string().starts_with("max_pool1d: input [1, 1, 2]"));
    /// ```
    pub fn try_max_pool1d(
        &self,
        kernel: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
        ceil_mode: bool,
    ) -> Result<Self, ShapeError> {
        self.as_row("max_pool1d", |x| {
            x.try_max_pool2d([1, kernel], [1, stride], [0, padding], [1, dilation], ceil_mode)
        })
    }

    /// The mean of each window of the signal, like
    /// `torch.nn.functional.avg_pool1d(input, kernel_size, stride, padding,
    /// ceil_mode, count_include_pad)` (SqueezeBackward1 over the 2-d pool).
    ///
    /// # Panics
    /// On shapes or windows that do not fit (see [`try_avg_pool1d`](Self::try_avg_pool1d)).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 3.0, 2.0, 4.0], [1, 1, 4]);
    /// assert_eq!(x.avg_pool1d(2, 2, 0, false, true).to_vec(), vec![2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn avg_pool1d(
        &self,
        kernel: usize,
        stride: usize,
        padding: usize,
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> Self {
        or_panic(self.try_avg_pool1d(kernel, stride, padding, ceil_mode, count_include_pad))
    }

    /// Like [`avg_pool1d`](Self::avg_pool1d), returning an error on shapes that do not fit.
    ///
    /// # Errors
    /// As for [`try_max_pool1d`](Self::try_max_pool1d).
    ///
    /// ```
    /// let err = blocks_core::Tensor::zeros([4]).try_avg_pool1d(2, 2, 0, false, true).unwrap_err();
    /// assert!(err.to_string().contains("expected a 2-D (unbatched) or 3-D (batched) input"));
    /// ```
    pub fn try_avg_pool1d(
        &self,
        kernel: usize,
        stride: usize,
        padding: usize,
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> Result<Self, ShapeError> {
        self.as_row("avg_pool1d", |x| {
            x.try_avg_pool2d([1, kernel], [1, stride], [0, padding], ceil_mode, count_include_pad)
        })
    }

    /// The mean over an adaptive grid of windows giving `output_size`
    /// exactly, like `torch.nn.functional.adaptive_avg_pool1d` (SqueezeBackward1).
    ///
    /// # Panics
    /// On an input that is not 2-D or 3-D, or a zero size (see [`try_adaptive_avg_pool1d`](Self::try_adaptive_avg_pool1d)).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 3.0, 2.0, 4.0, 6.0], [1, 1, 5]);
    /// assert_eq!(x.adaptive_avg_pool1d(2).to_vec(), vec![2.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn adaptive_avg_pool1d(&self, output_size: usize) -> Self {
        or_panic(self.try_adaptive_avg_pool1d(output_size))
    }

    /// Like [`adaptive_avg_pool1d`](Self::adaptive_avg_pool1d), returning an error on sizes that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] for an input that is not 2-D or 3-D, or a zero input or output size.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::zeros([1, 2, 3]).try_adaptive_avg_pool1d(0).is_err());
    /// ```
    pub fn try_adaptive_avg_pool1d(&self, output_size: usize) -> Result<Self, ShapeError> {
        self.as_row("adaptive_avg_pool1d", |x| x.try_adaptive_avg_pool2d([1, output_size]))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck};

    fn signal(shape: &[usize]) -> Tensor64 {
        // Distinct values, so that no max-pool window ties.
        let len = shape.iter().product::<usize>();
        let values = (0..len).map(|i| ((i * 37) % len) as f64 / 3.0 - 2.0).collect();
        Tensor64::from_vec(values, shape).requires_grad_(true)
    }

    #[test]
    fn pools_1d_gradcheck_in_float64() {
        let x = signal(&[2, 3, 11]);
        type Op = fn(&Tensor64) -> Tensor64;
        let ops: [(&str, Op); 5] = [
            ("max", |x| x.max_pool1d(3, 2, 1, 1, false)),
            ("max dilated ceil", |x| x.max_pool1d(2, 3, 1, 2, true)),
            ("avg", |x| x.avg_pool1d(3, 2, 1, false, true)),
            ("avg no pad count", |x| x.avg_pool1d(4, 3, 2, true, false)),
            ("adaptive avg", |x| x.adaptive_avg_pool1d(4)),
        ];
        for (name, op) in ops {
            let f = |t: &[Tensor64]| {
                let y = op(&t[0]);
                (&y * &y).sum()
            };
            gradcheck(f, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(op(&x).grad_fn(), Some("SqueezeBackward1"), "{name}");
        }
        let unbatched = signal(&[3, 7]);
        assert_eq!(unbatched.max_pool1d(2, 2, 0, 1, false).shape(), vec![3, 3]);
    }
}
