//! The forward of a convolution whose whole batch has few output positions
//! (ResNet-18's layer3 and layer4 at 64×64 inputs: 8 images of 4×4 or 2×2
//! behind 1152 to 4608 rows of columns; layer2's strided first convolution
//! and its downsample, 8 of 8×8), when no column matrix is kept for a
//! gradient: the column matrix of the whole batch is
//! laid out once, `[c·kh·kw, n·oh·ow]`, and multiplied by the weight in a
//! fixed number of blocks of output channels ([`ROW_BLOCKS`]), threads
//! taking runs of whole blocks.
//!
//! Cut into panels of images instead (`conv_panels.rs`), such a batch made
//! two or three panels of unequal size (7 images and 1 at 2×2), each
//! reading the whole weight (9.4 MB for 512 channels) for a few columns,
//! and the second thread got the small panel or none. Cut by output
//! channels, each block reads its part of the weight once, and two threads
//! share the blocks evenly. The blocks do not depend on the thread count,
//! so the results are the same bit for bit on any number of threads.

use ndarray::{ArrayView2, ArrayViewMut2, Axis, Slice};

use super::conv_panels::Panels;
use super::gemm::gemm_sized;
use super::im2col::im2col_panel;
use crate::Element;
use crate::autograd::pool;
use crate::threading::{loop_parts, row_parts, run_parts};

/// Output positions of the whole batch (`n·oh·ow`) up to which a
/// convolution takes this path.
const FEW_COLUMNS: usize = 512;

/// The largest column matrix (elements) laid out whole: 2²⁰, 4 MiB of `f32`.
const MAX_COLUMNS: usize = 1 << 20;

/// Blocks of output channels the product is cut into, whatever the thread count.
const ROW_BLOCKS: usize = 4;

