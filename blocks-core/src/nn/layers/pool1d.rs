//! Pooling blocks over signals `[N, C, L]`: `nn.MaxPool1d`, `nn.AvgPool1d`
//! and `nn.AdaptiveAvgPool1d`. They keep the channels, so `Images<C>` stay
//! `Images<C>`; lengths are run-time values.

use crate::nn::{Forward, Hooks, TensorKind, keep_kind};

fn python_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// `value`, checked to be positive as the pooling functions check it.
#[track_caller]
fn positive(layer: &str, what: &str, value: usize) -> usize {
    assert!(value > 0, "{layer}: {what} must be positive, got {value}");
    value
}

/// `padding`, checked to be at most half of `kernel` (PyTorch's rule and message).
#[track_caller]
fn half_kernel(layer: &str, padding: usize, kernel: usize) -> usize {
    assert!(
        padding <= kernel / 2,
        "{layer}: pad should be at most half of effective kernel size, but got pad={padding} and kernel_size={kernel}"
    );
    padding
}

/// The largest value of each window of a signal, like
/// `nn.MaxPool1d(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False)`
/// (the stride defaults to the kernel size).
///
/// ```
/// use blocks_core::nn::{Images, MaxPool1d};
/// use blocks_core::Tensor;
/// let pool = MaxPool1d::new(3).stride(2).padding(1);
/// assert_eq!(pool.to_string(), "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)");
/// let y: Images<4> = pool.forward(&Images::<4>::new(Tensor::rand([2, 4, 7])));
/// assert_eq!(y.shape(), vec![2, 4, 4]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct MaxPool1d {
    #[module(skip)]
    kernel_size: usize,
    #[module(skip)]
    stride: usize,
    #[module(skip)]
    padding: usize,
    #[module(skip)]
    dilation: usize,
    #[module(skip)]
    ceil_mode: bool,
    hooks: Hooks,
}

impl MaxPool1d {
    /// Windows of `kernel_size`, stride equal to it, no padding.
    ///
    /// # Panics
    ///
    /// When the kernel size is 0.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::MaxPool1d::new(2).to_string(), "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
    /// ```
    #[track_caller]
    pub fn new(kernel_size: usize) -> Self {
        let kernel_size = positive("MaxPool1d", "kernel_size", kernel_size);
        MaxPool1d {
            kernel_size,
            stride: kernel_size,
            padding: 0,
            dilation: 1,
            ceil_mode: false,
            hooks: Hooks::new(),
        }
    }

    /// The same pool with another stride.
    ///
    /// # Panics
    ///
    /// When the stride is 0.
    ///
    /// ```
    /// assert!(blocks_core::nn::MaxPool1d::new(3).stride(1).to_string().contains("stride=1"));
    /// ```
    #[track_caller]
    pub fn stride(self, stride: usize) -> Self {
        MaxPool1d { stride: positive("MaxPool1d", "stride", stride), ..self }
    }

    /// The same pool with `-inf` padding on both sides.
    ///
    /// # Panics
    ///
    /// When the padding is more than half the kernel, as PyTorch refuses it.
    ///
    /// ```
    /// assert!(blocks_core::nn::MaxPool1d::new(3).padding(1).to_string().contains("padding=1"));
    /// ```
    #[track_caller]
    pub fn padding(self, padding: usize) -> Self {
        MaxPool1d { padding: half_kernel("MaxPool1d", padding, self.kernel_size), ..self }
    }

    /// The same pool with window taps `dilation` apart.
    ///
    /// # Panics
    ///
    /// When the dilation is 0.
    ///
    /// ```
    /// assert!(blocks_core::nn::MaxPool1d::new(2).dilation(2).to_string().contains("dilation=2"));
    /// ```
    #[track_caller]
    pub fn dilation(self, dilation: usize) -> Self {
        MaxPool1d { dilation: positive("MaxPool1d", "dilation", dilation), ..self }
    }

    /// The same pool rounding the output length up (`ceil_mode=True`).
    ///
    /// ```
    /// assert!(blocks_core::nn::MaxPool1d::new(2).ceil_mode(true).to_string().contains("ceil_mode=True"));
    /// ```
    pub fn ceil_mode(self, ceil_mode: bool) -> Self {
        MaxPool1d { ceil_mode, ..self }
    }

    /// PyTorch's `extra_repr`.
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

impl<K: TensorKind> Forward<K> for MaxPool1d {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        let y = x.tensor().try_max_pool1d(
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
        );
        keep_kind(self, x, crate::nn::path::or_panic(y))
    }
}

/// The mean of each window of a signal, like
/// `nn.AvgPool1d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)`.
///
/// ```
/// use blocks_core::nn::{AvgPool1d, Images};
/// use blocks_core::Tensor;
/// let pool = AvgPool1d::new(3).stride(2).padding(1);
/// assert_eq!(pool.to_string(), "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))");
/// let y: Images<2> = pool.forward(&Images::<2>::new(Tensor::ones([1, 2, 7])));
/// assert_eq!(y.shape(), vec![1, 2, 4]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct AvgPool1d {
    #[module(skip)]
    kernel_size: usize,
    #[module(skip)]
    stride: usize,
    #[module(skip)]
    padding: usize,
    #[module(skip)]
    ceil_mode: bool,
    #[module(skip)]
    count_include_pad: bool,
    hooks: Hooks,
}

