//! `nn.AdaptiveMaxPool2d(output_size)`: the largest value over an adaptive
//! grid of windows. It keeps the channels, so `Images<C>` stay `Images<C>`.

use crate::nn::{Forward, Hooks, Size2, TensorKind, keep_kind};

/// The largest value over an adaptive grid of windows giving `output_size`
/// exactly, like `nn.AdaptiveMaxPool2d(output_size)` (PyTorch's window
/// rule; `return_indices=False`).
///
/// ```
/// use blocks_core::nn::{AdaptiveMaxPool2d, Images};
/// use blocks_core::Tensor;
/// let pool = AdaptiveMaxPool2d::new((2, 3));
/// assert_eq!(pool.to_string(), "AdaptiveMaxPool2d(output_size=(2, 3))");
/// let y: Images<4> = pool.forward(&Images::<4>::new(Tensor::rand([2, 4, 5, 7])));
/// assert_eq!(y.shape(), vec![2, 4, 2, 3]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct AdaptiveMaxPool2d {
    #[module(skip)]
    output_size: Size2,
    hooks: Hooks,
}

impl AdaptiveMaxPool2d {
    /// A pool giving `output_size` (one number for a square).
    ///
    /// # Panics
    ///
    /// When a size is 0.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::AdaptiveMaxPool2d::new(1).to_string(), "AdaptiveMaxPool2d(output_size=1)");
    /// ```
    #[track_caller]
    pub fn new(output_size: impl Into<Size2>) -> Self {
        let output_size = output_size.into();
        assert!(
            output_size.pair().iter().all(|&s| s > 0),
            "AdaptiveMaxPool2d: output_size must be positive, got {output_size}"
        );
        AdaptiveMaxPool2d { output_size, hooks: Hooks::new() }
    }

    /// The output's spatial size.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::AdaptiveMaxPool2d::new([3, 4]).output_size().pair(), [3, 4]);
    /// ```
    pub fn output_size(&self) -> Size2 {
        self.output_size
    }

    /// PyTorch's `extra_repr`.
    fn settings(&self) -> String {
        format!("output_size={}", self.output_size)
    }
}

impl<K: TensorKind> Forward<K> for AdaptiveMaxPool2d {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        let y = x.tensor().try_adaptive_max_pool2d(self.output_size.pair());
        keep_kind(self, x, crate::nn::path::or_panic(y))
    }
}
