//! Resizing images, like `torch.nn.functional.interpolate` on NCHW batches:
//! nearest (UpsampleNearest2DBackward0) and bilinear with `align_corners`
//! either way (UpsampleBilinear2DBackward0), to a size or by a scale
//! factor, with PyTorch's source-index rules.
//!
//! Both modes are one kernel: each output row (and column) reads two source
//! rows with two weights (nearest: one row with weight 1), so the forward
//! is a weighted gather and the backward the matching scatter.

use ndarray::{ArrayD, IxDyn};

use crate::error::or_panic;
use crate::numel::checked_alloc;
use crate::{Element, ShapeError, TensorBase};

/// How `interpolate` reads the source, as the `mode` and `align_corners`
/// arguments of `torch.nn.functional.interpolate`.
///
/// ```
/// use blocks_core::InterpolateMode;
/// assert_eq!(InterpolateMode::Bilinear { align_corners: false }.name(), "bilinear");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InterpolateMode {
    /// The nearest source pixel at or before the output's position (`mode='nearest'`).
    #[default]
    Nearest,
    /// The weighted mean of the four nearest source pixels (`mode='bilinear'`);
    /// `align_corners` maps the corner pixels' centres onto each other.
    Bilinear {
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
            InterpolateMode::Bilinear { .. } => "bilinear",
        }
    }
}

/// The output of `interpolate`: a size, or a scale factor per spatial dim
/// (the size then `floor(input · scale)`, and the source positions computed
/// from the factor, as PyTorch does).
///
/// ```
/// use blocks_core::InterpolateSize;
/// assert_eq!(InterpolateSize::ScaleFactor([2.0, 2.0]).output([3, 4]), Some([6, 8]));
/// assert_eq!(InterpolateSize::Size([5, 7]).output([3, 4]), Some([5, 7]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InterpolateSize {
    /// The output's height and width.
    Size([usize; 2]),
    /// Factors the input's height and width are multiplied by.
    ScaleFactor([f64; 2]),
}

impl InterpolateSize {
    /// The output size for an input of `input` (height, width), or `None`
    /// when a factor is not a positive finite number or the size overflows.
    ///
    /// ```
    /// use blocks_core::InterpolateSize;
    /// assert_eq!(InterpolateSize::ScaleFactor([1.5, 0.5]).output([3, 3]), Some([4, 1]));
    /// assert_eq!(InterpolateSize::ScaleFactor([-1.0, 1.0]).output([3, 3]), None);
    /// ```
    pub fn output(self, input: [usize; 2]) -> Option<[usize; 2]> {
        match self {
            InterpolateSize::Size(size) => Some(size),
            InterpolateSize::ScaleFactor(scales) => {
                let out = |axis: usize| {
                    let s = scales[axis];
                    let size = (input[axis] as f64 * s).floor();
                    (s.is_finite() && s > 0.0 && size < usize::MAX as f64).then_some(size as usize)
                };
                Some([out(0)?, out(1)?])
            }
        }
    }
}

/// For each output index along one axis: the two source indices and their weights.
type Taps<E> = Vec<(usize, usize, E, E)>;

