//! The fused affine map of `nn.Linear`: `x · Wᵀ + b`, with PyTorch's (out, in) weight layout.

use ndarray::{Array2, ArrayD, ArrayView2, Axis, CowArray, Dimension, Ix2, IxDyn, Slice};

use super::gemm::{gemm, gemm_bias, product_pair};
use super::matmul::view2;
use crate::autograd::pool;
use crate::error::or_panic;
use crate::threading::{get_num_threads, loop_parts, row_parts, run_parts};
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// `self · weightᵀ + bias`, like `torch.nn.functional.linear`.
    ///
    /// `self` is `[..., in]`, `weight` is `[out, in]`, `bias` is `[out]`; the
    /// result is `[..., out]`. On a 2-D input with a bias the grad_fn is
    /// AddmmBackward0, as in PyTorch. Panics naming both shapes on a mismatch.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::ones([2, 3]);
    /// let w = Tensor::ones([4, 3]);
    /// let b = Tensor::full([4], 0.5);
    /// let y = x.linear(&w, Some(&b));
    /// assert_eq!(y.shape(), vec![2, 4]);
    /// assert_eq!(y.to_vec()[0], 3.5);
    /// ```
    #[track_caller]
    pub fn linear(&self, weight: &Self, bias: Option<&Self>) -> Self {
        or_panic(self.try_linear(weight, bias))
    }

    /// Like [`linear`](Self::linear), returning an error on mismatched shapes.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let err = Tensor::zeros([2, 20]).try_linear(&Tensor::zeros([10, 256]), None).unwrap_err();
    /// assert!(err.to_string().starts_with("linear: input [2, 20]"));
    /// ```
    pub fn try_linear(&self, weight: &Self, bias: Option<&Self>) -> Result<Self, ShapeError> {
        let (x_shape, w_shape) = (self.data().raw_dim(), weight.data().raw_dim());
        let (x_shape, w_shape) = (x_shape.slice(), w_shape.slice());
        let fail = |why: String| {
            let b_shape = bias.map(|b| format!(", bias {:?}", b.shape())).unwrap_or_default();
            ShapeError::new(format!("linear: input {x_shape:?}, weight {w_shape:?}{b_shape}: {why}"))
        };
        if w_shape.len() != 2 {
            return Err(fail("the weight must be 2-D (out_features, in_features)".into()));
        }
        let (out_features, in_features) = (w_shape[0], w_shape[1]);
        if x_shape.is_empty() || x_shape[x_shape.len() - 1] != in_features {
            let got = x_shape.last().copied().unwrap_or(0);
            return Err(fail(format!("expected {in_features} input features, got {got}")));
        }
        if let Some(b) = bias
            && b.data().shape() != [out_features]
        {
            return Err(fail(format!("the bias must have shape [{out_features}]")));
        }
        let mut out_shape = x_shape.to_vec();
        *out_shape.last_mut().expect("checked non-empty above") = out_features;
        crate::numel::checked_numel::<E>("linear", &out_shape).map_err(|error| fail(error.to_string()))?;
        if x_shape.len() == 2 {
            return Ok(self.addmm(weight, bias, None));
        }
        // One op over the rows of all leading dims, recorded as the view
        // PyTorch's output of a batched linear reports (ViewBackward0), with
        // no reshape copy of the input, the output or their gradients.
        Ok(self.addmm(weight, bias, Some(out_shape)))
    }

    /// `self · weightᵀ + bias` over the rows of `self` (all dims but the
    /// last), in one matrix product whose output starts as the broadcast
    /// bias; `out_shape` is the output's shape when `self` is not 2-D.
    fn addmm(&self, weight: &Self, bias: Option<&Self>, out_shape: Option<Vec<usize>>) -> Self {
        let data = {
            let (x, w) = (self.data(), weight.data());
            let x = rows_of(&x);
            let (x, w) = (x.view(), view2(&w));
            let (rows, out_features) = (x.nrows(), w.nrows());
            let out = pool::scratch(rows * out_features);
            let mut out = Array2::from_shape_vec((rows, out_features), out).expect("rows × out elements");
            match bias {
                // The bias added in the product's own output pass, where it has one.
                Some(b) if gemm_bias(&x, &w.t(), &b.data(), &mut out.view_mut()) => {}
                Some(b) => {
                    fill_rows(out.as_slice_mut().expect("new and row-major"), &b.data());
                    gemm(&x, &w.t(), E::one(), &mut out.view_mut());
                }
                // beta = 0: the product overwrites the scratch values unread.
                None => gemm(&x, &w.t(), E::zero(), &mut out.view_mut()),
            }
            match &out_shape {
                Some(shape) => out.into_shape_with_order(IxDyn(shape)).expect("rows × out elements"),
                None => out.into_dyn(),
            }
        };
        let (name, inputs): (_, &[&Self]) = match bias {
            Some(bias) => ("AddmmBackward0", &[self, weight, bias]),
            None => ("MmBackward0", &[self, weight]),
        };
        let name = if out_shape.is_some() { "ViewBackward0" } else { name };
        let x_shape = self.shape();
        TensorBase::from_op(data, name, inputs, move |grad, ctx| {
            let g = rows_of(&grad);
            let g = g.view();
            let mut grads = Vec::with_capacity(ctx.inputs());
            // dX = G · W and dW = Gᵀ · X, each written once into scratch
            // storage, side by side on two threads when both are large.
            let (w, x) = (ctx.needs(0).then(|| ctx.input(1)), ctx.needs(1).then(|| ctx.input(0)));
            let x_rows = x.as_ref().map(|x| rows_of(x));
            let (dx, dw) =
                product_pair(w.as_ref().map(|w| (g, view2(w))), x_rows.as_ref().map(|x| (g.t(), x.view())));
            grads.push(dx.map(|dx| dx.into_shape_with_order(IxDyn(&x_shape)).expect("input's elements")));
            grads.push(dw);
            if ctx.inputs() == 3 {
                grads.push(ctx.needs(2).then(|| sum_rows(g)));
            }
            pool::recycle(grad);
            grads
        })
    }
}

