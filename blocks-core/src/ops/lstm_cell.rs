//! The LSTM cell's elementwise part, fused: from the gate pre-activations
//! (`[N, 4H]`, PyTorch's order `i, f, g, o`) and `c_prev`, one pass gives
//! `c = σ(f) ⊙ c_prev + σ(i) ⊙ tanh(g)` and `h = σ(o) ⊙ tanh(c)`; one pass
//! back gives `d(gates)` and `d(c_prev)` from `dh` and `dc`. The products
//! around it (`x W_ihᵀ`, `h W_hhᵀ`) and the loop over time are the layer
//! op's (`lstm_layer.rs`); these kernels work on row-major slices of rows,
//! split by rows across threads when a step is large.

use crate::threading::{loop_parts, row_parts, run_parts};
use crate::{Element, get_num_threads};

/// Element-steps of one unit of one row (five exponentials or tanh and a
/// dozen multiply-adds), for deciding whether a step is worth splitting.
const UNIT_WORK: usize = 32;

/// `σ(x)`: for `f32` by [`exp_f32`] (branch-free, so the cell's loops
/// vectorize), for `f64` as the sigmoid op computes it.
#[inline(always)]
fn sigmoid<E: Element>(x: E) -> E {
    if size_of::<E>() == 4 {
        let x = x.to_f32().unwrap_or(f32::NAN);
        return E::from_f32(1.0 / (1.0 + exp_f32(-x))).unwrap_or_else(E::nan);
    }
    if x >= E::zero() {
        E::one() / (E::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (E::one() + e)
    }
}

/// `tanh(x)`: for `f32` from [`exp_f32`] (and its Taylor series near 0,
/// where `1 - 2 / (e^{2x} + 1)` would cancel), for `f64` by the library's.
#[inline(always)]
fn tanh<E: Element>(x: E) -> E {
    if size_of::<E>() == 4 {
        return E::from_f32(tanh_f32(x.to_f32().unwrap_or(f32::NAN))).unwrap_or_else(E::nan);
    }
    x.tanh()
}

/// `tanh(x)` in `f32`, within about 3e-7 of the exact value (relative),
/// without branches: `1 - 2 / (e^{2|x|} + 1)` with `x`'s sign, or the Taylor
/// series to `x⁹` for `|x| < 0.3` (its first omitted term is below 2e-8 there).
#[inline(always)]
fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    let far = 1.0 - 2.0 / (exp_f32(2.0 * a) + 1.0);
    let far = far.copysign(x);
    let x2 = x * x;
    let near =
        x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0 + x2 * (62.0 / 2835.0)))));
    if a < 0.3 { near } else { far }
}

