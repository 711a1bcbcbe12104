//! Pooling blocks: `nn.MaxPool2d`, `nn.AvgPool2d` and
//! `nn.AdaptiveAvgPool2d`. They keep the channels, so `Images<C>` stay
//! `Images<C>`; spatial sizes are run-time values.

use crate::nn::Hooks;
use std::fmt;

/// A size over two spatial dims, printed as it was given, as PyTorch
/// prints its modules: `2` for one number, `(2, 3)` for a pair.
///
/// ```
/// use blocks_core::nn::Size2;
/// assert_eq!(Size2::from(2).to_string(), "2");
/// assert_eq!(Size2::from([2, 3]).to_string(), "(2, 3)");
/// assert_eq!(Size2::from(2).pair(), [2, 2]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size2 {
    /// One number for both dims (`kernel_size=2`).
    Square(usize),
    /// One number per dim (`kernel_size=(2, 3)`).
    Pair([usize; 2]),
}

impl Size2 {
    /// The size per dim.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Size2::Pair([1, 2]).pair(), [1, 2]);
    /// ```
    pub fn pair(self) -> [usize; 2] {
        match self {
            Size2::Square(n) => [n, n],
            Size2::Pair(p) => p,
        }
    }
}

impl From<usize> for Size2 {
    fn from(n: usize) -> Self {
        Size2::Square(n)
    }
}

impl From<[usize; 2]> for Size2 {
    fn from(pair: [usize; 2]) -> Self {
        Size2::Pair(pair)
    }
}

impl From<(usize, usize)> for Size2 {
    fn from((h, w): (usize, usize)) -> Self {
        Size2::Pair([h, w])
    }
}

impl fmt::Display for Size2 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Size2::Square(n) => write!(f, "{n}"),
            Size2::Pair([h, w]) => write!(f, "({h}, {w})"),
        }
    }
}

fn python_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// The largest value of each window, like
/// `nn.MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)`
/// (the stride defaults to the kernel size).
///
/// ```
/// use blocks_core::nn::{Images, MaxPool2d};
/// use blocks_core::Tensor;
/// let pool = MaxPool2d::new(3).stride(2).padding(1);
/// assert_eq!(pool.to_string(), "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)");
/// let y: Images<4> = pool.forward(&Images::<4>::new(Tensor::rand([2, 4, 6, 6])));
/// assert_eq!(y.shape(), vec![2, 4, 3, 3]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct MaxPool2d {
    #[module(skip)]
    kernel_size: Size2,
    #[module(skip)]
    stride: Size2,
    #[module(skip)]
    padding: Size2,
    #[module(skip)]
    dilation: Size2,
    #[module(skip)]
    ceil_mode: bool,
    hooks: Hooks,
}

/// `sizes`, checked to be positive as the pooling functions check them
/// (so a bad option is refused where the layer is built).
#[track_caller]
fn positive(layer: &str, what: &str, sizes: Size2) -> Size2 {
    assert!(sizes.pair().iter().all(|&size| size > 0), "{layer}: {what} must be positive, got {sizes}");
    sizes
}

/// `padding`, checked to be at most half of `kernel` (PyTorch's rule and message).
#[track_caller]
fn half_kernel(layer: &str, padding: Size2, kernel: Size2) -> Size2 {
    let (p, k) = (padding.pair(), kernel.pair());
    assert!(
        p[0] <= k[0] / 2 && p[1] <= k[1] / 2,
        "{layer}: pad should be at most half of effective kernel size, but got pad={padding} and kernel_size={kernel}"
    );
    padding
}

impl MaxPool2d {
    /// Windows of `kernel_size`, stride equal to it, no padding.
    ///
    /// ```
    /// let pool = blocks_core::nn::MaxPool2d::new(2);
    /// assert_eq!(pool.to_string(), "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
    /// ```
    ///
    /// # Panics
    ///
    /// When a kernel size is 0.
    #[track_caller]
    pub fn new(kernel_size: impl Into<Size2>) -> Self {
        let kernel_size = positive("MaxPool2d", "kernel_size", kernel_size.into());
        MaxPool2d {
            hooks: Hooks::new(),
            kernel_size,
            stride: kernel_size,
            padding: 0.into(),
            dilation: 1.into(),
            ceil_mode: false,
        }
    }