impl AvgPool1d {
    /// Windows of `kernel_size`, stride equal to it, no padding.
    ///
    /// # Panics
    ///
    /// When the kernel size is 0.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::AvgPool1d::new(2).to_string(), "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))");
    /// ```
    #[track_caller]
    pub fn new(kernel_size: usize) -> Self {
        let kernel_size = positive("AvgPool1d", "kernel_size", kernel_size);
        AvgPool1d {
            kernel_size,
            stride: kernel_size,
            padding: 0,
            ceil_mode: false,
            count_include_pad: true,
            hooks: Hooks::new(),
        }
    }

    /// The same pool with another stride.
    ///
    /// # Panics
    ///
    /// When the stride is 0.
    ///
    /// ```
    /// assert!(blocks_core::nn::AvgPool1d::new(3).stride(1).to_string().contains("stride=(1,)"));
    /// ```
    #[track_caller]
    pub fn stride(self, stride: usize) -> Self {
        AvgPool1d { stride: positive("AvgPool1d", "stride", stride), ..self }
    }

    /// The same pool with zero padding on both sides.
    ///
    /// # Panics
    ///
    /// When the padding is more than half the kernel, as PyTorch refuses it.
    ///
    /// ```
    /// assert!(blocks_core::nn::AvgPool1d::new(3).padding(1).to_string().contains("padding=(1,)"));
    /// ```
    #[track_caller]
    pub fn padding(self, padding: usize) -> Self {
        AvgPool1d { padding: half_kernel("AvgPool1d", padding, self.kernel_size), ..self }
    }

    /// The same pool rounding the output length up (`ceil_mode=True`).
    ///
    /// ```
    /// let pool = blocks_core::nn::AvgPool1d::new(2).ceil_mode(true);
    /// assert_eq!(pool.forward(&blocks_core::Tensor::ones([1, 1, 3])).shape(), vec![1, 1, 2]);
    /// ```
    pub fn ceil_mode(self, ceil_mode: bool) -> Self {
        AvgPool1d { ceil_mode, ..self }
    }

    /// Whether padded zeros count in the divisor (`count_include_pad`, `True` by default).
    ///
    /// ```
    /// let pool = blocks_core::nn::AvgPool1d::new(2).padding(1).count_include_pad(false);
    /// assert_eq!(pool.forward(&blocks_core::Tensor::ones([1, 1, 2])).to_vec(), vec![1.0; 2]);
    /// ```
    pub fn count_include_pad(self, count_include_pad: bool) -> Self {
        AvgPool1d { count_include_pad, ..self }
    }

    /// PyTorch's `extra_repr` (its settings are 1-tuples).
    fn settings(&self) -> String {
        format!("kernel_size=({},), stride=({},), padding=({},)", self.kernel_size, self.stride, self.padding)
    }
}

impl<K: TensorKind> Forward<K> for AvgPool1d {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        let (k, s, p) = (self.kernel_size, self.stride, self.padding);
        let y = x.tensor().try_avg_pool1d(k, s, p, self.ceil_mode, self.count_include_pad);
        keep_kind(self, x, crate::nn::path::or_panic(y))
    }
}

/// The mean over an adaptive grid of windows giving `output_size` exactly,
/// like `nn.AdaptiveAvgPool1d(output_size)`.
///
/// ```
/// use blocks_core::nn::{AdaptiveAvgPool1d, Images};
/// use blocks_core::Tensor;
/// let pool = AdaptiveAvgPool1d::new(3);
/// assert_eq!(pool.to_string(), "AdaptiveAvgPool1d(output_size=3)");
/// let y: Images<2> = pool.forward(&Images::<2>::new(Tensor::ones([1, 2, 7])));
/// assert_eq!(y.shape(), vec![1, 2, 3]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct AdaptiveAvgPool1d {
    #[module(skip)]
    output_size: usize,
    hooks: Hooks,
}

impl AdaptiveAvgPool1d {
    /// A pool giving `output_size` positions.
    ///
    /// # Panics
    ///
    /// When `output_size` is 0.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::AdaptiveAvgPool1d::new(2).output_size(), 2);
    /// ```
    #[track_caller]
    pub fn new(output_size: usize) -> Self {
        AdaptiveAvgPool1d {
            output_size: positive("AdaptiveAvgPool1d", "output_size", output_size),
            hooks: Hooks::new(),
        }
    }

    /// The output's length.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::AdaptiveAvgPool1d::new(5).output_size(), 5);
    /// ```
    pub fn output_size(&self) -> usize {
        self.output_size
    }

    /// PyTorch's `extra_repr`.
    fn settings(&self) -> String {
        format!("output_size={}", self.output_size)
    }
}

impl<K: TensorKind> Forward<K> for AdaptiveAvgPool1d {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, crate::nn::path::or_panic(x.tensor().try_adaptive_avg_pool1d(self.output_size)))
    }
}
