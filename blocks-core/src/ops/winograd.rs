//! 3×3 stride-1 convolutions by Winograd's minimal filtering F(2×2, 3×3)
//! (Lavin & Gray 2015, "Fast Algorithms for Convolutional Neural
//! Networks"): each 2×2 tile of the output is computed from the 4×4 tile
//! of the (padded) input under it with 16 products per input and output
//! channel instead of 36, so the products do 16/36 of the direct
//! convolution's multiply-adds.
//!
//! With `U = G g Gᵀ` (the kernel `g` of each output/input channel pair,
//! transformed once per call into `[16][out][in]`), `V = Bᵀ d B` (each
//! input tile `d`, into `[16][in][tiles]`) and `M_ξ = U_ξ · V_ξ` (16 faer
//! products `[out, in] · [in, tiles]`), a tile's output is `Aᵀ M A`.
//! The tiles are taken in panels of whole tile rows (one image cut into
//! runs of tile rows, or runs of whole images) whose transformed inputs
//! fit in the L2 cache, as `conv_panels.rs` does for the column matrix.
//! Threads take whole panels of images, and the panels never depend on
//! the thread count, so results are the same bit for bit on any number
//! of threads.
//!
//! The input's gradient of such a convolution with padding `p ≤ 2` is the
//! same kind of convolution of the output's gradient, with the kernels
//! flipped and their channels swapped and padding `2 − p`
//! ([`Winograd::input_gradient`]); the weight's gradient stays on the panels of `conv_panels.rs`.
//!
//! The float32 error: transforming by 0, ±1 and ±½ only, F(2×2, 3×3) stays
//! close to the direct sum (the test `float32_error_at_512_channels`
//! measures it against float64 on 512 channels). F(4×4, 3×3) would save
//! more products but its transforms' larger coefficients cost accuracy;
//! it is not used.
//!
//! When it is used ([`applies`]): kernel 3×3, stride 1, dilation 1, one
//! group, at least [`MIN_TILES`] output tiles in the batch, and at least
//! [`MIN_CHANNELS`] input and output channels (with
//! fewer, the transforms cost more than the products they save), and not
//! in training when the forward would keep its (small, at most 2²²
//! elements) column matrix for the weight's gradient: the panels path then
//! lays the columns out once for both products. Measured (`cargo bench
//! --bench conv`, thread CPU time, 1 thread, load 4-6): W7 forward at
//! 0.59× the time of one faer product of its im2col size (the GEMM path
//! took 0.88-1.06×), W7 training step at 1.00× its three products'
//! floor (the GEMM path 1.36×); the digits CNN step (W6, its second layer
//! 32 → 64 channels on 4×4 images) took 3.76× its floor with that layer
//! by Winograd against 2.92× on the panels, hence the training rule.

use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewMut2};

use super::gemm::gemm_sized;
use super::im2col::Geometry;
use crate::Element;
use crate::autograd::pool;
use crate::threading::{loop_parts, row_parts, run_parts};

/// Input and output channels below which the GEMM path is kept.
pub(super) const MIN_CHANNELS: usize = 16;

/// Output tiles (2×2) of a whole batch below which the GEMM path is kept:
/// with few tiles the products are thin (`[out, in] · [in, tiles]`) and
/// reading the transformed kernels (16/9 of the weight) and transforming
/// them each call costs more than the products save (ResNet-18's last
/// stages at 64×64 inputs: 8 images of 2×2 and 4×4).
pub(super) const MIN_TILES: usize = 64;

/// Target size (elements) of one panel's transformed input or output
/// (`16 · channels · tiles`): 2¹⁷, 512 KiB of `f32`, half of the L2.
/// Measured on W7 (1 thread, thread CPU time, builds run alternately, load
/// 11-15): time against the floor 0.50-0.60× at 2¹⁷, 0.67-0.70× at 2¹⁵,
/// 0.60-0.63× at 2¹⁸.
const PANEL_ELEMENTS: usize = 1 << 17;