    /// The same pool with another stride.
    ///
    /// ```
    /// assert!(blocks_core::nn::MaxPool2d::new(3).stride(1).to_string().contains("stride=1"));
    /// ```
    ///
    /// # Panics
    ///
    /// When a stride is 0.
    #[track_caller]
    pub fn stride(self, stride: impl Into<Size2>) -> Self {
        MaxPool2d { stride: positive("MaxPool2d", "stride", stride.into()), ..self }
    }

    /// The same pool with `-inf` padding on both sides.
    ///
    /// ```
    /// assert!(blocks_core::nn::MaxPool2d::new(3).padding(1).to_string().contains("padding=1"));
    /// ```
    ///
    /// # Panics
    ///
    /// When the padding is more than half the kernel, as PyTorch refuses it.
    #[track_caller]
    pub fn padding(self, padding: impl Into<Size2>) -> Self {
        MaxPool2d { padding: half_kernel("MaxPool2d", padding.into(), self.kernel_size), ..self }
    }

    /// The same pool with window taps `dilation` apart.
    ///
    /// ```
    /// assert!(blocks_core::nn::MaxPool2d::new(2).dilation(2).to_string().contains("dilation=2"));
    /// ```
    ///
    /// # Panics
    ///
    /// When a dilation is 0.
    #[track_caller]
    pub fn dilation(self, dilation: impl Into<Size2>) -> Self {
        MaxPool2d { dilation: positive("MaxPool2d", "dilation", dilation.into()), ..self }
    }

    /// The same pool rounding the output size up (`ceil_mode=True`).
    ///
    /// ```
    /// assert!(blocks_core::nn::MaxPool2d::new(2).ceil_mode(true).to_string().contains("ceil_mode=True"));
    /// ```
    pub fn ceil_mode(self, ceil_mode: bool) -> Self {
        MaxPool2d { ceil_mode, ..self }
    }
}

/// The mean of each window, like
/// `nn.AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)`.
///
/// ```
/// use blocks_core::nn::{AvgPool2d, Images};
/// use blocks_core::Tensor;
/// let pool = AvgPool2d::new(2);
/// assert_eq!(pool.to_string(), "AvgPool2d(kernel_size=2, stride=2, padding=0)");
/// let y: Images<6> = pool.forward(&Images::<6>::new(Tensor::ones([1, 6, 28, 28])));
/// assert_eq!(y.shape(), vec![1, 6, 14, 14]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct AvgPool2d {
    #[module(skip)]
    kernel_size: Size2,
    #[module(skip)]
    stride: Size2,
    #[module(skip)]
    padding: Size2,
    #[module(skip)]
    ceil_mode: bool,
    #[module(skip)]
    count_include_pad: bool,
    hooks: Hooks,
}

impl AvgPool2d {
    /// Windows of `kernel_size`, stride equal to it, no padding.
    ///
    /// ```
    /// assert!(blocks_core::nn::AvgPool2d::new([2, 3]).to_string().starts_with("AvgPool2d(kernel_size=(2, 3)"));
    /// ```
    ///
    /// # Panics
    ///
    /// When a kernel size is 0.
    #[track_caller]
    pub fn new(kernel_size: impl Into<Size2>) -> Self {
        let kernel_size = positive("AvgPool2d", "kernel_size", kernel_size.into());
        AvgPool2d {
            hooks: Hooks::new(),
            kernel_size,
            stride: kernel_size,
            padding: 0.into(),
            ceil_mode: false,
            count_include_pad: true,
        }
    }

    /// The same pool with another stride.
    ///
    /// ```
    /// assert!(blocks_core::nn::AvgPool2d::new(3).stride(1).to_string().contains("stride=1"));
    /// ```
    ///
    /// # Panics
    ///
    /// When a stride is 0.
    #[track_caller]
    pub fn stride(self, stride: impl Into<Size2>) -> Self {
        AvgPool2d { stride: positive("AvgPool2d", "stride", stride.into()), ..self }
    }

    /// The same pool with zero padding on both sides.
    ///
    /// ```
    /// assert!(blocks_core::nn::AvgPool2d::new(3).padding(1).to_string().contains("padding=1"));
    /// ```
    ///
    /// # Panics
    ///
    /// When the padding is more than half the kernel, as PyTorch refuses it.
    #[track_caller]
    pub fn padding(self, padding: impl Into<Size2>) -> Self {
        AvgPool2d { padding: half_kernel("AvgPool2d", padding.into(), self.kernel_size), ..self }
    }

