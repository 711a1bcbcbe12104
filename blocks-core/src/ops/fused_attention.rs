//! The core of multi-head attention in one op: for every batch entry and
//! head, `softmax(q·scale kᵀ + mask) v`, with q, k and v read straight from
//! the columns of the input projections (one packed `[.., 3E]` product, or
//! three) and each head's output written into its columns of `[.., E]`. No
//! head split or merge is copied as a tensor, the scores never leave the
//! op, and the batch entries are shared out among the threads. Its backward
//! (ScaledDotProductFlashAttentionForCpuBackward0, the name PyTorch records
//! for the fused attention it runs when no weights are asked for) keeps the
//! attention weights of the forward.
//!
//! The numbers are those of the unfused steps (`q · scale`, `matmul`, the
//! mask added, `softmax`, `matmul`) up to the order of the sums.

use ndarray::{
    Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut2, ArrayViewMut3, Axis, CowArray, Ix3, IxDyn, Slice,
};

use super::gemm::gemm_sized;
use crate::autograd::pool;
use crate::threading::{get_num_threads, loop_parts, run_parts};
use crate::{Element, ShapeError, TensorBase};

/// Where q, k or v lies: in input `input`, the `width` columns from `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Operand {
    pub(crate) input: usize,
    pub(crate) offset: usize,
}

/// The attention's sizes: `heads` heads over `width` columns, inputs
/// `[N, T, W]` when `batch_first`, `[T, N, W]` otherwise.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Heads {
    pub(crate) heads: usize,
    pub(crate) width: usize,
    pub(crate) batch_first: bool,
    pub(crate) scale: f64,
}

/// The sizes of one call: batch, heads, head width, query and key lengths.
#[derive(Clone, Copy)]
struct Sizes {
    heads: usize,
    hd: usize,
    l: usize,
    s: usize,
}

/// `array` (3-D) seen batch-major, `[N, T, W]`.
fn batch_major<E>(array: ArrayView3<'_, E>, batch_first: bool) -> ArrayView3<'_, E> {
    if batch_first { array } else { array.permuted_axes([1, 0, 2]) }
}

fn batch_major_mut<E>(array: ArrayViewMut3<'_, E>, batch_first: bool) -> ArrayViewMut3<'_, E> {
    if batch_first { array } else { array.permuted_axes([1, 0, 2]) }
}

/// `view` cut along its first axis into runs starting at `starts` (the
/// first start 0, increasing).
fn cut<'a, E>(view: ArrayViewMut3<'a, E>, starts: &[usize], per_item: usize) -> Vec<ArrayViewMut3<'a, E>> {
    let mut parts = Vec::with_capacity(starts.len());
    let mut rest = view;
    for pair in starts.windows(2) {
        let (head, tail) = rest.split_at(Axis(0), (pair[1] - pair[0]) * per_item);
        parts.push(head);
        rest = tail;
    }
    parts.push(rest);
    parts
}

/// Where each part of `parts` runs of `n` batch entries starts.
fn starts(n: usize, parts: usize) -> Vec<usize> {
    (0..parts).map(|p| n * p / parts).collect()
}

/// One row of scores made weights: the mask added, then a stable softmax.
fn softmax_row<E: Element>(row: &mut [E], mask: Option<ArrayView2<'_, E>>, i: usize) {
    if let Some(mask) = mask {
        for (r, &m) in row.iter_mut().zip(mask.row(i)) {
            *r = m + *r;
        }
    }
    let max = row.iter().fold(E::neg_infinity(), |m, &v| if v > m { v } else { m });
    let mut sum = E::zero();
    for r in row.iter_mut() {
        *r = (*r - max).exp();
        sum += *r;
    }
    for r in row.iter_mut() {
        *r /= sum;
    }
}

/// The attention weights a backward keeps, their storage given back for
/// reuse when the graph goes.
struct Weights<E: Element>(Array3<E>);

impl<E: Element> Drop for Weights<E> {
    fn drop(&mut self) {
        pool::recycle(std::mem::take(&mut self.0).into_dyn());
    }
}

/// Columns `from..from + hd` of batch entry `b` of `array` (`[N, T, W]`).
fn block<'a, E>(array: &ArrayView3<'a, E>, b: usize, from: usize, hd: usize) -> ArrayView2<'a, E> {
    (*array).index_axis_move(Axis(0), b).slice_axis_move(Axis(1), Slice::from(from..from + hd))
}