/// Padded input rows shorter than this are laid out value by value.
const SHORT_ROW: usize = 40;

/// Whether a convolution of these sizes runs by Winograd: see the module doc.
pub(super) fn applies(g: &Geometry, groups: usize, out_channels: usize) -> bool {
    g.kh == 3
        && g.kw == 3
        && g.stride == [1, 1]
        && g.dilation == [1, 1]
        && groups == 1
        && g.c >= MIN_CHANNELS
        && out_channels >= MIN_CHANNELS
        && g.n.saturating_mul(g.oh.div_ceil(2)).saturating_mul(g.ow.div_ceil(2)) >= MIN_TILES
}

/// Whether the input's gradient of a convolution of these sizes runs by
/// Winograd: as [`applies`] with the channels swapped, and padding at most 2.
pub(super) fn applies_to_input_gradient(g: &Geometry, groups: usize, out_channels: usize) -> bool {
    applies(g, groups, out_channels) && g.padding[0] <= 2 && g.padding[1] <= 2
}

/// The transformed kernels `[16][out][in]` of one convolution.
pub(super) struct Winograd<E: Element> {
    u: Vec<E>,
    out_channels: usize,
    in_channels: usize,
}

/// Some tile rows of some images: `rows` of one image, or all of several.
struct Panel {
    images: Range<usize>,
    rows: Range<usize>,
}

/// The tiling of one convolution's output.
#[derive(Clone, Copy)]
struct Tiling {
    /// Tile rows and columns per image.
    th: usize,
    tw: usize,
    /// Whole images per panel (1 when an image is cut into runs of rows).
    images_per_panel: usize,
    /// Tile rows per panel when an image is cut.
    rows_per_panel: usize,
}

impl Tiling {
    fn new(g: &Geometry, channels: usize) -> Self {
        let (th, tw) = (g.oh.div_ceil(2), g.ow.div_ceil(2));
        let tiles = (PANEL_ELEMENTS / (16 * channels.max(1))).max(1);
        let per_image = th.saturating_mul(tw).max(1);
        let images_per_panel = (tiles / per_image).max(1);
        let rows_per_panel = (tiles / tw.max(1)).clamp(1, th.max(1));
        Tiling { th, tw, images_per_panel, rows_per_panel }
    }

    /// The panels of `images`.
    fn panels(&self, images: Range<usize>) -> Vec<Panel> {
        if self.images_per_panel > 1 || self.rows_per_panel >= self.th {
            let (end, step) = (images.end, self.images_per_panel);
            return images
                .step_by(step)
                .map(|first| Panel { images: first..(first + step).min(end), rows: 0..self.th })
                .collect();
        }
        let (th, step) = (self.th, self.rows_per_panel);
        images
            .flat_map(|img| {
                (0..th)
                    .step_by(step)
                    .map(move |r| Panel { images: img..img + 1, rows: r..(r + step).min(th) })
            })
            .collect()
    }
}

impl<E: Element> Winograd<E> {
    /// The transformed kernels of `weight`, `[out_channels, in_channels, 3, 3]` row-major.
    pub fn new(weight: &[E], out_channels: usize, in_channels: usize) -> Self {
        let plane = out_channels * in_channels;
        let mut u = pool::scratch(16 * plane);
        for (pair, g) in weight.chunks_exact(9).enumerate().take(plane) {
            for (xi, value) in kernel_transform(g).into_iter().enumerate() {
                u[xi * plane + pair] = value;
            }
        }
        Winograd { u, out_channels, in_channels }
    }

    /// The transformed kernels of the convolution whose result is the input's
    /// gradient of the convolution by `weight` (`[out_channels, in_channels,
    /// 3, 3]`): each kernel flipped, input and output channels swapped.
    pub fn input_gradient(weight: &[E], out_channels: usize, in_channels: usize) -> Self {
        let mut flipped = pool::scratch(weight.len());
        for o in 0..out_channels {
            for i in 0..in_channels {
                let from = &weight[(o * in_channels + i) * 9..][..9];
                let to = &mut flipped[(i * out_channels + o) * 9..][..9];
                to.iter_mut().zip(from.iter().rev()).for_each(|(t, &f)| *t = f);
            }
        }
        let winograd = Winograd::new(&flipped, in_channels, out_channels);
        pool::recycle_vec(flipped);
        winograd
    }

