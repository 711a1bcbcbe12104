//! The fused affine map of `nn.Linear`: `x · Wᵀ + b`, with PyTorch's (out, in) weight layout.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, Axis};

use super::matmul::{mm, view2};
use crate::error::or_panic;
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
        let (x_shape, w_shape) = (self.shape(), weight.shape());
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
            && b.shape() != [out_features]
        {
            return Err(fail(format!("the bias must have shape [{out_features}]")));
        }
        if x_shape.len() == 2 {
            return Ok(self.addmm(weight, bias));
        }
        let rows: usize = x_shape[..x_shape.len() - 1].iter().product();
        let flat = self.reshape(&[rows as isize, in_features as isize]);
        let mut out_shape: Vec<isize> = x_shape[..x_shape.len() - 1].iter().map(|&d| d as isize).collect();
        out_shape.push(out_features as isize);
        Ok(flat.addmm(weight, bias).reshape(&out_shape))
    }

    /// `self · weightᵀ + bias` for a 2-D input, in one matrix product whose
    /// output starts as the broadcast bias.
    fn addmm(&self, weight: &Self, bias: Option<&Self>) -> Self {
        let data = {
            let (x, w) = (self.data(), weight.data());
            let (x, w) = (view2(&x), view2(&w));
            let mut out = match bias {
                Some(b) => {
                    let b = b.data();
                    let row = b.view().into_shape_with_order((1, w.nrows())).expect("bias is 1-D");
                    row.broadcast((x.nrows(), w.nrows())).expect("bias broadcasts").to_owned()
                }
                None => Array2::zeros((x.nrows(), w.nrows())),
            };
            let beta = if bias.is_some() { E::one() } else { E::zero() };
            general_mat_mul(E::one(), &x, &w.t(), beta, &mut out);
            out.into_dyn()
        };
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        let name = if bias.is_some() { "AddmmBackward0" } else { "MmBackward0" };
        TensorBase::from_op(data, name, &inputs, |grad, ctx| {
            let g = view2(&grad);
            let mut grads = vec![
                ctx.needs(0).then(|| mm(g, view2(&ctx.input(1))).into_dyn()),
                ctx.needs(1).then(|| mm(g.t(), view2(&ctx.input(0))).into_dyn()),
            ];
            if ctx.inputs() == 3 {
                grads.push(ctx.needs(2).then(|| grad.sum_axis(Axis(0))));
            }
            grads
        })
    }
}
