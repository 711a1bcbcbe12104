//! Convolutions: `conv2d` on NCHW batches and `conv1d` on NCL batches, with
//! stride, padding, dilation and groups, lowered to matrix products through
//! `im2col` a panel at a time (`conv_panels.rs`; ConvolutionBackward0, as in PyTorch).

use ndarray::{ArrayD, CowArray, Ix2, IxDyn};

use super::conv_backward::{SavedCols, conv_backward};
use super::conv_panels::Panels;
use super::im2col::Geometry;
use super::winograd::{self, Winograd};
use crate::error::or_panic;
use crate::numel::checked_alloc;
use crate::{Element, ShapeError, TensorBase, get_num_threads};

/// Stride, padding, dilation and groups of a convolution over `D` spatial
/// dims, like the keyword arguments of `torch.nn.functional.conv2d`; the
/// default is PyTorch's (stride 1, padding 0, dilation 1, groups 1).
///
/// ```
/// use blocks_core::Conv2dOptions;
/// let options = Conv2dOptions { padding: [2, 2], ..Default::default() };
/// assert_eq!((options.stride, options.dilation, options.groups), ([1, 1], [1, 1], 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvOptions<const D: usize> {
    /// The step between output positions, per spatial dim.
    pub stride: [usize; D],
    /// Zeros added on both sides, per spatial dim.
    pub padding: [usize; D],
    /// The spacing between kernel taps, per spatial dim.
    pub dilation: [usize; D],
    /// Channel groups: input and output channels are split into this many
    /// groups, and each output group sees only its input group.
    pub groups: usize,
}

/// The options of [`conv1d`](TensorBase::conv1d).
///
/// ```
/// let options = blocks_core::Conv1dOptions { stride: [2], ..Default::default() };
/// assert_eq!(options.padding, [0]);
/// ```
pub type Conv1dOptions = ConvOptions<1>;

/// The options of [`conv2d`](TensorBase::conv2d).
///
/// ```
/// let options = blocks_core::Conv2dOptions::default();
/// assert_eq!(options.stride, [1, 1]);
/// ```
pub type Conv2dOptions = ConvOptions<2>;

impl<const D: usize> Default for ConvOptions<D> {
    fn default() -> Self {
        ConvOptions { stride: [1; D], padding: [0; D], dilation: [1; D], groups: 1 }
    }
}

