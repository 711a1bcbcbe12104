//! The convolution's products a panel at a time: the column matrix of a
//! batch (`[c·kh·kw, n·oh·ow]`, 75 MB for a 64-channel 3×3 layer on 32
//! images of 32×32) is never built whole. A batch is cut into panels whose
//! columns fit in the L2 cache: runs of output rows of one image for large
//! images, runs of whole images for small ones. Each panel's columns are
//! laid out by `im2col_panel` and multiplied at once (forward: `W · cols`,
//! straight into the NCHW output when the panel is one whole image;
//! backward: `dW += dy · colsᵀ` and `dcols = Wᵀ · dy`, added back by
//! `col2im_panel`). A 1×1 convolution with stride 1 and no padding lays out
//! no columns when a panel is one image: the image is its column matrix.
//!
//! Threads take whole panels of images. The weight's gradient is summed over
//! a fixed number of runs of images, whatever the thread count, and panels
//! never depend on it, so every result is the same bit for bit on any
//! number of threads.

use std::ops::Range;

use ndarray::{ArrayView2, ArrayViewMut2, Axis, Slice};

use super::gemm::gemm_sized;
use super::im2col::{Geometry, col2im_panel, im2col_panel};
use crate::Element;
use crate::autograd::pool;
use crate::threading::{loop_parts, row_parts, run_parts};

/// Elements of one panel of the column matrix, at most (unless one output
/// row is more): 2¹⁷, 512 KiB of `f32`, half of this machine's L2 (1 MiB).
/// Measured on W7 (`cargo bench --bench conv -- w7`, thread CPU time, run
/// alternately): 2¹⁷ took 0.88–0.90× the time of one product of the same
/// size, 2¹⁶ 1.05–1.10×, whole images (2²⁰, a 2.3 MB panel) 1.18–1.20×.
const PANEL_ELEMENTS: usize = 1 << 17;

/// Column matrices of at most this many elements (2²², 16 MiB of `f32`)
/// are kept from the forward for the weight's gradient (as the whole
/// matrix was before panels); larger ones are laid out again in the
/// backward, a panel at a time, from the input (which PyTorch keeps).
/// Measured on the digits CNN step (`cargo bench --bench conv -- w6`):
/// laying out its small layers' columns twice made it 15% slower.
const SAVED_MAX: usize = 1 << 22;

/// Runs of images the weight's gradient is summed over (fewer for smaller
/// batches): partial sums, one per run, are added in order at the end, so
/// the sum does not depend on how many threads shared the runs.
const WEIGHT_GRAD_RUNS: usize = 8;

/// Some output rows of some images: `rows` of one image, or all rows of
/// several.
struct Panel {
    images: Range<usize>,
    rows: Range<usize>,
}

impl Geometry {
    /// A 1×1 kernel at stride 1 without padding: each output is a product
    /// of the weight with the input image, seen as `[c, h·w]`.
    fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == [1, 1] && self.padding == [0, 0]
    }

    /// Whole images per panel; 1 when an image is cut into runs of rows.
    fn images_per_panel(&self) -> usize {
        (PANEL_ELEMENTS / self.rows().saturating_mul(self.positions()).max(1)).max(1)
    }

    /// The panels of `images`: runs of [`images_per_panel`](Self::images_per_panel)
    /// images from the first, or runs of rows of each image (a pointwise
    /// convolution's images whole).
    fn panels(&self, images: Range<usize>) -> Vec<Panel> {
        let (oh, per_image) = (self.oh, self.images_per_panel());
        if per_image > 1 {
            let end = images.end;
            return images
                .step_by(per_image)
                .map(|first| Panel { images: first..(first + per_image).min(end), rows: 0..oh })
                .collect();
        }
        let per_panel = if self.is_pointwise() {
            oh
        } else {
            (PANEL_ELEMENTS / self.rows().max(1) / self.ow.max(1)).clamp(1, oh.max(1))
        };
        images
            .flat_map(|img| {
                (0..oh).step_by(per_panel.max(1)).map(move |start| Panel {
                    images: img..img + 1,
                    rows: start..(start + per_panel).min(oh),
                })
            })
            .collect()
    }
}