    /// The geometry of the input gradient's convolution: `dy`
    /// (`[n, out, oh, ow]`) padded by `2 − p`, giving `[n, c, h, w]`.
    pub fn input_gradient_geometry(g: &Geometry, out_channels: usize) -> Geometry {
        Geometry {
            c: out_channels,
            h: g.oh,
            w: g.ow,
            padding: [2 - g.padding[0], 2 - g.padding[1]],
            oh: g.h,
            ow: g.w,
            ..*g
        }
    }

    /// The convolution of `x` (`[n, c, h, w]`, row-major, sizes from `g`,
    /// which must have `c` = the kernels' input channels and a 3×3 kernel at
    /// stride 1) as `[n, out_channels, oh, ow]`, `bias` added, on at most
    /// `threads` threads.
    pub fn forward(&self, g: &Geometry, x: &[E], bias: Option<&[E]>, threads: usize) -> Vec<E> {
        let (k, c) = (self.out_channels, self.in_channels);
        debug_assert_eq!(g.c, c);
        let positions = g.oh * g.ow;
        let image_out = k * positions;
        let mut out = pool::scratch(g.n * image_out);
        if out.is_empty() {
            return out;
        }
        let tiling = Tiling::new(g, c.max(k));
        let run = |first: usize, y: &mut [E]| {
            let mut scratch = Scratch::default();
            for panel in tiling.panels(first..first + y.len() / image_out) {
                self.panel(g, &tiling, x, &panel, (first, &mut *y), bias, &mut scratch);
            }
        };
        let per_panel = tiling.images_per_panel;
        let work = (16 * k * c).saturating_mul(g.n).saturating_mul(tiling.th * tiling.tw);
        match loop_parts(work, g.n.div_ceil(per_panel), threads) {
            1 => run(0, &mut out),
            parts => {
                let jobs = row_parts(&mut out, per_panel * image_out, parts);
                run_parts(jobs, |(first, y)| run(first * per_panel, y));
            }
        }
        out
    }

    /// One panel: its tiles' input transform, the 16 products, the output
    /// transform into `y` (the images from `first` on).
    #[allow(clippy::too_many_arguments)] // the panel's inputs and outputs, each used once
    fn panel(
        &self,
        g: &Geometry,
        tiling: &Tiling,
        x: &[E],
        panel: &Panel,
        (first, y): (usize, &mut [E]),
        bias: Option<&[E]>,
        Scratch { v, m, rows }: &mut Scratch<E>,
    ) {
        let (k, c, tw) = (self.out_channels, self.in_channels, tiling.tw);
        let tiles = panel.images.len() * panel.rows.len() * tw;
        v.resize(16 * c * tiles, E::zero());
        m.resize(16 * k * tiles, E::zero());
        rows.resize(8 * (tw + 1), E::zero());
        let plane = g.h * g.w;
        for (index, img) in panel.images.clone().enumerate() {
            for ch in 0..c {
                let source = &x[(img * g.c + ch) * plane..][..plane];
                for (r, tr) in panel.rows.clone().enumerate() {
                    let at = (index * panel.rows.len() + r) * tw;
                    input_tile_row(g, source, tr, rows, v, (ch * tiles + at, c * tiles), tw);
                }
            }
        }
        for xi in 0..16 {
            let a = ArrayView2::from_shape((k, c), &self.u[xi * k * c..][..k * c]).expect("kernel size");
            let b =
                ArrayView2::from_shape((c, tiles), &v[xi * c * tiles..][..c * tiles]).expect("panel size");
            let mut out = ArrayViewMut2::from_shape((k, tiles), &mut m[xi * k * tiles..][..k * tiles])
                .expect("panel size");
            gemm_sized(&a, &b, E::zero(), &mut out, 1);
        }
        let positions = g.oh * g.ow;
        for (index, img) in panel.images.clone().enumerate() {
            for o in 0..k {
                let plane = &mut y[((img - first) * k + o) * positions..][..positions];
                let b = bias.map_or(E::zero(), |b| b[o]);
                for (r, tr) in panel.rows.clone().enumerate() {
                    let at = (index * panel.rows.len() + r) * tw;
                    output_tile_row(g, m, (o * tiles + at, k * tiles), tr, plane, b, rows, tw);
                }
            }
        }
    }
}