/// The same block of a mutable array.
fn block_mut<'a, E>(
    array: &'a mut ArrayViewMut3<'_, E>,
    b: usize,
    from: usize,
    hd: usize,
) -> ArrayViewMut2<'a, E> {
    array.view_mut().index_axis_move(Axis(0), b).slice_axis_move(Axis(1), Slice::from(from..from + hd))
}

/// Copies head `h` of operand `op` for batch entry `b` into `buffer` (`[T, hd]`).
fn gather<E: Element>(
    inputs: &[ArrayView3<'_, E>],
    op: Operand,
    b: usize,
    h: usize,
    hd: usize,
    buffer: &mut Array2<E>,
) {
    let from = op.offset + h * hd;
    buffer.assign(&block(&inputs[op.input], b, from, hd));
}

/// Attention over `inputs` (3-D, see [`Heads`]) of the queries, keys and
/// values `ops` describes; `mask` is added to the scores and broadcasts to
/// `[N·heads, L, S]`. Returns `[N, L, E]` (`[L, N, E]` unless batch-first).
///
/// # Errors
///
/// When the inputs are not 3-D with one batch size, an operand's columns
/// overrun its input, keys and values differ in length, the width is not a
/// multiple of the heads, or the mask does not broadcast.
pub(crate) fn fused_attention<E: Element>(
    inputs: &[&TensorBase<E>],
    ops: [Operand; 3],
    spec: Heads,
    mask: Option<&TensorBase<E>>,
) -> Result<TensorBase<E>, ShapeError> {
    let op_name = "fused attention";
    let shapes: Vec<Vec<usize>> = inputs.iter().map(|t| t.shape()).collect();
    let batch_axis = usize::from(!spec.batch_first);
    let seq_axis = 1 - batch_axis;
    if shapes.iter().any(|s| s.len() != 3) || spec.heads == 0 || !spec.width.is_multiple_of(spec.heads) {
        return Err(ShapeError::new(format!(
            "{op_name}: inputs {shapes:?} must be 3-D and width {} a multiple of {} heads",
            spec.width, spec.heads
        )));
    }
    let n = shapes[0][batch_axis];
    let fits =
        |o: Operand| shapes.get(o.input).is_some_and(|s| s[batch_axis] == n && o.offset + spec.width <= s[2]);
    let (l, s) = (shapes[ops[0].input][seq_axis], shapes[ops[1].input][seq_axis]);
    if !ops.iter().all(|&o| fits(o)) || shapes[ops[2].input][seq_axis] != s {
        return Err(ShapeError::new(format!("{op_name}: inputs {shapes:?} do not fit operands {ops:?}")));
    }
    let sizes = Sizes { heads: spec.heads, hd: spec.width / spec.heads, l, s };
    let bh = n * spec.heads;
    crate::numel::checked_alloc::<E>(op_name, "the attention weights", &[bh, l, s])?;
    let mask = match mask {
        Some(m) => {
            let m = m.data().as_standard_layout().into_owned();
            let fits = m.ndim() == 3 && m.broadcast((bh, l, s)).is_some();
            if !fits {
                return Err(ShapeError::new(format!(
                    "{op_name}: mask {:?} does not broadcast to {:?}",
                    m.shape(),
                    [bh, l, s]
                )));
            }
            Some(m.into_dimensionality::<Ix3>().expect("3-D"))
        }
        None => None,
    };
    let snapshots: Vec<_> = inputs.iter().map(|t| t.data()).collect();
    let owned: Vec<CowArray<'_, E, IxDyn>> = snapshots.iter().map(|a| a.as_standard_layout()).collect();
    let views: Vec<ArrayView3<'_, E>> = owned
        .iter()
        .map(|a| batch_major(a.view().into_dimensionality::<Ix3>().expect("3-D"), spec.batch_first))
        .collect();
    let out_shape = if spec.batch_first { [n, l, spec.width] } else { [l, n, spec.width] };
    // Every element of both is written below: recycled storage will do.
    let mut out = Array3::from_shape_vec(out_shape, pool::scratch(n * l * spec.width)).expect("sizes");
    let mut probs = Array3::from_shape_vec((bh, l, s), pool::scratch(bh * l * s)).expect("sizes");
    let scale = E::of(spec.scale);
    let parts = loop_parts(bh * l * s * sizes.hd * 2, n, get_num_threads());
    let first = starts(n, parts);
    let out_parts = cut(batch_major_mut(out.view_mut(), spec.batch_first), &first, 1);
    let prob_parts = cut(probs.view_mut(), &first, spec.heads);
    let work: Vec<_> = first.iter().copied().zip(out_parts.into_iter().zip(prob_parts)).collect();
    let mask_view = mask.as_ref().map(|m| m.broadcast((bh, l, s)).expect("checked"));
    run_parts(work, |(first, (mut out, mut probs))| {
        let (mut q, mut k, mut v) =
            (Array2::zeros((l, sizes.hd)), Array2::zeros((s, sizes.hd)), Array2::zeros((s, sizes.hd)));
        let mut o = Array2::zeros((l, sizes.hd));
        for local in 0..out.len_of(Axis(0)) {
            let b = first + local;
            for h in 0..sizes.heads {
                gather(&views, ops[0], b, h, sizes.hd, &mut q);
                q.mapv_inplace(|x| x * scale);
                gather(&views, ops[1], b, h, sizes.hd, &mut k);
                gather(&views, ops[2], b, h, sizes.hd, &mut v);
                let mut p = probs.index_axis_mut(Axis(0), local * sizes.heads + h);
                gemm_sized(&q.view(), &k.t(), E::zero(), &mut p, 1);
                let m = mask_view.as_ref().map(|m| m.index_axis(Axis(0), b * sizes.heads + h));
                for (i, mut row) in p.outer_iter_mut().enumerate() {
                    softmax_row(row.as_slice_mut().expect("contiguous rows"), m, i);
                }
                gemm_sized(&p.view(), &v.view(), E::zero(), &mut o.view_mut(), 1);
                block_mut(&mut out, local, h * sizes.hd, sizes.hd).assign(&o);
            }
        }
    });
    drop(views);
    let probs = Weights(probs);
    let distinct = inputs.len();
    Ok(TensorBase::from_op(
        out.into_dyn(),
        "ScaledDotProductFlashAttentionForCpuBackward0",
        inputs,
        move |grad, ctx| {
            let grad = grad.as_standard_layout();
            let grad = batch_major(grad.view().into_dimensionality::<Ix3>().expect("3-D"), spec.batch_first);
            let snapshots: Vec<_> = (0..distinct).map(|i| ctx.input(i)).collect();
            let owned: Vec<CowArray<'_, E, IxDyn>> =
                snapshots.iter().map(|a| a.as_standard_layout()).collect();
            let views: Vec<ArrayView3<'_, E>> = owned
                .iter()
                .map(|a| batch_major(a.view().into_dimensionality::<Ix3>().expect("3-D"), spec.batch_first))
                .collect();
            // Each part zeroes its own batch entries below (on its thread,
            // just before adding into them): recycled storage will do.
            let mut grads: Vec<Array3<E>> = owned
                .iter()
                .map(|a| {
                    let values = pool::scratch(a.len());
                    let shape = a.shape();
                    Array3::from_shape_vec((shape[0], shape[1], shape[2]), values).expect("sizes")
                })
                .collect();
            let parts = loop_parts(bh * l * s * sizes.hd * 4, n, get_num_threads());
            let first = starts(n, parts);
            let mut grad_parts: Vec<Vec<ArrayViewMut3<'_, E>>> = (0..parts).map(|_| Vec::new()).collect();
            for g in grads.iter_mut() {
                for (slot, part) in
                    grad_parts.iter_mut().zip(cut(batch_major_mut(g.view_mut(), spec.batch_first), &first, 1))
                {
                    slot.push(part);
                }
            }
            let work: Vec<_> = first.iter().copied().zip(grad_parts).collect();
            run_parts(work, |(first, mut grads)| {
                grads.iter_mut().for_each(|g| g.fill(E::zero()));
                backward_part(&views, &grad, &probs.0, ops, sizes, scale, first, &mut grads);
            });
            grads.into_iter().enumerate().map(|(i, g)| ctx.needs(i).then(|| g.into_dyn())).collect()
        },
    ))
}

/// The gradients of the batch entries from `first` on (as many as `grads`
/// hold), added into `grads` (one per input, batch-major).
#[allow(clippy::too_many_arguments)]
fn backward_part<E: Element>(
    inputs: &[ArrayView3<'_, E>],
    grad: &ArrayView3<'_, E>,
    probs: &Array3<E>,
    ops: [Operand; 3],
    sizes: Sizes,
    scale: E,
    first: usize,
    grads: &mut [ArrayViewMut3<'_, E>],
) {
    let Sizes { heads, hd, l, s, .. } = sizes;
    let (mut q, mut k, mut v, mut g) =
        (Array2::zeros((l, hd)), Array2::zeros((s, hd)), Array2::zeros((s, hd)), Array2::zeros((l, hd)));
    let (mut dq, mut dk, mut dv) = (Array2::zeros((l, hd)), Array2::zeros((s, hd)), Array2::zeros((s, hd)));
    let mut ds = Array2::<E>::zeros((l, s));
    let count = grads[0].len_of(Axis(0));
    for local in 0..count {
        let b = first + local;
        for h in 0..heads {
            gather(inputs, ops[0], b, h, hd, &mut q);
            q.mapv_inplace(|x| x * scale);
            gather(inputs, ops[1], b, h, hd, &mut k);
            gather(inputs, ops[2], b, h, hd, &mut v);
            g.assign(&block(grad, b, h * hd, hd));
            let p = probs.index_axis(Axis(0), b * heads + h);
            gemm_sized(&p.t(), &g.view(), E::zero(), &mut dv.view_mut(), 1);
            gemm_sized(&g.view(), &v.t(), E::zero(), &mut ds.view_mut(), 1);
            // dS = P ∘ (dP − Σ_j dP·P) row by row, the softmax's backward.
            for (mut d, p) in ds.outer_iter_mut().zip(p.outer_iter()) {
                let dot = d.iter().zip(p.iter()).fold(E::zero(), |acc, (&d, &p)| acc + d * p);
                d.zip_mut_with(&p, |d, &p| *d = p * (*d - dot));
            }
            gemm_sized(&ds.view(), &k.view(), E::zero(), &mut dq.view_mut(), 1);
            dq.mapv_inplace(|x| x * scale);
            gemm_sized(&ds.t(), &q.view(), E::zero(), &mut dk.view_mut(), 1);
            for (op, d) in ops.iter().zip([&dq, &dk, &dv]) {
                let from = op.offset + h * hd;
                let mut target = block_mut(&mut grads[op.input], local, from, hd);
                target += d;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Heads, Operand, fused_attention};
    use crate::{Tensor64, gradcheck, set_num_threads};

    /// The plain definition: heads split, `softmax(q·scale kᵀ + mask) v`, merged.
    fn plain(x: [&Tensor64; 3], ops: [Operand; 3], spec: Heads, mask: Option<&Tensor64>) -> Tensor64 {
        let (h, e) = (spec.heads as isize, spec.width as isize);
        let split = |x: &Tensor64, op: Operand| {
            let x = x.narrow(2, op.offset as isize, spec.width);
            let x = if spec.batch_first { x } else { x.transpose(0, 1) };
            let (n, t) = (x.shape()[0] as isize, x.shape()[1] as isize);
            x.reshape(&[n, t, h, e / h]).transpose(1, 2)
        };
        let (q, k, v) =
            (split(x[ops[0].input], ops[0]), split(x[ops[1].input], ops[1]), split(x[ops[2].input], ops[2]));
        let mut scores = q.mul_scalar(spec.scale).matmul(&k.transpose(-2, -1));
        if let Some(mask) = mask {
            let shape = scores.shape().iter().map(|&d| d as isize).collect::<Vec<_>>();
            let (n, l, s) = (shape[0], shape[2], shape[3]);
            scores = scores.reshape(&[n * h, l, s]).try_add(mask).unwrap().reshape(&shape);
        }
        let y = scores.softmax(-1).matmul(&v).transpose(1, 2);
        let (n, l) = (y.shape()[0] as isize, y.shape()[1] as isize);
        let y = y.reshape(&[n, l, e]);
        if spec.batch_first { y } else { y.transpose(0, 1) }
    }

    fn close(a: &Tensor64, b: &Tensor64) {
        assert_eq!(a.shape(), b.shape());
        for (x, y) in a.to_vec().iter().zip(b.to_vec()) {
            assert!((x - y).abs() <= 1e-12 + 1e-12 * y.abs(), "{x} against {y}");
        }
    }

    fn at(input: usize, offset: usize) -> Operand {
        Operand { input, offset }
    }

    #[test]
    fn matches_the_plain_definition_packed_and_apart_with_masks() {
        for batch_first in [true, false] {
            let spec = Heads { heads: 3, width: 6, batch_first, scale: 0.7 };
            let (n, l, s) = (2, 5, 3);
            let seq = |t: usize| if batch_first { [n, t, 0] } else { [t, n, 0] };
            let shape = |t: usize, w: usize| {
                let mut sh = seq(t);
                sh[2] = w;
                sh
            };
            // self-attention on one packed [.., 3E + 1] input (an odd extra column)
            let x = Tensor64::randn(shape(l, 19)).requires_grad_(true);
            let ops = [at(0, 1), at(0, 7), at(0, 13)];
            let masks = [None, Some(Tensor64::randn([1, l, l])), Some(Tensor64::randn([n * 3, 1, l]))];
            for mask in &masks {
                let ours = fused_attention(&[&x], ops, spec, mask.as_ref()).unwrap();
                close(&ours, &plain([&x, &x, &x], ops, spec, mask.as_ref()));
                assert_eq!(ours.grad_fn(), Some("ScaledDotProductFlashAttentionForCpuBackward0"));
                gradcheck(
                    |xs| fused_attention(&[&xs[0]], ops, spec, mask.as_ref()).unwrap().tanh().sum(),
                    std::slice::from_ref(&x),
                )
                .unwrap();
            }
            // q, k and v apart, keys longer than queries
            let q = Tensor64::randn(shape(l, 6)).requires_grad_(true);
            let k = Tensor64::randn(shape(s, 6)).requires_grad_(true);
            let v = Tensor64::randn(shape(s, 6)).requires_grad_(true);
            let ops = [at(0, 0), at(1, 0), at(2, 0)];
            let mask = Tensor64::randn([n * 3, l, s]);
            close(
                &fused_attention(&[&q, &k, &v], ops, spec, Some(&mask)).unwrap(),
                &plain([&q, &k, &v], ops, spec, Some(&mask)),
            );
            gradcheck(
                |xs| fused_attention(&[&xs[0], &xs[1], &xs[2]], ops, spec, Some(&mask)).unwrap().sum(),
                &[q, k, v],
            )
            .unwrap();
        }
    }

    #[test]
    fn the_same_numbers_on_one_two_and_three_threads() {
        // enough work (LOOP_PARALLEL_MIN steps and more) to be cut among the threads
        let spec = Heads { heads: 3, width: 144, batch_first: false, scale: 0.2 };
        let x = Tensor64::randn([37, 5, 3 * 144]).requires_grad_(true);
        let ops = [at(0, 0), at(0, 144), at(0, 288)];
        let mask = Tensor64::randn([1, 37, 37]);
        let weights = Tensor64::randn([37, 5, 144]);
        let run = |threads| {
            set_num_threads(threads);
            let x = x.detach().requires_grad_(true);
            let y = fused_attention(&[&x], ops, spec, Some(&mask)).unwrap();
            (&y * &weights).sum().backward();
            set_num_threads(1);
            (y.to_vec(), x.grad().unwrap().to_vec())
        };
        let one = run(1);
        assert_eq!(run(2), one);
        assert_eq!(run(3), one);
        close(&Tensor64::from_vec(one.0, [37, 5, 144]), &plain([&x, &x, &x], ops, spec, Some(&mask)));
    }

    #[test]
    fn misfit_operands_and_masks_are_refused() {
        let spec = Heads { heads: 2, width: 4, batch_first: true, scale: 1.0 };
        let x = Tensor64::randn([2, 3, 8]);
        let error = fused_attention(&[&x], [at(0, 0), at(0, 4), at(0, 5)], spec, None).unwrap_err();
        assert!(error.to_string().contains("do not fit operands"), "{error}");
        let mask = Tensor64::randn([3, 3, 3]);
        let error = fused_attention(&[&x], [at(0, 0), at(0, 4), at(0, 4)], spec, Some(&mask)).unwrap_err();
        assert_eq!(error.to_string(), "fused attention: mask [3, 3, 3] does not broadcast to [4, 3, 3]");
    }
}
