//! One LSTM layer of one direction over a whole sequence, as one op
//! (MkldnnRnnLayerBackward0, as PyTorch's CPU LSTM records it): the input's
//! share of every gate for all steps in one product, then per step the
//! hidden state's share (`h W_hhᵀ`, added in place) and the fused cell
//! (`lstm_cell.rs`). Backward walks the steps back with the fused cell's
//! backward and one `dG · W_hh` per step, then takes the weights' gradients
//! for all steps at once (`dGᵀ · X`, `dGᵀ · H_prev`): no node, no slice and
//! no zero-filled gradient per step.

use ndarray::{ArrayD, ArrayView2, ArrayViewMut2, IxDyn};

use super::gemm::gemm;
use super::lstm_cell::{self, Saved};
use crate::autograd::pool;
use crate::{Element, TensorBase};

/// The parameters of one layer and direction: `weight_ih` `[4H, D]`,
/// `weight_hh` `[4H, H]`, the biases `[4H]` (both or neither).
pub(crate) struct LstmWeights<'a, E: Element> {
    pub(crate) weight_ih: &'a TensorBase<E>,
    pub(crate) weight_hh: &'a TensorBase<E>,
    pub(crate) biases: Option<(&'a TensorBase<E>, &'a TensorBase<E>)>,
}

/// A row-major `rows × cols` view of `values`.
fn view<E>(values: &[E], rows: usize, cols: usize) -> ArrayView2<'_, E> {
    ArrayView2::from_shape((rows, cols), values).expect("rows × cols values")
}

/// A row-major `rows × cols` mutable view of `values`.
fn view_mut<E>(values: &mut [E], rows: usize, cols: usize) -> ArrayViewMut2<'_, E> {
    ArrayViewMut2::from_shape((rows, cols), values).expect("rows × cols values")
}

/// The values of `array` in row-major order (a copy only if it is not).
fn row_major<E: Element>(array: &ArrayD<E>) -> std::borrow::Cow<'_, [E]> {
    match array.as_slice() {
        Some(values) => std::borrow::Cow::Borrowed(values),
        None => std::borrow::Cow::Owned(array.iter().copied().collect()),
    }
}

/// Block `at` of `len` values of `values` to read, and block `to` to write (`at != to`).
fn read_write<E>(values: &mut [E], at: usize, to: usize, len: usize) -> (&[E], &mut [E]) {
    if at < to {
        let (before, after) = values.split_at_mut(to * len);
        (&before[at * len..(at + 1) * len], &mut after[..len])
    } else {
        let (before, after) = values.split_at_mut(at * len);
        (&after[..len], &mut before[to * len..(to + 1) * len])
    }
}

/// The sizes of a layer's run.
#[derive(Clone, Copy)]
struct Sizes {
    steps: usize,
    batch: usize,
    input: usize,
    hidden: usize,
}

impl<E: Element> TensorBase<E> {
    /// One LSTM layer over the sequence `self` (`[L, N, D]`) from `h0` and
    /// `c0` (`[N, H]`), the steps taken backwards in time when `reverse`.
    /// The result is `[L + 1, N, H]`: `h` at each time step, then the last
    /// cell state (`c` after the step at `L - 1`, or at 0 when `reverse`).
    ///
    /// ```text
    /// let y = x.lstm_layer(&h0, &c0, LstmWeights { weight_ih, weight_hh, biases }, false);
    /// let (output, c_n) = (y.narrow(0, 0, steps), y.select(0, steps as isize));
    /// ```
    ///
    /// # Panics
    ///
    /// When the shapes do not fit together, naming them all.
    #[track_caller]
    pub(crate) fn lstm_layer(
        &self,
        h0: &Self,
        c0: &Self,
        weights: LstmWeights<'_, E>,
        reverse: bool,
    ) -> Self {
        let (x_shape, w_ih_shape, w_hh_shape) =
            (self.shape(), weights.weight_ih.shape(), weights.weight_hh.shape());
        let hidden = w_hh_shape.get(1).copied().unwrap_or(0);
        let fits = x_shape.len() == 3
            && w_hh_shape == [4 * hidden, hidden]
            && w_ih_shape == [4 * hidden, x_shape[2]]
            && h0.shape() == [x_shape[1], hidden]
            && c0.shape() == [x_shape[1], hidden]
            && weights.biases.is_none_or(|(a, b)| a.shape() == [4 * hidden] && b.shape() == [4 * hidden]);
        assert!(
            fits,
            "lstm_layer: input {x_shape:?}, h0 {:?}, c0 {:?}, weight_ih {w_ih_shape:?}, weight_hh {w_hh_shape:?}, \
             biases {:?} do not fit together",
            h0.shape(),
            c0.shape(),
            weights.biases.map(|(a, b)| (a.shape(), b.shape()))
        );
        let sizes = Sizes { steps: x_shape[0], batch: x_shape[1], input: x_shape[2], hidden };
        let (y, saved) = forward(self, h0, c0, &weights, sizes, reverse);
        let mut inputs = vec![self, h0, c0, weights.weight_ih, weights.weight_hh];
        if let Some((b_ih, b_hh)) = weights.biases {
            inputs.extend([b_ih, b_hh]);
        }
        let data =
            ArrayD::from_shape_vec(IxDyn(&[sizes.steps + 1, sizes.batch, hidden]), y).expect("(L + 1) N H");
        TensorBase::from_op(data, "MkldnnRnnLayerBackward0", &inputs, move |grad, ctx| {
            let grads = backward(&grad, ctx, &saved, sizes, reverse);
            pool::recycle(grad);
            grads
        })
    }
}

