//! Matrix products: `matmul` with PyTorch's rules for 1-D, 2-D and batched operands.

use ndarray::{ArrayD, ArrayView2, Ix2, IxDyn};

use super::gemm::product;
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

/// A 2-D view of a tensor's data known to be 2-D.
pub(crate) fn view2<E: Element>(array: &ArrayD<E>) -> ArrayView2<'_, E> {
    array.view().into_dimensionality::<Ix2>().expect("a 2-D array")
}

/// `a · b` for 2-D views, into a new array.
pub(crate) fn mm<E: Element>(a: ArrayView2<'_, E>, b: ArrayView2<'_, E>) -> ArrayD<E> {
    product(a, b)
}

fn mismatch(a: &[usize], b: &[usize], k_a: usize, k_b: usize) -> ShapeError {
    ShapeError::new(format!("matmul: cannot multiply {a:?} by {b:?} ({k_a} != {k_b})"))
}

impl<E: Element> TensorBase<E> {
    /// The matrix product, like `torch.matmul` / `a @ b`.
    ///
    /// 1-D·1-D is a dot product (DotBackward0), 2-D·1-D a matrix-vector product
    /// (MvBackward0), 1-D·2-D a vector-matrix product, 2-D·2-D a matrix product
    /// (MmBackward0), and operands with more dimensions are batches of
    /// matrices whose leading dimensions broadcast (UnsafeViewBackward0, or
    /// CloneBackward0 when PyTorch folds a single left matrix into the right
    /// operand's batch; see [`bmm`](Self::bmm) for batches that must match).
    /// Panics naming both shapes when the inner sizes differ.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let a = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    /// assert_eq!(a.matmul(&Tensor::eye(2)).to_vec(), a.to_vec());
    /// ```
    #[track_caller]
    pub fn matmul(&self, other: &Self) -> Self {
        or_panic(self.try_matmul(other))
    }

    /// Like [`matmul`](Self::matmul), returning an error on mismatched shapes.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let err = Tensor::zeros([2, 20]).try_matmul(&Tensor::zeros([256, 10])).unwrap_err();
    /// assert_eq!(err.to_string(), "matmul: cannot multiply [2, 20] by [256, 10] (20 != 256)");
    /// ```
    pub fn try_matmul(&self, other: &Self) -> Result<Self, ShapeError> {
        let (a_shape, b_shape) = (self.shape(), other.shape());
        // The rows of one times the columns of the other (batch dims are checked where they broadcast).
        let rows = if a_shape.len() >= 2 { a_shape[a_shape.len() - 2] } else { 1 };
        let cols = if b_shape.len() >= 2 { b_shape[b_shape.len() - 1] } else { 1 };
        crate::numel::checked_numel::<E>("matmul", &[rows, cols])?;
        match (a_shape.len(), b_shape.len()) {
            (0, _) | (_, 0) => Err(ShapeError::new(format!(
                "matmul: both arguments need at least 1 dimension, but got {a_shape:?} and {b_shape:?}"
            ))),
            (1, 1) => {
                if a_shape[0] != b_shape[0] {
                    return Err(mismatch(&a_shape, &b_shape, a_shape[0], b_shape[0]));
                }
                Ok(self.dot(other))
            }
            (2, 2) => {
                if a_shape[1] != b_shape[0] {
                    return Err(mismatch(&a_shape, &b_shape, a_shape[1], b_shape[0]));
                }
                Ok(self.mm(other))
            }
            (2, 1) => {
                if a_shape[1] != b_shape[0] {
                    return Err(mismatch(&a_shape, &b_shape, a_shape[1], b_shape[0]));
                }
                let column = other.reshape(&[b_shape[0] as isize, 1]);
                Ok(self.mm_named(&column, "MvBackward0").reshape(&[a_shape[0] as isize]))
            }
            (1, 2) => {
                if a_shape[0] != b_shape[0] {
                    return Err(mismatch(&a_shape, &b_shape, a_shape[0], b_shape[0]));
                }
                let row = self.reshape(&[1, a_shape[0] as isize]);
                Ok(row.mm(other).reshape(&[b_shape[1] as isize]))
            }
            _ => self.batched_matmul(other),
        }
    }

    fn dot(&self, other: &Self) -> Self {
        let value = {
            let (a, b) = (self.data(), other.data());
            a.iter().zip(b.iter()).fold(E::zero(), |acc, (&x, &y)| acc + x * y)
        };
        let data = ArrayD::from_elem(IxDyn(&[]), value);
        TensorBase::from_op(data, "DotBackward0", &[self, other], |grad, ctx| {
            let g = grad[[]];
            vec![
                ctx.needs(0).then(|| ctx.input(1).mapv(|v| v * g)),
                ctx.needs(1).then(|| ctx.input(0).mapv(|v| v * g)),
            ]
        })
    }

    fn mm(&self, other: &Self) -> Self {
        self.mm_named(other, "MmBackward0")
    }

    fn mm_named(&self, other: &Self, name: &'static str) -> Self {
        let data = mm(view2(&self.data()), view2(&other.data()));
        TensorBase::from_op(data, name, &[self, other], |grad, ctx| {
            let g = view2(&grad);
            vec![
                ctx.needs(0).then(|| mm(g, view2(&ctx.input(1)).t())),
                ctx.needs(1).then(|| mm(view2(&ctx.input(0)).t(), g)),
            ]
        })
    }
}
