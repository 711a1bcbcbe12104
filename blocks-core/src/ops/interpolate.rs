//! Resizing, like `torch.nn.functional.interpolate` on `[N, C, L]`,
//! `[N, C, H, W]` and `[N, C, D, H, W]` batches: nearest
//! (UpsampleNearest1D/2D/3DBackward0) and linear, bilinear, trilinear with
//! `align_corners` either way (UpsampleLinear1D, UpsampleBilinear2D,
//! UpsampleTrilinear3DBackward0), to a size or by a scale factor, with
//! PyTorch's source-index rules and its messages for the wrong input.
//!
//! Every mode is one kernel: each output index along each axis reads two
//! source indices with two weights (nearest: one index with weight 1), so
//! the forward is a weighted gather, separable over the axes, and the
//! backward the matching scatter. A 1-d or 2-d input is a 3-d one whose
//! leading spatial sizes are 1.
//!
//! Nearest's index is PyTorch's: `floor(o · scale)` (`scale` = `1 / scale_factor`
//! when a factor is given and not recomputed, else `in / out`, in float32),
//! and in 2-d, as PyTorch's 2-d kernel, the index itself when the sizes are
//! equal and `o / 2` when the output is twice the input. PyTorch 2.15's 1-d
//! and 3-d nearest *backward* takes those two shortcuts while their forward
//! does not, so with a factor such as 1.2 on a size of 3 its input gradient
//! is not its forward's adjoint; blocks gives the adjoint (the forward's
//! values are PyTorch's in every case).

use ndarray::{ArrayD, IxDyn};

use crate::error::or_panic;
use crate::numel::checked_alloc;
use crate::{Element, InterpolateSize, ShapeError, TensorBase};

/// How `interpolate` reads the source, as the `mode` and `align_corners`
/// arguments of `torch.nn.functional.interpolate`.
///
/// ```
/// use blocks_core::InterpolateMode;
/// assert_eq!(InterpolateMode::Bilinear { align_corners: false }.name(), "bilinear");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InterpolateMode {
    /// The nearest source element at or before the output's position
    /// (`mode='nearest'`), for 3-D, 4-D and 5-D input.
    #[default]
    Nearest,
    /// The weighted mean of the two nearest source elements (`mode='linear'`),
    /// for 3-D input `[N, C, L]`; `align_corners` maps the end elements'
    /// centres onto each other.
    Linear {
        /// PyTorch's `align_corners` (`False` by default).
        align_corners: bool,
    },
    /// The weighted mean of the four nearest source pixels (`mode='bilinear'`),
    /// for 4-D input; `align_corners` maps the corner pixels' centres onto each other.
    Bilinear {
        /// PyTorch's `align_corners` (`False` by default).
        align_corners: bool,
    },
    /// The weighted mean of the eight nearest source voxels
    /// (`mode='trilinear'`), for 5-D input `[N, C, D, H, W]`.
    Trilinear {
        /// PyTorch's `align_corners` (`False` by default).
        align_corners: bool,
    },
}

impl InterpolateMode {
    /// PyTorch's name of the mode.
    ///
    /// ```
    /// assert_eq!(blocks_core::InterpolateMode::Nearest.name(), "nearest");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            InterpolateMode::Nearest => "nearest",
            InterpolateMode::Linear { .. } => "linear",
            InterpolateMode::Bilinear { .. } => "bilinear",
            InterpolateMode::Trilinear { .. } => "trilinear",
        }
    }

    /// The number of spatial dims the mode takes (`None`: nearest takes 1 to 3).
    ///
    /// ```
    /// assert_eq!(blocks_core::InterpolateMode::Trilinear { align_corners: true }.spatial_dims(), Some(3));
    /// ```
    pub fn spatial_dims(self) -> Option<usize> {
        match self {
            InterpolateMode::Nearest => None,
            InterpolateMode::Linear { .. } => Some(1),
            InterpolateMode::Bilinear { .. } => Some(2),
            InterpolateMode::Trilinear { .. } => Some(3),
        }
    }

    /// `align_corners` of an interpolating mode; `None` for nearest.
    fn align_corners(self) -> Option<bool> {
        match self {
            InterpolateMode::Nearest => None,
            InterpolateMode::Linear { align_corners }
            | InterpolateMode::Bilinear { align_corners }
            | InterpolateMode::Trilinear { align_corners } => Some(align_corners),
        }
    }

    /// PyTorch's grad_fn name for `dims` spatial dims.
    fn grad_fn(self, dims: usize) -> &'static str {
        match (self, dims) {
            (InterpolateMode::Nearest, 1) => "UpsampleNearest1DBackward0",
            (InterpolateMode::Nearest, 2) => "UpsampleNearest2DBackward0",
            (InterpolateMode::Nearest, _) => "UpsampleNearest3DBackward0",
            (InterpolateMode::Linear { .. }, _) => "UpsampleLinear1DBackward0",
            (InterpolateMode::Bilinear { .. }, _) => "UpsampleBilinear2DBackward0",
            (InterpolateMode::Trilinear { .. }, _) => "UpsampleTrilinear3DBackward0",
        }
    }
}