/// `e^x` in `f32` without branches or library calls (so loops of it
/// vectorize): `x = n ln 2 + r` with `|r| <= ln 2 / 2` (`ln 2` in two parts,
/// so `n ln 2` is exact), `e^r` by its Taylor series to `r⁷` (the first
/// omitted term is below 6e-9 of it), times `2ⁿ` built from its bits. Below
/// -87.3 it gives the smallest normal number, above 88.3 about 2.4e38
/// (`e^x` would be infinite), which the sigmoid and tanh above do not tell
/// apart from the exact values.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 = LN2_HI + LN2_LO, LN2_HI with 9 significant bits.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and taking away 1.5·2²³ rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.3, 88.3);
    let n = (x * LOG2_E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (1.0 / 2.0
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    // 2ⁿ: `n + 1.5·2²³` holds `n` in its low mantissa bits, and shifting
    // `n + 127` into the exponent's place drops the bits above.
    let scale = f32::from_bits((n + ROUND).to_bits().wrapping_add(127) << 23);
    p * scale
}

/// Into how many parts to cut a step of `rows` rows of `hidden` units.
fn parts(rows: usize, hidden: usize) -> usize {
    loop_parts(rows.saturating_mul(hidden).saturating_mul(4 * UNIT_WORK), rows, get_num_threads())
}

/// One step forward: `gates` (`rows × 4H`) holds the pre-activations and is
/// overwritten with the activated gates (`σ(i), σ(f), tanh(g), σ(o)`, what
/// [`backward`] needs); `c` and `tanh_c` (`rows × H`) receive the new cell
/// state and its tanh, `h` the new hidden state.
///
/// # Panics
///
/// If a slice's length is not the rows of `c_prev` times its width.
pub(crate) fn forward<E: Element>(
    gates: &mut [E],
    c_prev: &[E],
    c: &mut [E],
    tanh_c: &mut [E],
    h: &mut [E],
    hidden: usize,
) {
    let rows = c_prev.len().checked_div(hidden).unwrap_or(0);
    assert!(
        gates.len() == rows * 4 * hidden && [c.len(), tanh_c.len(), h.len()] == [c_prev.len(); 3],
        "lstm_cell: gates of {} values and states of {}, {}, {}, {} values do not fit {rows} rows of {hidden} units",
        gates.len(),
        c_prev.len(),
        c.len(),
        tanh_c.len(),
        h.len()
    );
    if rows == 0 {
        return;
    }
    let parts = parts(rows, hidden);
    let work: Vec<_> = row_parts(gates, 4 * hidden, parts)
        .into_iter()
        .zip(row_parts(c, hidden, parts))
        .zip(row_parts(tanh_c, hidden, parts))
        .zip(row_parts(h, hidden, parts))
        .collect();
    run_parts(work, |((((first, gates), (_, c)), (_, tanh_c)), (_, h))| {
        let c_prev = &c_prev[first * hidden..first * hidden + c.len()];
        let rows = gates
            .chunks_exact_mut(4 * hidden)
            .zip(c_prev.chunks_exact(hidden))
            .zip(c.chunks_exact_mut(hidden))
            .zip(tanh_c.chunks_exact_mut(hidden))
            .zip(h.chunks_exact_mut(hidden));
        for ((((gates, c_prev), c), tanh_c), h) in rows {
            forward_row(gates, c_prev, c, tanh_c, h, hidden);
        }
    });
}

/// [`forward`] on one row.
#[inline]
fn forward_row<E: Element>(
    gates: &mut [E],
    c_prev: &[E],
    c: &mut [E],
    tanh_c: &mut [E],
    h: &mut [E],
    hidden: usize,
) {
    let (i, rest) = gates.split_at_mut(hidden);
    let (f, rest) = rest.split_at_mut(hidden);
    let (g, o) = rest.split_at_mut(hidden);
    // Simple loops over slices of one length, so that each vectorizes.
    let (c_prev, c, tanh_c, h) =
        (&c_prev[..hidden], &mut c[..hidden], &mut tanh_c[..hidden], &mut h[..hidden]);
    for gate in [&mut *i, &mut *f, &mut *o] {
        gate.iter_mut().for_each(|v| *v = sigmoid(*v));
    }
    g.iter_mut().for_each(|v| *v = tanh(*v));
    for u in 0..hidden {
        c[u] = f[u] * c_prev[u] + i[u] * g[u];
    }
    tanh_c.iter_mut().zip(c.iter()).for_each(|(t, &c)| *t = tanh(c));
    for u in 0..hidden {
        h[u] = o[u] * tanh_c[u];
    }
}

/// What one step backward reads: the activated gates [`forward`] left
/// (`rows × 4H`), the cell state before the step and the tanh of the one
/// after (`rows × H` each).
pub(crate) struct Saved<'a, E> {
    pub(crate) gates: &'a [E],
    pub(crate) c_prev: &'a [E],
    pub(crate) tanh_c: &'a [E],
}