impl<E: Element> TensorBase<E> {
    /// A 2-D convolution (cross-correlation) of the NCHW batch `self`, like
    /// `torch.nn.functional.conv2d(input, weight, bias, stride, padding, dilation, groups)`
    /// (ConvolutionBackward0).
    ///
    /// `weight` is `[out_channels, in_channels / groups, kh, kw]`, `bias` is
    /// `[out_channels]`; the result is `[n, out_channels, oh, ow]` with
    /// `oh = (h + 2·padding − dilation·(kh − 1) − 1) / stride + 1`. A 3-D
    /// input is one unbatched image (CHW), as in PyTorch.
    ///
    /// # Panics
    /// On shapes that do not fit, naming the op and both shapes (see [`try_conv2d`](Self::try_conv2d)).
    ///
    /// ```
    /// use blocks_core::{Conv2dOptions, Tensor};
    /// let x = Tensor::ones([1, 1, 4, 4]);
    /// let w = Tensor::ones([2, 1, 3, 3]);
    /// let y = x.conv2d(&w, None, Conv2dOptions { padding: [1, 1], ..Default::default() });
    /// assert_eq!(y.shape(), vec![1, 2, 4, 4]);
    /// assert_eq!(y.to_vec()[..4], [4.0, 6.0, 6.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn conv2d(&self, weight: &Self, bias: Option<&Self>, options: Conv2dOptions) -> Self {
        or_panic(self.try_conv2d(weight, bias, options))
    }

    /// Like [`conv2d`](Self::conv2d), returning an error on shapes that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] naming the op, the input and weight shapes and what is wrong: an
    /// input that is not 3-D or 4-D, channels that do not match `weight`, a
    /// kernel larger than the padded input, zero stride, dilation or groups.
    ///
    /// ```
    /// use blocks_core::{Conv2dOptions, Tensor};
    /// let err = Tensor::zeros([2, 3, 8, 8])
    ///     .try_conv2d(&Tensor::zeros([6, 1, 5, 5]), None, Conv2dOptions::default())
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with("conv2d: input [2, 3, 8, 8], weight [6, 1, 5, 5]"));
    /// ```
    pub fn try_conv2d(
        &self,
        weight: &Self,
        bias: Option<&Self>,
        options: Conv2dOptions,
    ) -> Result<Self, ShapeError> {
        let ConvOptions { stride, padding, dilation, groups } = options;
        self.try_conv("conv2d", 2, weight, bias, ConvOptions { stride, padding, dilation, groups })
    }

    /// A 1-D convolution of the NCL batch `self`, like
    /// `torch.nn.functional.conv1d` (ConvolutionBackward0).
    ///
    /// `weight` is `[out_channels, in_channels / groups, k]`, `bias` is
    /// `[out_channels]`; the result is `[n, out_channels, ol]`. A 2-D input is
    /// one unbatched signal (CL).
    ///
    /// # Panics
    /// On shapes that do not fit, naming the op and both shapes (see [`try_conv1d`](Self::try_conv1d)).
    ///
    /// ```
    /// use blocks_core::{Conv1dOptions, Tensor};
    /// let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 4]);
    /// let w = Tensor::from_vec(vec![1.0, -1.0], [1, 1, 2]);
    /// assert_eq!(x.conv1d(&w, None, Conv1dOptions::default()).to_vec(), vec![-1.0, -1.0, -1.0]);
    /// ```
    #[track_caller]
    pub fn conv1d(&self, weight: &Self, bias: Option<&Self>, options: Conv1dOptions) -> Self {
        or_panic(self.try_conv1d(weight, bias, options))
    }

    /// Like [`conv1d`](Self::conv1d), returning an error on shapes that do not fit.
    ///
    /// # Errors
    /// A [`ShapeError`] naming the op, both shapes and what is wrong, as for
    /// [`try_conv2d`](Self::try_conv2d).
    ///
    /// ```
    /// use blocks_core::{Conv1dOptions, Tensor};
    /// let err = Tensor::zeros([1, 2, 3]).try_conv1d(&Tensor::zeros([1, 2, 5]), None, Conv1dOptions::default());
    /// assert!(err.unwrap_err().to_string().contains("Kernel size can't be greater"));
    /// ```
    pub fn try_conv1d(
        &self,
        weight: &Self,
        bias: Option<&Self>,
        options: Conv1dOptions,
    ) -> Result<Self, ShapeError> {
        let options = ConvOptions {
            stride: [1, options.stride[0]],
            padding: [0, options.padding[0]],
            dilation: [1, options.dilation[0]],
            groups: options.groups,
        };
        self.try_conv("conv1d", 1, weight, bias, options)
    }

    /// The convolution over `spatial` (1 or 2) dims, seen as a 2-D one.
    fn try_conv(
        &self,
        op: &'static str,
        spatial: usize,
        weight: &Self,
        bias: Option<&Self>,
        options: ConvOptions<2>,
    ) -> Result<Self, ShapeError> {
        let x_shape = self.shape();
        let w_shape = weight.shape();
        let b_shape = bias.map(TensorBase::shape);
        let geometry = conv_geometry::<E>(op, spatial, &x_shape, &w_shape, b_shape.as_deref(), options)?;
        let groups = options.groups;
        let out_channels = w_shape[0];
        // The column matrix is kept for the weight's gradient when one will be
        // needed and it is small (`conv_panels.rs`); otherwise the backward lays
        // it out again from the input, as PyTorch does.
        let keep_cols = crate::is_grad_enabled() && weight.requires_grad();
        let (data, kept_cols) = {
            let x = self.data();
            let x = x.as_standard_layout();
            let w = weight.data();
            let w2 = weight_matrix(&w, out_channels);
            let panels = Panels { geometry: &geometry, groups, weight: w2.view() };
            let bias = bias.map(|b| b.to_vec());
            let x = x.as_slice().expect("standard layout");
            let (out, kept) = if winograd::applies(&geometry, groups, out_channels)
                && !(keep_cols && panels.keeps_columns())
            {
                let kernels =
                    Winograd::new(w2.as_slice().expect("standard layout"), out_channels, geometry.c);
                (kernels.forward(&geometry, x, bias.as_deref(), get_num_threads()), None)
            } else if !keep_cols && panels.has_few_columns() {
                (panels.forward_few_columns(x, bias.as_deref(), get_num_threads()), None)
            } else {
                panels.forward(x, bias.as_deref(), keep_cols, get_num_threads())
            };
            let kept = kept.map(SavedCols);
            let mut out_shape = x_shape[..x_shape.len() - spatial].to_vec();
            let last = out_shape.len() - 1;
            out_shape[last] = out_channels;
            if spatial == 2 {
                out_shape.push(geometry.oh);
            }
            out_shape.push(geometry.ow);
            (ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("output size"), kept)
        };
        let inputs: Vec<&Self> = [Some(self), Some(weight), bias].into_iter().flatten().collect();
        Ok(TensorBase::from_op(data, "ConvolutionBackward0", &inputs, move |grad, ctx| {
            let kept = kept_cols.as_ref().map(|cols| cols.0.as_slice());
            conv_backward(grad, ctx, &geometry, groups, &x_shape, &w_shape, kept)
        }))
    }
}

