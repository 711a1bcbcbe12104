//! The convolution's lowering to matrix products: `im2col` lays every
//! receptive field of a batch out as one column, `col2im` adds columns back
//! into an image; the products run through [`gemm`] (threaded by size).

pub(crate) use super::gemm::gemm;
use crate::Element;

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

    /// The input coordinate read by output index `o` at kernel offset `k` along
    /// axis `axis` (0 = height, 1 = width), or `None` where it falls into padding.
    fn source(&self, axis: usize, o: usize, k: usize, size: usize) -> Option<usize> {
        let at = (o * self.stride[axis] + k * self.dilation[axis]).checked_sub(self.padding[axis])?;
        (at < size).then_some(at)
    }
}

/// The column matrix `[c·kh·kw, n·oh·ow]` of the batch `x` (`[n, c, h, w]`,
/// row-major): column `(img, y, x)` holds the receptive field of that output.
pub(crate) fn im2col<E: Element>(x: &[E], g: &Geometry) -> Vec<E> {
    let (positions, cols) = (g.positions(), g.cols());
    let mut out = vec![E::zero(); g.rows() * cols];
    for c in 0..g.c {
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let row = (c * g.kh + ki) * g.kw + kj;
                let row = &mut out[row * cols..(row + 1) * cols];
                for img in 0..g.n {
                    let plane = &x[(img * g.c + c) * g.h * g.w..][..g.h * g.w];
                    let row = &mut row[img * positions..][..positions];
                    for oy in 0..g.oh {
                        let Some(iy) = g.source(0, oy, ki, g.h) else { continue };
                        for ox in 0..g.ow {
                            if let Some(ix) = g.source(1, ox, kj, g.w) {
                                row[oy * g.ow + ox] = plane[iy * g.w + ix];
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// The adjoint of [`im2col`]: adds every column entry back to the input
/// position it was read from, giving `[n, c, h, w]` values (row-major).
pub(crate) fn col2im<E: Element>(cols_data: &[E], g: &Geometry) -> Vec<E> {
    let (positions, cols) = (g.positions(), g.cols());
    let mut out = vec![E::zero(); g.n * g.c * g.h * g.w];
    for c in 0..g.c {
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let row = (c * g.kh + ki) * g.kw + kj;
                let row = &cols_data[row * cols..(row + 1) * cols];
                for img in 0..g.n {
                    let plane = &mut out[(img * g.c + c) * g.h * g.w..][..g.h * g.w];
                    let row = &row[img * positions..][..positions];
                    for oy in 0..g.oh {
                        let Some(iy) = g.source(0, oy, ki, g.h) else { continue };
                        for ox in 0..g.ow {
                            if let Some(ix) = g.source(1, ox, kj, g.w) {
                                plane[iy * g.w + ix] += row[oy * g.ow + ox];
                            }
                        }
                    }
                }
            }
        }
    }
    out
}
