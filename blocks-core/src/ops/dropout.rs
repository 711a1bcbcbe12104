//! Dropout: random zeroing in training, the identity in eval, like
//! `torch.nn.functional.dropout`.

use ndarray::{ArrayD, Zip};
use rand::RngExt;

use crate::{Element, TensorBase, with_rng};

impl<E: Element> TensorBase<E> {
    /// In training, zeroes each element with probability `p` and scales the
    /// others by `1/(1 − p)`, drawing from this thread's generator (seeded by
    /// [`manual_seed`](crate::manual_seed)); like `torch.nn.functional.dropout(x, p, training)`.
    ///
    /// With `p = 0` or `training = false` it returns `self` itself, as PyTorch
    /// does; with `p = 1` all zeros. The gradient is the output's, times the
    /// same mask. On the CPU PyTorch builds dropout from a multiplication by the
    /// scaled mask, so the grad_fn is MulBackward0, as here.
    ///
    /// # Panics
    /// If `p` is not in `[0, 1]`.
    ///
    /// ```
    /// use blocks_core::{manual_seed, Tensor};
    /// manual_seed(0);
    /// let y = Tensor::ones([1000]).dropout(0.5, true);
    /// assert!(y.to_vec().iter().all(|&v| v == 0.0 || v == 2.0));
    /// let x = Tensor::ones([3]);
    /// assert!(x.dropout(0.5, false).same(&x));
    /// ```
    #[track_caller]
    pub fn dropout(&self, p: f64, training: bool) -> Self {
        assert!((0.0..=1.0).contains(&p), "dropout probability has to be between 0 and 1, but got {p}");
        if !training || p == 0.0 || self.numel() == 0 {
            return self.clone();
        }
        let shape = self.shape();
        let mask = if p == 1.0 {
            ArrayD::zeros(shape)
        } else {
            // As PyTorch: a Bernoulli(1 − p) draw per element, divided by (1 − p).
            let scale = E::one() / E::of(1.0 - p);
            with_rng(|rng| {
                ArrayD::from_shape_simple_fn(shape, || {
                    if rng.random::<f64>() < 1.0 - p { scale } else { E::zero() }
                })
            })
        };
        let mut data = self.data().to_owned();
        Zip::from(&mut data).and(&mask).for_each(|x, &m| *x *= m);
        TensorBase::from_op(data, "MulBackward0", &[self], move |mut grad, _| {
            Zip::from(&mut grad).and(&mask).for_each(|g, &m| *g *= m);
            vec![Some(grad)]
        })
    }
}

/// The input check of [`TensorBase::dropout2d`] in training: at least 2 dims.
pub(crate) fn check_dropout2d_input(shape: &[usize]) -> Result<(), crate::ShapeError> {
    if shape.len() >= 2 {
        return Ok(());
    }
    Err(crate::ShapeError::new(format!(
        "dropout2d: expected an input [N, C, H, W] of at least 2 dims, but got input of size {shape:?}"
    )))
}

impl<E: Element> TensorBase<E> {
    /// Channel dropout: in training, zeroes each whole channel (every
    /// `[n, c, ..]` slice) with probability `p` and scales the others by
    /// `1/(1 − p)`, drawing one value per channel from this thread's
    /// generator; like `torch.nn.functional.dropout2d(x, p, training)`.
    ///
    /// The input is `[N, C, H, W]`; as PyTorch 2.15 does (with a warning), a
    /// 3-D input is read as `[N, C, L]` and any other input of at least 2 dims
    /// by its first two. With `p = 0` or `training = false` it returns `self`
    /// itself; the gradient is the output's times the same mask (MulBackward0,
    /// as PyTorch's).
    ///
    /// # Panics
    /// If `p` is not in `[0, 1]`, or in training the input has fewer than 2 dims.
    ///
    /// ```
    /// use blocks_core::{manual_seed, Tensor};
    /// manual_seed(0);
    /// let y = Tensor::ones([2, 8, 3, 3]).dropout2d(0.5, true);
    /// for channel in y.to_vec().chunks(9) {
    ///     assert!(channel.iter().all(|&v| v == 0.0) || channel.iter().all(|&v| v == 2.0));
    /// }
    /// let x = Tensor::ones([1, 2, 3, 3]);
    /// assert!(x.dropout2d(0.5, false).same(&x));
    /// ```
    #[track_caller]
    pub fn dropout2d(&self, p: f64, training: bool) -> Self {
        assert!((0.0..=1.0).contains(&p), "dropout probability has to be between 0 and 1, but got {p}");
        if !training || p == 0.0 {
            return self.clone();
        }
        let shape = self.shape();
        crate::error::or_panic(check_dropout2d_input(&shape));
        if self.numel() == 0 {
            return self.clone();
        }
        let channels = shape[0] * shape[1];
        let keep: Vec<E> = if p == 1.0 {
            vec![E::zero(); channels]
        } else {
            let scale = E::one() / E::of(1.0 - p);
            with_rng(|rng| {
                (0..channels).map(|_| if rng.random::<f64>() < 1.0 - p { scale } else { E::zero() }).collect()
            })
        };
        let per_sample = shape[1];
        let mask = ArrayD::from_shape_fn(shape, |index| keep[index[0] * per_sample + index[1]]);
        let mut data = self.data().to_owned();
        Zip::from(&mut data).and(&mask).for_each(|x, &m| *x *= m);
        TensorBase::from_op(data, "MulBackward0", &[self], move |mut grad, _| {
            Zip::from(&mut grad).and(&mask).for_each(|g, &m| *g *= m);
            vec![Some(grad)]
        })
    }
}