/// What forward keeps for backward: the activated gates of every step
/// (`[L·N, 4H]`), the cell states and their tanh (`[L·N, H]` each).
struct Kept<E: Element> {
    gates: Vec<E>,
    c: Vec<E>,
    tanh_c: Vec<E>,
}

impl<E: Element> Drop for Kept<E> {
    /// Gives the buffers back for the next step's forward.
    fn drop(&mut self) {
        for buffer in [&mut self.gates, &mut self.c, &mut self.tanh_c] {
            pool::recycle_vec(std::mem::take(buffer));
        }
    }
}

/// The steps in the order they run.
fn order(steps: usize, reverse: bool) -> Vec<usize> {
    if reverse { (0..steps).rev().collect() } else { (0..steps).collect() }
}

/// The layer's values (`[L + 1, N, H]` as in [`TensorBase::lstm_layer`]) and what backward needs.
fn forward<E: Element>(
    x: &TensorBase<E>,
    h0: &TensorBase<E>,
    c0: &TensorBase<E>,
    weights: &LstmWeights<'_, E>,
    sizes: Sizes,
    reverse: bool,
) -> (Vec<E>, Kept<E>) {
    let Sizes { steps, batch, input, hidden } = sizes;
    let (rows, width, state) = (steps * batch, 4 * hidden, batch * hidden);
    // Every step's input share at once: X W_ihᵀ + b_ih + b_hh.
    let mut gates = pool::scratch(rows * width);
    let beta = match weights.biases {
        Some((b_ih, b_hh)) => {
            let (b_ih, b_hh) = (b_ih.data(), b_hh.data());
            let bias: Vec<E> = b_ih.iter().zip(b_hh.iter()).map(|(&a, &b)| a + b).collect();
            gates.chunks_exact_mut(width).for_each(|row| row.copy_from_slice(&bias));
            E::one()
        }
        None => E::zero(),
    };
    {
        let (x, w_ih) = (x.data(), weights.weight_ih.data());
        let (x, w_ih) = (row_major(&x), row_major(&w_ih));
        gemm(
            &view(&x, rows, input),
            &view(&w_ih, width, input).t(),
            beta,
            &mut view_mut(&mut gates, rows, width),
        );
    }
    let (h0, c0, w_hh) = (h0.data(), c0.data(), weights.weight_hh.data());
    let (h0, c0, w_hh) = (row_major(&h0), row_major(&c0), row_major(&w_hh));
    let w_hh_t = view(&w_hh, width, hidden).reversed_axes();
    let mut y = pool::scratch((steps + 1) * state);
    let (mut c, mut tanh_c) = (pool::scratch(rows * hidden), pool::scratch(rows * hidden));
    let order = order(steps, reverse);
    for (k, &t) in order.iter().enumerate() {
        let step_gates = &mut gates[t * batch * width..(t + 1) * batch * width];
        let h_prev = if k == 0 { &h0[..] } else { &y[order[k - 1] * state..(order[k - 1] + 1) * state] };
        gemm(&view(h_prev, batch, hidden), &w_hh_t, E::one(), &mut view_mut(step_gates, batch, width));
        let (c_prev, c_t) = if k == 0 {
            (&c0[..], &mut c[t * state..(t + 1) * state])
        } else {
            read_write(&mut c, order[k - 1], t, state)
        };
        let tanh_t = &mut tanh_c[t * state..(t + 1) * state];
        lstm_cell::forward(step_gates, c_prev, c_t, tanh_t, &mut y[t * state..(t + 1) * state], hidden);
    }
    let last = *order.last().expect("at least one step");
    y[steps * state..].copy_from_slice(&c[last * state..(last + 1) * state]);
    (y, Kept { gates, c, tanh_c })
}