/// One step backward: from the gradient of `h` (`dh`, plus `dh_more` when
/// given: the two places `h` went) and of `c` (`dc`, overwritten with the
/// gradient of `c_prev`), the gradient of the gate pre-activations into
/// `dgates` (`rows × 4H`, written whole).
///
/// # Panics
///
/// If a slice's length is not the rows of `dc` times its width.
pub(crate) fn backward<'a, E: Element>(
    saved: &Saved<'a, E>,
    dh: &'a [E],
    dh_more: Option<&'a [E]>,
    dc: &mut [E],
    dgates: &mut [E],
    hidden: usize,
) {
    let rows = dc.len().checked_div(hidden).unwrap_or(0);
    let states = [saved.c_prev.len(), saved.tanh_c.len(), dh.len(), dh_more.map_or(dc.len(), <[E]>::len)];
    assert!(
        saved.gates.len() == rows * 4 * hidden
            && dgates.len() == saved.gates.len()
            && states == [dc.len(); 4],
        "lstm_cell backward: gates of {} values, gradients of {} and states of {states:?} values do not fit \
         {rows} rows of {hidden} units",
        saved.gates.len(),
        dgates.len()
    );
    if rows == 0 {
        return;
    }
    let parts = parts(rows, hidden);
    let work: Vec<_> =
        row_parts(dgates, 4 * hidden, parts).into_iter().zip(row_parts(dc, hidden, parts)).collect();
    run_parts(work, |((first, dgates), (_, dc))| {
        let range = first * hidden..first * hidden + dc.len();
        let at = |values: &'a [E]| -> &'a [E] { &values[range.clone()] };
        let more = dh_more.map(at);
        let (gates, c_prev, tanh_c, dh) = (
            &saved.gates[first * 4 * hidden..first * 4 * hidden + dgates.len()],
            at(saved.c_prev),
            at(saved.tanh_c),
            at(dh),
        );
        for r in 0..dc.len() / hidden {
            let (row, row4) = (r * hidden..(r + 1) * hidden, r * 4 * hidden..(r + 1) * 4 * hidden);
            let saved = Saved {
                gates: &gates[row4.clone()],
                c_prev: &c_prev[row.clone()],
                tanh_c: &tanh_c[row.clone()],
            };
            let more = more.map(|m| &m[row.clone()]);
            backward_row(&saved, &dh[row.clone()], more, &mut dc[row], &mut dgates[row4], hidden);
        }
    });
}

