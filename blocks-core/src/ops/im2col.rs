//! The convolution's lowering to matrix products: `im2col` lays every
//! receptive field of a batch out as one column, `col2im` adds columns back
//! into an image; the products run through [`gemm`] (threaded by size).

pub(crate) use super::gemm::gemm;
use crate::Element;
use crate::autograd::pool;
use crate::threading::for_row_parts;

/// The sizes of a 2-D convolution (a 1-D one has `h = kh = 1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    /// Batch size.
    pub n: usize,
    /// Input channels.
    pub c: usize,
    /// Input height and width.
    pub h: usize,
    pub w: usize,
    /// Kernel height and width.
    pub kh: usize,
    pub kw: usize,
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    /// Output height and width.
    pub oh: usize,
    pub ow: usize,
}

impl Geometry {
    /// Rows of the column matrix: one per (channel, kernel row, kernel column).
    pub fn rows(&self) -> usize {
        self.c * self.kh * self.kw
    }

    /// Output positions per image.
    pub fn positions(&self) -> usize {
        self.oh * self.ow
    }

    /// Columns of the column matrix: one per (image, output position).
    pub fn cols(&self) -> usize {
        self.n * self.positions()
    }

    /// The output indices `lo..hi` along `axis` (0 = height, 1 = width) whose
    /// input coordinate at kernel offset `k` falls inside `0..size` (outside
    /// it is padding), and the input coordinate of `lo`.
    fn inside(&self, axis: usize, k: usize, size: usize) -> (usize, usize, usize) {
        let (stride, pad) = (self.stride[axis], self.padding[axis]);
        let offset = k * self.dilation[axis];
        let outputs = if axis == 0 { self.oh } else { self.ow };
        // The first o with o·stride + offset ≥ pad, and the first with o·stride + offset ≥ pad + size.
        let lo = pad.saturating_sub(offset).div_ceil(stride).min(outputs);
        let hi = (pad + size).saturating_sub(offset).div_ceil(stride).clamp(lo, outputs);
        // Where no output reads the input, the coordinate is never used (0).
        let first = if hi > lo { lo * stride + offset - pad } else { 0 };
        (lo, hi, first)
    }
}

/// The column matrix `[c·kh·kw, n·oh·ow]` of the batch `x` (`[n, c, h, w]`,
/// row-major): column `(img, y, x)` holds the receptive field of that output.
/// Each output row is copied as one slice where the stride is 1, with the
/// padding's zeros written around it. Large matrices are cut into runs of
/// rows, one per thread (at most `threads`); each entry is a copy, so the
/// result is the same on any number of threads.
pub(crate) fn im2col<E: Element>(x: &[E], g: &Geometry, threads: usize) -> Vec<E> {
    let cols = g.cols();
    // Every element is written below (values or padding zeros).
    let mut out = pool::scratch(g.rows() * cols);
    if !out.is_empty() {
        for_row_parts(&mut out, cols, cols, threads, |first, rows| im2col_rows(x, g, first, rows));
    }
    out
}