impl Panel {
    /// Columns per image.
    fn image_width(&self, g: &Geometry) -> usize {
        self.rows.len() * g.ow
    }

    /// The panel's first column in the whole column matrix (image-major).
    fn first_column(&self, g: &Geometry) -> usize {
        self.images.start * g.positions() + self.rows.start * g.ow
    }

    /// Columns in all.
    fn width(&self, g: &Geometry) -> usize {
        self.images.len() * self.image_width(g)
    }

    /// One whole image: its output (and output gradient) are the panel's.
    fn is_one_image(&self, g: &Geometry) -> bool {
        self.images.len() == 1 && self.rows.len() == g.oh
    }
}

/// A run of images in the backward: the images, their part of the input's
/// gradient (when wanted) and the run's partial sum of the weight's.
type Run<'a, E> = ((Range<usize>, Option<&'a mut [E]>), &'a mut Vec<E>);

/// A thread's buffers for one panel: its columns, its share of the
/// output or of the output's gradient, and the columns' gradient.
#[derive(Default)]
struct Scratch<E> {
    cols: Vec<E>,
    panel: Vec<E>,
    dcols: Vec<E>,
}

/// What the panel loops read: the sizes, the groups and the weight as the
/// matrix `[out_channels, c / groups · kh · kw]`.
pub(super) struct Panels<'a, E> {
    pub geometry: &'a Geometry,
    pub groups: usize,
    pub weight: ArrayView2<'a, E>,
}

