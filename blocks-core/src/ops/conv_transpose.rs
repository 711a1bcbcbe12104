//! Transposed convolutions: `conv_transpose2d` on NCHW batches and
//! `conv_transpose1d` on NCL batches, with stride, padding, output padding,
//! dilation and groups (ConvolutionBackward0, as in PyTorch).
//!
//! A transposed convolution is the input gradient of a convolution: its
//! forward is the convolution's backward to the input (`Wᵀ · x`, then
//! `col2im`), and its backward the convolution's forward (the input's
//! gradient) and the convolution's weight gradient with the roles of input
//! and output gradient swapped, all through the panels of `conv_panels.rs`.

use ndarray::{ArrayD, Axis, IxDyn};

use super::conv::weight_matrix;
use super::conv_panels::Panels;
use super::im2col::Geometry;
use crate::error::or_panic;
use crate::numel::checked_alloc;
use crate::{Element, ShapeError, TensorBase, get_num_threads};

/// Stride, padding, output padding, dilation and groups of a transposed
/// convolution over `D` spatial dims, like the keyword arguments of
/// `torch.nn.functional.conv_transpose2d`; the default is PyTorch's (stride
/// 1, padding 0, output padding 0, dilation 1, groups 1).
///
/// ```
/// use blocks_core::ConvTranspose2dOptions;
/// let options = ConvTranspose2dOptions { stride: [2, 2], output_padding: [1, 1], ..Default::default() };
/// assert_eq!((options.padding, options.dilation, options.groups), ([0, 0], [1, 1], 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvTransposeOptions<const D: usize> {
    /// The step between the positions each input element is spread to.
    pub stride: [usize; D],
    /// Rows and columns taken off both sides of the output
    /// (`dilation · (k − 1) − padding` zeros around the input, seen as a convolution).
    pub padding: [usize; D],
    /// Rows and columns added on one side (the end) of the output, to pick
    /// one of the sizes a strided convolution maps to the same size.
    pub output_padding: [usize; D],
    /// The spacing between kernel taps.
    pub dilation: [usize; D],
    /// Channel groups: input and output channels are split into this many
    /// groups, and each output group sees only its input group.
    pub groups: usize,
}

/// The options of [`conv_transpose1d`](TensorBase::conv_transpose1d).
///
/// ```
/// let options = blocks_core::ConvTranspose1dOptions { stride: [2], ..Default::default() };
/// assert_eq!(options.output_padding, [0]);
/// ```
pub type ConvTranspose1dOptions = ConvTransposeOptions<1>;

/// The options of [`conv_transpose2d`](TensorBase::conv_transpose2d).
///
/// ```
/// let options = blocks_core::ConvTranspose2dOptions::default();
/// assert_eq!(options.stride, [1, 1]);
/// ```
pub type ConvTranspose2dOptions = ConvTransposeOptions<2>;

impl<const D: usize> Default for ConvTransposeOptions<D> {
    fn default() -> Self {
        ConvTransposeOptions {
            stride: [1; D],
            padding: [0; D],
            output_padding: [0; D],
            dilation: [1; D],
            groups: 1,
        }
    }
}

impl<const D: usize> ConvTransposeOptions<D> {
    /// PyTorch's check of the output padding: per dim, smaller than either
    /// the stride or the dilation; `None` when it holds, else PyTorch's message.
    ///
    /// ```
    /// use blocks_core::ConvTranspose2dOptions;
    /// let bad = ConvTranspose2dOptions { stride: [2, 2], output_padding: [2, 2], ..Default::default() };
    /// assert!(bad.output_padding_error().unwrap().starts_with("output padding must be smaller than either stride or dilation"));
    /// assert!(ConvTranspose2dOptions::default().output_padding_error().is_none());
    /// ```
    pub fn output_padding_error(&self) -> Option<String> {
        let fits = (0..D)
            .all(|a| self.output_padding[a] < self.stride[a] || self.output_padding[a] < self.dilation[a]);
        if fits {
            return None;
        }
        let names: &[&str] = if D == 2 { &["height", "width"] } else { &["width"] };
        let part = |what: &str, values: &[usize; D]| {
            names.iter().zip(values).map(|(n, v)| format!("{what}_{n}: {v}")).collect::<Vec<_>>().join(" ")
        };
        Some(format!(
            "output padding must be smaller than either stride or dilation, but got {} {} {}",
            part("output_padding", &self.output_padding),
            part("stride", &self.stride),
            part("dilation", &self.dilation)
        ))
    }
}