impl<E: Element> Drop for Winograd<E> {
    fn drop(&mut self) {
        pool::recycle_vec(std::mem::take(&mut self.u));
    }
}

/// A thread's buffers: the panel's transformed input and products, and
/// the rows of one tile row.
#[derive(Default)]
struct Scratch<E> {
    v: Vec<E>,
    m: Vec<E>,
    rows: Vec<E>,
}

/// `G g Gᵀ` of one 3×3 kernel `g` (row-major), 4×4 row-major.
fn kernel_transform<E: Element>(g: &[E]) -> [E; 16] {
    let half = E::of(0.5);
    // a = G g: 4×3.
    let mut a = [E::zero(); 12];
    for j in 0..3 {
        let (g0, g1, g2) = (g[j], g[3 + j], g[6 + j]);
        a[j] = g0;
        a[3 + j] = (g0 + g1 + g2) * half;
        a[6 + j] = (g0 - g1 + g2) * half;
        a[9 + j] = g2;
    }
    let mut u = [E::zero(); 16];
    for i in 0..4 {
        let (a0, a1, a2) = (a[3 * i], a[3 * i + 1], a[3 * i + 2]);
        u[4 * i] = a0;
        u[4 * i + 1] = (a0 + a1 + a2) * half;
        u[4 * i + 2] = (a0 - a1 + a2) * half;
        u[4 * i + 3] = a2;
    }
    u
}

/// `Bᵀ d B` of the tiles of tile row `tr` of one channel's plane `source`
/// into `v` (`16` runs of `tw` values, the first at `at`, the next
/// `stride` further): the four input rows under it, padded (`rows`, 4 ×
/// 2(tw + 1)), then combined.
fn input_tile_row<E: Element>(
    g: &Geometry,
    source: &[E],
    tr: usize,
    rows: &mut [E],
    v: &mut [E],
    (at, stride): (usize, usize),
    tw: usize,
) {
    let width = 2 * (tw + 1);
    let pad = g.padding[1].min(width);
    for (r, row) in rows.chunks_exact_mut(width).take(4).enumerate() {
        let iy = (2 * tr + r).checked_sub(g.padding[0]).filter(|&iy| iy < g.h);
        if width < SHORT_ROW {
            // Value by value: by slices, a short row was two or three libc calls.
            let inside = g.w.min(width - pad);
            let source = iy.map_or(&[][..], |iy| &source[iy * g.w..][..inside]);
            for (q, o) in row.iter_mut().enumerate() {
                *o = if q >= pad && q - pad < source.len() { source[q - pad] } else { E::zero() };
            }
            continue;
        }
        match iy {
            None => row.fill(E::zero()),
            Some(iy) => {
                // Padded column q is input column q − p.
                let inside = g.w.min(width - pad);
                row[..pad].fill(E::zero());
                row[pad..pad + inside].copy_from_slice(&source[iy * g.w..][..inside]);
                row[pad + inside..].fill(E::zero());
            }
        }
    }
    // Rows of Bᵀ d: t0 = d0 − d2, t1 = d1 + d2, t2 = d2 − d1, t3 = d1 − d3.
    let (r0, rest) = rows.split_at_mut(width);
    let (r1, rest) = rest.split_at_mut(width);
    let (r2, r3) = rest.split_at_mut(width);
    let r3 = &mut r3[..width];
    for (((d0, d1), d2), d3) in r0.iter_mut().zip(r1.iter_mut()).zip(r2.iter_mut()).zip(r3.iter_mut()) {
        let (a0, a1, a2, a3) = (*d0, *d1, *d2, *d3);
        *d0 = a0 - a2;
        *d1 = a1 + a2;
        *d2 = a2 - a1;
        *d3 = a1 - a3;
    }
    // Columns, tile j reading t[2j..2j + 4]: [t0 − t2, t1 + t2, t2 − t1, t1 − t3].
    for (i, row) in [&*r0, &*r1, &*r2, &*r3].into_iter().enumerate() {
        let base = at + 4 * i * stride;
        let (v0, rest) = v[base..].split_at_mut(stride);
        let (v1, rest) = rest.split_at_mut(stride);
        let (v2, v3) = rest.split_at_mut(stride);
        let outs = v0[..tw].iter_mut().zip(&mut v1[..tw]).zip(&mut v2[..tw]).zip(&mut v3[..tw]);
        let pairs = row.chunks_exact(2).zip(row[2..].chunks_exact(2));
        for ((((o0, o1), o2), o3), (a, b)) in outs.zip(pairs) {
            *o0 = a[0] - b[0];
            *o1 = a[1] + b[0];
            *o2 = b[0] - a[1];
            *o3 = a[1] - b[1];
        }
    }
}