/// The checked sizes of a convolution, or an error naming the op and the shapes.
fn conv_geometry<E: Element>(
    op: &str,
    spatial: usize,
    x_shape: &[usize],
    w_shape: &[usize],
    b_shape: Option<&[usize]>,
    options: ConvOptions<2>,
) -> Result<Geometry, ShapeError> {
    let fail = |why: String| {
        let b = b_shape.map(|b| format!(", bias {b:?}")).unwrap_or_default();
        ShapeError::new(format!("{op}: input {x_shape:?}, weight {w_shape:?}{b}: {why}"))
    };
    let ConvOptions { stride, padding, dilation, groups } = options;
    if x_shape.len() != spatial + 1 && x_shape.len() != spatial + 2 {
        return Err(fail(format!(
            "expected a {}-D (unbatched) or {}-D (batched) input",
            spatial + 1,
            spatial + 2
        )));
    }
    if w_shape.len() != spatial + 2 {
        return Err(fail(format!(
            "the weight must be {}-D (out_channels, in_channels/groups, kernel...)",
            spatial + 2
        )));
    }
    if groups == 0 || stride.contains(&0) || dilation.contains(&0) {
        return Err(fail(format!(
            "stride, dilation and groups must be positive (stride {stride:?}, dilation {dilation:?}, groups {groups})",
        )));
    }
    let batched = x_shape.len() == spatial + 2;
    let n = if batched { x_shape[0] } else { 1 };
    let sizes = &x_shape[x_shape.len() - spatial - 1..];
    let (c, h, w) = if spatial == 2 { (sizes[0], sizes[1], sizes[2]) } else { (sizes[0], 1, sizes[1]) };
    let (kh, kw) = if spatial == 2 { (w_shape[2], w_shape[3]) } else { (1, w_shape[2]) };
    let out_channels = w_shape[0];
    if w_shape[1].checked_mul(groups) != Some(c) {
        let expected =
            w_shape[1].checked_mul(groups).map_or_else(|| "more than usize::MAX".into(), |e| e.to_string());
        return Err(fail(format!(
            "with groups={groups}, expected the input to have {expected} channels, but got {c} channels instead"
        )));
    }
    if !out_channels.is_multiple_of(groups) {
        return Err(fail(format!("out_channels ({out_channels}) must be divisible by groups ({groups})")));
    }
    if let Some(b) = b_shape
        && b != [out_channels]
    {
        return Err(fail(format!("the bias must have shape [{out_channels}]")));
    }
    // Checked: a huge padding or dilation is an error, not an overflow.
    let padded = [0, 1].map(|axis| padding[axis].checked_mul(2).and_then(|p| [h, w][axis].checked_add(p)));
    let extent = [0, 1]
        .map(|axis| dilation[axis].checked_mul([kh, kw][axis].max(1) - 1).and_then(|e| e.checked_add(1)));
    let (Some(padded), Some(extent)) = (both(padded), both(extent)) else {
        return Err(fail(format!(
            "padding {padding:?} or dilation {dilation:?} is too large (the padded input or the kernel's \
             extent overflows)"
        )));
    };
    if kh == 0 || kw == 0 || extent[0] > padded[0] || extent[1] > padded[1] {
        let (padded, kernel) = if spatial == 2 {
            (format!("({} x {})", padded[0], padded[1]), format!("({kh} x {kw})"))
        } else {
            (format!("({})", padded[1]), format!("({kw})"))
        };
        return Err(fail(format!(
            "Calculated padded input size per channel: {padded}. Kernel size: {kernel}. \
             Kernel size can't be greater than actual input size"
        )));
    }
    let oh = (padded[0] - extent[0]) / stride[0] + 1;
    let ow = (padded[1] - extent[1]) / stride[1] + 1;
    // The storage the forward allocates: the column matrix and the output
    // (the backward's are the same sizes), checked before any is allocated.
    let too_large =
        |error: ShapeError| fail(error.to_string().trim_start_matches(&format!("{op}: ")).to_string());
    checked_alloc::<E>(op, "the column matrix", &[c, kh, kw, n, oh, ow]).map_err(too_large)?;
    checked_alloc::<E>(op, "the output", &[n, out_channels, oh, ow]).map_err(too_large)?;
    Ok(Geometry { n, c, h, w, kh, kw, stride, padding, dilation, oh, ow })
}

/// Both axes' sizes, or `None` when either overflowed.
fn both(sizes: [Option<usize>; 2]) -> Option<[usize; 2]> {
    Some([sizes[0]?, sizes[1]?])
}

/// The weight `[out, in/groups, k...]` seen as the matrix `[out, in/groups · k...]`:
/// a view of it when it is in standard layout (a layer's weight always is), a
/// copy otherwise (ResNet-18's forward copied its 47 MB of weights each time).
pub(super) fn weight_matrix<E: Element>(w: &ArrayD<E>, out_channels: usize) -> CowArray<'_, E, Ix2> {
    let per_out = w.len().checked_div(out_channels).unwrap_or(0);
    if w.is_standard_layout() {
        return w.view().into_shape_with_order((out_channels, per_out)).expect("weight size").into();
    }
    w.as_standard_layout()
        .to_owned()
        .into_shape_with_order((out_channels, per_out))
        .expect("weight size")
        .into()
}