impl<E: Element> Panels<'_, E> {
    fn out_channels(&self) -> usize {
        self.weight.nrows()
    }

    /// Multiply-adds of one product over the whole batch.
    fn work(&self) -> usize {
        let g = self.geometry;
        (g.n.saturating_mul(self.weight.len())).saturating_mul(g.positions())
    }

    /// Whether a pointwise convolution's panel is one image, its own
    /// column matrix (nothing laid out, nothing kept).
    fn is_direct(&self, panel: &Panel) -> bool {
        self.geometry.is_pointwise() && panel.is_one_image(self.geometry)
    }

    /// The columns of `panel` of the batch `x` (`[n, c, h, w]`): one image
    /// itself when [direct](Self::is_direct), else laid out into `kept`
    /// (the panel's place in the kept column matrix) or `buffer`.
    fn columns<'b>(
        &self,
        x: &'b [E],
        panel: &Panel,
        buffer: &'b mut Vec<E>,
        kept: Option<&'b mut [E]>,
    ) -> ArrayView2<'b, E> {
        let g = self.geometry;
        let (image, width) = (g.c * g.h * g.w, panel.width(g));
        if self.is_direct(panel) {
            let x = &x[panel.images.start * image..][..image];
            return ArrayView2::from_shape((g.c, width), x).expect("image size");
        }
        let target = match kept {
            Some(kept) => kept,
            None => {
                buffer.resize(g.rows() * width, E::zero());
                &mut buffer[..]
            }
        };
        let x = &x[panel.images.start * image..][..panel.images.len() * image];
        im2col_panel(x, panel.images.len(), g, panel.rows.clone(), target, width);
        ArrayView2::from_shape((g.rows(), width), &target[..]).expect("panel size")
    }

    /// Whether the forward keeps the column matrix for the weight's
    /// gradient: when it is laid out at all and small enough.
    pub fn keeps_columns(&self) -> bool {
        let g = self.geometry;
        let direct = g.is_pointwise() && g.images_per_panel() == 1;
        !direct && g.rows().saturating_mul(g.n).saturating_mul(g.positions()) <= SAVED_MAX
    }

    /// `c = W · cols` per group (`beta = 0`).
    fn weight_times(&self, cols: &ArrayView2<'_, E>, c: &mut ArrayViewMut2<'_, E>) {
        let (og, rg) = (self.out_channels() / self.groups, cols.nrows() / self.groups);
        for group in 0..self.groups {
            let a = self.weight.slice_axis(Axis(0), Slice::from(group * og..(group + 1) * og));
            let b = cols.slice_axis(Axis(0), Slice::from(group * rg..(group + 1) * rg));
            let mut c = c.slice_axis_mut(Axis(0), Slice::from(group * og..(group + 1) * og));
            gemm_sized(&a, &b, E::zero(), &mut c, 1);
        }
    }

    /// The convolution of the batch `x` (`[n, c, h, w]`, row-major) as
    /// `[n, out_channels, oh, ow]` values, with `bias` added, and the column
    /// matrix when `keep` (and [`keeps_columns`](Self::keeps_columns));
    /// panels of images are shared between at most `threads` threads.
    ///
    /// ```text
    /// let panels = Panels { geometry: &geometry, groups, weight: w2.view() };
    /// let (y, kept) = panels.forward(x, bias.as_deref(), weight.requires_grad(), get_num_threads());
    /// ```
    pub fn forward(
        &self,
        x: &[E],
        bias: Option<&[E]>,
        keep: bool,
        threads: usize,
    ) -> (Vec<E>, Option<Vec<E>>) {
        let g = self.geometry;
        let (image_out, image_cols) = (self.out_channels() * g.positions(), g.rows() * g.positions());
        let mut out = pool::scratch(g.n * image_out);
        // Every element is written by im2col.
        let mut kept = (keep && self.keeps_columns()).then(|| pool::scratch(g.n * image_cols));
        if out.is_empty() {
            return (out, kept);
        }
        let run = |first: usize, y: &mut [E], mut kept: Option<&mut [E]>| {
            let mut scratch = Scratch::default();
            for panel in g.panels(first..first + y.len() / image_out) {
                let at = g.rows() * (panel.first_column(g) - first * g.positions());
                let kept = kept.as_deref_mut().map(|kept| &mut kept[at..][..g.rows() * panel.width(g)]);
                self.forward_panel(x, &panel, (first, &mut *y), bias, kept, &mut scratch);
            }
        };
        // Threads take whole panels, so that panels are the same on any count.
        let per_panel = g.images_per_panel();
        match loop_parts(self.work(), g.n.div_ceil(per_panel), threads) {
            1 => run(0, &mut out, kept.as_deref_mut()),
            parts => {
                let outs = row_parts(&mut out, per_panel * image_out, parts);
                let mut rest = kept.as_deref_mut();
                let mut jobs = Vec::with_capacity(outs.len());
                for (first, y) in outs {
                    let images = y.len() / image_out;
                    let part = rest.take().map(|kept| {
                        let (head, tail) = kept.split_at_mut(images * image_cols);
                        rest = Some(tail);
                        head
                    });
                    jobs.push((first * per_panel, y, part));
                }
                run_parts(jobs, |(first, y, kept)| run(first, y, kept));
            }
        }
        (out, kept)
    }

    /// The outputs of `panel` into `y` (the images from `first` on, each
    /// `[out_channels, oh·ow]`): straight into `y` when the panel is one
    /// whole image, else through a buffer and copied, the bias added.
    fn forward_panel(
        &self,
        x: &[E],
        panel: &Panel,
        (first, y): (usize, &mut [E]),
        bias: Option<&[E]>,
        kept: Option<&mut [E]>,
        Scratch { cols, panel: buffer, .. }: &mut Scratch<E>,
    ) {
        let g = self.geometry;
        let (channels, positions) = (self.out_channels(), g.positions());
        let (width, image_width) = (panel.width(g), panel.image_width(g));
        let cols = self.columns(x, panel, cols, kept);
        if panel.is_one_image(g) {
            let y = &mut y[(panel.images.start - first) * channels * positions..][..channels * positions];
            let mut out = ArrayViewMut2::from_shape((channels, width), &mut y[..]).expect("image size");
            self.weight_times(&cols, &mut out);
            if let Some(bias) = bias {
                for (plane, &b) in y.chunks_exact_mut(positions).zip(bias) {
                    plane.iter_mut().for_each(|v| *v += b);
                }
            }
            return;
        }
        buffer.resize(channels * width, E::zero());
        let mut out = ArrayViewMut2::from_shape((channels, width), &mut buffer[..]).expect("panel size");
        self.weight_times(&cols, &mut out);
        for (ch, from) in buffer.chunks_exact(width).enumerate() {
            for (index, img) in panel.images.clone().enumerate() {
                let at = ((img - first) * channels + ch) * positions + panel.rows.start * g.ow;
                let (to, from) = (&mut y[at..][..image_width], &from[index * image_width..][..image_width]);
                match bias {
                    Some(bias) => to.iter_mut().zip(from).for_each(|(t, &v)| *t = v + bias[ch]),
                    None => to.copy_from_slice(from),
                }
            }
        }
    }

    /// The gradients of the input (when `input_grad`) and of the weight
    /// (when `x`, the input batch, is given; from `kept`, the forward's
    /// column matrix, when given) from the output's gradient `dy`
    /// (`[n, out_channels, oh, ow]`, row-major), on at most `threads`
    /// threads: `([n, c, h, w], [out_channels, c / groups · kh · kw])`.
    ///
    /// ```text
    /// let (dx, dw) = panels.backward(dy, Some(x), kept.as_deref(), ctx.needs(0), get_num_threads());
    /// ```
    pub fn backward(
        &self,
        dy: &[E],
        x: Option<&[E]>,
        kept: Option<&[E]>,
        input_grad: bool,
        threads: usize,
    ) -> (Option<Vec<E>>, Option<Vec<E>>) {
        let g = self.geometry;
        let image_in = g.c * g.h * g.w;
        // Runs of whole panels of images (units), the same on any thread count.
        let (per_panel, units) = (g.images_per_panel(), g.n.div_ceil(g.images_per_panel()));
        let runs = units.clamp(1, WEIGHT_GRAD_RUNS);
        let mut dx = input_grad.then(|| pool::scratch(g.n * image_in));
        let mut partials = vec![vec![E::zero(); if x.is_some() { self.weight.len() } else { 0 }]; runs];
        // Runs of whole images, each with its part of dx and its partial sum.
        let image_runs: Vec<Range<usize>> = (0..runs)
            .map(|r| (units * r / runs * per_panel).min(g.n)..(units * (r + 1) / runs * per_panel).min(g.n))
            .collect();
        let mut dx_runs: Vec<Option<&mut [E]>> = match dx.as_mut() {
            Some(dx) => {
                let mut rest = &mut dx[..];
                image_runs
                    .iter()
                    .map(|images| {
                        let (head, tail) = std::mem::take(&mut rest).split_at_mut(images.len() * image_in);
                        rest = tail;
                        Some(head)
                    })
                    .collect()
            }
            None => (0..runs).map(|_| None).collect(),
        };
        let mut items: Vec<_> =
            image_runs.into_iter().zip(dx_runs.drain(..)).zip(partials.iter_mut()).collect();
        let work = self.work().saturating_mul(usize::from(input_grad) + usize::from(x.is_some()));
        let parts = loop_parts(work, runs, threads);
        // Each part takes consecutive runs, in order.
        let mut shares = Vec::with_capacity(parts);
        for part in (0..parts).rev() {
            shares.push(items.split_off(runs * part / parts));
        }
        shares.reverse();
        let work_on = |share: Vec<Run<'_, E>>| {
            let mut scratch = Scratch::default();
            for ((images, mut dx), dw) in share {
                if let Some(dx) = dx.as_deref_mut()
                    && !(g.is_pointwise() && g.images_per_panel() == 1)
                {
                    dx.fill(E::zero());
                }
                let first = images.start;
                for panel in g.panels(images) {
                    self.backward_panel(dy, (x, kept), &panel, first, dx.as_deref_mut(), dw, &mut scratch);
                }
            }
        };
        run_parts(shares, work_on);
        let dw = x.map(|_| {
            let mut partials = partials.into_iter();
            let mut sum = partials.next().expect("at least one run");
            for partial in partials {
                sum.iter_mut().zip(&partial).for_each(|(s, &p)| *s += p);
            }
            sum
        });
        (dx, dw)
    }

    /// One panel's share of [`backward`](Self::backward): `dw += dy · colsᵀ`
    /// when `x` is given (the columns from `kept` when given), and its part of `dx` (the images from `first` on;
    /// written, or added to zeros) when given.
    #[allow(clippy::too_many_arguments)] // the panel's inputs and outputs, each used once
    fn backward_panel(
        &self,
        dy: &[E],
        (x, kept): (Option<&[E]>, Option<&[E]>),
        panel: &Panel,
        first: usize,
        dx: Option<&mut [E]>,
        dw: &mut [E],
        Scratch { cols, panel: buffer, dcols }: &mut Scratch<E>,
    ) {
        let g = self.geometry;
        let (channels, positions) = (self.out_channels(), g.positions());
        let (width, image_width) = (panel.width(g), panel.image_width(g));
        let (og, rg) = (channels / self.groups, self.weight.ncols());
        // The panel of dy, [channels, width]: a view of one image's, or a copy.
        let dy = if panel.is_one_image(g) {
            ArrayView2::from_shape(
                (channels, width),
                &dy[panel.images.start * channels * positions..][..channels * positions],
            )
            .expect("image size")
        } else {
            buffer.resize(channels * width, E::zero());
            for (ch, to) in buffer.chunks_exact_mut(width).enumerate() {
                for (index, img) in panel.images.clone().enumerate() {
                    let at = (img * channels + ch) * positions + panel.rows.start * g.ow;
                    to[index * image_width..][..image_width].copy_from_slice(&dy[at..][..image_width]);
                }
            }
            ArrayView2::from_shape((channels, width), &buffer[..]).expect("panel size")
        };
        if let Some(x) = x {
            let cols = match kept {
                Some(kept) if !self.is_direct(panel) => {
                    let at = g.rows() * panel.first_column(g);
                    ArrayView2::from_shape((g.rows(), width), &kept[at..][..g.rows() * width])
                        .expect("panel size")
                }
                _ => self.columns(x, panel, cols, None),
            };
            let mut dw = ArrayViewMut2::from_shape((channels, rg), dw).expect("weight size");
            for group in 0..self.groups {
                let a = dy.slice_axis(Axis(0), Slice::from(group * og..(group + 1) * og));
                let b = cols.slice_axis(Axis(0), Slice::from(group * rg..(group + 1) * rg));
                let mut c = dw.slice_axis_mut(Axis(0), Slice::from(group * og..(group + 1) * og));
                gemm_sized(&a, &b.t(), E::one(), &mut c, 1);
            }
        }
        let Some(dx) = dx else { return };
        let image_in = g.c * g.h * g.w;
        let direct = self.is_direct(panel);
        let target = if direct {
            &mut dx[(panel.images.start - first) * image_in..][..image_in]
        } else {
            dcols.resize(g.rows() * width, E::zero());
            &mut dcols[..]
        };
        let mut out = ArrayViewMut2::from_shape((g.rows(), width), target).expect("panel size");
        for group in 0..self.groups {
            let a = self.weight.slice_axis(Axis(0), Slice::from(group * og..(group + 1) * og));
            let b = dy.slice_axis(Axis(0), Slice::from(group * og..(group + 1) * og));
            let mut c = out.slice_axis_mut(Axis(0), Slice::from(group * rg..(group + 1) * rg));
            gemm_sized(&a.t(), &b, E::zero(), &mut c, 1);
        }
        if !direct {
            let (start, count) = (panel.images.start - first, panel.images.len());
            let dx = &mut dx[start * image_in..][..count * image_in];
            col2im_panel(dcols, count, g, panel.rows.clone(), dx, width);
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::*;

    /// Deterministic values in [-1, 1).
    fn values(len: usize, seed: usize) -> Vec<f64> {
        (0..len).map(|i| ((i * 7919 + seed * 104_729) % 2001) as f64 / 1000.0 - 1.0).collect()
    }

    /// The output, the input's and the weight's gradients (for the output's
    /// gradient `dy`) by the definition's sums.
    fn reference(g: &Geometry, groups: usize, o: usize, x: &[f64], w: &[f64], dy: &[f64]) -> [Vec<f64>; 3] {
        let (cg, og) = (g.c / groups, o / groups);
        let mut y = vec![0.0; g.n * o * g.positions()];
        let (mut dx, mut dw) = (vec![0.0; x.len()], vec![0.0; w.len()]);
        for (img, oc, oy, ox) in itertools(g.n, o, g.oh, g.ow) {
            let at = ((img * o + oc) * g.oh + oy) * g.ow + ox;
            for (ci, ki, kj) in
                (0..cg).flat_map(|ci| (0..g.kh).flat_map(move |ki| (0..g.kw).map(move |kj| (ci, ki, kj))))
            {
                let iy = (oy * g.stride[0] + ki * g.dilation[0]) as isize - g.padding[0] as isize;
                let ix = (ox * g.stride[1] + kj * g.dilation[1]) as isize - g.padding[1] as isize;
                if !(0..g.h as isize).contains(&iy) || !(0..g.w as isize).contains(&ix) {
                    continue;
                }
                let c = oc / og * cg + ci;
                let xi = ((img * g.c + c) * g.h + iy as usize) * g.w + ix as usize;
                let wi = ((oc * cg + ci) * g.kh + ki) * g.kw + kj;
                y[at] += x[xi] * w[wi];
                dx[xi] += dy[at] * w[wi];
                dw[wi] += dy[at] * x[xi];
            }
        }
        [y, dx, dw]
    }

    fn itertools(
        n: usize,
        o: usize,
        oh: usize,
        ow: usize,
    ) -> impl Iterator<Item = (usize, usize, usize, usize)> {
        (0..n).flat_map(move |a| {
            (0..o).flat_map(move |b| (0..oh).flat_map(move |c| (0..ow).map(move |d| (a, b, c, d))))
        })
    }

    /// Panels of several rows of an image with a shorter last one, panels
    /// of several images, pointwise convolutions (whole images and panels of
    /// images) and groups, forward and backward, on 1 and 2 threads, against
    /// the definition.
    #[test]
    fn panels_match_the_definition() {
        let geometry = |n, c, (h, w), k, stride: [usize; 2], padding: [usize; 2], dilation: [usize; 2]| {
            let out = |size: usize, axis: usize| {
                (size + 2 * padding[axis] - dilation[axis] * (k - 1) - 1) / stride[axis] + 1
            };
            Geometry { n, c, h, w, kh: k, kw: k, stride, padding, dilation, oh: out(h, 0), ow: out(w, 1) }
        };
        let cases = [
            (geometry(3, 32, (24, 24), 3, [1, 1], [1, 1], [1, 1]), 2, 6),
            (geometry(2, 16, (95, 25), 3, [2, 1], [2, 1], [1, 2]), 4, 8),
            (geometry(3, 4, (5, 7), 1, [1, 1], [0, 0], [1, 1]), 2, 6),
            (geometry(2, 64, (40, 40), 1, [1, 1], [0, 0], [1, 1]), 1, 3),
            (geometry(30, 8, (8, 8), 3, [1, 1], [1, 1], [1, 1]), 1, 4),
            (geometry(8, 64, (16, 16), 3, [1, 1], [1, 1], [1, 1]), 1, 16),
        ];
        for (g, groups, o) in cases {
            let panels = g.panels(0..g.n).len();
            assert!(g.is_pointwise() || panels != g.n, "{g:?} is cut into {panels} panels");
            let x = values(g.n * g.c * g.h * g.w, 1);
            let w = values(o * g.rows() / groups, 2);
            let dy = values(g.n * o * g.positions(), 3);
            let [y, dx, dw] = reference(&g, groups, o, &x, &w, &dy);
            let weight = Array2::from_shape_vec((o, g.rows() / groups), w.clone()).expect("weight");
            let panels = Panels { geometry: &g, groups, weight: weight.view() };
            for threads in [1, 2] {
                let close = |got: &[f64], want: &[f64], what: &str| {
                    assert_eq!(got.len(), want.len());
                    for (a, b) in got.iter().zip(want) {
                        assert!(
                            (a - b).abs() <= 1e-12 * (1.0 + b.abs()) * g.rows() as f64,
                            "{what} {g:?}: {a} vs {b}"
                        );
                    }
                };
                let (got_y, kept) = panels.forward(&x, None, true, threads);
                close(&got_y, &y, "y");
                assert_eq!(kept.is_some(), !g.is_pointwise() || g.images_per_panel() > 1, "{g:?}");
                for kept in [kept.as_deref(), None] {
                    let (got_dx, got_dw) = panels.backward(&dy, Some(&x), kept, true, threads);
                    close(&got_dx.expect("dx"), &dx, "dx");
                    close(&got_dw.expect("dw"), &dw, "dw");
                }
            }
        }
    }
}