/// `Aᵀ M A` of the tiles of tile row `tr` of one output channel (`m`: 16
/// runs of `tw` products, the first at `at`, the next `stride` further)
/// into its output plane, `bias` added; `rows` holds the 4 output values'
/// runs (4 × (tw + 1)).
#[allow(clippy::too_many_arguments)] // the tile row's inputs and outputs, each used once
fn output_tile_row<E: Element>(
    g: &Geometry,
    m: &[E],
    (at, stride): (usize, usize),
    tr: usize,
    plane: &mut [E],
    bias: E,
    rows: &mut [E],
    tw: usize,
) {
    let run = |xi: usize| &m[at + xi * stride..][..tw];
    let (y00, rest) = rows.split_at_mut(tw);
    let (y01, rest) = rest.split_at_mut(tw);
    let (y10, rest) = rest.split_at_mut(tw);
    let y11 = &mut rest[..tw];
    // Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]: per row i of M, s_i0 = m_i0 + m_i1 + m_i2,
    // s_i1 = m_i1 − m_i2 − m_i3; then y_0x = s_0x + s_1x + s_2x, y_1x = s_1x − s_2x − s_3x.
    let [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15] = std::array::from_fn(run);
    for j in 0..tw {
        let s00 = m0[j] + m1[j] + m2[j];
        let s01 = m1[j] - m2[j] - m3[j];
        let s10 = m4[j] + m5[j] + m6[j];
        let s11 = m5[j] - m6[j] - m7[j];
        let s20 = m8[j] + m9[j] + m10[j];
        let s21 = m9[j] - m10[j] - m11[j];
        let s30 = m12[j] + m13[j] + m14[j];
        let s31 = m13[j] - m14[j] - m15[j];
        y00[j] = s00 + s10 + s20 + bias;
        y01[j] = s01 + s11 + s21 + bias;
        y10[j] = s10 - s20 - s30 + bias;
        y11[j] = s11 - s21 - s31 + bias;
    }
    for (dy, (left, right)) in [(y00, y01), (y10, y11)].into_iter().enumerate() {
        let oy = 2 * tr + dy;
        if oy >= g.oh {
            break;
        }
        let line = &mut plane[oy * g.ow..][..g.ow];
        let mut pairs = line.chunks_exact_mut(2);
        for ((pair, &l), &r) in (&mut pairs).zip(left.iter()).zip(right.iter()) {
            pair[0] = l;
            pair[1] = r;
        }
        if let [last] = pairs.into_remainder() {
            *last = left[tw - 1];
        }
    }
}

#[cfg(test)]
#[path = "winograd_tests.rs"]
mod tests;
