//! `nn.PixelShuffle(upscale_factor)`: channels `C·r²` rearranged into
//! `r × r` blocks of space. The channel count changes by a factor the type
//! cannot compute, so it gives a plain tensor, checked by the block after it
//! at run time.

use crate::TensorBase;
use crate::nn::{Forward, Hooks, TensorKind};

/// Sub-pixel upsampling, like `nn.PixelShuffle(upscale_factor)`:
/// `[N, C·r², H, W]` to `[N, C, H·r, W·r]`.
///
/// ```
/// use blocks_core::nn::{Images, PixelShuffle};
/// use blocks_core::Tensor;
/// let shuffle = PixelShuffle::new(2);
/// assert_eq!(shuffle.to_string(), "PixelShuffle(upscale_factor=2)");
/// let y = shuffle.forward(&Images::<8>::new(Tensor::rand([1, 8, 3, 3])));
/// assert_eq!(y.shape(), vec![1, 2, 6, 6]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct PixelShuffle {
    #[module(skip)]
    upscale_factor: usize,
    hooks: Hooks,
}

impl PixelShuffle {
    /// Upsampling by `upscale_factor` in both dims.
    ///
    /// # Panics
    ///
    /// When `upscale_factor` is 0.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::PixelShuffle::new(3).upscale_factor(), 3);
    /// ```
    #[track_caller]
    pub fn new(upscale_factor: usize) -> Self {
        assert!(upscale_factor > 0, "PixelShuffle: upscale_factor must be positive");
        PixelShuffle { upscale_factor, hooks: Hooks::new() }
    }

    /// The factor `r`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::PixelShuffle::new(2).upscale_factor(), 2);
    /// ```
    pub fn upscale_factor(&self) -> usize {
        self.upscale_factor
    }

    /// PyTorch's `extra_repr`.
    fn settings(&self) -> String {
        format!("upscale_factor={}", self.upscale_factor)
    }
}

impl<K: TensorKind> Forward<K> for PixelShuffle {
    type Output = TensorBase<K::Elem>;

    #[track_caller]
    fn forward(&self, x: &K) -> TensorBase<K::Elem> {
        crate::nn::path::or_panic(x.tensor().try_pixel_shuffle(self.upscale_factor))
    }
}