/// The inputs' gradients from the output's (`[L + 1, N, H]`).
fn backward<E: Element>(
    grad: &ArrayD<E>,
    ctx: &crate::autograd::node::BackwardContext<'_, E>,
    kept: &Kept<E>,
    sizes: Sizes,
    reverse: bool,
) -> Vec<Option<ArrayD<E>>> {
    let Sizes { steps, batch, input, hidden } = sizes;
    let (rows, width, state) = (steps * batch, 4 * hidden, batch * hidden);
    let dy = row_major(grad);
    let (w_hh, c0) = (ctx.input(4), ctx.input(2));
    let (w_hh, c0) = (row_major(&w_hh), row_major(&c0));
    let w_hh = view(&w_hh, width, hidden);
    let mut dgates = pool::scratch(rows * width);
    let mut dc = dy[steps * state..].to_vec();
    let mut carry = vec![E::zero(); state];
    let order = order(steps, reverse);
    for (k, &t) in order.iter().enumerate().rev() {
        let c_prev = if k == 0 { &c0[..] } else { &kept.c[order[k - 1] * state..(order[k - 1] + 1) * state] };
        let saved = Saved {
            gates: &kept.gates[t * batch * width..(t + 1) * batch * width],
            c_prev,
            tanh_c: &kept.tanh_c[t * state..(t + 1) * state],
        };
        let step_dgates = &mut dgates[t * batch * width..(t + 1) * batch * width];
        let later = (k + 1 < steps).then_some(&carry[..]);
        lstm_cell::backward(&saved, &dy[t * state..(t + 1) * state], later, &mut dc, step_dgates, hidden);
        gemm(&view(step_dgates, batch, width), &w_hh, E::zero(), &mut view_mut(&mut carry, batch, hidden));
    }
    let dg = view(&dgates, rows, width);
    let array =
        |values: Vec<E>, shape: &[usize]| ArrayD::from_shape_vec(IxDyn(shape), values).expect("sized");
    let product = |a: ArrayView2<'_, E>, b: ArrayView2<'_, E>| {
        let mut out = pool::scratch(a.nrows() * b.ncols());
        gemm(&a, &b, E::zero(), &mut view_mut(&mut out, a.nrows(), b.ncols()));
        out
    };
    // A weight's gradient `dGᵀ · B`: written column-major, then turned
    // row-major; for these shapes (`[4H, L·N] · [L·N, ·]`) the product runs
    // about twice as fast into a column-major output (measured with the
    // kernel of `gemm.rs`, 1 thread, `[1024, 2240] · [2240, 256]`).
    let weight_product = |b: ArrayView2<'_, E>| {
        let cols = b.ncols();
        let mut transposed = pool::scratch(width * cols);
        gemm(&dg.t(), &b, E::zero(), &mut view_mut(&mut transposed, cols, width).reversed_axes());
        let mut out = pool::scratch(width * cols);
        view_mut(&mut out, width, cols).assign(&view(&transposed, cols, width).t());
        pool::recycle_vec(transposed);
        out
    };
    let dx = ctx.needs(0).then(|| {
        let w_ih = ctx.input(3);
        let w_ih = row_major(&w_ih);
        array(product(dg, view(&w_ih, width, input)), &[steps, batch, input])
    });
    let dh0 = ctx.needs(1).then(|| array(carry, &[batch, hidden]));
    let dc0 = ctx.needs(2).then(|| array(dc, &[batch, hidden]));
    let dw_ih = ctx.needs(3).then(|| {
        let x = ctx.input(0);
        let x = row_major(&x);
        array(weight_product(view(&x, rows, input)), &[width, input])
    });
    let dw_hh = ctx.needs(4).then(|| {
        // Each step's h before it, in the steps' places.
        let (h0, y) = (ctx.input(1), ctx.output());
        let (h0, y) = (row_major(&h0), row_major(&y));
        let mut h_prev = pool::scratch(rows * hidden);
        for (k, &t) in order.iter().enumerate() {
            let from = if k == 0 { &h0[..] } else { &y[order[k - 1] * state..(order[k - 1] + 1) * state] };
            h_prev[t * state..(t + 1) * state].copy_from_slice(from);
        }
        let dw = weight_product(view(&h_prev, rows, hidden));
        pool::recycle_vec(h_prev);
        array(dw, &[width, hidden])
    });
    let mut grads = vec![dx, dh0, dc0, dw_ih, dw_hh];
    if ctx.inputs() == 7 {
        let db = (ctx.needs(5) || ctx.needs(6)).then(|| {
            let mut sums = vec![E::zero(); width];
            for row in dgates.chunks_exact(width) {
                sums.iter_mut().zip(row).for_each(|(s, &g)| *s += g);
            }
            array(sums, &[width])
        });
        grads.push(db.clone().filter(|_| ctx.needs(5)));
        grads.push(db.filter(|_| ctx.needs(6)));
    }
    pool::recycle_vec(dgates);
    grads
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor64;
    use crate::autograd::gradcheck::gradcheck;

    fn layer(t: &[Tensor64], reverse: bool) -> Tensor64 {
        let biases = (t.len() == 7).then(|| (&t[5], &t[6]));
        t[0].lstm_layer(&t[1], &t[2], LstmWeights { weight_ih: &t[3], weight_hh: &t[4], biases }, reverse)
    }

    fn inputs(steps: usize, batch: usize, input: usize, hidden: usize, bias: bool) -> Vec<Tensor64> {
        crate::manual_seed(7);
        let mut t = vec![
            Tensor64::randn([steps, batch, input]),
            Tensor64::randn([batch, hidden]),
            Tensor64::randn([batch, hidden]),
            Tensor64::randn([4 * hidden, input]) * 0.5,
            Tensor64::randn([4 * hidden, hidden]) * 0.5,
        ];
        if bias {
            t.extend([Tensor64::randn([4 * hidden]), Tensor64::randn([4 * hidden])]);
        }
        t.into_iter().map(|t| t.requires_grad_(true)).collect()
    }

    /// The same layer from the plain ops, step by step.
    fn composed(t: &[Tensor64], reverse: bool) -> Tensor64 {
        let (steps, hidden) = (t[0].shape()[0], t[4].shape()[1]);
        let (mut h, mut c) = (t[1].clone(), t[2].clone());
        let mut hs = vec![None; steps];
        let order: Vec<usize> = if reverse { (0..steps).rev().collect() } else { (0..steps).collect() };
        for &s in &order {
            let mut gates = t[0].select(0, s as isize).matmul(&t[3].t()) + h.matmul(&t[4].t());
            if t.len() == 7 {
                gates = gates + &t[5] + &t[6];
            }
            let gate = |k: usize| gates.narrow(1, (k * hidden) as isize, hidden);
            let (i, f, g, o) = (gate(0).sigmoid(), gate(1).sigmoid(), gate(2).tanh(), gate(3).sigmoid());
            c = &(&f * &c) + &(&i * &g);
            h = &o * &c.tanh();
            hs[s] = Some(h.clone());
        }
        let mut rows: Vec<Tensor64> = hs.into_iter().map(|h| h.expect("ran")).collect();
        rows.push(c);
        Tensor64::stack(&rows.iter().collect::<Vec<_>>(), 0)
    }

    #[test]
    fn matches_the_composed_layer_forward_and_backward() {
        for (reverse, bias, threads) in
            [(false, true, 1), (true, true, 2), (false, false, 3), (true, false, 1)]
        {
            let before = crate::get_num_threads();
            crate::set_num_threads_oversubscribed(threads);
            let t = inputs(5, 3, 4, 6, bias);
            let weights = Tensor64::randn([6, 3, 6]);
            let fused = layer(&t, reverse);
            assert_eq!(fused.grad_fn(), Some("MkldnnRnnLayerBackward0"));
            (&fused * &weights).sum().backward();
            let fused_grads: Vec<Vec<f64>> =
                t.iter().map(|t| t.grad().expect("a gradient").to_vec()).collect();
            let plain_inputs: Vec<Tensor64> = t.iter().map(|t| t.detach().requires_grad_(true)).collect();
            let plain = composed(&plain_inputs, reverse);
            (&plain * &weights).sum().backward();
            for (a, b) in fused.to_vec().iter().zip(plain.to_vec()) {
                assert!((a - b).abs() < 1e-12, "{a} vs {b}");
            }
            for (k, (fused, plain)) in fused_grads.iter().zip(&plain_inputs).enumerate() {
                for (a, b) in fused.iter().zip(plain.grad().expect("a gradient").to_vec()) {
                    assert!((a - b).abs() < 1e-10, "input {k}: {a} vs {b}");
                }
            }
            crate::set_num_threads_oversubscribed(before);
        }
    }

    #[test]
    fn gradcheck_in_float64() {
        for (reverse, bias) in [(false, true), (true, false)] {
            gradcheck(|t| layer(t, reverse), &inputs(3, 2, 3, 2, bias)).unwrap();
        }
    }

    #[test]
    #[should_panic(expected = "lstm_layer: input [3, 2, 5], h0 [2, 2]")]
    fn mismatched_shapes_panic_naming_them() {
        let t = inputs(3, 2, 3, 2, true);
        let x = Tensor64::zeros([3, 2, 5]);
        let biases = Some((&t[5], &t[6]));
        x.lstm_layer(&t[1], &t[2], LstmWeights { weight_ih: &t[3], weight_hh: &t[4], biases }, false);
    }
}