impl<E: Element> TensorBase<E> {
    /// A 2-D transposed convolution of the NCHW batch `self`, like
    /// `torch.nn.functional.conv_transpose2d(input, weight, bias, stride,
    /// padding, output_padding, groups, dilation)` (ConvolutionBackward0).
    ///
    /// `weight` is `[in_channels, out_channels / groups, kh, kw]`, `bias` is
    /// `[out_channels]`; the result is `[n, out_channels, oh, ow]` with
    /// `oh = (h − 1)·stride − 2·padding + dilation·(kh − 1) + output_padding + 1`.
    /// A 3-D input is one unbatched image (CHW), as in PyTorch.
    ///
    /// # Panics
    /// On shapes or options that do not fit, naming the op and both shapes
    /// (see [`try_conv_transpose2d`](Self::try_conv_transpose2d)).
    ///
    /// ```
    /// use blocks_core::{ConvTranspose2dOptions, Tensor};
    /// let x = Tensor::ones([1, 1, 2, 2]);
    /// let w = Tensor::ones([1, 1, 2, 2]);
    /// let y = x.conv_transpose2d(&w, None, ConvTranspose2dOptions::default());
    /// assert_eq!(y.shape(), vec![1, 1, 3, 3]);
    /// assert_eq!(y.to_vec(), vec![1.0, 2.0, 1.0, 2.0, 4.0, 2.0, 1.0, 2.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn conv_transpose2d(
        &self,
        weight: &Self,
        bias: Option<&Self>,
        options: ConvTranspose2dOptions,
    ) -> Self {
        or_panic(self.try_conv_transpose2d(weight, bias, options))
    }

    /// Like [`conv_transpose2d`](Self::conv_transpose2d), returning an error
    /// on shapes or options that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] naming the op, the input and weight shapes and what
    /// is wrong: an input that is not 3-D or 4-D, channels that do not match
    /// `weight`, zero stride, dilation or groups, an output padding not
    /// smaller than stride or dilation, an output size below 1 or too large.
    ///
    /// ```
    /// use blocks_core::{ConvTranspose2dOptions, Tensor};
    /// let err = Tensor::zeros([1, 3, 4, 4])
    ///     .try_conv_transpose2d(&Tensor::zeros([2, 1, 3, 3]), None, ConvTranspose2dOptions::default())
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with("conv_transpose2d: input [1, 3, 4, 4], weight [2, 1, 3, 3]"));
    /// ```
    pub fn try_conv_transpose2d(
        &self,
        weight: &Self,
        bias: Option<&Self>,
        options: ConvTranspose2dOptions,
    ) -> Result<Self, ShapeError> {
        self.try_conv_transpose("conv_transpose2d", 2, weight, bias, options)
    }

    /// A 1-D transposed convolution of the NCL batch `self`, like
    /// `torch.nn.functional.conv_transpose1d` (ConvolutionBackward0).
    ///
    /// `weight` is `[in_channels, out_channels / groups, k]`; a 2-D input is
    /// one unbatched signal (CL).
    ///
    /// # Panics
    /// On shapes or options that do not fit (see [`try_conv_transpose1d`](Self::try_conv_transpose1d)).
    ///
    /// ```
    /// use blocks_core::{ConvTranspose1dOptions, Tensor};
    /// let x = Tensor::from_vec(vec![1.0, 2.0], [1, 1, 2]);
    /// let w = Tensor::from_vec(vec![1.0, -1.0], [1, 1, 2]);
    /// let options = ConvTranspose1dOptions { stride: [2], ..Default::default() };
    /// assert_eq!(x.conv_transpose1d(&w, None, options).to_vec(), vec![1.0, -1.0, 2.0, -2.0]);
    /// ```
    #[track_caller]
    pub fn conv_transpose1d(
        &self,
        weight: &Self,
        bias: Option<&Self>,
        options: ConvTranspose1dOptions,
    ) -> Self {
        or_panic(self.try_conv_transpose1d(weight, bias, options))
    }

    /// Like [`conv_transpose1d`](Self::conv_transpose1d), returning an error
    /// on shapes or options that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] as for [`try_conv_transpose2d`](Self::try_conv_transpose2d).
    ///
    /// ```
    /// use blocks_core::{ConvTranspose1dOptions, Tensor};
    /// let options = ConvTranspose1dOptions { output_padding: [1], ..Default::default() };
    /// let err = Tensor::zeros([1, 1, 3]).try_conv_transpose1d(&Tensor::zeros([1, 1, 2]), None, options);
    /// assert!(err.unwrap_err().to_string().contains("output padding must be smaller"));
    /// ```
    pub fn try_conv_transpose1d(
        &self,
        weight: &Self,
        bias: Option<&Self>,
        options: ConvTranspose1dOptions,
    ) -> Result<Self, ShapeError> {
        if let Some(why) = options.output_padding_error() {
            return Err(ShapeError::new(format!(
                "conv_transpose1d: input {:?}, weight {:?}: {why}",
                self.shape(),
                weight.shape()
            )));
        }
        let options = ConvTransposeOptions {
            stride: [1, options.stride[0]],
            padding: [0, options.padding[0]],
            output_padding: [0, options.output_padding[0]],
            dilation: [1, options.dilation[0]],
            groups: options.groups,
        };
        self.try_conv_transpose("conv_transpose1d", 1, weight, bias, options)
    }

    /// The transposed convolution over `spatial` (1 or 2) dims, seen as a 2-D one.
    fn try_conv_transpose(
        &self,
        op: &'static str,
        spatial: usize,
        weight: &Self,
        bias: Option<&Self>,
        options: ConvTransposeOptions<2>,
    ) -> Result<Self, ShapeError> {
        let x_shape = self.shape();
        let w_shape = weight.shape();
        let b_shape = bias.map(TensorBase::shape);
        let geometry = transpose_geometry::<E>(op, spatial, &x_shape, &w_shape, b_shape.as_deref(), options)?;
        let groups = options.groups;
        let in_channels = w_shape[0];
        let data = {
            let x = self.data();
            let x = x.as_standard_layout();
            let w = weight.data();
            let w2 = weight_matrix(&w, in_channels);
            let panels = Panels { geometry: &geometry, groups, weight: w2.view() };
            let x = x.as_slice().expect("standard layout");
            let (out, _) = panels.backward(x, None, None, true, get_num_threads());
            let mut out = out.expect("the output");
            if let Some(bias) = bias {
                let plane = geometry.h * geometry.w;
                let bias = bias.to_vec();
                for (i, chunk) in out.chunks_exact_mut(plane.max(1)).enumerate() {
                    let b = bias[i % geometry.c];
                    chunk.iter_mut().for_each(|v| *v += b);
                }
            }
            let mut out_shape = x_shape[..x_shape.len() - spatial].to_vec();
            let last = out_shape.len() - 1;
            out_shape[last] = geometry.c;
            if spatial == 2 {
                out_shape.push(geometry.h);
            }
            out_shape.push(geometry.w);
            ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("output size")
        };
        let inputs: Vec<&Self> = [Some(self), Some(weight), bias].into_iter().flatten().collect();
        Ok(TensorBase::from_op(data, "ConvolutionBackward0", &inputs, move |grad, ctx| {
            let grad = grad.as_standard_layout();
            let dy = grad.as_slice().expect("standard layout");
            let w = ctx.input(1);
            let w2 = weight_matrix(&w, in_channels);
            let panels = Panels { geometry: &geometry, groups, weight: w2.view() };
            let threads = get_num_threads();
            // The input's gradient is the convolution of the output's gradient.
            let dx = ctx.needs(0).then(|| {
                let (dx, _) = panels.forward(dy, None, false, threads);
                ArrayD::from_shape_vec(IxDyn(&x_shape), dx).expect("input size")
            });
            // The weight's: the convolution's weight gradient with the input as its output's gradient.
            let dw = ctx.needs(1).then(|| {
                let x = ctx.input(0);
                let x = x.as_standard_layout();
                let (_, dw) =
                    panels.backward(x.as_slice().expect("standard layout"), Some(dy), None, false, threads);
                ArrayD::from_shape_vec(IxDyn(&w_shape), dw.expect("the weight's gradient"))
                    .expect("weight size")
            });
            let mut grads = vec![dx, dw];
            if ctx.inputs() == 3 {
                grads.push(ctx.needs(2).then(|| {
                    let planes = (geometry.n, geometry.c, geometry.h * geometry.w);
                    let dy = grad.view().into_shape_with_order(planes).expect("sizes");
                    dy.sum_axis(Axis(2)).sum_axis(Axis(0)).into_dyn()
                }));
            }
            grads
        }))
    }
}