impl<E: Element> Panels<'_, E> {
    /// Whether the forward takes this path: one group, at most
    /// [`FEW_COLUMNS`] output positions in the batch and a column matrix of
    /// at most [`MAX_COLUMNS`] elements.
    pub(super) fn has_few_columns(&self) -> bool {
        let g = self.geometry;
        let columns = g.n.saturating_mul(g.positions());
        self.groups == 1 && columns <= FEW_COLUMNS && g.rows().saturating_mul(columns) <= MAX_COLUMNS
    }

    /// The convolution of the batch `x` (`[n, c, h, w]`, row-major) as
    /// `[n, out_channels, oh, ow]` values with `bias` added, for a
    /// convolution that [has few columns](Self::has_few_columns), on at
    /// most `threads` threads.
    pub(super) fn forward_few_columns(&self, x: &[E], bias: Option<&[E]>, threads: usize) -> Vec<E> {
        let g = self.geometry;
        let (channels, rows, positions) = (self.weight.nrows(), g.rows(), g.positions());
        let width = g.n * positions;
        let mut out = pool::scratch(g.n * channels * positions);
        if out.is_empty() {
            return out;
        }
        // Every element of both is written below.
        let mut cols = pool::scratch(rows * width);
        im2col_panel(x, g.n, g, 0..g.oh, &mut cols, width);
        let mut products = pool::scratch(channels * width);
        let cols_view = ArrayView2::from_shape((rows, width), &cols[..]).expect("column matrix size");
        let block = channels.div_ceil(ROW_BLOCKS).max(1);
        let multiply = |first_block: usize, part: &mut [E]| {
            for (index, chunk) in part.chunks_mut(block * width).enumerate() {
                let start = (first_block + index) * block;
                let m = chunk.len() / width;
                let a = self.weight.slice_axis(Axis(0), Slice::from(start..start + m));
                let mut c = ArrayViewMut2::from_shape((m, width), chunk).expect("block size");
                gemm_sized(&a, &cols_view, E::zero(), &mut c, 1);
            }
        };
        let work = self.weight.len().saturating_mul(width);
        match loop_parts(work, channels.div_ceil(block), threads) {
            1 => multiply(0, &mut products),
            parts => run_parts(row_parts(&mut products, block * width, parts), |(first, part)| {
                multiply(first, part)
            }),
        }
        // `[channels, n·oh·ow]` to NCHW, the bias added.
        for (ch, row) in products.chunks_exact(width).enumerate() {
            for (img, from) in row.chunks_exact(positions).enumerate() {
                let to = &mut out[(img * channels + ch) * positions..][..positions];
                match bias {
                    Some(bias) => to.iter_mut().zip(from).for_each(|(t, &v)| *t = v + bias[ch]),
                    None => to.copy_from_slice(from),
                }
            }
        }
        pool::recycle_vec(cols);
        pool::recycle_vec(products);
        out
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::super::im2col::Geometry;
    use super::*;

    /// Deterministic values in [-1, 1).
    fn values(len: usize, seed: usize) -> Vec<f64> {
        (0..len).map(|i| ((i * 7919 + seed * 104_729) % 2001) as f64 / 1000.0 - 1.0).collect()
    }

    /// The convolution by its definition's sums.
    fn reference(g: &Geometry, o: usize, x: &[f64], w: &[f64], bias: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; g.n * o * g.positions()];
        for img in 0..g.n {
            for oc in 0..o {
                for oy in 0..g.oh {
                    for ox in 0..g.ow {
                        let mut sum = 0.0;
                        for ci in 0..g.c {
                            for ki in 0..g.kh {
                                for kj in 0..g.kw {
                                    let iy = (oy * g.stride[0] + ki * g.dilation[0]) as isize
                                        - g.padding[0] as isize;
                                    let ix = (ox * g.stride[1] + kj * g.dilation[1]) as isize
                                        - g.padding[1] as isize;
                                    if (0..g.h as isize).contains(&iy) && (0..g.w as isize).contains(&ix) {
                                        let xi = ((img * g.c + ci) * g.h + iy as usize) * g.w + ix as usize;
                                        sum += x[xi] * w[((oc * g.c + ci) * g.kh + ki) * g.kw + kj];
                                    }
                                }
                            }
                        }
                        y[((img * o + oc) * g.oh + oy) * g.ow + ox] = sum + bias[oc];
                    }
                }
            }
        }
        y
    }

    /// Odd sizes (channels not a multiple of the blocks, one output channel,
    /// stride 2, padding, a 1×1 kernel with stride, one image) against the
    /// definition, the same bit for bit on 1, 2 and 3 threads.
    #[test]
    fn few_columns_match_the_definition_on_every_thread_count() {
        let geometry = |n, c, (h, w), k, stride: usize, padding: usize| {
            let out = |size: usize| (size + 2 * padding - (k - 1) - 1) / stride + 1;
            let (stride, padding) = ([stride; 2], [padding; 2]);
            Geometry { n, c, h, w, kh: k, kw: k, stride, padding, dilation: [1, 1], oh: out(h), ow: out(w) }
        };
        let cases = [
            (geometry(8, 24, (4, 4), 3, 1, 1), 37),
            (geometry(3, 5, (7, 5), 3, 2, 1), 1),
            (geometry(8, 16, (4, 4), 1, 2, 0), 30),
            (geometry(1, 9, (3, 3), 3, 1, 0), 6),
            (geometry(2, 64, (2, 2), 3, 1, 1), 128),
            // Large enough to be split between threads.
            (geometry(8, 128, (4, 4), 3, 1, 1), 70),
        ];
        for (g, o) in cases {
            let x = values(g.n * g.c * g.h * g.w, 1);
            let w = values(o * g.rows(), 2);
            let bias = values(o, 3);
            let want = reference(&g, o, &x, &w, &bias);
            let weight = Array2::from_shape_vec((o, g.rows()), w).expect("weight");
            let panels = Panels { geometry: &g, groups: 1, weight: weight.view() };
            assert!(panels.has_few_columns(), "{g:?}");
            let one = panels.forward_few_columns(&x, Some(&bias), 1);
            assert_eq!(one.len(), want.len());
            for (a, b) in one.iter().zip(&want) {
                assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()) * g.rows() as f64, "{g:?}: {a} vs {b}");
            }
            for threads in [2, 3] {
                let got = panels.forward_few_columns(&x, Some(&bias), threads);
                assert!(got.iter().zip(&one).all(|(a, b)| a.to_bits() == b.to_bits()), "{g:?} on {threads}");
            }
        }
    }
}
