//! The convolution's backward (ConvolutionBackward0): the input's gradient
//! (`Wᵀ · dy`, then `col2im`) and the weight's (`dy · colsᵀ`), side by side
//! on the threads when both products are large, like a linear layer's pair.

use ndarray::{Array2, ArrayD, ArrayView2, Axis, IxDyn, Slice};

use super::conv::weight_matrix;
use super::conv_layout::channels_outer;
use super::gemm::{gemm_sized, is_large, output};
use super::im2col::{Geometry, col2im, im2col};
use crate::autograd::node::BackwardContext;
use crate::autograd::pool;
use crate::{Element, get_num_threads};

/// The gradients of input, weight and bias from the output's gradient `grad`.
///
/// ```text
/// conv_backward(grad, ctx, &geometry, groups, &x_shape, &w_shape, saved_cols)
/// ```
pub(super) fn conv_backward<E: Element>(
    grad: ArrayD<E>,
    ctx: &BackwardContext<'_, E>,
    geometry: &Geometry,
    groups: usize,
    x_shape: &[usize],
    w_shape: &[usize],
    saved_cols: Option<&[E]>,
) -> Vec<Option<ArrayD<E>>> {
    let threads = get_num_threads();
    let out_channels = w_shape[0];
    let dy = channels_outer(&grad, geometry.n, out_channels, geometry.positions(), threads);
    // Everything read from the inputs is read here, on the calling thread.
    let w2 = ctx.needs(0).then(|| weight_matrix(&ctx.input(1), out_channels));
    let mut computed_cols = Vec::new();
    if ctx.needs(1) {
        let x = ctx.input(0);
        // With saved columns, the snapshot still checks that the input was
        // not modified in place since (PyTorch saves the input and raises then).
        if saved_cols.is_none() {
            let x = x.as_standard_layout();
            computed_cols = im2col(x.as_slice().expect("standard layout"), geometry, threads);
        }
    }
    let cols = ctx.needs(1).then(|| saved_cols.unwrap_or(&computed_cols));
    let products = Products { geometry, groups, out_channels, dy: &dy };
    let input_grad = |threads: usize| w2.as_ref().map(|w2| products.input_grad(w2, x_shape, threads));
    let weight_grad = |threads: usize| cols.map(|cols| products.weight_grad(cols, w_shape, threads));
    // Both products have rows · (out_channels / groups) · cols multiply-adds.
    let large = is_large(geometry.rows(), out_channels / groups, geometry.cols());
    let (dx, dw) = if threads >= 2 && large && w2.is_some() && cols.is_some() {
        crate::threading::join(threads, input_grad, weight_grad)
    } else {
        (input_grad(threads), weight_grad(threads))
    };
    let mut grads = vec![dx, dw];
    if ctx.inputs() == 3 {
        grads.push(ctx.needs(2).then(|| dy.sum_axis(Axis(1)).into_dyn()));
    }
    pool::recycle_vec(dy.into_raw_vec_and_offset().0);
    pool::recycle_vec(computed_cols);
    grads
}

/// The column matrix a convolution keeps for its weight's gradient, given
/// back for reuse when the graph lets it go (the next step's `im2col` takes
/// the same size).
pub(super) struct SavedCols<E: Element>(pub Vec<E>);

impl<E: Element> Drop for SavedCols<E> {
    fn drop(&mut self) {
        pool::recycle_vec(std::mem::take(&mut self.0));
    }
}

/// What both gradient products read: the sizes and the output's gradient
/// `[out_channels, n · positions]`.
struct Products<'a, E> {
    geometry: &'a Geometry,
    groups: usize,
    out_channels: usize,
    dy: &'a Array2<E>,
}

impl<E: Element> Products<'_, E> {
    /// The input's gradient: `Wᵀ · dy` per group into the column matrix's
    /// shape, added back into images by `col2im`, on at most `threads` threads.
    fn input_grad(&self, w2: &Array2<E>, x_shape: &[usize], threads: usize) -> ArrayD<E> {
        let g = self.geometry;
        let (og, rg) = (self.out_channels / self.groups, g.rows() / self.groups);
        let mut dcols = output(g.rows(), g.cols());
        for group in 0..self.groups {
            let a = w2.slice_axis(Axis(0), Slice::from(group * og..(group + 1) * og));
            let b = self.dy.slice_axis(Axis(0), Slice::from(group * og..(group + 1) * og));
            let mut c = dcols.slice_axis_mut(Axis(0), Slice::from(group * rg..(group + 1) * rg));
            gemm_sized(&a.t(), &b, E::zero(), &mut c, threads);
        }
        let dx = col2im(dcols.as_slice().expect("standard layout"), g, threads);
        pool::recycle_vec(dcols.into_raw_vec_and_offset().0);
        ArrayD::from_shape_vec(IxDyn(x_shape), dx).expect("input size")
    }

    /// The weight's gradient: `dy · colsᵀ` per group, on at most `threads` threads.
    fn weight_grad(&self, cols: &[E], w_shape: &[usize], threads: usize) -> ArrayD<E> {
        let g = self.geometry;
        let (og, rg) = (self.out_channels / self.groups, g.rows() / self.groups);
        let cols = ArrayView2::from_shape((g.rows(), g.cols()), cols).expect("im2col size");
        let mut dw = output(self.out_channels, rg);
        for group in 0..self.groups {
            let a = self.dy.slice_axis(Axis(0), Slice::from(group * og..(group + 1) * og));
            let b = cols.slice_axis(Axis(0), Slice::from(group * rg..(group + 1) * rg));
            let mut c = dw.slice_axis_mut(Axis(0), Slice::from(group * og..(group + 1) * og));
            gemm_sized(&a, &b.t(), E::zero(), &mut c, threads);
        }
        dw.into_shape_with_order(IxDyn(w_shape)).expect("weight size")
    }
}