/// The sizes of the convolution whose input gradient the transposed
/// convolution is (`c, h, w` its output, `oh, ow` its input), checked, or an
/// error naming the op and the shapes.
fn transpose_geometry<E: Element>(
    op: &str,
    spatial: usize,
    x_shape: &[usize],
    w_shape: &[usize],
    b_shape: Option<&[usize]>,
    options: ConvTransposeOptions<2>,
) -> Result<Geometry, ShapeError> {
    let fail = |why: String| {
        let b = b_shape.map(|b| format!(", bias {b:?}")).unwrap_or_default();
        ShapeError::new(format!("{op}: input {x_shape:?}, weight {w_shape:?}{b}: {why}"))
    };
    let ConvTransposeOptions { stride, padding, output_padding, dilation, groups } = options;
    if x_shape.len() != spatial + 1 && x_shape.len() != spatial + 2 {
        return Err(fail(format!(
            "expected a {}-D (unbatched) or {}-D (batched) input",
            spatial + 1,
            spatial + 2
        )));
    }
    if w_shape.len() != spatial + 2 {
        return Err(fail(format!(
            "the weight must be {}-D (in_channels, out_channels/groups, kernel...)",
            spatial + 2
        )));
    }
    if groups == 0 || stride.contains(&0) || dilation.contains(&0) {
        return Err(fail(format!(
            "stride, dilation and groups must be positive (stride {stride:?}, dilation {dilation:?}, groups {groups})",
        )));
    }
    if let Some(why) = options.output_padding_error() {
        return Err(fail(why));
    }
    let batched = x_shape.len() == spatial + 2;
    let n = if batched { x_shape[0] } else { 1 };
    let sizes = &x_shape[x_shape.len() - spatial - 1..];
    let (c, ih, iw) = if spatial == 2 { (sizes[0], sizes[1], sizes[2]) } else { (sizes[0], 1, sizes[1]) };
    let (kh, kw) = if spatial == 2 { (w_shape[2], w_shape[3]) } else { (1, w_shape[2]) };
    if w_shape[0] != c {
        return Err(fail(format!(
            "expected the input to have {} channels (the weight's first dim), but got {c} channels instead",
            w_shape[0]
        )));
    }
    if !c.is_multiple_of(groups) {
        return Err(fail(format!("in_channels ({c}) must be divisible by groups ({groups})")));
    }
    let Some(out_channels) = w_shape[1].checked_mul(groups) else {
        return Err(fail(format!("out_channels ({} x {groups}) overflows", w_shape[1])));
    };
    if let Some(b) = b_shape
        && b != [out_channels]
    {
        return Err(fail(format!("the bias must have shape [{out_channels}]")));
    }
    // (i − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1, checked.
    let out = |axis: usize, i: usize, k: usize| -> Option<Option<usize>> {
        let grown = (i.max(1) - 1)
            .checked_mul(stride[axis])?
            .checked_add(dilation[axis].checked_mul(k.max(1) - 1)?)?
            .checked_add(output_padding[axis])?
            .checked_add(1)?;
        Some(grown.checked_sub(padding[axis].checked_mul(2)?))
    };
    let sizes = [out(0, ih, kh), out(1, iw, kw)];
    let (Some(oh), Some(ow)) = (sizes[0], sizes[1]) else {
        return Err(fail(format!(
            "stride {stride:?}, padding {padding:?} or dilation {dilation:?} is too large (the output size overflows)"
        )));
    };
    if ih == 0 || iw == 0 || kh == 0 || kw == 0 || !matches!(oh, Some(1..)) || !matches!(ow, Some(1..)) {
        let shown = |size: Option<usize>, i: usize, k: usize, axis: usize| match size {
            Some(size) if i > 0 && k > 0 => size.to_string(),
            _ => {
                let grown = ((i as i128 - 1) * stride[axis] as i128)
                    + dilation[axis] as i128 * (k as i128 - 1)
                    + output_padding[axis] as i128
                    + 1;
                (grown - 2 * padding[axis] as i128).to_string()
            }
        };
        let (given, calculated) = if spatial == 2 {
            (format!("({ih} x {iw})"), format!("({} x {})", shown(oh, ih, kh, 0), shown(ow, iw, kw, 1)))
        } else {
            (format!("({iw})"), format!("({})", shown(ow, iw, kw, 1)))
        };
        return Err(fail(format!(
            "Given input size per channel: {given}. Calculated output size per channel: {calculated}. \
             Output size is too small"
        )));
    }
    let (oh, ow) = (oh.unwrap_or(0), ow.unwrap_or(0));
    let too_large =
        |error: ShapeError| fail(error.to_string().trim_start_matches(&format!("{op}: ")).to_string());
    checked_alloc::<E>(op, "the output", &[n, out_channels, oh, ow]).map_err(too_large)?;
    checked_alloc::<E>(op, "the input's gradient", &[n, c, ih, iw]).map_err(too_large)?;
    Ok(Geometry { n, c: out_channels, h: oh, w: ow, kh, kw, stride, padding, dilation, oh: ih, ow: iw })
}

