//! `nn.ConvTranspose2d` and `nn.ConvTranspose1d` with their channels and
//! kernel in their types: [`ConvTranspose2d<I, O, K>`] and
//! [`ConvTranspose1d<I, O, K>`], typed fronts over
//! [`DynConvTranspose`](crate::nn::DynConvTranspose).

use crate::Element;
use crate::nn::images::Images;
use crate::nn::{DynConvTranspose, FeedsInto, Forward, Parameter};

/// A 2-d transposed convolution with its channels and (square) kernel in
/// its type, like `nn.ConvTranspose2d(I, O, K)`: the compiler checks that the block
/// before it gives `I` channels, and it gives `Images<O>`. Stride, padding,
/// output padding, dilation, groups and bias by builder methods.
///
/// ```
/// use blocks_core::nn::{ConvTranspose2d, Images};
/// use blocks_core::Tensor;
/// let up = ConvTranspose2d::<16, 8, 3>::new().stride(2).padding(1).output_padding(1);
/// assert_eq!(
///     up.to_string(),
///     "ConvTranspose2d(16, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))"
/// );
/// let y: Images<8> = up.forward(&Images::<16>::new(Tensor::rand([2, 16, 5, 5])));
/// assert_eq!(y.shape(), vec![2, 8, 10, 10]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Images<I, E>")]
pub struct ConvTranspose2d<const I: usize, const O: usize, const K: usize, E: Element = f32> {
    layer: DynConvTranspose<2, E>,
}

impl<const I: usize, const O: usize, const K: usize> ConvTranspose2d<I, O, K> {
    /// The layer with stride 1, no padding or output padding, dilation 1,
    /// one group and a bias, initialized as PyTorch does; change those with
    /// the builder methods.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose2d::<1, 6, 5>::new();
    /// assert_eq!(up.weight().shape()[..2], [1, 6]);
    /// ```
    pub fn new() -> Self {
        ConvTranspose2d { layer: DynConvTranspose::new(I, O, [K; 2]) }
    }

    /// The same layer with stride `stride` in every spatial dim.
    ///
    /// # Panics
    ///
    /// When `stride` is 0, or the output padding is then not smaller than
    /// either stride or dilation.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose2d::<3, 6, 3>::new().stride(2);
    /// assert_eq!(up.core().options().stride, [2; 2]);
    /// ```
    #[track_caller]
    pub fn stride(self, stride: usize) -> Self {
        ConvTranspose2d { layer: self.layer.stride(stride) }
    }

    /// The same layer with `padding` taken off both sides of every spatial
    /// dim of the output.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose2d::<1, 6, 5>::new().padding(2);
    /// assert_eq!(up.core().options().padding, [2; 2]);
    /// ```
    #[track_caller]
    pub fn padding(self, padding: usize) -> Self {
        ConvTranspose2d { layer: self.layer.padding(padding) }
    }

    /// The same layer with `output_padding` added at the end of every
    /// spatial dim of the output.
    ///
    /// # Panics
    ///
    /// When it is not smaller than either the stride or the dilation.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose2d::<1, 6, 3>::new().stride(2).output_padding(1);
    /// assert_eq!(up.core().options().output_padding, [1; 2]);
    /// ```
    #[track_caller]
    pub fn output_padding(self, output_padding: usize) -> Self {
        ConvTranspose2d { layer: self.layer.output_padding(output_padding) }
    }

    /// The same layer with the kernel taps `dilation` apart.
    ///
    /// # Panics
    ///
    /// When `dilation` is 0.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose2d::<1, 2, 3>::new().dilation(2);
    /// assert_eq!(up.core().options().dilation, [2; 2]);
    /// ```
    #[track_caller]
    pub fn dilation(self, dilation: usize) -> Self {
        ConvTranspose2d { layer: self.layer.dilation(dilation) }
    }

    /// The layer split into `groups` channel groups (new weights, of shape
    /// `[I, O / groups, K...]`).
    ///
    /// # Panics
    ///
    /// When `groups` does not divide `I` and `O`.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose2d::<4, 8, 3>::new().groups(2);
    /// assert_eq!(up.weight().shape()[..2], [4, 4]);
    /// ```
    #[track_caller]
    pub fn groups(self, groups: usize) -> Self {
        ConvTranspose2d { layer: self.layer.groups(groups) }
    }

    /// The layer with or without a bias (`bias=False`).
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose2d::<1, 8, 3>::new().bias(false);
    /// assert!(up.core().bias().is_none());
    /// ```
    pub fn bias(self, bias: bool) -> Self {
        ConvTranspose2d { layer: self.layer.with_bias(bias) }
    }
}

impl<const I: usize, const O: usize, const K: usize, E: Element> ConvTranspose2d<I, O, K, E> {
    /// The weight, `[I, O / groups, K...]`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ConvTranspose2d::<2, 4, 3>::new().weight().shape()[..3], [2, 4, 3]);
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        self.layer.weight()
    }

    /// The run-time core (channels, kernel, options, bias).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ConvTranspose2d::<1, 6, 5>::new().core().out_channels(), 6);
    /// ```
    pub fn core(&self) -> &DynConvTranspose<2, E> {
        &self.layer
    }
}

impl<const I: usize, const O: usize, const K: usize> Default for ConvTranspose2d<I, O, K> {
    fn default() -> Self {
        Self::new()
    }
}

/// Takes `Images<I>`, or a plain tensor `[N, I, ...]` checked at run time.
impl<const I: usize, const O: usize, const K: usize, E: Element, Fed: FeedsInto<Images<I, E>, Self>>
    Forward<Fed> for ConvTranspose2d<I, O, K, E>
{
    type Output = crate::nn::Checked<Fed, Images<I, E>, Self, Images<O, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Images<O, E> {
        let x: &Images<I, E> = &given.feed_into();
        self.layer.check_input(x, false);
        Images::trusted(Forward::forward(&self.layer, &**x))
    }
}

