//! The lower and upper triangles of (batches of) matrices: `tril` and
//! `triu` with a diagonal offset, as causal masks are built.

use ndarray::{ArrayD, Axis};

use crate::{Element, TensorBase};

/// Which triangle an op keeps.
#[derive(Clone, Copy)]
enum Triangle {
    Lower,
    Upper,
}

impl Triangle {
    /// Whether entry (`row`, `col`) is kept for diagonal offset `diagonal`.
    fn keeps(self, row: usize, col: usize, diagonal: isize) -> bool {
        let offset = col as isize - row as isize;
        match self {
            Triangle::Lower => offset <= diagonal,
            Triangle::Upper => offset >= diagonal,
        }
    }

    fn op(self) -> &'static str {
        match self {
            Triangle::Lower => "tril",
            Triangle::Upper => "triu",
        }
    }
}

/// Zeroes the entries of the last two dims of `array` that `triangle` drops.
fn zero_outside<E: Element>(array: &mut ArrayD<E>, triangle: Triangle, diagonal: isize) {
    let ndim = array.ndim();
    let rows = array.shape()[ndim - 2];
    if rows == 0 {
        return;
    }
    for (i, mut lane) in array.lanes_mut(Axis(ndim - 1)).into_iter().enumerate() {
        let row = i % rows;
        for (col, value) in lane.iter_mut().enumerate() {
            if !triangle.keeps(row, col, diagonal) {
                *value = E::zero();
            }
        }
    }
}

impl<E: Element> TensorBase<E> {
    /// The lower triangle of the last two dims, zero above diagonal
    /// `diagonal` (0 the main diagonal, positive above it, negative below),
    /// like `torch.tril(x, diagonal)` (TrilBackward0). Leading dims are batches.
    ///
    /// # Panics
    /// With PyTorch's message when `self` has fewer than 2 dims.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let ones = Tensor::ones([3, 3]);
    /// assert_eq!(ones.tril(0).to_vec(), vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0]);
    /// assert_eq!(ones.tril(-1).sum().item(), 3.0);
    /// ```
    #[track_caller]
    pub fn tril(&self, diagonal: isize) -> Self {
        self.triangle(Triangle::Lower, diagonal, "TrilBackward0")
    }

    /// The upper triangle of the last two dims, zero below diagonal
    /// `diagonal`, like `torch.triu(x, diagonal)` (TriuBackward0): with
    /// `diagonal = 1` the entries a causal attention mask hides.
    ///
    /// # Panics
    /// With PyTorch's message when `self` has fewer than 2 dims.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let future = Tensor::ones([3, 3]).triu(1);
    /// assert_eq!(future.to_vec(), vec![0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn triu(&self, diagonal: isize) -> Self {
        self.triangle(Triangle::Upper, diagonal, "TriuBackward0")
    }

    #[track_caller]
    fn triangle(&self, triangle: Triangle, diagonal: isize, name: &'static str) -> Self {
        let mut data = self.to_array();
        assert!(
            data.ndim() >= 2,
            "{}: input tensor must have at least 2 dimensions (got shape {:?})",
            triangle.op(),
            data.shape()
        );
        zero_outside(&mut data, triangle, diagonal);
        TensorBase::from_op(data, name, &[self], move |mut grad, _| {
            zero_outside(&mut grad, triangle, diagonal);
            vec![Some(grad)]
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck};

    #[test]
    fn tril_and_triu_pass_gradcheck_on_batches() {
        let x = Tensor64::from_vec((0..24).map(|v| v as f64 * 0.1).collect(), [2, 3, 4]).requires_grad_(true);
        for diagonal in [-2, -1, 0, 1, 3] {
            gradcheck(|t| t[0].tril(diagonal), std::slice::from_ref(&x)).unwrap();
            gradcheck(|t| t[0].triu(diagonal), std::slice::from_ref(&x)).unwrap();
        }
        assert_eq!(x.tril(0).grad_fn(), Some("TrilBackward0"));
        assert_eq!(x.triu(0).grad_fn(), Some("TriuBackward0"));
    }

    #[test]
    fn tril_and_triu_split_a_matrix() {
        let x = Tensor64::from_vec((1..=12).map(f64::from).collect(), [3, 4]);
        let parts = &x.tril(0) + &x.triu(1);
        assert_eq!(parts.to_vec(), x.to_vec());
        assert_eq!(x.triu(-1).to_vec(), vec![1., 2., 3., 4., 5., 6., 7., 8., 0., 10., 11., 12.]);
        assert_eq!(x.tril(-5).sum().item(), 0.0);
        assert_eq!(Tensor64::zeros([0, 3]).tril(0).shape(), [0, 3]);
    }

    #[test]
    fn a_vector_is_refused_with_pytorchs_message() {
        let caught = std::panic::catch_unwind(|| Tensor64::zeros([3]).tril(0)).unwrap_err();
        assert_eq!(
            *caught.downcast::<String>().unwrap(),
            "tril: input tensor must have at least 2 dimensions (got shape [3])"
        );
    }
}