#[cfg(test)]
mod tests {
    use crate::{ConvTranspose1dOptions, ConvTranspose2dOptions, Tensor, Tensor64, gradcheck};

    /// Deterministic values in [-1, 1).
    fn values(len: usize, seed: usize) -> Vec<f64> {
        (0..len).map(|i| ((i * 7919 + seed * 104_729) % 2001) as f64 / 1000.0 - 1.0).collect()
    }

    fn t64(shape: &[usize], seed: usize) -> Tensor64 {
        Tensor64::from_vec(values(shape.iter().product(), seed), shape).requires_grad_(true)
    }

    /// The definition: each input element spreads `x · w` to the outputs its taps reach.
    fn reference(x: &Tensor64, w: &Tensor64, o: ConvTranspose2dOptions, out: [usize; 2]) -> Vec<f64> {
        let (xs, ws) = (x.shape(), w.shape());
        let (n, c, ih, iw) = (xs[0], xs[1], xs[2], xs[3]);
        let (og, kh, kw) = (ws[1], ws[2], ws[3]);
        let oc = og * o.groups;
        let cg = c / o.groups;
        let (x, w) = (x.to_vec(), w.to_vec());
        let mut y = vec![0.0; n * oc * out[0] * out[1]];
        for (img, ci, iy, ix, co, ki, kj) in (0..n).flat_map(|a| {
            (0..c).flat_map(move |b| {
                (0..ih).flat_map(move |d| {
                    (0..iw).flat_map(move |e| {
                        (0..og).flat_map(move |f| {
                            (0..kh).flat_map(move |g| (0..kw).map(move |h| (a, b, d, e, f, g, h)))
                        })
                    })
                })
            })
        }) {
            let oy = (iy * o.stride[0] + ki * o.dilation[0]) as isize - o.padding[0] as isize;
            let ox = (ix * o.stride[1] + kj * o.dilation[1]) as isize - o.padding[1] as isize;
            if oy < 0 || ox < 0 || oy as usize >= out[0] || ox as usize >= out[1] {
                continue;
            }
            let channel = ci / cg * og + co;
            let at = ((img * oc + channel) * out[0] + oy as usize) * out[1] + ox as usize;
            y[at] += x[((img * c + ci) * ih + iy) * iw + ix] * w[((ci * og + co) * kh + ki) * kw + kj];
        }
        y
    }