/// Rows `first..` of the column matrix of `x`, into `out` (whole rows).
fn im2col_rows<E: Element>(x: &[E], g: &Geometry, first: usize, out: &mut [E]) {
    let (positions, cols) = (g.positions(), g.cols());
    for (index, row) in out.chunks_exact_mut(cols).enumerate() {
        let r = first + index;
        let (c, ki, kj) = (r / (g.kh * g.kw), r / g.kw % g.kh, r % g.kw);
        let (y_lo, y_hi, iy_lo) = g.inside(0, ki, g.h);
        let (x_lo, x_hi, ix_lo) = g.inside(1, kj, g.w);
        for img in 0..g.n {
            let plane = &x[(img * g.c + c) * g.h * g.w..][..g.h * g.w];
            let row = &mut row[img * positions..][..positions];
            row[..y_lo * g.ow].fill(E::zero());
            row[y_hi * g.ow..].fill(E::zero());
            for (step, oy) in (y_lo..y_hi).enumerate() {
                let iy = iy_lo + step * g.stride[0];
                let source = &plane[iy * g.w..][..g.w];
                let out_row = &mut row[oy * g.ow..][..g.ow];
                out_row[..x_lo].fill(E::zero());
                out_row[x_hi..].fill(E::zero());
                let inside = &mut out_row[x_lo..x_hi];
                if g.stride[1] == 1 {
                    inside.copy_from_slice(&source[ix_lo..ix_lo + inside.len()]);
                } else {
                    for (o, &v) in inside.iter_mut().zip(source[ix_lo..].iter().step_by(g.stride[1])) {
                        *o = v;
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every column entry back to the input
/// position it was read from, giving `[n, c, h, w]` values (row-major).
/// Large batches are cut into runs of planes (image, channel), one per
/// thread (at most `threads`): each plane gathers its own entries, in the
/// same order (kernel row, then column) on any number of threads, so the
/// sums are the same bit for bit.
pub(crate) fn col2im<E: Element>(cols_data: &[E], g: &Geometry, threads: usize) -> Vec<E> {
    let plane_len = g.h * g.w;
    // Each part zeroes its own planes before adding into them.
    let mut out = pool::scratch(g.n * g.c * plane_len);
    if !out.is_empty() {
        let plane_work = g.kh * g.kw * g.positions();
        for_row_parts(&mut out, plane_len, plane_work, threads, |first, planes| {
            col2im_planes(cols_data, g, first, planes);
        });
    }
    out
}

/// Planes `first..` (image-major, channel-minor) of [`col2im`], into `out`.
fn col2im_planes<E: Element>(cols_data: &[E], g: &Geometry, first: usize, out: &mut [E]) {
    let (positions, cols) = (g.positions(), g.cols());
    for (index, plane) in out.chunks_exact_mut(g.h * g.w).enumerate() {
        let (img, c) = ((first + index) / g.c, (first + index) % g.c);
        plane.fill(E::zero());
        for ki in 0..g.kh {
            let (y_lo, y_hi, iy_lo) = g.inside(0, ki, g.h);
            for kj in 0..g.kw {
                let (x_lo, x_hi, ix_lo) = g.inside(1, kj, g.w);
                let row = (c * g.kh + ki) * g.kw + kj;
                let row = &cols_data[row * cols + img * positions..][..positions];
                for (step, oy) in (y_lo..y_hi).enumerate() {
                    let iy = iy_lo + step * g.stride[0];
                    let target = &mut plane[iy * g.w..][..g.w];
                    let inside = &row[oy * g.ow + x_lo..oy * g.ow + x_hi];
                    if g.stride[1] == 1 {
                        let target = &mut target[ix_lo..ix_lo + inside.len()];
                        target.iter_mut().zip(inside).for_each(|(t, &v)| *t += v);
                    } else {
                        for (t, &v) in target[ix_lo..].iter_mut().step_by(g.stride[1]).zip(inside) {
                            *t += v;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every geometry of small sizes: strides, dilations and paddings that
    /// put taps in the padding on both sides, or past the input altogether.
    fn geometries() -> Vec<Geometry> {
        let mut all = Vec::new();
        for (h, w, kh, kw) in
            [(5, 7, 3, 2), (4, 4, 1, 3), (3, 6, 3, 3), (1, 9, 1, 4), (1, 1, 3, 3), (2, 1, 1, 2)]
        {
            for stride in [[1, 1], [2, 3], [3, 1]] {
                for dilation in [[1, 1], [2, 1], [1, 3]] {
                    for padding in [[0, 0], [1, 2], [2, 1], [2, 2]] {
                        let out = |size: usize, k: usize, axis: usize| {
                            let span = dilation[axis] * (k - 1) + 1;
                            (size + 2 * padding[axis]).checked_sub(span).map(|room| room / stride[axis] + 1)
                        };
                        let (Some(oh), Some(ow)) = (out(h, kh, 0), out(w, kw, 1)) else { continue };
                        all.push(Geometry { n: 2, c: 2, h, w, kh, kw, stride, padding, dilation, oh, ow });
                    }
                }
            }
        }
        all
    }

    /// The column matrix entry by entry, from the definition.
    fn reference(x: &[f64], g: &Geometry) -> Vec<f64> {
        let mut out = vec![0.0; g.rows() * g.cols()];
        for c in 0..g.c {
            for ki in 0..g.kh {
                for kj in 0..g.kw {
                    for img in 0..g.n {
                        for oy in 0..g.oh {
                            for ox in 0..g.ow {
                                let iy =
                                    (oy * g.stride[0] + ki * g.dilation[0]) as isize - g.padding[0] as isize;
                                let ix =
                                    (ox * g.stride[1] + kj * g.dilation[1]) as isize - g.padding[1] as isize;
                                let inside =
                                    (0..g.h as isize).contains(&iy) && (0..g.w as isize).contains(&ix);
                                let row = (c * g.kh + ki) * g.kw + kj;
                                let col = img * g.positions() + oy * g.ow + ox;
                                out[row * g.cols() + col] = if inside {
                                    x[((img * g.c + c) * g.h + iy as usize) * g.w + ix as usize]
                                } else {
                                    0.0
                                };
                            }
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn im2col_matches_the_definition_and_col2im_is_its_adjoint() {
        let geometries = geometries();
        assert!(geometries.len() > 50);
        for g in geometries {
            let x: Vec<f64> = (0..g.n * g.c * g.h * g.w).map(|i| (i * 37 % 101) as f64 - 50.0).collect();
            let cols = im2col(&x, &g, 1);
            assert_eq!(cols, reference(&x, &g), "{g:?}");
            // <im2col(x), y> = <x, col2im(y)> for any y.
            let y: Vec<f64> = (0..cols.len()).map(|i| (i * 53 % 97) as f64 - 48.0).collect();
            let left: f64 = cols.iter().zip(&y).map(|(a, b)| a * b).sum();
            let right: f64 = x.iter().zip(col2im(&y, &g, 1)).map(|(a, b)| a * b).sum();
            assert_eq!(left, right, "{g:?}");
        }
    }
}
