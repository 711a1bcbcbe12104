//! The convolution's lowering to matrix products, a panel at a time:
//! `im2col_panel` lays the receptive fields of some output rows of one
//! image out as columns, `col2im_panel` adds such columns back into the
//! image (the products are in `conv_panels.rs`).

use std::ops::Range;

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
    #[cfg(test)]
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
        // (Stride 1, the common case, without the divisions: they showed in
        // the profile of a 3x3 layer's backward, called per row of each panel.)
        let steps = |distance: usize| if stride == 1 { distance } else { distance.div_ceil(stride) };
        let lo = steps(pad.saturating_sub(offset)).min(outputs);
        let hi = steps((pad + size).saturating_sub(offset)).clamp(lo, outputs);
        // Where no output reads the input, the coordinate is never used (0).
        let first = if hi > lo { lo * stride + offset - pad } else { 0 };
        (lo, hi, first)
    }
}

/// Output rows `rows` of `images` consecutive images `x` (each `[c, h, w]`,
/// row-major) as a panel of their column matrix, `[c·kh·kw, images ·
/// rows.len() · ow]`, row `r` at `r · stride` of `out`, the images' columns
/// side by side: column `(i, y, x)` holds the receptive field of output
/// `(rows.start + y, x)` of image `i`. Each output row is copied as one
/// slice where the stride is 1, with the padding's zeros written around it;
/// every element of the panel is written.
///
/// ```text
/// im2col_panel(&x[first * image..], images, &geometry, 0..geometry.oh, &mut cols, images * positions);
/// ```
pub(crate) fn im2col_panel<E: Element>(
    x: &[E],
    images: usize,
    g: &Geometry,
    rows: Range<usize>,
    out: &mut [E],
    stride: usize,
) {
    let (width, plane_len) = (rows.len() * g.ow, g.h * g.w);
    if width == 0 {
        return;
    }
    for r in 0..g.rows() {
        let (c, ki, kj) = (r / (g.kh * g.kw), r / g.kw % g.kh, r % g.kw);
        let (y_lo, y_hi, iy_lo) = g.inside(0, ki, g.h);
        let (x_lo, x_hi, ix_lo) = g.inside(1, kj, g.w);
        for img in 0..images {
            let row = &mut out[r * stride + img * width..][..width];
            let plane = &x[(img * g.c + c) * plane_len..][..plane_len];
            for (out_row, oy) in row.chunks_exact_mut(g.ow).zip(rows.clone()) {
                if g.ow < SHORT_ROW {
                    short_row(out_row, plane, g, (oy, y_lo, y_hi, iy_lo), (x_lo, x_hi, ix_lo));
                    continue;
                }
                if oy < y_lo || oy >= y_hi {
                    out_row.fill(E::zero());
                    continue;
                }
                let iy = iy_lo + (oy - y_lo) * g.stride[0];
                let source = &plane[iy * g.w..][..g.w];
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

/// Output rows shorter than this are laid out value by value ([`short_row`]).
const SHORT_ROW: usize = 16;

/// One output row of [`im2col_panel`] for a short row (a 4×4 or 2×2 image's):
/// each value picked from the input or zero in one loop. Filled and copied
/// by slices, each row of 2 to 8 values was two or three calls of libc's
/// `memset`/`memmove` (7% of ResNet-18's forward at 64×64 inputs).
#[inline(always)]
fn short_row<E: Element>(
    out_row: &mut [E],
    plane: &[E],
    g: &Geometry,
    (oy, y_lo, y_hi, iy_lo): (usize, usize, usize, usize),
    (x_lo, x_hi, ix_lo): (usize, usize, usize),
) {
    let inside_y = oy >= y_lo && oy < y_hi;
    let source = if inside_y { &plane[(iy_lo + (oy - y_lo) * g.stride[0]) * g.w..][..g.w] } else { &[] };
    for (ox, o) in out_row.iter_mut().enumerate() {
        *o = if inside_y && ox >= x_lo && ox < x_hi {
            source[ix_lo + (ox - x_lo) * g.stride[1]]
        } else {
            E::zero()
        };
    }
}

/// The adjoint of [`im2col_panel`]: adds every entry of the panel `cols`
/// (`[c·kh·kw, images · rows.len() · ow]`, row `r` at `r · stride`) to the
/// position of the images `dx` (consecutive, each `[c, h, w]`) it was read
/// from. Each input position gathers its entries in a fixed order (kernel
/// row, then column), so a batch cut into images on any number of threads
/// gives the same sums bit for bit.
///
/// ```text
/// col2im_panel(&dcols, images, &geometry, rows, &mut dx[first * image..], width);
/// ```
pub(crate) fn col2im_panel<E: Element>(
    cols: &[E],
    images: usize,
    g: &Geometry,
    rows: Range<usize>,
    dx: &mut [E],
    stride: usize,
) {
    let (width, plane_len) = (rows.len() * g.ow, g.h * g.w);
    if width == 0 {
        return;
    }
    for c in 0..g.c {
        for ki in 0..g.kh {
            let (y_lo, y_hi, iy_lo) = g.inside(0, ki, g.h);
            let (first, last) = (rows.start.max(y_lo), rows.end.min(y_hi));
            for kj in 0..g.kw {
                let (x_lo, x_hi, ix_lo) = g.inside(1, kj, g.w);
                for img in 0..images {
                    let row = &cols[((c * g.kh + ki) * g.kw + kj) * stride + img * width..][..width];
                    let plane = &mut dx[(img * g.c + c) * plane_len..][..plane_len];
                    for oy in first..last {
                        let iy = iy_lo + (oy - y_lo) * g.stride[0];
                        let target = &mut plane[iy * g.w..][..g.w];
                        let at = (oy - rows.start) * g.ow;
                        let inside = &row[at + x_lo..at + x_hi];
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
            let expected = reference(&x, &g);
            let y: Vec<f64> = (0..expected.len()).map(|i| (i * 53 % 97) as f64 - 48.0).collect();
            let image = g.c * g.h * g.w;
            // Panels of every height, the last one shorter where it does not divide.
            for panel in [1, 2, g.oh] {
                let mut cols = vec![f64::NAN; expected.len()];
                let mut dx = vec![0.0; x.len()];
                for img in 0..g.n {
                    for start in (0..g.oh).step_by(panel) {
                        let rows = start..(start + panel).min(g.oh);
                        let width = rows.len() * g.ow;
                        let mut out = vec![f64::NAN; g.rows() * width];
                        im2col_panel(&x[img * image..][..image], 1, &g, rows.clone(), &mut out, width);
                        // The panel's columns, and y's, at their place in the whole matrix.
                        let mut y_panel = vec![0.0; out.len()];
                        for r in 0..g.rows() {
                            let at = r * g.cols() + img * g.positions() + start * g.ow;
                            cols[at..at + width].copy_from_slice(&out[r * width..][..width]);
                            y_panel[r * width..][..width].copy_from_slice(&y[at..at + width]);
                        }
                        col2im_panel(&y_panel, 1, &g, rows, &mut dx[img * image..][..image], width);
                    }
                }
                assert_eq!(cols, expected, "{g:?}, panels of {panel} rows");
                // <im2col(x), y> = <x, col2im(y)> for any y.
                let left: f64 = cols.iter().zip(&y).map(|(a, b)| a * b).sum();
                let right: f64 = x.iter().zip(&dx).map(|(a, b)| a * b).sum();
                assert_eq!(left, right, "{g:?}, panels of {panel} rows");
            }
        }
    }
}
