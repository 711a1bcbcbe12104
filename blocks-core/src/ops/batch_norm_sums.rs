//! The per-channel sums of batch normalization (statistics in training,
//! `Σ g` and `Σ g · x̂` in the backward), in float64: through memory in order
//! on one thread, by runs of channels on several, the same bit for bit
//! either way, and compiled for AVX2 where the CPU has it ([`vectorized`]).

use ndarray::ArrayView3;

use crate::threading::{for_row_parts, loop_parts};
use crate::vectorized::vectorized;
use crate::{Element, get_num_threads};

/// The per-channel mean and biased variance of `[N, C, S]`, in float64 (two
/// passes of [`channel_sums`]): the same bit for bit on any number of threads.
pub(super) fn channel_stats<E: Element>(x: ArrayView3<'_, E>) -> (Vec<f64>, Vec<f64>) {
    let (n, c, s) = x.dim();
    let count = (n * s) as f64;
    let x = x.as_slice().expect("standard layout");
    let threads = get_num_threads();
    let sums = channel_sums(x, x, (n, c, s), Sums::Values, threads);
    let means: Vec<f64> = sums.iter().map(|&(sum, _)| sum / count).collect();
    let squares = channel_sums(x, x, (n, c, s), Sums::Squares(&means), threads);
    let vars = squares.iter().map(|&(sum, _)| sum / count).collect();
    (means, vars)
}

