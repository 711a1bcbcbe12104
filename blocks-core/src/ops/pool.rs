//! 2-D pooling on NCHW (or unbatched CHW) tensors: max_pool2d, avg_pool2d and
//! adaptive_avg_pool2d, with PyTorch's padding rules, output sizes and grad_fn names.

use ndarray::{ArrayD, IxDyn};

use crate::autograd::pool;
use crate::error::or_panic;
use crate::numel::checked_alloc;
use crate::threading::{for_row_parts, loop_parts, row_parts, run_parts};
use crate::{Element, ShapeError, TensorBase, get_num_threads};

/// The planes of a pooled tensor: `planes` images of `h × w` in, `oh × ow` out.
#[derive(Debug, Clone, Copy)]
struct Planes {
    planes: usize,
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
}

/// A pooling window's settings.
#[derive(Debug, Clone, Copy)]
struct Window {
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    /// Round the output size up (windows may start in the right/bottom padding's reach).
    ceil_mode: bool,
}

/// The taps of one output along one axis: the input coordinates
/// `first, first + step, ...` (`count` of them) it reads, and how many of
/// its taps lie inside the padded input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AxisTaps {
    first: usize,
    step: usize,
    count: usize,
    padded: usize,
}

impl Window {
    /// Along `axis` (0 = height, 1 = width), the taps of output `o` over an
    /// input of `size`, skipping the padding. Computed from the bounds, not
    /// by walking the kernel, so a huge kernel costs nothing; in `i128`,
    /// where no product of two sizes overflows.
    fn axis_taps(&self, axis: usize, o: usize, size: usize) -> AxisTaps {
        let wide = |v: usize| v as i128;
        let (kernel, dilation) = (wide(self.kernel[axis]), wide(self.dilation[axis]));
        let pad = wide(self.padding[axis]);
        let start = wide(o) * wide(self.stride[axis]) - pad;
        // Tap i sits at start + i·dilation: the first tap at or past `limit`.
        let first_at = |limit: i128| (((limit - start).max(0) + dilation - 1) / dilation).min(kernel);
        let (lo, hi) = (first_at(0), first_at(wide(size)));
        let count = (hi - lo).max(0);
        // A coordinate inside the input fits a usize; so do the counts (at most `kernel`).
        let first = if count > 0 { (start + lo * dilation) as usize } else { 0 };
        let padded = first_at(wide(size) + pad) as usize;
        AxisTaps { first, step: self.dilation[axis], count: count as usize, padded }
    }
}

/// The input's spatial sizes, checked to be 3-D or 4-D; `(planes, h, w)`.
fn spatial(op: &str, shape: &[usize]) -> Result<(usize, usize, usize), ShapeError> {
    if shape.len() != 3 && shape.len() != 4 {
        return Err(ShapeError::new(format!(
            "{op}: input {shape:?}: expected a 3-D (unbatched) or 4-D (batched) input"
        )));
    }
    let (h, w) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    if h == 0 || w == 0 {
        return Err(ShapeError::new(format!("{op}: input {shape:?}: the spatial sizes must be positive")));
    }
    let planes = shape[..shape.len() - 2].iter().product();
    Ok((planes, h, w))
}

