//! Products of batches of matrices: `bmm` (3-D by 3-D, BmmBackward0) and
//! the batched case of `matmul` (operands with more than 2 dims, whose
//! leading dims broadcast), named as PyTorch records them.

use ndarray::{Array3, ArrayD, Axis, CowArray, Ix3, IxDyn};

use super::broadcast::{broadcast_shape, sum_to_shape};
use super::gemm::gemm;
use super::shape::{reshape_owned, to_shape};
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

/// What PyTorch's `matmul` records for a batched product of these shapes:
/// it folds a 2-D (or single-matrix 3-D) left operand into the right one's
/// batch and copies the result (CloneBackward0), and otherwise views the
/// result of one big product (UnsafeViewBackward0).
fn matmul_grad_fn(a: &[usize], b: &[usize]) -> &'static str {
    let folds_left =
        b.len() >= 3 && (a.len() == 2 || (a.len() == 3 && b.len() == 3 && a[0] == 1 && b[0] > 1));
    if folds_left { "CloneBackward0" } else { "UnsafeViewBackward0" }
}

/// The matrices of `array` (seen as `matrix_shape`: batch dims, then
/// `rows`×`cols`) broadcast to `batch`, as one `(count, rows, cols)` array;
/// a view when nothing needs copying.
fn matrices<'a, E: Element>(
    array: &'a ArrayD<E>,
    matrix_shape: &[usize],
    batch: &[usize],
    rows: usize,
    cols: usize,
) -> CowArray<'a, E, Ix3> {
    let mut full = batch.to_vec();
    full.extend([rows, cols]);
    let count: usize = batch.iter().product();
    if array.is_standard_layout() && array.shape() == full.as_slice() {
        let view = array.view().into_shape_with_order((count, rows, cols)).expect("same element count");
        return CowArray::from(view);
    }
    let shaped = to_shape(array, matrix_shape);
    let spread = shaped.broadcast(IxDyn(&full)).expect("batch dims broadcast").to_owned();
    CowArray::from(spread.into_shape_with_order((count, rows, cols)).expect("same element count"))
}

/// `x[i] · y[i]` for every `i`, with `x` or `y` transposed per matrix when asked.
fn products<E: Element>(
    x: &CowArray<'_, E, Ix3>,
    y: &CowArray<'_, E, Ix3>,
    (transpose_x, transpose_y): (bool, bool),
    (rows, cols): (usize, usize),
) -> Array3<E> {
    let mut out = Array3::<E>::zeros((x.len_of(Axis(0)), rows, cols));
    for (i, mut o) in out.outer_iter_mut().enumerate() {
        let (xi, yi) = (x.index_axis(Axis(0), i), y.index_axis(Axis(0), i));
        let xi = if transpose_x { xi.reversed_axes() } else { xi };
        let yi = if transpose_y { yi.reversed_axes() } else { yi };
        gemm(&xi, &yi, E::zero(), &mut o);
    }
    out
}

impl<E: Element> TensorBase<E> {
    /// The product of two batches of matrices, `[B, n, k] · [B, k, m]` to
    /// `[B, n, m]`, like `torch.bmm` (BmmBackward0). Unlike
    /// [`matmul`](Self::matmul) nothing broadcasts.
    ///
    /// # Panics
    /// With PyTorch's messages when an operand is not 3-D or the batch or
    /// inner sizes differ; see [`try_bmm`](Self::try_bmm).
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let a = Tensor::ones([2, 3, 4]);
    /// let b = Tensor::ones([2, 4, 5]);
    /// let c = a.bmm(&b);
    /// assert_eq!(c.shape(), [2, 3, 5]);
    /// assert_eq!(c.to_vec()[0], 4.0);
    /// ```
    #[track_caller]
    pub fn bmm(&self, other: &Self) -> Self {
        or_panic(self.try_bmm(other))
    }