/// A 1-d transposed convolution with its channels and (square) kernel in
/// its type, like `nn.ConvTranspose1d(I, O, K)`: the compiler checks that the block
/// before it gives `I` channels, and it gives `Images<O>`. Stride, padding,
/// output padding, dilation, groups and bias by builder methods.
///
/// ```
/// use blocks_core::nn::{ConvTranspose1d, Images};
/// use blocks_core::Tensor;
/// let up = ConvTranspose1d::<2, 4, 3>::new().stride(2);
/// let y: Images<4> = up.forward(&Images::<2>::new(Tensor::rand([1, 2, 10])));
/// assert_eq!(y.shape(), vec![1, 4, 21]);
/// assert_eq!(up.to_string(), "ConvTranspose1d(2, 4, kernel_size=(3,), stride=(2,))");
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Images<I, E>")]
pub struct ConvTranspose1d<const I: usize, const O: usize, const K: usize, E: Element = f32> {
    layer: DynConvTranspose<1, E>,
}

impl<const I: usize, const O: usize, const K: usize> ConvTranspose1d<I, O, K> {
    /// The layer with stride 1, no padding or output padding, dilation 1,
    /// one group and a bias, initialized as PyTorch does; change those with
    /// the builder methods.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose1d::<1, 6, 5>::new();
    /// assert_eq!(up.weight().shape()[..2], [1, 6]);
    /// ```
    pub fn new() -> Self {
        ConvTranspose1d { layer: DynConvTranspose::new(I, O, [K; 1]) }
    }

    /// The same layer with stride `stride` in every spatial dim.
    ///
    /// # Panics
    ///
    /// When `stride` is 0, or the output padding is then not smaller than
    /// either stride or dilation.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose1d::<3, 6, 3>::new().stride(2);
    /// assert_eq!(up.core().options().stride, [2; 1]);
    /// ```
    #[track_caller]
    pub fn stride(self, stride: usize) -> Self {
        ConvTranspose1d { layer: self.layer.stride(stride) }
    }

    /// The same layer with `padding` taken off both sides of every spatial
    /// dim of the output.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose1d::<1, 6, 5>::new().padding(2);
    /// assert_eq!(up.core().options().padding, [2; 1]);
    /// ```
    #[track_caller]
    pub fn padding(self, padding: usize) -> Self {
        ConvTranspose1d { layer: self.layer.padding(padding) }
    }

    /// The same layer with `output_padding` added at the end of every
    /// spatial dim of the output.
    ///
    /// # Panics
    ///
    /// When it is not smaller than either the stride or the dilation.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose1d::<1, 6, 3>::new().stride(2).output_padding(1);
    /// assert_eq!(up.core().options().output_padding, [1; 1]);
    /// ```
    #[track_caller]
    pub fn output_padding(self, output_padding: usize) -> Self {
        ConvTranspose1d { layer: self.layer.output_padding(output_padding) }
    }

    /// The same layer with the kernel taps `dilation` apart.
    ///
    /// # Panics
    ///
    /// When `dilation` is 0.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose1d::<1, 2, 3>::new().dilation(2);
    /// assert_eq!(up.core().options().dilation, [2; 1]);
    /// ```
    #[track_caller]
    pub fn dilation(self, dilation: usize) -> Self {
        ConvTranspose1d { layer: self.layer.dilation(dilation) }
    }

    /// The layer split into `groups` channel groups (new weights, of shape
    /// `[I, O / groups, K...]`).
    ///
    /// # Panics
    ///
    /// When `groups` does not divide `I` and `O`.
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose1d::<4, 8, 3>::new().groups(2);
    /// assert_eq!(up.weight().shape()[..2], [4, 4]);
    /// ```
    #[track_caller]
    pub fn groups(self, groups: usize) -> Self {
        ConvTranspose1d { layer: self.layer.groups(groups) }
    }

    /// The layer with or without a bias (`bias=False`).
    ///
    /// ```
    /// let up = blocks_core::nn::ConvTranspose1d::<1, 8, 3>::new().bias(false);
    /// assert!(up.core().bias().is_none());
    /// ```
    pub fn bias(self, bias: bool) -> Self {
        ConvTranspose1d { layer: self.layer.with_bias(bias) }
    }
}

impl<const I: usize, const O: usize, const K: usize, E: Element> ConvTranspose1d<I, O, K, E> {
    /// The weight, `[I, O / groups, K...]`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ConvTranspose1d::<2, 4, 3>::new().weight().shape()[..3], [2, 4, 3]);
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        self.layer.weight()
    }

    /// The run-time core (channels, kernel, options, bias).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::ConvTranspose1d::<1, 6, 5>::new().core().out_channels(), 6);
    /// ```
    pub fn core(&self) -> &DynConvTranspose<1, E> {
        &self.layer
    }
}

impl<const I: usize, const O: usize, const K: usize> Default for ConvTranspose1d<I, O, K> {
    fn default() -> Self {
        Self::new()
    }
}

/// Takes `Images<I>`, or a plain tensor `[N, I, ...]` checked at run time.
impl<const I: usize, const O: usize, const K: usize, E: Element, Fed: FeedsInto<Images<I, E>, Self>>
    Forward<Fed> for ConvTranspose1d<I, O, K, E>
{
    type Output = crate::nn::Checked<Fed, Images<I, E>, Self, Images<O, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Images<O, E> {
        let x: &Images<I, E> = &given.feed_into();
        self.layer.check_input(x, false);
        Images::trusted(Forward::forward(&self.layer, &**x))
    }
}