/// For each output index along one axis: the two source indices and their weights.
type Taps<E> = Vec<(usize, usize, E, E)>;

/// The source taps of one axis, by PyTorch's rules
/// (`nearest_neighbor_compute_source_index` and
/// `area_pixel_compute_source_index`), in PyTorch's precision (nearest's
/// scale in float32; the interpolating modes' in the element type).
/// `shortcuts`: nearest copies when the sizes are equal and halves the
/// index when the output is twice the input, whatever the factor (PyTorch's
/// `nearest_idx`, which its 2-d kernel uses).
fn axis_taps<E: Element>(
    align_corners: Option<bool>,
    input: usize,
    output: usize,
    scale: Option<f64>,
    shortcuts: bool,
) -> Taps<E> {
    match align_corners {
        None => {
            let factor: f32 = match scale {
                Some(s) if s > 0.0 => (1.0 / s) as f32,
                _ => input as f32 / output as f32,
            };
            (0..output)
                .map(|o| {
                    let i = if shortcuts && output == input {
                        o
                    } else if shortcuts && output == 2 * input {
                        o >> 1
                    } else {
                        ((o as f32 * factor).floor() as usize).min(input - 1)
                    };
                    (i, i, E::one(), E::zero())
                })
                .collect()
        }
        Some(align_corners) => {
            let factor = if align_corners {
                if output > 1 { E::of((input - 1) as f64) / E::of((output - 1) as f64) } else { E::zero() }
            } else {
                match scale {
                    Some(s) if s > 0.0 => E::of(1.0 / s),
                    _ => E::of(input as f64) / E::of(output as f64),
                }
            };
            (0..output)
                .map(|o| {
                    let source = if align_corners {
                        factor * E::of(o as f64)
                    } else {
                        (factor * (E::of(o as f64) + E::of(0.5)) - E::of(0.5)).max(E::zero())
                    };
                    let i0 = (source.floor().as_f64() as usize).min(input - 1);
                    let i1 = if i0 < input - 1 { i0 + 1 } else { i0 };
                    let l1 = (source - E::of(i0 as f64)).max(E::zero()).min(E::one());
                    (i0, i1, E::one() - l1, l1)
                })
                .collect()
        }
    }
}

/// `first · w0 + second · w1`, `second` read only when `w1` is not 0 (so
/// nearest copies values exactly, infinities included).
#[inline]
fn mix<E: Element>(w0: E, w1: E, first: E, second: impl FnOnce() -> E) -> E {
    if w1 == E::zero() { first * w0 } else { first * w0 + second() * w1 }
}

/// PyTorch's `(D: 2, H: 3, W: 4)` for the last `sizes.len()` of D, H, W.
fn named_sizes(sizes: &[usize]) -> String {
    let names = &["D", "H", "W"][3 - sizes.len()..];
    let parts: Vec<String> = names.iter().zip(sizes).map(|(n, s)| format!("{n}: {s}")).collect();
    format!("({})", parts.join(", "))
}