/// The source taps of one axis, by PyTorch's rules (`nearest_idx` and
/// `area_pixel_compute_source_index`), in PyTorch's precision (nearest's
/// scale in float32; bilinear's in the element type).
fn axis_taps<E: Element>(mode: InterpolateMode, input: usize, output: usize, scale: Option<f64>) -> Taps<E> {
    match mode {
        InterpolateMode::Nearest => {
            let factor: f32 = match scale {
                Some(s) if s > 0.0 => (1.0 / s) as f32,
                _ => input as f32 / output as f32,
            };
            (0..output)
                .map(|o| {
                    let i = if output == input {
                        o
                    } else if output == 2 * input {
                        o >> 1
                    } else {
                        ((o as f32 * factor).floor() as usize).min(input - 1)
                    };
                    (i, i, E::one(), E::zero())
                })
                .collect()
        }
        InterpolateMode::Bilinear { align_corners } => {
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

impl<E: Element> TensorBase<E> {
    /// The NCHW batch `self` resized to `size`, like
    /// `torch.nn.functional.interpolate(input, size=..., scale_factor=..., mode=..., align_corners=...)`
    /// (UpsampleNearest2DBackward0 or UpsampleBilinear2DBackward0).
    ///
    /// # Panics
    /// On an input that is not 4-D, an empty input or output, or a scale
    /// factor that is not positive (see [`try_interpolate`](Self::try_interpolate)).
    ///
    /// ```
    /// use blocks_core::{InterpolateMode, InterpolateSize, Tensor};
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2]);
    /// let y = x.interpolate(InterpolateSize::ScaleFactor([2.0, 2.0]), InterpolateMode::Nearest);
    /// assert_eq!(y.to_vec()[..4], [1.0, 1.0, 2.0, 2.0]);
    /// let y = x.interpolate(InterpolateSize::Size([3, 3]), InterpolateMode::Bilinear { align_corners: true });
    /// assert_eq!(y.to_vec()[..3], [1.0, 1.5, 2.0]);
    /// ```
    #[track_caller]
    pub fn interpolate(&self, size: InterpolateSize, mode: InterpolateMode) -> Self {
        or_panic(self.try_interpolate(size, mode))
    }

    /// Like [`interpolate`](Self::interpolate), returning an error on sizes that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] naming the op and the input's shape for an input
    /// that is not 4-D, an input or output with a zero size, a scale factor
    /// that is not a positive finite number, or an output too large.
    ///
    /// ```
    /// use blocks_core::{InterpolateMode, InterpolateSize, Tensor};
    /// let err = Tensor::zeros([2, 3]).try_interpolate(InterpolateSize::Size([4, 4]), InterpolateMode::Nearest);
    /// assert!(err.unwrap_err().to_string().starts_with("interpolate: input [2, 3]"));
    /// ```
    pub fn try_interpolate(&self, size: InterpolateSize, mode: InterpolateMode) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let fail = |why: String| ShapeError::new(format!("interpolate: input {shape:?}, {size:?}: {why}"));
        if shape.len() != 4 {
            return Err(fail(format!(
                "the {} mode takes a 4-D input [N, C, H, W], got {} dims",
                mode.name(),
                shape.len()
            )));
        }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]);
        let Some([oh, ow]) = size.output([h, w]) else {
            return Err(fail("scale factors must be positive finite numbers".into()));
        };
        if h == 0 || w == 0 || oh == 0 || ow == 0 {
            return Err(fail(format!(
                "Input and output sizes should be greater than 0, but got input (H: {h}, W: {w}) output (H: {oh}, W: {ow})"
            )));
        }
        checked_alloc::<E>("interpolate", "the output", &[n, c, oh, ow]).map_err(|e| fail(e.to_string()))?;
        let scales = match size {
            InterpolateSize::Size(_) => [None, None],
            InterpolateSize::ScaleFactor([sh, sw]) => [Some(sh), Some(sw)],
        };
        let rows: Taps<E> = axis_taps(mode, h, oh, scales[0]);
        let cols: Taps<E> = axis_taps(mode, w, ow, scales[1]);
        let x = self.data();
        let x = x.as_standard_layout();
        let xs = x.as_slice().expect("standard layout");
        let mut out = Vec::with_capacity(n * c * oh * ow);
        for plane in xs.chunks_exact(h * w) {
            for &(r0, r1, a0, a1) in &rows {
                for &(c0, c1, b0, b1) in &cols {
                    let top = plane[r0 * w + c0] * b0 + plane[r0 * w + c1] * b1;
                    let bottom = plane[r1 * w + c0] * b0 + plane[r1 * w + c1] * b1;
                    out.push(a0 * top + a1 * bottom);
                }
            }
        }
        let data = ArrayD::from_shape_vec(IxDyn(&[n, c, oh, ow]), out).expect("output size");
        let name = match mode {
            InterpolateMode::Nearest => "UpsampleNearest2DBackward0",
            InterpolateMode::Bilinear { .. } => "UpsampleBilinear2DBackward0",
        };
        Ok(TensorBase::from_op(data, name, &[self], move |grad, _| {
            let grad = grad.as_standard_layout();
            let gs = grad.as_slice().expect("standard layout");
            let mut dx = vec![E::zero(); n * c * h * w];
            for (plane, g) in dx.chunks_exact_mut(h * w).zip(gs.chunks_exact(oh * ow)) {
                let mut g = g.iter();
                for &(r0, r1, a0, a1) in &rows {
                    for &(c0, c1, b0, b1) in &cols {
                        let g = *g.next().expect("output size");
                        plane[r0 * w + c0] += g * a0 * b0;
                        plane[r0 * w + c1] += g * a0 * b1;
                        plane[r1 * w + c0] += g * a1 * b0;
                        plane[r1 * w + c1] += g * a1 * b1;
                    }
                }
            }
            vec![Some(ArrayD::from_shape_vec(IxDyn(&[n, c, h, w]), dx).expect("input size"))]
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::{InterpolateMode, InterpolateSize, Tensor64, gradcheck};

    #[test]
    fn interpolate_gradcheck_in_float64() {
        let values: Vec<f64> = (0..2 * 3 * 4 * 5).map(|i| ((i * 37) % 23) as f64 / 7.0 - 1.5).collect();
        let x = Tensor64::from_vec(values, [2, 3, 4, 5]).requires_grad_(true);
        let modes = [
            InterpolateMode::Nearest,
            InterpolateMode::Bilinear { align_corners: false },
            InterpolateMode::Bilinear { align_corners: true },
        ];
        let sizes = [
            InterpolateSize::Size([7, 3]),
            InterpolateSize::ScaleFactor([2.0, 1.5]),
            InterpolateSize::ScaleFactor([0.5, 2.0]),
            InterpolateSize::Size([1, 1]),
        ];
        for mode in modes {
            for size in sizes {
                let f = |t: &[Tensor64]| {
                    let y = t[0].interpolate(size, mode);
                    (&y * &y).sum()
                };
                gradcheck(f, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("{mode:?} {size:?}: {e}"));
            }
        }
        let y = x.interpolate(InterpolateSize::Size([8, 10]), InterpolateMode::Nearest);
        assert_eq!(y.grad_fn(), Some("UpsampleNearest2DBackward0"));
        let y =
            x.interpolate(InterpolateSize::Size([8, 10]), InterpolateMode::Bilinear { align_corners: true });
        assert_eq!(y.grad_fn(), Some("UpsampleBilinear2DBackward0"));
    }

    #[test]
    fn bilinear_without_aligned_corners_clamps_at_the_edges() {
        // 2 -> 4: sources -0.25 (clamped to 0), 0.25, 0.75, 1.25 (the last row twice).
        let x = Tensor64::from_vec(vec![0.0, 4.0], [1, 1, 1, 2]);
        let y =
            x.interpolate(InterpolateSize::Size([1, 4]), InterpolateMode::Bilinear { align_corners: false });
        assert_eq!(y.to_vec(), vec![0.0, 1.0, 3.0, 4.0]);
    }

    #[test]
    fn hostile_sizes_are_errors_not_overflows() {
        let x = Tensor64::zeros([1, 1, 2, 2]);
        for size in [
            InterpolateSize::Size([usize::MAX, 2]),
            InterpolateSize::ScaleFactor([1e300, 1.0]),
            InterpolateSize::ScaleFactor([f64::NAN, 1.0]),
            InterpolateSize::ScaleFactor([0.1, 1.0]),
        ] {
            assert!(x.try_interpolate(size, InterpolateMode::Nearest).is_err(), "{size:?}");
        }
    }
}
