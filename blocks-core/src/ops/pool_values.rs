//! Max pooling when no gradient is recorded (eval under `no_grad`, or an
//! input that does not require one): the maxima alone, without the
//! positions the backward would need.
//!
//! The positions (`Option<usize>`, 16 bytes per output) were a quarter of
//! ResNet-18's max pool: 2 MB written for a pool of 131 072 outputs, then
//! dropped. Here each output is the first maximum of its window in the
//! same row-major scan as [`max_pool2d`](crate::TensorBase::max_pool2d)
//! (NaN over any number), found per input row of the window for a whole
//! output row at a time, so the values are the same bit for bit.

use ndarray::{ArrayD, IxDyn};

use super::pool::{AxisTaps, Planes, Window};
use crate::autograd::pool;
use crate::threading::for_row_parts;
use crate::vectorized::vectorized;
use crate::{Element, TensorBase, get_num_threads};

/// `v` when it replaces `best` in a scan (larger, or the first NaN), else `best`.
#[inline(always)]
fn pick<E: Element>(best: E, v: E) -> E {
    // `v != v`: NaN. Without short-circuits: a select, not a branch on data
    // (half of them mispredicted), and rows of it vectorize.
    #[allow(clippy::eq_op)]
    let take = (v > best) | ((v != v) & (best == best));
    if take { v } else { best }
}

/// The max pooling of `x` with window `window` over its planes `p`, as a
/// tensor that records no gradient.
pub(super) fn max_pool_values<E: Element>(x: &TensorBase<E>, p: &Planes, window: &Window) -> TensorBase<E> {
    let shape = x.shape();
    let values = {
        let x = x.data();
        let x = x.as_standard_layout();
        maxima(x.as_slice().expect("standard layout"), p, window, get_num_threads())
    };
    let mut out_shape = shape[..shape.len() - 2].to_vec();
    out_shape.extend([p.oh, p.ow]);
    TensorBase::from_array(ArrayD::from_shape_vec(IxDyn(&out_shape), values).expect("pooled size"))
}

/// The maxima of the planes `x` (row-major), planes shared between at most `threads` threads.
fn maxima<E: Element>(x: &[E], p: &Planes, window: &Window, threads: usize) -> Vec<E> {
    let per_plane = p.oh * p.ow;
    // Every value is written below.
    let mut values = pool::scratch(p.planes * per_plane);
    let rows: Vec<AxisTaps> = (0..p.oh).map(|oy| window.axis_taps(0, oy, p.h)).collect();
    let cols = Columns::new(p, window);
    let work = per_plane.saturating_mul(window.kernel[0]).saturating_mul(window.kernel[1]);
    for_row_parts(&mut values, per_plane, work, threads, |first, planes| {
        let mut line = vec![E::zero(); p.ow];
        vectorized(
            #[inline(always)]
            || {
                for (index, out) in planes.chunks_exact_mut(per_plane).enumerate() {
                    let plane = &x[(first + index) * p.h * p.w..][..p.h * p.w];
                    for (ys, out) in rows.iter().zip(out.chunks_exact_mut(p.ow)) {
                        if ys.count == 0 {
                            out.fill(E::neg_infinity());
                            continue;
                        }
                        for ky in 0..ys.count {
                            let row = &plane[(ys.first + ky * ys.step) * p.w..][..p.w];
                            // The first row's maxima, then each later row's where larger.
                            let target = if ky == 0 { &mut *out } else { &mut line[..] };
                            cols.row_maxima(row, target);
                            if ky > 0 {
                                out.iter_mut().zip(&line).for_each(|(o, &v)| *o = pick(*o, v));
                            }
                        }
                    }
                }
            },
        );
    });
    values
}

/// The columns' taps of a pooling: each output column's, and the run of
/// output columns whose windows lie wholly inside the input (`interior`).
struct Columns {
    taps: Vec<AxisTaps>,
    interior: std::ops::Range<usize>,
    /// The kernel's width, stride and dilation, and the padding, along the width.
    kernel: usize,
    stride: usize,
    dilation: usize,
    padding: usize,
}