/// Checks a window against the input `shape` and gives the plane sizes, with
/// PyTorch's rules: positive sizes, padding at most half the kernel, an output
/// of at least 1; with `ceil_mode` the size rounds up, but the last window
/// must start inside the input or its left/top padding.
fn window_planes<E: Element>(op: &str, shape: &[usize], window: &Window) -> Result<Planes, ShapeError> {
    let (planes, h, w) = spatial(op, shape)?;
    let Window { kernel, stride, padding, dilation, ceil_mode } = *window;
    let fail = |why: String| ShapeError::new(format!("{op}: input {shape:?}, kernel {kernel:?}: {why}"));
    if kernel.contains(&0) || stride.contains(&0) || dilation.contains(&0) {
        return Err(fail(format!(
            "kernel, stride and dilation must be positive (stride {stride:?}, dilation {dilation:?})"
        )));
    }
    if padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2 {
        return Err(fail(format!(
            "pad should be at most half of effective kernel size, but got pad={padding:?}, \
             kernel_size={kernel:?} and dilation={dilation:?}"
        )));
    }
    // In u128: a huge kernel, padding or dilation gives a size, not an overflow.
    let size = |axis: usize, input: usize| {
        let wide = |v: usize| v as u128;
        let extent = wide(dilation[axis]) * (wide(kernel[axis]) - 1) + 1;
        let room = (wide(input) + 2 * wide(padding[axis])).checked_sub(extent)?;
        let stride = wide(stride[axis]);
        let mut out = if ceil_mode { room.div_ceil(stride) + 1 } else { room / stride + 1 };
        if ceil_mode && (out - 1) * stride >= wide(input) + wide(padding[axis]) {
            out -= 1;
        }
        Some(out)
    };
    let (oh, ow) = match (size(0, h), size(1, w)) {
        (Some(oh), Some(ow)) if oh > 0 && ow > 0 => (oh, ow),
        _ => {
            return Err(fail(format!(
                "Given input size: ({h}x{w}). Calculated output size is less than 1. Output size is too small"
            )));
        }
    };
    let outputs = [oh, ow].map(|size| usize::try_from(size).unwrap_or(usize::MAX));
    checked_alloc::<E>(op, "the output", &[planes, outputs[0], outputs[1]])
        .map_err(|error| fail(error.to_string().trim_start_matches(&format!("{op}: ")).to_string()))?;
    Ok(Planes { planes, h, w, oh: outputs[0], ow: outputs[1] })
}

/// `shape` with its last two sizes replaced by `oh, ow`.
fn pooled_shape(shape: &[usize], oh: usize, ow: usize) -> Vec<usize> {
    let mut out = shape[..shape.len() - 2].to_vec();
    out.extend([oh, ow]);
    out
}

/// The input positions (row-major within the plane) that output `(oy, ox)`
/// reads, skipping padding, and the number of taps including padding that
/// lie inside the padded input (PyTorch's `count_include_pad` divisor).
fn taps(p: &Planes, window: &Window, oy: usize, ox: usize, out: &mut Vec<usize>) -> usize {
    out.clear();
    let (ys, xs) = (window.axis_taps(0, oy, p.h), window.axis_taps(1, ox, p.w));
    for y in (ys.first..).step_by(ys.step).take(ys.count) {
        out.extend((xs.first..).step_by(xs.step).take(xs.count).map(|x| y * p.w + x));
    }
    ys.padded.saturating_mul(xs.padded)
}

/// Planes `first..` of a max pooling of `x` (whole planes): the maximum of
/// each window into `values`, its position within the plane into `argmax`
/// (`None` for a window all in the padding).
///
/// Each axis' taps are found once per output row and column (not per
/// window), and each window is scanned row by row as [`taps`] lists it, so
/// the first maximum wins (a NaN over any number), as in PyTorch.
fn max_pool_planes<E: Element>(
    x: &[E],
    p: &Planes,
    window: &Window,
    first: usize,
    values: &mut [E],
    argmax: &mut [Option<usize>],
) {
    let per_plane = p.oh * p.ow;
    let rows: Vec<AxisTaps> = (0..p.oh).map(|oy| window.axis_taps(0, oy, p.h)).collect();
    let cols: Vec<AxisTaps> = (0..p.ow).map(|ox| window.axis_taps(1, ox, p.w)).collect();
    let outs = values.chunks_exact_mut(per_plane).zip(argmax.chunks_exact_mut(per_plane));
    for (index, (values, argmax)) in outs.enumerate() {
        let plane = &x[(first + index) * p.h * p.w..][..p.h * p.w];
        let lines = values.chunks_exact_mut(p.ow).zip(argmax.chunks_exact_mut(p.ow));
        for (ys, (values, argmax)) in rows.iter().zip(lines) {
            for (xs, (value, arg)) in cols.iter().zip(values.iter_mut().zip(argmax.iter_mut())) {
                if ys.count == 0 || xs.count == 0 {
                    *value = E::neg_infinity();
                    *arg = None;
                    continue;
                }
                let mut best = ys.first * p.w + xs.first;
                for ky in 0..ys.count {
                    let row = (ys.first + ky * ys.step) * p.w + xs.first;
                    for kx in 0..xs.count {
                        let i = row + kx * xs.step;
                        let (v, b) = (plane[i], plane[best]);
                        // Branch-free (the winner is data): taps come in
                        // increasing order, so `i >= best`.
                        let better = (v > b) | (v.is_nan() & !b.is_nan());
                        best += (i - best) * usize::from(better);
                    }
                }
                *value = plane[best];
                *arg = Some(best);
            }
        }
    }
}