/// [`backward`] on one row.
#[inline]
fn backward_row<E: Element>(
    saved: &Saved<'_, E>,
    dh: &[E],
    dh_more: Option<&[E]>,
    dc: &mut [E],
    dgates: &mut [E],
    hidden: usize,
) {
    let one = E::one();
    let (di, rest) = dgates.split_at_mut(hidden);
    let (df, rest) = rest.split_at_mut(hidden);
    let (dg, d_o) = rest.split_at_mut(hidden);
    let g = &saved.gates[..4 * hidden];
    let (tanh_c, c_prev, dh, dc, d_o) = (
        &saved.tanh_c[..hidden],
        &saved.c_prev[..hidden],
        &dh[..hidden],
        &mut dc[..hidden],
        &mut d_o[..hidden],
    );
    let dh_more = dh_more.map(|m| &m[..hidden]);
    for u in 0..hidden {
        let (i, f, gg, o) = (g[u], g[hidden + u], g[2 * hidden + u], g[3 * hidden + u]);
        let t = tanh_c[u];
        let dh = dh[u] + dh_more.map_or(E::zero(), |m| m[u]);
        let dc_total = dc[u] + dh * o * (one - t * t);
        d_o[u] = dh * t * o * (one - o);
        di[u] = dc_total * gg * i * (one - i);
        df[u] = dc_total * c_prev[u] * f * (one - f);
        dg[u] = dc_total * i * (one - gg * gg);
        dc[u] = dc_total * f;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cell on one unit, from its definition.
    fn plain(pre: [f64; 4], c_prev: f64) -> (f64, f64) {
        let s = |x: f64| 1.0 / (1.0 + (-x).exp());
        let c = s(pre[1]) * c_prev + s(pre[0]) * pre[2].tanh();
        (s(pre[3]) * c.tanh(), c)
    }

    #[test]
    fn the_f32_functions_are_within_a_few_ulp() {
        let mut worst = [0.0_f64; 3];
        for k in -200_000..=200_000 {
            let x = k as f32 * 5e-4 + if k % 2 == 0 { 0.0 } else { 1e-7 };
            let exact = (x as f64).exp();
            if (-87.0..88.0).contains(&x) {
                worst[0] = worst[0].max(((exp_f32(x) as f64) - exact).abs() / exact);
            }
            let exact = (x as f64).tanh();
            worst[1] = worst[1].max(((tanh::<f32>(x) as f64) - exact).abs() / exact.abs().max(1e-30));
            let exact = 1.0 / (1.0 + (-(x as f64)).exp());
            // Below e^-87 (x < -87), absolutely: the f32 result is about 1e-38 or less.
            worst[2] = worst[2].max(((sigmoid::<f32>(x) as f64) - exact).abs() / exact.max(1e-31));
        }
        assert!(worst[0] < 2e-7 && worst[1] < 4e-7 && worst[2] < 4e-7, "relative errors {worst:?}");
        assert_eq!(
            (tanh::<f32>(0.0), tanh::<f32>(1e-20), tanh::<f32>(-50.0), tanh::<f32>(50.0)),
            (0.0, 1e-20, -1.0, 1.0)
        );
        assert_eq!((sigmoid::<f32>(-200.0) < 1e-37, sigmoid::<f32>(200.0)), (true, 1.0));
        assert!(tanh::<f32>(f32::NAN).is_nan() && sigmoid::<f32>(f32::NAN).is_nan());
    }

    #[test]
    fn forward_and_backward_match_the_definition_on_odd_sizes() {
        let before = crate::get_num_threads();
        for threads in [1, 2, 3] {
            crate::set_num_threads_oversubscribed(threads);
            for (rows, hidden) in [(1, 1), (3, 5), (7, 2), (600, 300)] {
                let pre: Vec<f64> =
                    (0..rows * 4 * hidden).map(|k| ((k * 37 % 23) as f64 - 11.0) * 0.3).collect();
                let c_prev: Vec<f64> =
                    (0..rows * hidden).map(|k| ((k * 13 % 17) as f64 - 8.0) * 0.2).collect();
                let dh: Vec<f64> = (0..rows * hidden).map(|k| ((k * 7 % 11) as f64 - 5.0) * 0.1).collect();
                let dc_next: Vec<f64> =
                    (0..rows * hidden).map(|k| ((k * 5 % 9) as f64 - 4.0) * 0.1).collect();
                let mut gates = pre.clone();
                let (mut c, mut t, mut h) =
                    (vec![0.0; rows * hidden], vec![0.0; rows * hidden], vec![0.0; rows * hidden]);
                forward(&mut gates, &c_prev, &mut c, &mut t, &mut h, hidden);
                let mut dc = dc_next.clone();
                let mut dgates = vec![f64::NAN; rows * 4 * hidden];
                let saved = Saved { gates: &gates, c_prev: &c_prev, tanh_c: &t };
                backward(&saved, &dh, Some(&dh), &mut dc, &mut dgates, hidden);
                for r in 0..rows {
                    for u in 0..hidden {
                        let at = |k: usize| pre[r * 4 * hidden + k * hidden + u];
                        let unit = [at(0), at(1), at(2), at(3)];
                        let k = r * hidden + u;
                        let (h_ref, c_ref) = plain(unit, c_prev[k]);
                        assert!((h[k] - h_ref).abs() < 1e-12 && (c[k] - c_ref).abs() < 1e-12);
                        // Central differences of 2·dh·h + dc·c (dh given twice).
                        let loss = |unit: [f64; 4], c_prev: f64| {
                            let (h, c) = plain(unit, c_prev);
                            2.0 * dh[k] * h + dc_next[k] * c
                        };
                        let eps = 1e-6;
                        for gate in 0..4 {
                            let (mut up, mut down) = (unit, unit);
                            up[gate] += eps;
                            down[gate] -= eps;
                            let numeric = (loss(up, c_prev[k]) - loss(down, c_prev[k])) / (2.0 * eps);
                            let analytic = dgates[r * 4 * hidden + gate * hidden + u];
                            assert!(
                                (numeric - analytic).abs() < 1e-7,
                                "gate {gate}: {numeric} vs {analytic}"
                            );
                        }
                        let numeric =
                            (loss(unit, c_prev[k] + eps) - loss(unit, c_prev[k] - eps)) / (2.0 * eps);
                        assert!((numeric - dc[k]).abs() < 1e-7, "c_prev: {numeric} vs {}", dc[k]);
                    }
                }
            }
        }
        crate::set_num_threads_oversubscribed(before);
    }
}