impl Columns {
    fn new(p: &Planes, window: &Window) -> Self {
        let taps: Vec<AxisTaps> = (0..p.ow).map(|ox| window.axis_taps(1, ox, p.w)).collect();
        let kernel = window.kernel[1];
        let full = |t: &AxisTaps| t.count == kernel;
        let start = taps.iter().position(full).unwrap_or(0);
        let end = taps[start..].iter().position(|t| !full(t)).map_or(taps.len(), |at| start + at);
        // Only if no full window follows a partial one after the run (never, for a pooling).
        let interior = if taps[end..].iter().any(full) { 0..0 } else { start..end };
        let interior = if interior.is_empty() || !full(&taps[interior.start]) { 0..0 } else { interior };
        Columns {
            taps,
            interior,
            kernel,
            stride: window.stride[1],
            dilation: window.dilation[1],
            padding: window.padding[1],
        }
    }

    /// The first maximum of each output column's window in one input `row`, into `out`.
    #[inline(always)]
    fn row_maxima<E: Element>(&self, row: &[E], out: &mut [E]) {
        for (ox, (xs, out)) in self.taps.iter().zip(out.iter_mut()).enumerate() {
            if self.interior.contains(&ox) {
                continue;
            }
            *out = match xs.count {
                0 => E::neg_infinity(),
                count => (1..count).fold(row[xs.first], |best, kx| pick(best, row[xs.first + kx * xs.step])),
            };
        }
        let (lo, hi) = (self.interior.start, self.interior.end);
        if lo == hi {
            return;
        }
        // Interior windows read `row[ox·stride − padding + kx·dilation]`, all inside.
        let out = &mut out[lo..hi];
        for kx in 0..self.kernel {
            let at = lo * self.stride + kx * self.dilation - self.padding;
            if self.stride == 2 {
                let taps = row[at..].chunks(2).map(|pair| pair[0]);
                if kx == 0 {
                    out.iter_mut().zip(taps).for_each(|(o, v)| *o = v);
                } else {
                    out.iter_mut().zip(taps).for_each(|(o, v)| *o = pick(*o, v));
                }
            } else {
                let taps = row[at..].iter().step_by(self.stride).copied();
                if kx == 0 {
                    out.iter_mut().zip(taps).for_each(|(o, v)| *o = v);
                } else {
                    out.iter_mut().zip(taps).for_each(|(o, v)| *o = pick(*o, v));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::pool::{Planes, Window};
    use super::maxima;
    use crate::{Tensor, no_grad};

    /// The same values, bit for bit, as the pooling that records the
    /// positions, on odd sizes, padding, dilation, ceil mode, NaN, ties of
    /// ±0 and windows over the padding alone; on 1, 2 and 3 threads the same
    /// as on 1.
    /// Input shape, kernel, stride, padding, dilation, ceil mode.
    type Case = ([usize; 4], [usize; 2], [usize; 2], [usize; 2], [usize; 2], bool);

    #[test]
    fn values_alone_are_those_of_the_recording_pool() {
        let cases: [Case; 6] = [
            ([2, 3, 9, 7], [3, 3], [2, 2], [1, 1], [1, 1], false),
            ([1, 2, 8, 8], [2, 3], [1, 2], [1, 1], [2, 1], true),
            ([16, 64, 32, 32], [3, 3], [2, 2], [1, 1], [1, 1], false),
            ([1, 1, 5, 6], [4, 4], [3, 3], [2, 2], [1, 1], true),
            ([2, 2, 3, 3], [1, 1], [1, 1], [0, 0], [1, 1], false),
            ([1, 2, 7, 13], [2, 3], [1, 3], [1, 1], [1, 2], false),
        ];
        for (shape, kernel, stride, padding, dilation, ceil_mode) in cases {
            let len: usize = shape.iter().product();
            let mut values: Vec<f32> = (0..len).map(|i| ((i * 7919) % 23) as f32 - 11.0).collect();
            values[len / 3] = f32::NAN;
            values[len / 2] = -0.0;
            values[len / 2 + 1] = 0.0;
            let x = Tensor::from_vec(values.clone(), shape).requires_grad_(true);
            let want = x.max_pool2d(kernel, stride, padding, dilation, ceil_mode).to_vec();
            let got = no_grad(|| x.max_pool2d(kernel, stride, padding, dilation, ceil_mode));
            assert!(got.grad_fn().is_none());
            let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got.to_vec()), bits(&want), "{shape:?} {kernel:?}");
            let size = |axis: usize| got.shape()[2 + axis];
            let p =
                Planes { planes: shape[0] * shape[1], h: shape[2], w: shape[3], oh: size(0), ow: size(1) };
            let window = Window { kernel, stride, padding, dilation, ceil_mode };
            for threads in [2, 3] {
                assert_eq!(bits(&maxima(&values, &p, &window, threads)), bits(&want), "{threads} threads");
            }
        }
    }
}