impl<E: Element> TensorBase<E> {
    /// The maximum over each window, like `torch.nn.functional.max_pool2d(x,
    /// kernel_size, stride, padding, dilation, ceil_mode)` (MaxPool2DWithIndicesBackward0).
    ///
    /// Padding counts as `-inf`; it may be at most half the kernel, as in
    /// PyTorch. NaN wins the window. The gradient flows to the position of each maximum.
    ///
    /// # Panics
    /// On a bad shape or window, naming the op and the shapes (see [`try_max_pool2d`](Self::try_max_pool2d)).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec((0..16).map(|v| v as f32).collect(), [1, 1, 4, 4]);
    /// let y = x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
    /// assert_eq!(y.to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
    /// // ceil_mode keeps the partial windows at the right and bottom edges.
    /// assert_eq!(x.max_pool2d([3, 3], [2, 2], [0, 0], [1, 1], true).to_vec(), vec![10.0, 11.0, 14.0, 15.0]);
    /// ```
    #[track_caller]
    pub fn max_pool2d(
        &self,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        ceil_mode: bool,
    ) -> Self {
        or_panic(self.try_max_pool2d(kernel, stride, padding, dilation, ceil_mode))
    }

    /// Like [`max_pool2d`](Self::max_pool2d), returning an error on a bad shape or window.
    ///
    /// # Errors
    /// A [`ShapeError`] for an input that is not 3-D or 4-D, a zero size, padding over
    /// half the kernel, or an output smaller than 1.
    ///
    /// ```
    /// let err = blocks_core::Tensor::zeros([1, 1, 4, 4]).try_max_pool2d([2, 2], [2, 2], [2, 2], [1, 1], false);
    /// assert!(err.unwrap_err().to_string().contains("pad should be at most half"));
    /// ```
    pub fn try_max_pool2d(
        &self,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        ceil_mode: bool,
    ) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let window = Window { kernel, stride, padding, dilation, ceil_mode };
        let p = window_planes::<E>("max_pool2d", &shape, &window)?;
        let per_plane = p.oh * p.ow;
        // Every value is written below.
        let (mut values, mut argmax) =
            (pool::scratch(p.planes * per_plane), vec![None; p.planes * per_plane]);
        {
            let x = self.data();
            let x = x.as_standard_layout();
            let x = x.as_slice().expect("standard layout");
            let work = values.len().saturating_mul(kernel[0]).saturating_mul(kernel[1]);
            let parts = loop_parts(work, p.planes, get_num_threads());
            let runs = row_parts(&mut values, per_plane, parts).into_iter().zip(row_parts(
                &mut argmax,
                per_plane,
                parts,
            ));
            run_parts(runs.collect(), |((first, values), (_, argmax))| {
                max_pool_planes(x, &p, &window, first, values, argmax);
            });
        }
        let data =
            ArrayD::from_shape_vec(IxDyn(&pooled_shape(&shape, p.oh, p.ow)), values).expect("pooled size");
        Ok(TensorBase::from_op(data, "MaxPool2DWithIndicesBackward0", &[self], move |grad, _| {
            let grad = grad.as_standard_layout();
            let grad = grad.as_slice().expect("standard layout");
            // Each part zeroes its own planes before adding into them.
            let mut dx = pool::scratch(p.planes * p.h * p.w);
            let outputs = p.oh * p.ow;
            for_row_parts(&mut dx, p.h * p.w, outputs, get_num_threads(), |first, planes| {
                for (index, plane) in planes.chunks_exact_mut(p.h * p.w).enumerate() {
                    plane.fill(E::zero());
                    let at = (first + index) * outputs..(first + index + 1) * outputs;
                    for (&g, best) in grad[at.clone()].iter().zip(&argmax[at]) {
                        if let Some(i) = best {
                            plane[*i] += g;
                        }
                    }
                }
            });
            vec![Some(ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input size"))]
        }))
    }

    /// The mean over each window, like `torch.nn.functional.avg_pool2d(x,
    /// kernel_size, stride, padding, ceil_mode, count_include_pad)` (AvgPool2DBackward0).
    ///
    /// With `count_include_pad` (PyTorch's default, `true`) the zeros of the
    /// padding count in the divisor; without, only the input positions do.
    ///
    /// # Panics
    /// On a bad shape or window (see [`try_avg_pool2d`](Self::try_avg_pool2d)).
    ///
    /// ```
    /// let x = blocks_core::Tensor::ones([1, 1, 2, 2]);
    /// assert_eq!(x.avg_pool2d([2, 2], [1, 1], [1, 1], false, true).to_vec()[0], 0.25);
    /// assert_eq!(x.avg_pool2d([2, 2], [1, 1], [1, 1], false, false).to_vec()[0], 1.0);
    /// ```
    #[track_caller]
    pub fn avg_pool2d(
        &self,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> Self {
        or_panic(self.try_avg_pool2d(kernel, stride, padding, ceil_mode, count_include_pad))
    }

    /// Like [`avg_pool2d`](Self::avg_pool2d), returning an error on a bad shape or window.
    ///
    /// # Errors
    /// A [`ShapeError`] as for [`try_max_pool2d`](Self::try_max_pool2d).
    ///
    /// ```
    /// let err = blocks_core::Tensor::zeros([2, 3]).try_avg_pool2d([2, 2], [2, 2], [0, 0], false, true);
    /// assert!(err.unwrap_err().to_string().starts_with("avg_pool2d: input [2, 3]: expected a 3-D"));
    /// ```
    pub fn try_avg_pool2d(
        &self,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let window = Window { kernel, stride, padding, dilation: [1, 1], ceil_mode };
        let p = window_planes::<E>("avg_pool2d", &shape, &window)?;
        let divisor = move |padded: usize, inside: usize| {
            E::from_usize(if count_include_pad { padded } else { inside }).expect("a count fits")
        };
        let per_plane = p.oh * p.ow;
        // Every value is written below.
        let mut values = pool::scratch(p.planes * per_plane);
        {
            let x = self.data();
            let x = x.as_standard_layout();
            let x = x.as_slice().expect("standard layout");
            let plane_work = per_plane.saturating_mul(kernel[0]).saturating_mul(kernel[1]);
            for_row_parts(&mut values, per_plane, plane_work, get_num_threads(), |first, out| {
                let mut positions = Vec::new();
                for (index, out) in out.chunks_exact_mut(per_plane).enumerate() {
                    let plane = &x[(first + index) * p.h * p.w..][..p.h * p.w];
                    for (o, value) in out.iter_mut().enumerate() {
                        let padded = taps(&p, &window, o / p.ow, o % p.ow, &mut positions);
                        let sum = positions.iter().fold(E::zero(), |s, &i| s + plane[i]);
                        *value = sum / divisor(padded, positions.len());
                    }
                }
            });
        }
        let data =
            ArrayD::from_shape_vec(IxDyn(&pooled_shape(&shape, p.oh, p.ow)), values).expect("pooled size");
        Ok(TensorBase::from_op(data, "AvgPool2DBackward0", &[self], move |grad, _| {
            let grad = grad.as_standard_layout();
            let grad = grad.as_slice().expect("standard layout");
            // Each part zeroes its own planes before adding into them.
            let mut dx = pool::scratch(p.planes * p.h * p.w);
            let plane_work = (p.oh * p.ow).saturating_mul(window.kernel[0]).saturating_mul(window.kernel[1]);
            for_row_parts(&mut dx, p.h * p.w, plane_work, get_num_threads(), |first, planes| {
                let mut positions = Vec::new();
                let grads = grad[first * p.oh * p.ow..].chunks_exact(p.oh * p.ow);
                for (dx, g) in planes.chunks_exact_mut(p.h * p.w).zip(grads) {
                    dx.fill(E::zero());
                    for oy in 0..p.oh {
                        for ox in 0..p.ow {
                            let padded = taps(&p, &window, oy, ox, &mut positions);
                            let share = g[oy * p.ow + ox] / divisor(padded, positions.len());
                            positions.iter().for_each(|&i| dx[i] += share);
                        }
                    }
                }
            });
            vec![Some(ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input size"))]
        }))
    }

    /// The mean over windows chosen so that the output is `output_size`, like
    /// `torch.nn.functional.adaptive_avg_pool2d` (AdaptiveAvgPool2DBackward0).
    ///
    /// Output row `i` averages input rows `floor(i·h/oh)` to `ceil((i+1)·h/oh)`,
    /// PyTorch's rule. For an output of `[1, 1]` PyTorch takes the mean over
    /// the last two dims, so the grad_fn is MeanBackward1, as there.
    ///
    /// # Panics
    /// On an input that is not 3-D or 4-D or a zero size (see
    /// [`try_adaptive_avg_pool2d`](Self::try_adaptive_avg_pool2d)).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec((0..9).map(|v| v as f32).collect(), [1, 1, 3, 3]);
    /// assert_eq!(x.adaptive_avg_pool2d([2, 2]).to_vec(), vec![2.0, 3.0, 5.0, 6.0]);
    /// assert_eq!(x.adaptive_avg_pool2d([1, 1]).to_vec(), vec![4.0]);
    /// ```
    #[track_caller]
    pub fn adaptive_avg_pool2d(&self, output_size: [usize; 2]) -> Self {
        or_panic(self.try_adaptive_avg_pool2d(output_size))
    }

    /// Like [`adaptive_avg_pool2d`](Self::adaptive_avg_pool2d), returning an error on a bad shape.
    ///
    /// # Errors
    /// A [`ShapeError`] for an input that is not 3-D or 4-D, or an empty input or output plane.
    ///
    /// ```
    /// let err = blocks_core::Tensor::zeros([1, 1, 0, 3]).try_adaptive_avg_pool2d([1, 1]);
    /// assert!(err.is_err());
    /// ```
    pub fn try_adaptive_avg_pool2d(&self, output_size: [usize; 2]) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let (planes, h, w) = spatial("adaptive_avg_pool2d", &shape)?;
        let [oh, ow] = output_size;
        if h == 0 || w == 0 || oh == 0 || ow == 0 {
            return Err(ShapeError::new(format!(
                "adaptive_avg_pool2d: input {shape:?}, output_size {output_size:?}: sizes must be positive"
            )));
        }
        checked_alloc::<E>("adaptive_avg_pool2d", "the output", &[planes, oh, ow]).map_err(|error| {
            let why = error.to_string().replacen("adaptive_avg_pool2d: ", "", 1);
            ShapeError::new(format!(
                "adaptive_avg_pool2d: input {shape:?}, output_size {output_size:?}: {why}"
            ))
        })?;
        let p = Planes { planes, h, w, oh, ow };
        // In u128: `(i + 1) · input` may not fit a usize; the bounds do (at most `input`).
        let bounds = |i: usize, input: usize, output: usize| {
            let (i, input, output) = (i as u128, input as u128, output as u128);
            ((i * input / output) as usize, ((i + 1) * input).div_ceil(output) as usize)
        };
        let mut values = Vec::with_capacity(planes * oh * ow);
        {
            let x = self.data();
            let x = x.as_standard_layout();
            for plane in x.as_slice().expect("standard layout").chunks_exact(h * w).take(planes) {
                for oy in 0..oh {
                    let (y0, y1) = bounds(oy, h, oh);
                    for ox in 0..ow {
                        let (x0, x1) = bounds(ox, w, ow);
                        let mut sum = E::zero();
                        for y in y0..y1 {
                            sum = plane[y * w + x0..y * w + x1].iter().fold(sum, |s, &v| s + v);
                        }
                        values.push(sum / E::from_usize((y1 - y0) * (x1 - x0)).expect("a count fits"));
                    }
                }
            }
        }
        let data = ArrayD::from_shape_vec(IxDyn(&pooled_shape(&shape, oh, ow)), values).expect("pooled size");
        let name = if output_size == [1, 1] { "MeanBackward1" } else { "AdaptiveAvgPool2DBackward0" };
        Ok(TensorBase::from_op(data, name, &[self], move |grad, _| {
            let grad = grad.as_standard_layout();
            let grad = grad.as_slice().expect("standard layout");
            let mut dx = vec![E::zero(); p.planes * p.h * p.w];
            for (dx, g) in dx.chunks_exact_mut(p.h * p.w).zip(grad.chunks_exact(p.oh * p.ow)) {
                for oy in 0..p.oh {
                    let (y0, y1) = bounds(oy, p.h, p.oh);
                    for ox in 0..p.ow {
                        let (x0, x1) = bounds(ox, p.w, p.ow);
                        let share =
                            g[oy * p.ow + ox] / E::from_usize((y1 - y0) * (x1 - x0)).expect("a count fits");
                        for y in y0..y1 {
                            dx[y * p.w + x0..y * p.w + x1].iter_mut().for_each(|d| *d += share);
                        }
                    }
                }
            }
            vec![Some(ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input size"))]
        }))
    }
}
