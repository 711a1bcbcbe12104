//! The convolution's backward (ConvolutionBackward0): the input's gradient
//! (`Wᵀ · dy`, then `col2im`) and the weight's (`dy · colsᵀ`, from the
//! columns the forward kept when small, else laid out again from the input,
//! which PyTorch keeps), a panel at a time (`conv_panels.rs`), and the bias's.

use ndarray::{Array2, ArrayD, Axis, IxDyn};

use super::conv::weight_matrix;
use super::conv_panels::Panels;
use super::im2col::Geometry;
use super::winograd::{self, Winograd};
use crate::autograd::node::BackwardContext;
use crate::autograd::pool;
use crate::{Element, get_num_threads};

/// The gradients of input, weight and bias from the output's gradient `grad`.
///
/// ```text
/// conv_backward(grad, ctx, &geometry, groups, &x_shape, &w_shape, kept_cols)
/// ```
pub(super) fn conv_backward<E: Element>(
    grad: ArrayD<E>,
    ctx: &BackwardContext<'_, E>,
    geometry: &Geometry,
    groups: usize,
    x_shape: &[usize],
    w_shape: &[usize],
    kept_cols: Option<&[E]>,
) -> Vec<Option<ArrayD<E>>> {
    let out_channels = w_shape[0];
    let grad = grad.as_standard_layout();
    let dy = grad.as_slice().expect("standard layout");
    // Everything read from the inputs is read here, on the calling thread
    // (the input's snapshot checks that it was not modified in place since).
    // The weight is read only for the input's gradient (as before); the
    // weight's gradient needs only its shape.
    let w = ctx.needs(0).then(|| ctx.input(1));
    let w2 = match &w {
        Some(w) => weight_matrix(w, out_channels),
        None => Array2::zeros((out_channels, w_shape[1..].iter().product())).into(),
    };
    let x = ctx.needs(1).then(|| ctx.input(0));
    let x = x.as_ref().map(|x| x.as_standard_layout());
    let panels = Panels { geometry, groups, weight: w2.view() };
    let x_values = x.as_ref().map(|x| x.as_slice().expect("standard layout"));
    // The input's gradient by Winograd where it applies (`winograd.rs`).
    // Not where the forward kept its columns (a small layer in training, which stays on the panels).
    let by_winograd = ctx.needs(0)
        && kept_cols.is_none()
        && winograd::applies_to_input_gradient(geometry, groups, out_channels);
    let (dx, dw) = panels.backward(dy, x_values, kept_cols, ctx.needs(0) && !by_winograd, get_num_threads());
    let dx = if by_winograd {
        let kernels =
            Winograd::input_gradient(w2.as_slice().expect("standard layout"), out_channels, geometry.c);
        let g = Winograd::<E>::input_gradient_geometry(geometry, out_channels);
        Some(kernels.forward(&g, dy, None, get_num_threads()))
    } else {
        dx
    };
    let mut grads = vec![
        dx.map(|dx| ArrayD::from_shape_vec(IxDyn(x_shape), dx).expect("input size")),
        dw.map(|dw| ArrayD::from_shape_vec(IxDyn(w_shape), dw).expect("weight size")),
    ];
    if ctx.inputs() == 3 {
        // [n, out_channels, positions] summed over images and positions.
        let positions = geometry.positions();
        grads.push(ctx.needs(2).then(|| {
            let dy = grad.view().into_shape_with_order((geometry.n, out_channels, positions)).expect("sizes");
            dy.sum_axis(Axis(2)).sum_axis(Axis(0)).into_dyn()
        }));
    }
    grads
}

/// The column matrix a convolution kept for its weight's gradient, given
/// back for reuse when the graph lets it go (the next step's forward takes
/// the same size).
pub(super) struct SavedCols<E: Element>(pub Vec<E>);

impl<E: Element> Drop for SavedCols<E> {
    fn drop(&mut self) {
        pool::recycle_vec(std::mem::take(&mut self.0));
    }
}