    /// Like [`bmm`](Self::bmm), returning an error on wrong shapes.
    ///
    /// # Errors
    /// A [`ShapeError`] with PyTorch's wording, prefixed by `bmm:`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let error = Tensor::zeros([2, 3, 4]).try_bmm(&Tensor::zeros([3, 4, 5])).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "bmm: Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [3, 4]."
    /// );
    /// ```
    pub fn try_bmm(&self, other: &Self) -> Result<Self, ShapeError> {
        let (a, b) = (self.shape(), other.shape());
        for (name, shape) in [("batch1", &a), ("batch2", &b)] {
            if shape.len() != 3 {
                return Err(ShapeError::new(format!(
                    "bmm: {name} must be a 3D tensor (got shape {shape:?})"
                )));
            }
        }
        if b[0] != a[0] || b[1] != a[2] {
            return Err(ShapeError::new(format!(
                "bmm: Expected size for first two dimensions of batch2 tensor to be: [{}, {}] but got: [{}, {}].",
                a[0], a[2], b[0], b[1]
            )));
        }
        self.batched_product(other, "bmm", "BmmBackward0")
    }

    /// `matmul` when either operand has more than 2 dims (a 1-D one is a
    /// matrix of one row or column, dropped from the result).
    pub(crate) fn batched_matmul(&self, other: &Self) -> Result<Self, ShapeError> {
        let name = matmul_grad_fn(&self.shape(), &other.shape());
        self.batched_product(other, "matmul", name)
    }