/// `array` (at least 1-D) seen as rows of its last dim: a view when it is
/// row-major, else a row-major copy.
fn rows_of<E: Element>(array: &ArrayD<E>) -> CowArray<'_, E, Ix2> {
    let (rows, cols) = match array.shape().split_last() {
        Some((&cols, lead)) => (lead.iter().product(), cols),
        None => (1, 1),
    };
    if array.is_standard_layout() {
        CowArray::from(array.view().into_shape_with_order((rows, cols)).expect("rows × cols elements"))
    } else {
        let copy = array.as_standard_layout().into_owned();
        CowArray::from(copy.into_shape_with_order((rows, cols)).expect("rows × cols elements"))
    }
}

/// Copies the 1-D `bias` into every row of the row-major `out`.
fn fill_rows<E: Element>(out: &mut [E], bias: &ArrayD<E>) {
    if bias.is_empty() {
        return;
    }
    match bias.as_slice() {
        Some(bias) => out.chunks_exact_mut(bias.len()).for_each(|row| row.copy_from_slice(bias)),
        None => out.chunks_exact_mut(bias.len()).for_each(|row| {
            row.iter_mut().zip(bias.iter()).for_each(|(o, &b)| *o = b);
        }),
    }
}

/// The column sums of `g` (the bias gradient), row after row as `sum_axis`
/// adds them; runs of columns on the threads when `g` is long enough, each
/// column still summed over the rows in row order (the same numbers on any
/// thread count).
fn sum_rows<E: Element>(g: ArrayView2<'_, E>) -> ArrayD<E> {
    let mut out = pool::scratch(g.ncols());
    out.fill(E::zero());
    let parts = loop_parts(g.len(), g.ncols(), get_num_threads());
    let pieces = row_parts(&mut out, 1, parts);
    let work = |(first, sums): (usize, &mut [E])| {
        let g = g.slice_axis(Axis(1), Slice::from(first..first + sums.len()));
        for row in g.rows() {
            match row.as_slice() {
                Some(row) => sums.iter_mut().zip(row).for_each(|(o, &v)| *o += v),
                None => sums.iter_mut().zip(row.iter()).for_each(|(o, &v)| *o += v),
            }
        }
    };
    if pieces.len() <= 1 {
        pieces.into_iter().for_each(work);
    } else {
        run_parts(pieces, work);
    }
    ArrayD::from_shape_vec(IxDyn(&[g.ncols()]), out).expect("one sum per column")
}

#[cfg(test)]
mod tests {
    use crate::{Tensor64, set_num_threads};

    #[test]
    fn an_nd_input_is_one_op_with_the_plain_numbers_on_one_two_and_three_threads() {
        // long enough that the bias gradient's columns are cut among the threads
        let x = Tensor64::randn([3, 701, 5]);
        assert!(crate::threading::loop_parts(3 * 701 * 1003, 1003, 3) == 3);
        let (w, b, g) =
            (Tensor64::randn([1003, 5]), Tensor64::randn([1003]), Tensor64::randn([3, 701, 1003]));
        let run = |threads| {
            set_num_threads(threads);
            let (x, w, b) = (
                x.detach().requires_grad_(true),
                w.detach().requires_grad_(true),
                b.detach().requires_grad_(true),
            );
            let y = x.linear(&w, Some(&b));
            assert_eq!((y.shape(), y.grad_fn()), (vec![3, 701, 1003], Some("ViewBackward0")));
            (&y * &g).sum().backward();
            set_num_threads(1);
            [y, x.grad().unwrap(), w.grad().unwrap(), b.grad().unwrap()].map(|t| t.to_vec())
        };
        let one = run(1);
        assert!(run(2) == one && run(3) == one);
        // the plain definition: rows of the leading dims through a 2-D product
        let flat = |t: &Tensor64, cols: isize| t.reshape(&[-1, cols]);
        let plain_y = flat(&x, 5).matmul(&w.transpose(0, 1)).try_add(&b).unwrap();
        let g2 = flat(&g, 1003);
        let plain = [
            plain_y,
            g2.matmul(&w).reshape(&[3, 701, 5]),
            g2.transpose(0, 1).matmul(&flat(&x, 5)),
            g2.sum_dim(&[0], false),
        ];
        for (ours, plain) in one.iter().zip(&plain) {
            for (a, e) in ours.iter().zip(plain.to_vec()) {
                assert!((a - e).abs() <= 1e-10 + 1e-10 * e.abs(), "{a} against {e}");
            }
        }
    }
}