    #[test]
    fn conv_transpose2d_matches_the_definition() {
        let cases = [
            ([2, 4, 3, 4], [4, 3, 3, 3], ConvTranspose2dOptions::default()),
            (
                [1, 4, 3, 2],
                [4, 1, 3, 2],
                ConvTranspose2dOptions {
                    stride: [2, 3],
                    padding: [1, 0],
                    output_padding: [1, 2],
                    dilation: [1, 2],
                    groups: 2,
                },
            ),
            (
                [2, 2, 4, 4],
                [2, 2, 2, 2],
                ConvTranspose2dOptions { dilation: [3, 1], output_padding: [2, 0], ..Default::default() },
            ),
        ];
        for (xs, ws, options) in cases {
            let (x, w) = (t64(&xs, 1), t64(&ws, 2));
            let y = x.conv_transpose2d(&w, None, options);
            assert_eq!(y.grad_fn(), Some("ConvolutionBackward0"));
            let out = [y.shape()[2], y.shape()[3]];
            let expected = reference(&x, &w, options, out);
            for (a, b) in y.to_vec().iter().zip(&expected) {
                assert!((a - b).abs() < 1e-12, "{options:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn conv_transpose_gradcheck_in_float64() {
        let options = ConvTranspose2dOptions {
            stride: [2, 1],
            padding: [1, 1],
            output_padding: [1, 0],
            dilation: [1, 2],
            groups: 2,
        };
        let inputs = [t64(&[2, 4, 3, 3], 1), t64(&[4, 2, 3, 2], 2), t64(&[4], 3)];
        gradcheck(|t| t[0].conv_transpose2d(&t[1], Some(&t[2]), options).sum(), &inputs).unwrap();
        let squared = |t: &[Tensor64]| {
            let y = t[0].conv_transpose2d(&t[1], Some(&t[2]), options);
            (&y * &y).sum()
        };
        gradcheck(squared, &inputs).unwrap();
        let options =
            ConvTranspose1dOptions { stride: [3], padding: [1], output_padding: [2], ..Default::default() };
        let inputs = [t64(&[2, 3, 4], 4), t64(&[3, 2, 3], 5), t64(&[2], 6)];
        let f = |t: &[Tensor64]| {
            let y = t[0].conv_transpose1d(&t[1], Some(&t[2]), options);
            (&y * &y).sum()
        };
        gradcheck(f, &inputs).unwrap();
        // Unbatched.
        let inputs = [t64(&[3, 4], 7), t64(&[3, 2, 3], 8)];
        gradcheck(|t| t[0].conv_transpose1d(&t[1], None, options).sum(), &inputs).unwrap();
    }

    #[test]
    fn conv_transpose_errors_name_the_op_and_the_shapes() {
        let err = Tensor::zeros([1, 2, 1, 1])
            .try_conv_transpose2d(
                &Tensor::zeros([2, 1, 1, 1]),
                None,
                ConvTranspose2dOptions { padding: [1, 1], ..Default::default() },
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "conv_transpose2d: input [1, 2, 1, 1], weight [2, 1, 1, 1]: Given input size per channel: (1 x 1). \
             Calculated output size per channel: (-1 x -1). Output size is too small"
        );
        let options = ConvTranspose2dOptions { stride: [2, 2], output_padding: [2, 2], ..Default::default() };
        let err =
            Tensor::zeros([1, 2, 3, 3]).try_conv_transpose2d(&Tensor::zeros([2, 2, 3, 3]), None, options);
        assert!(err.unwrap_err().to_string().ends_with(
            "output padding must be smaller than either stride or dilation, but got output_padding_height: 2 \
             output_padding_width: 2 stride_height: 2 stride_width: 2 dilation_height: 1 dilation_width: 1"
        ));
        let huge = ConvTranspose2dOptions { stride: [usize::MAX, 1], ..Default::default() };
        let err = Tensor::zeros([1, 1, 3, 3]).try_conv_transpose2d(&Tensor::zeros([1, 1, 1, 1]), None, huge);
        assert!(err.unwrap_err().to_string().contains("too large"));
    }
}