    fn batched_product(&self, other: &Self, op: &str, name: &'static str) -> Result<Self, ShapeError> {
        let (a_shape, b_shape) = (self.shape(), other.shape());
        let a_matrix = if a_shape.len() == 1 { vec![1, a_shape[0]] } else { a_shape.clone() };
        let b_matrix = if b_shape.len() == 1 { vec![b_shape[0], 1] } else { b_shape.clone() };
        let (n, k) = (a_matrix[a_matrix.len() - 2], a_matrix[a_matrix.len() - 1]);
        let (k_b, m) = (b_matrix[b_matrix.len() - 2], b_matrix[b_matrix.len() - 1]);
        if k != k_b {
            return Err(ShapeError::new(format!(
                "{op}: cannot multiply {a_shape:?} by {b_shape:?} ({k} != {k_b})"
            )));
        }
        let batch = broadcast_shape(op, &a_matrix[..a_matrix.len() - 2], &b_matrix[..b_matrix.len() - 2])?;
        let mut full = batch.clone();
        full.extend([n, m]);
        crate::numel::checked_alloc::<E>(op, "the output", &full)?;
        let mut out_shape = batch.clone();
        if a_shape.len() > 1 {
            out_shape.push(n);
        }
        if b_shape.len() > 1 {
            out_shape.push(m);
        }
        let data = {
            let (x, y) = (self.data(), other.data());
            let x = matrices(&x, &a_matrix, &batch, n, k);
            let y = matrices(&y, &b_matrix, &batch, k, m);
            reshape_owned(products(&x, &y, (false, false), (n, m)).into_dyn(), &out_shape)
        };
        Ok(TensorBase::from_op(data, name, &[self, other], move |grad, ctx| {
            let count: usize = batch.iter().product();
            let g = reshape_owned(grad, &[count, n, m]).into_dimensionality::<Ix3>().expect("3-D");
            let g = CowArray::from(g.view());
            let (x, y) = (ctx.input(0), ctx.input(1));
            let back = |product: Array3<E>, rows: usize, cols: usize, matrix: &[usize], shape: &[usize]| {
                let mut spread = batch.clone();
                spread.extend([rows, cols]);
                let summed = sum_to_shape(reshape_owned(product.into_dyn(), &spread), matrix);
                reshape_owned(summed, shape)
            };
            let grad_a = ctx.needs(0).then(|| {
                let y = matrices(&y, &b_matrix, &batch, k, m);
                back(products(&g, &y, (false, true), (n, k)), n, k, &a_matrix, x.shape())
            });
            let grad_b = ctx.needs(1).then(|| {
                let x = matrices(&x, &a_matrix, &batch, n, k);
                back(products(&x, &g, (true, false), (k, m)), k, m, &b_matrix, y.shape())
            });
            vec![grad_a, grad_b]
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, gradcheck};

    fn t(shape: &[usize], seed: f64) -> Tensor64 {
        let n: usize = shape.iter().product();
        Tensor64::from_vec((0..n).map(|i| (i as f64 * 0.73 + seed).sin()).collect(), shape)
            .requires_grad_(true)
    }

    #[test]
    fn bmm_passes_gradcheck() {
        gradcheck(|x| x[0].bmm(&x[1]), &[t(&[2, 3, 4], 0.1), t(&[2, 4, 2], 0.7)]).unwrap();
        assert_eq!(t(&[1, 2, 2], 0.0).bmm(&t(&[1, 2, 2], 1.0)).grad_fn(), Some("BmmBackward0"));
    }

    #[test]
    fn broadcast_matmul_passes_gradcheck() {
        let cases: [(&[usize], &[usize]); 7] = [
            (&[2, 3, 4], &[4, 2]),
            (&[3, 4], &[2, 4, 2]),
            (&[2, 1, 3, 4], &[3, 4, 2]),
            (&[4], &[2, 4, 3]),
            (&[2, 3, 4], &[4]),
            (&[1, 3, 4], &[2, 4, 2]),
            (&[2, 2, 3], &[1, 3, 2]),
        ];
        for (a, b) in cases {
            gradcheck(|x| x[0].matmul(&x[1]), &[t(a, 0.2), t(b, 0.9)]).unwrap();
        }
    }

    #[test]
    fn matmul_records_pytorchs_names_and_shapes() {
        type Case<'a> = (&'a [usize], &'a [usize], &'a str, &'a [usize]);
        let cases: [Case; 6] = [
            (&[2, 3, 4], &[2, 4, 5], "UnsafeViewBackward0", &[2, 3, 5]),
            (&[2, 3, 4], &[4], "UnsafeViewBackward0", &[2, 3]),
            (&[4], &[2, 4, 5], "UnsafeViewBackward0", &[2, 5]),
            (&[3, 4], &[2, 4, 5], "CloneBackward0", &[2, 3, 5]),
            (&[1, 3, 4], &[2, 4, 5], "CloneBackward0", &[2, 3, 5]),
            (&[2, 1, 3, 4], &[3, 4, 5], "UnsafeViewBackward0", &[2, 3, 3, 5]),
        ];
        for (a, b, name, shape) in cases {
            let y = t(a, 0.0).matmul(&t(b, 1.0));
            assert_eq!((y.grad_fn(), y.shape().as_slice()), (Some(name), shape), "{a:?} @ {b:?}");
        }
    }

    #[test]
    fn batched_products_match_one_matrix_at_a_time() {
        let (a, b) = (t(&[2, 3, 4], 0.3), t(&[4, 5], 0.5));
        let y = a.matmul(&b);
        for i in 0..2 {
            let one = a.get(i).matmul(&b);
            assert_eq!(y.get(i).to_vec(), one.to_vec());
        }
    }

    #[test]
    fn bmm_refuses_what_pytorch_refuses() {
        let message = |a: &[usize], b: &[usize]| t(a, 0.0).try_bmm(&t(b, 0.0)).unwrap_err().to_string();
        assert_eq!(message(&[2, 3], &[2, 3, 4]), "bmm: batch1 must be a 3D tensor (got shape [2, 3])");
        assert_eq!(message(&[2, 3, 4], &[2, 3]), "bmm: batch2 must be a 3D tensor (got shape [2, 3])");
        assert_eq!(
            message(&[2, 3, 4], &[2, 5, 5]),
            "bmm: Expected size for first two dimensions of batch2 tensor to be: [2, 4] but got: [2, 5]."
        );
        let error = t(&[2, 3, 4], 0.0).try_matmul(&t(&[3, 4, 5], 0.0)).unwrap_err().to_string();
        assert!(error.starts_with("matmul: shapes [2] and [3] cannot be broadcast together"), "{error}");
    }
}
