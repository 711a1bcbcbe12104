//! `nn.Conv1d` with its channels and kernel in its type: [`Conv1d<I, O, K>`],
//! a typed front over [`DynConv<1>`](crate::nn::DynConv).

use crate::Element;
use crate::nn::images::Images;
use crate::nn::{DynConv, FeedsInto, Forward, Parameter};

/// A 1-d convolution over signals `[N, C, L]` with its channels and
/// kernel in its type, like `nn.Conv1d(I, O, K)`.
///
/// ```
/// use blocks_core::nn::{Conv1d, Images};
/// use blocks_core::Tensor;
/// let conv = Conv1d::<2, 4, 3>::new().padding(1);
/// let y: Images<4> = conv.forward(&Images::<2>::new(Tensor::rand([1, 2, 10])));
/// assert_eq!(y.shape(), vec![1, 4, 10]);
/// assert_eq!(conv.to_string(), "Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=(1,))");
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Images<I, E>")]
pub struct Conv1d<const I: usize, const O: usize, const K: usize, E: Element = f32> {
    layer: DynConv<1, E>,
}

impl<const I: usize, const O: usize, const K: usize> Conv1d<I, O, K> {
    /// The layer with stride 1, no padding, dilation 1, one group and a
    /// bias, initialized as PyTorch does; change those with the builder
    /// methods.
    ///
    /// ```
    /// let conv = blocks_core::nn::Conv1d::<1, 6, 5>::new();
    /// assert_eq!(conv.weight().shape()[..2], [6, 1]);
    /// ```
    pub fn new() -> Self {
        Conv1d { layer: DynConv::new(I, O, [K; 1]) }
    }

    /// The same layer with stride `stride` in every spatial dim.
    ///
    /// # Panics
    ///
    /// When `stride` is 0.
    ///
    /// ```
    /// let conv = blocks_core::nn::Conv1d::<3, 6, 3>::new().stride(2);
    /// assert_eq!(conv.core().options().stride, [2; 1]);
    /// ```
    #[track_caller]
    pub fn stride(self, stride: usize) -> Self {
        Conv1d { layer: self.layer.stride(stride) }
    }

    /// The same layer with `padding` zeros on both sides of every spatial dim.
    ///
    /// ```
    /// let conv = blocks_core::nn::Conv1d::<1, 6, 5>::new().padding(2);
    /// assert_eq!(conv.core().options().padding, [2; 1]);
    /// ```
    #[track_caller]
    pub fn padding(self, padding: usize) -> Self {
        Conv1d { layer: self.layer.padding(padding) }
    }

    /// The same layer with the kernel taps `dilation` apart.
    ///
    /// # Panics
    ///
    /// When `dilation` is 0.
    ///
    /// ```
    /// let conv = blocks_core::nn::Conv1d::<1, 2, 3>::new().dilation(2);
    /// assert_eq!(conv.core().options().dilation, [2; 1]);
    /// ```
    #[track_caller]
    pub fn dilation(self, dilation: usize) -> Self {
        Conv1d { layer: self.layer.dilation(dilation) }
    }

    /// The layer split into `groups` channel groups (new weights, of shape
    /// `[O, I / groups, K...]`).
    ///
    /// # Panics
    ///
    /// When `groups` does not divide `I` and `O`.
    ///
    /// ```
    /// let conv = blocks_core::nn::Conv1d::<4, 8, 3>::new().groups(2);
    /// assert_eq!(conv.weight().shape()[..2], [8, 2]);
    /// ```
    #[track_caller]
    pub fn groups(self, groups: usize) -> Self {
        Conv1d { layer: self.layer.groups(groups) }
    }

    /// The layer with or without a bias (`bias=False`).
    ///
    /// ```
    /// let conv = blocks_core::nn::Conv1d::<1, 8, 3>::new().bias(false);
    /// assert!(conv.core().bias().is_none());
    /// ```
    pub fn bias(self, bias: bool) -> Self {
        Conv1d { layer: self.layer.with_bias(bias) }
    }
}

impl<const I: usize, const O: usize, const K: usize, E: Element> Conv1d<I, O, K, E> {
    /// The weight, `[O, I / groups, K...]`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Conv1d::<2, 4, 3>::new().weight().shape()[..3], [4, 2, 3]);
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        self.layer.weight()
    }

    /// The run-time core (channels, kernel, options, bias).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Conv1d::<1, 6, 5>::new().core().out_channels(), 6);
    /// ```
    pub fn core(&self) -> &DynConv<1, E> {
        &self.layer
    }
}

impl<const I: usize, const O: usize, const K: usize> Default for Conv1d<I, O, K> {
    fn default() -> Self {
        Self::new()
    }
}

/// Takes `Images<I>`, or a plain tensor `[N, I, ...]` checked at run time.
impl<const I: usize, const O: usize, const K: usize, E: Element, Fed: FeedsInto<Images<I, E>, Self>>
    Forward<Fed> for Conv1d<I, O, K, E>
{
    type Output = crate::nn::Checked<Fed, Images<I, E>, Self, Images<O, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Images<O, E> {
        let x: &Images<I, E> = &given.feed_into();
        self.layer.check_input(x, false);
        Images::trusted(Forward::forward(&self.layer, &**x))
    }
}