/// What [`channel_sums`] adds up over each plane of a channel.
#[derive(Clone, Copy)]
pub(super) enum Sums<'a> {
    /// `Σ x`.
    Values,
    /// `Σ (x − mean)²`, with the channels' means.
    Squares(&'a [f64]),
    /// `(Σ g, Σ g · (x − mean))`, with the channels' means.
    Products(&'a [f64]),
}

/// One plane's sums (see [`Sums`]); `g` is read only for products.
#[inline(always)]
fn plane_sums<E: Element>(kind: Sums<'_>, ch: usize, x: &[E], g: &[E]) -> (f64, f64) {
    match kind {
        Sums::Values => (sum_f64(x, |v| v), 0.0),
        Sums::Squares(means) => {
            let m = means[ch];
            (sum_f64(x, |v| (v - m) * (v - m)), 0.0)
        }
        Sums::Products(means) => sums_of_products(x, g, means[ch]),
    }
}

/// Per channel of `x` (and `g`, the same shape), `[N, C, S]`, the sums of
/// [`Sums`] over its planes, added in image order starting from zero. One
/// thread goes through memory in order (the planes of image 0, then image
/// 1, ...); large inputs are cut into runs of channels, one per thread.
/// Either way each channel's additions are the same, so the sums are the
/// same bit for bit on any number of threads.
pub(super) fn channel_sums<E: Element>(
    x: &[E],
    g: &[E],
    (n, c, s): (usize, usize, usize),
    kind: Sums<'_>,
    threads: usize,
) -> Vec<(f64, f64)> {
    let mut sums = vec![(0.0, 0.0); c];
    if s == 0 {
        return sums;
    }
    if loop_parts(n * c * s, c, threads) == 1 {
        vectorized(
            #[inline(always)]
            || sums_in_order(x, g, (c, s), kind, &mut sums),
        );
    } else {
        for_row_parts(&mut sums, 1, n * s, threads, |first, slots| {
            vectorized(
                #[inline(always)]
                || sums_of_channels(x, g, (n, c, s), kind, first, slots),
            );
        });
    }
    sums
}

/// [`channel_sums`] on one thread, through memory in order.
#[inline(always)]
fn sums_in_order<E: Element>(
    x: &[E],
    g: &[E],
    (c, s): (usize, usize),
    kind: Sums<'_>,
    sums: &mut [(f64, f64)],
) {
    for (i, (x, g)) in x.chunks_exact(s).zip(g.chunks_exact(s)).enumerate() {
        let ch = i % c;
        let (a, b) = plane_sums(kind, ch, x, g);
        sums[ch].0 += a;
        sums[ch].1 += b;
    }
}

/// [`channel_sums`] for channels `first..`, one channel at a time.
#[inline(always)]
fn sums_of_channels<E: Element>(
    x: &[E],
    g: &[E],
    (n, c, s): (usize, usize, usize),
    kind: Sums<'_>,
    first: usize,
    slots: &mut [(f64, f64)],
) {
    for (index, slot) in slots.iter_mut().enumerate() {
        let ch = first + index;
        for img in 0..n {
            let at = (img * c + ch) * s..(img * c + ch + 1) * s;
            let (a, b) = plane_sums(kind, ch, &x[at.clone()], &g[at]);
            slot.0 += a;
            slot.1 += b;
        }
    }
}

/// How many interleaved partial sums the per-channel sums keep: two AVX2
/// registers of float64, so that the additions do not wait on one another.
const LANES: usize = 8;

/// The partial sums added pairwise, in a fixed order.
#[inline(always)]
fn total(s: [f64; LANES]) -> f64 {
    ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

/// `Σ f(v)` over `values` in float64, in [`LANES`] interleaved partial sums.
#[inline(always)]
fn sum_f64<E: Element>(values: &[E], f: impl Fn(f64) -> f64) -> f64 {
    let mut sums = [0.0; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail: f64 = chunks.remainder().iter().map(|v| f(v.as_f64())).sum();
    for chunk in chunks {
        for (sum, v) in sums.iter_mut().zip(chunk) {
            *sum += f(v.as_f64());
        }
    }
    total(sums) + tail
}

/// `(Σ g, Σ g · (x − mean))` over two slices of the same length, in
/// float64, in [`LANES`] interleaved partial sums each.
#[inline(always)]
fn sums_of_products<E: Element>(x: &[E], g: &[E], mean: f64) -> (f64, f64) {
    let (mut sum_g, mut sum_gx) = ([0.0; LANES], [0.0; LANES]);
    let (x_chunks, g_chunks) = (x.chunks_exact(LANES), g.chunks_exact(LANES));
    let (mut tail_g, mut tail_gx) = (0.0, 0.0);
    for (&xv, &gv) in x_chunks.remainder().iter().zip(g_chunks.remainder()) {
        tail_g += gv.as_f64();
        tail_gx += gv.as_f64() * (xv.as_f64() - mean);
    }
    for (xs, gs) in x_chunks.zip(g_chunks) {
        for lane in 0..LANES {
            let gv = gs[lane].as_f64();
            sum_g[lane] += gv;
            sum_gx[lane] += gv * (xs[lane].as_f64() - mean);
        }
    }
    (total(sum_g) + tail_g, total(sum_gx) + tail_gx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The per-channel sums by their definition, in float64.
    fn plain_sums(x: &[f32], g: &[f32], (n, c, s): (usize, usize, usize), means: &[f64]) -> Vec<(f64, f64)> {
        (0..c)
            .map(|ch| {
                let at = |img: usize| (img * c + ch) * s..(img * c + ch + 1) * s;
                let pairs = (0..n).flat_map(|img| x[at(img)].iter().zip(&g[at(img)]));
                pairs.fold((0.0, 0.0), |(sg, sgx), (&xv, &gv)| {
                    (sg + f64::from(gv), sgx + f64::from(gv) * (f64::from(xv) - means[ch]))
                })
            })
            .collect()
    }

    #[test]
    fn channel_sums_match_the_definition_and_every_thread_count() {
        // Large enough to be cut into runs of channels on 2 and 3 threads
        // (LOOP_PARALLEL_MIN element-steps), with planes of an odd size.
        let dims = (3, 5, 140_001);
        let len = dims.0 * dims.1 * dims.2;
        let x: Vec<f32> = (0..len).map(|i| ((i * 7919) % 1013) as f32 / 101.0 - 4.0).collect();
        let g: Vec<f32> = (0..len).map(|i| ((i * 104_729) % 997) as f32 / 499.0 - 1.0).collect();
        let means = [0.5, -1.0, 0.0, 2.0, -3.0];
        let one = channel_sums(&x, &g, dims, Sums::Products(&means), 1);
        for threads in [2, 3] {
            let split = channel_sums(&x, &g, dims, Sums::Products(&means), threads);
            assert_eq!(one, split, "{threads} threads");
        }
        for ((sg, sgx), (pg, pgx)) in one.iter().zip(plain_sums(&x, &g, dims, &means)) {
            assert!((sg - pg).abs() <= 1e-9 * pg.abs().max(1.0), "{sg} against {pg}");
            assert!((sgx - pgx).abs() <= 1e-9 * pgx.abs().max(1.0), "{sgx} against {pgx}");
        }
        let (mean, var) = channel_stats(ArrayView3::from_shape(dims, &x).expect("dims"));
        for ch in 0..dims.1 {
            let values: Vec<f64> = (0..dims.0)
                .flat_map(|img| x[(img * dims.1 + ch) * dims.2..][..dims.2].iter().map(|&v| f64::from(v)))
                .collect();
            let m = values.iter().sum::<f64>() / values.len() as f64;
            let v = values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / values.len() as f64;
            assert!((mean[ch] - m).abs() <= 1e-12 && (var[ch] - v).abs() <= 1e-9 * v, "channel {ch}");
        }
    }
}