    /// The same pool rounding the output size up (`ceil_mode=True`).
    ///
    /// ```
    /// let pool = blocks_core::nn::AvgPool2d::new(2).ceil_mode(true);
    /// assert_eq!(pool.forward(&blocks_core::Tensor::ones([1, 1, 3, 3])).shape(), vec![1, 1, 2, 2]);
    /// ```
    pub fn ceil_mode(self, ceil_mode: bool) -> Self {
        AvgPool2d { ceil_mode, ..self }
    }

    /// Whether padded zeros count in the divisor (`count_include_pad`, `True` by default).
    ///
    /// ```
    /// let pool = blocks_core::nn::AvgPool2d::new(2).padding(1).count_include_pad(false);
    /// assert_eq!(pool.forward(&blocks_core::Tensor::ones([1, 1, 2, 2])).to_vec(), vec![1.0; 4]);
    /// ```
    pub fn count_include_pad(self, count_include_pad: bool) -> Self {
        AvgPool2d { count_include_pad, ..self }
    }
}

/// The mean over an adaptive grid of windows giving `output_size` exactly,
/// like `nn.AdaptiveAvgPool2d(output_size)` (PyTorch's window rule).
///
/// ```
/// use blocks_core::nn::{AdaptiveAvgPool2d, Images};
/// use blocks_core::Tensor;
/// let pool = AdaptiveAvgPool2d::new(1);
/// assert_eq!(pool.to_string(), "AdaptiveAvgPool2d(output_size=1)");
/// let y: Images<16> = pool.forward(&Images::<16>::new(Tensor::ones([2, 16, 7, 5])));
/// assert_eq!(y.shape(), vec![2, 16, 1, 1]);
/// assert_eq!(AdaptiveAvgPool2d::new((1, 1)).to_string(), "AdaptiveAvgPool2d(output_size=(1, 1))");
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct AdaptiveAvgPool2d {
    #[module(skip)]
    output_size: Size2,
    hooks: Hooks,
}

impl AdaptiveAvgPool2d {
    /// A pool giving `output_size` (one number for a square).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::AdaptiveAvgPool2d::new(2).output_size().pair(), [2, 2]);
    /// ```
    pub fn new(output_size: impl Into<Size2>) -> Self {
        AdaptiveAvgPool2d { output_size: output_size.into(), hooks: Hooks::new() }
    }

    /// The output's spatial size.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::AdaptiveAvgPool2d::new([3, 4]).output_size().pair(), [3, 4]);
    /// ```
    pub fn output_size(&self) -> Size2 {
        self.output_size
    }
}

impl MaxPool2d {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!(
            "kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={}",
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            python_bool(self.ceil_mode)
        )
    }
}

impl<K: crate::nn::TensorKind> crate::nn::Forward<K> for MaxPool2d {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        crate::nn::keep_kind(
            self,
            x,
            crate::nn::path::or_panic(x.tensor().try_max_pool2d(
                self.kernel_size.pair(),
                self.stride.pair(),
                self.padding.pair(),
                self.dilation.pair(),
                self.ceil_mode,
            )),
        )
    }
}

impl AvgPool2d {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!("kernel_size={}, stride={}, padding={}", self.kernel_size, self.stride, self.padding)
    }
}

impl<K: crate::nn::TensorKind> crate::nn::Forward<K> for AvgPool2d {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        crate::nn::keep_kind(
            self,
            x,
            crate::nn::path::or_panic(x.tensor().try_avg_pool2d(
                self.kernel_size.pair(),
                self.stride.pair(),
                self.padding.pair(),
                self.ceil_mode,
                self.count_include_pad,
            )),
        )
    }
}

impl AdaptiveAvgPool2d {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!("output_size={}", self.output_size)
    }
}

impl<K: crate::nn::TensorKind> crate::nn::Forward<K> for AdaptiveAvgPool2d {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        crate::nn::keep_kind(
            self,
            x,
            crate::nn::path::or_panic(x.tensor().try_adaptive_avg_pool2d(self.output_size.pair())),
        )
    }
}