impl<E: Element> TensorBase<E> {
    /// The batch `self` (`[N, C, L]`, `[N, C, H, W]` or `[N, C, D, H, W]`)
    /// resized as `size` says, like
    /// `torch.nn.functional.interpolate(input, size=..., scale_factor=..., mode=..., align_corners=...,
    /// recompute_scale_factor=...)`.
    ///
    /// # Panics
    /// On an input of another number of dims or for another mode, an empty
    /// input or output, a size or factor tuple of another length, or a scale
    /// factor that is not positive (see [`try_interpolate`](Self::try_interpolate)).
    ///
    /// ```
    /// use blocks_core::{InterpolateMode, InterpolateSize, Tensor};
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
    /// let y = x.interpolate(&InterpolateSize::scale_factor(2.0), InterpolateMode::Nearest);
    /// assert_eq!(y.to_vec()[..4], [1.0, 1.0, 2.0, 2.0]);
    /// let y = x.interpolate(&InterpolateSize::size([3, 3]), InterpolateMode::Bilinear { align_corners: true });
    /// assert_eq!(y.to_vec()[..3], [1.0, 1.5, 2.0]);
    /// let line = Tensor::from_vec(vec![0.0, 4.0], [1, 1, 2]);
    /// let y = line.interpolate(&InterpolateSize::size(3), InterpolateMode::Linear { align_corners: true });
    /// assert_eq!(y.to_vec(), vec![0.0, 2.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn interpolate(&self, size: &InterpolateSize, mode: InterpolateMode) -> Self {
        or_panic(self.try_interpolate(size, mode))
    }

    /// Like [`interpolate`](Self::interpolate), returning an error on sizes that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] naming the op and the input's shape, in PyTorch's
    /// words where it has them: an input that is not 3-D, 4-D or 5-D, or not
    /// the one the mode needs (`Got 3D input, but bilinear mode needs 4D
    /// input`), a size or factor tuple of another length, an input or output
    /// with a zero size, a scale factor that is not a positive finite number,
    /// `recompute_scale_factor` with a size, or an output too large.
    ///
    /// ```
    /// use blocks_core::{InterpolateMode, InterpolateSize, Tensor};
    /// let bilinear = InterpolateMode::Bilinear { align_corners: false };
    /// let err = Tensor::zeros([1, 2, 3]).try_interpolate(&InterpolateSize::size(4), bilinear).unwrap_err();
    /// assert_eq!(err.to_string(), "interpolate: input [1, 2, 3]: Got 3D input, but bilinear mode needs 4D input");
    /// ```
    pub fn try_interpolate(&self, size: &InterpolateSize, mode: InterpolateMode) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let fail = |why: String| ShapeError::new(format!("interpolate: input {shape:?}: {why}"));
        let rank = shape.len();
        if !(3..=5).contains(&rank) {
            return Err(fail(format!(
                "Input Error: Only 3D, 4D and 5D input Tensors supported (got {rank}D) for the modes: nearest | \
                 linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {})",
                mode.name()
            )));
        }
        let dims = rank - 2;
        if let Some(needs) = mode.spatial_dims().filter(|&k| k != dims) {
            return Err(fail(format!(
                "Got {rank}D input, but {} mode needs {}D input",
                mode.name(),
                needs + 2
            )));
        }
        let input = &shape[2..];
        let output = size.output(input).map_err(fail)?;
        if input.contains(&0) || output.contains(&0) {
            let joint = if dims == 1 { " and" } else { "" };
            return Err(fail(format!(
                "Input and output sizes should be greater than 0, but got input {}{joint} output {}",
                named_sizes(input),
                named_sizes(&output)
            )));
        }
        let (n, c) = (shape[0], shape[1]);
        let mut out_shape = vec![n, c];
        out_shape.extend(&output);
        checked_alloc::<E>("interpolate", "the output", &out_shape).map_err(|e| fail(e.to_string()))?;
        // Three axes (D, H, W); a 1-d or 2-d input has leading sizes 1.
        let scales = size.scales(dims);
        let mut ins = [1usize; 3];
        let mut outs = [1usize; 3];
        let mut taps: [Taps<E>; 3] = std::array::from_fn(|_| vec![(0, 0, E::one(), E::zero())]);
        for a in 0..dims {
            let axis = 3 - dims + a;
            ins[axis] = input[a];
            outs[axis] = output[a];
            taps[axis] = axis_taps(mode.align_corners(), input[a], output[a], scales[a], dims == 2);
        }
        let [_, h, w] = ins;
        let x = self.data();
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let out_numel: usize = out_shape.iter().product();
        let mut out = Vec::with_capacity(out_numel);
        let [deps, rows, cols] = &taps;
        for plane in xs.chunks_exact(ins.iter().product()) {
            for &(z0, z1, a0, a1) in deps {
                for &(y0, y1, b0, b1) in rows {
                    for &(x0, x1, c0, c1) in cols {
                        let at = |z: usize, y: usize| {
                            let row = &plane[(z * h + y) * w..];
                            mix(c0, c1, row[x0], || row[x1])
                        };
                        let layer = |z: usize| mix(b0, b1, at(z, y0), || at(z, y1));
                        out.push(mix(a0, a1, layer(z0), || layer(z1)));
                    }
                }
            }
        }
        let data = ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("output size");
        let in_numel: usize = ins.iter().product();
        let out_plane: usize = outs.iter().product();
        Ok(TensorBase::from_op(data, mode.grad_fn(dims), &[self], move |grad, _| {
            let grad = grad.as_standard_layout();
            let gs = grad.as_slice().expect("standard layout");
            let mut dx = vec![E::zero(); n * c * in_numel];
            let [deps, rows, cols] = &taps;
            for (plane, g) in dx.chunks_exact_mut(in_numel).zip(gs.chunks_exact(out_plane)) {
                let mut g = g.iter();
                for &(z0, z1, a0, a1) in deps {
                    for &(y0, y1, b0, b1) in rows {
                        for &(x0, x1, c0, c1) in cols {
                            let g = *g.next().expect("output size");
                            for (z, gz) in [(z0, g * a0), (z1, g * a1)] {
                                if gz == E::zero() {
                                    continue;
                                }
                                for (y, gy) in [(y0, gz * b0), (y1, gz * b1)] {
                                    if gy == E::zero() {
                                        continue;
                                    }
                                    let row = &mut plane[(z * h + y) * w..];
                                    row[x0] += gy * c0;
                                    if c1 != E::zero() {
                                        row[x1] += gy * c1;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            vec![Some(ArrayD::from_shape_vec(IxDyn(&shape), dx).expect("input size"))]
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{InterpolateMode, InterpolateSize, Tensor64, gradcheck};

    fn input(shape: &[usize]) -> Tensor64 {
        let numel = shape.iter().product();
        let values: Vec<f64> = (0..numel).map(|i| ((i * 37) % 23) as f64 / 7.0 - 1.5).collect();
        Tensor64::from_vec(values, shape).requires_grad_(true)
    }

    fn check(x: &Tensor64, modes: &[InterpolateMode], sizes: &[InterpolateSize]) {
        for &mode in modes {
            for size in sizes {
                let f = |t: &[Tensor64]| {
                    let y = t[0].interpolate(size, mode);
                    (&y * &y).sum()
                };
                gradcheck(f, std::slice::from_ref(x)).unwrap_or_else(|e| panic!("{mode:?} {size:?}: {e}"));
            }
        }
    }

    #[test]
    fn interpolate_gradcheck_in_float64() {
        let x = input(&[2, 3, 4, 5]);
        let modes = [
            InterpolateMode::Nearest,
            InterpolateMode::Bilinear { align_corners: false },
            InterpolateMode::Bilinear { align_corners: true },
        ];
        let sizes = [
            InterpolateSize::size([7, 3]),
            InterpolateSize::scale_factor([2.0, 1.5]),
            InterpolateSize::scale_factor([0.5, 2.0]),
            InterpolateSize::size([1, 1]),
        ];
        check(&x, &modes, &sizes);
        let y = x.interpolate(&InterpolateSize::size([8, 10]), InterpolateMode::Nearest);
        assert_eq!(y.grad_fn(), Some("UpsampleNearest2DBackward0"));
        let y =
            x.interpolate(&InterpolateSize::size([8, 10]), InterpolateMode::Bilinear { align_corners: true });
        assert_eq!(y.grad_fn(), Some("UpsampleBilinear2DBackward0"));
    }

    #[test]
    fn interpolate_1d_and_3d_gradcheck_in_float64() {
        let line = input(&[2, 3, 5]);
        let modes = [
            InterpolateMode::Nearest,
            InterpolateMode::Linear { align_corners: false },
            InterpolateMode::Linear { align_corners: true },
        ];
        let sizes = [
            InterpolateSize::size(9),
            InterpolateSize::size([2]),
            InterpolateSize::scale_factor(1.7),
            InterpolateSize::scale_factor(1.7).recompute_scale_factor(true),
            InterpolateSize::size(1),
        ];
        check(&line, &modes, &sizes);
        let volume = input(&[1, 2, 3, 2, 4]);
        let modes = [
            InterpolateMode::Nearest,
            InterpolateMode::Trilinear { align_corners: false },
            InterpolateMode::Trilinear { align_corners: true },
        ];
        let sizes = [
            InterpolateSize::size([4, 3, 5]),
            InterpolateSize::scale_factor([1.5, 2.0, 0.7]),
            InterpolateSize::scale_factor(2.5).recompute_scale_factor(true),
            InterpolateSize::size(1),
        ];
        check(&volume, &modes, &sizes);
        let y = line.interpolate(&InterpolateSize::size(7), InterpolateMode::Nearest);
        assert_eq!(y.grad_fn(), Some("UpsampleNearest1DBackward0"));
        let y = line.interpolate(&InterpolateSize::size(7), InterpolateMode::Linear { align_corners: false });
        assert_eq!(y.grad_fn(), Some("UpsampleLinear1DBackward0"));
        let y = volume.interpolate(&InterpolateSize::size(3), InterpolateMode::Nearest);
        assert_eq!(y.grad_fn(), Some("UpsampleNearest3DBackward0"));
        let y =
            volume.interpolate(&InterpolateSize::size(3), InterpolateMode::Trilinear { align_corners: true });
        assert_eq!(y.grad_fn(), Some("UpsampleTrilinear3DBackward0"));
    }

    /// The plain definition: each output element from its source position,
    /// computed in one go per element (no separable passes).
    #[test]
    fn trilinear_matches_its_definition() {
        let x = input(&[1, 1, 2, 3, 4]);
        let y = x.interpolate(
            &InterpolateSize::size([3, 5, 2]),
            InterpolateMode::Trilinear { align_corners: true },
        );
        let xs = x.to_vec();
        let at = |d: usize, h: usize, w: usize| xs[(d * 3 + h) * 4 + w];
        let mut expected = Vec::new();
        for od in 0..3 {
            for oh in 0..5 {
                for ow in 0..2 {
                    let (sd, sh, sw) = (od as f64 * 0.5, oh as f64 * 0.5, ow as f64 * 3.0);
                    let (d0, h0, w0) = (sd.floor() as usize, sh.floor() as usize, sw.floor() as usize);
                    let (d1, h1, w1) = ((d0 + 1).min(1), (h0 + 1).min(2), (w0 + 1).min(3));
                    let (ld, lh, lw) = (sd - d0 as f64, sh - h0 as f64, sw - w0 as f64);
                    let mut v = 0.0;
                    for (d, wd) in [(d0, 1.0 - ld), (d1, ld)] {
                        for (h, wh) in [(h0, 1.0 - lh), (h1, lh)] {
                            for (w, ww) in [(w0, 1.0 - lw), (w1, lw)] {
                                v += wd * wh * ww * at(d, h, w);
                            }
                        }
                    }
                    expected.push(v);
                }
            }
        }
        for (a, b) in y.to_vec().iter().zip(&expected) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn bilinear_without_aligned_corners_clamps_at_the_edges() {
        // 2 -> 4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (the last row twice).
        let x = Tensor64::from_vec(vec![0.0, 4.0], [1, 1, 1, 2]);
        let y =
            x.interpolate(&InterpolateSize::size([1, 4]), InterpolateMode::Bilinear { align_corners: false });
        assert_eq!(y.to_vec(), vec![0.0, 1.0, 3.0, 4.0]);
    }

    #[test]
    fn nearest_copies_infinities() {
        let x = Tensor64::from_vec(vec![f64::INFINITY, 1.0, f64::NEG_INFINITY], [1, 1, 3]);
        let y = x.interpolate(&InterpolateSize::size(6), InterpolateMode::Nearest);
        assert_eq!(
            y.to_vec(),
            vec![f64::INFINITY, f64::INFINITY, 1.0, 1.0, f64::NEG_INFINITY, f64::NEG_INFINITY]
        );
    }

    #[test]
    fn hostile_sizes_are_errors_not_overflows() {
        let x = Tensor64::zeros([1, 1, 2, 2]);
        for size in [
            InterpolateSize::size([usize::MAX, 2]),
            InterpolateSize::scale_factor([1e300, 1.0]),
            InterpolateSize::scale_factor([f64::NAN, 1.0]),
            InterpolateSize::scale_factor([0.1, 1.0]),
            InterpolateSize::size([usize::MAX, usize::MAX]),
        ] {
            assert!(x.try_interpolate(&size, InterpolateMode::Nearest).is_err(), "{size:?}");
        }
        let volume = Tensor64::zeros([1, 1, 2, 2, 2]);
        let huge = InterpolateSize::size([1 << 30, 1 << 30, 1 << 30]);
        assert!(volume.try_interpolate(&huge, InterpolateMode::Trilinear { align_corners: false }).is_err());
    }
}
