//! `nn.Upsample`: `[N, C, L]`, `[N, C, H, W]` or `[N, C, D, H, W]` batches
//! resized by a scale factor or to a size, nearest, linear, bilinear or
//! trilinear (`align_corners` either way), through
//! [`interpolate`](crate::TensorBase::interpolate). It keeps the channels, so
//! `Images<C>` stay `Images<C>`.

use crate::nn::{Forward, Hooks, TensorKind, keep_kind};
use crate::{InterpolateMode, InterpolateSize, PerDim};

/// Batches resized, like `nn.Upsample(size=None, scale_factor=None,
/// mode='nearest', align_corners=None, recompute_scale_factor=None)`: give a
/// scale factor ([`scale_factor`](Self::scale_factor), one number or one per
/// spatial dim) or a size ([`size`](Self::size)), then the mode
/// ([`linear`](Self::linear), [`bilinear`](Self::bilinear),
/// [`trilinear`](Self::trilinear)).
///
/// ```
/// use blocks_core::nn::{Images, Upsample};
/// use blocks_core::Tensor;
/// let up = Upsample::scale_factor(2.0);
/// assert_eq!(up.to_string(), "Upsample(scale_factor=2.0, mode='nearest')");
/// let y: Images<3> = up.forward(&Images::<3>::new(Tensor::rand([1, 3, 4, 5])));
/// assert_eq!(y.shape(), vec![1, 3, 8, 10]);
/// let up = Upsample::size((5, 7)).bilinear(true);
/// assert_eq!(up.to_string(), "Upsample(size=(5, 7), mode='bilinear')");
/// let up = Upsample::scale_factor([2.0, 1.5, 1.0]).trilinear(false);
/// assert_eq!(up.forward(&Tensor::rand([1, 2, 2, 2, 2])).shape(), vec![1, 2, 4, 3, 2]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct Upsample {
    #[module(skip)]
    target: InterpolateSize,
    #[module(skip)]
    mode: InterpolateMode,
    hooks: Hooks,
}

impl Upsample {
    /// Nearest upsampling by `scale_factor`: one number for every spatial
    /// dim, or one per dim (the output `floor(size · scale_factor)`).
    ///
    /// # Panics
    ///
    /// When a factor is not a positive finite number.
    ///
    /// ```
    /// let up = blocks_core::nn::Upsample::scale_factor(1.5);
    /// assert_eq!(up.forward(&blocks_core::Tensor::ones([1, 1, 3, 3])).shape(), vec![1, 1, 4, 4]);
    /// let up = blocks_core::nn::Upsample::scale_factor([2.0]);
    /// assert_eq!(up.to_string(), "Upsample(scale_factor=(2.0,), mode='nearest')");
    /// ```
    #[track_caller]
    pub fn scale_factor(scale_factor: impl Into<PerDim<f64>>) -> Self {
        let scale_factor = scale_factor.into();
        for factor in scale_factor.values() {
            assert!(
                factor.is_finite() && factor > 0.0,
                "Upsample: scale_factor must be positive, got {factor}"
            );
        }
        Self::with(InterpolateSize::scale_factor(scale_factor))
    }

    /// Nearest upsampling by a factor per spatial dim (height, width), as
    /// [`scale_factor`](Self::scale_factor) with a pair.
    ///
    /// # Panics
    ///
    /// When a factor is not a positive finite number.
    ///
    /// ```
    /// let up = blocks_core::nn::Upsample::scale_factors([2.0, 3.0]);
    /// assert_eq!(up.to_string(), "Upsample(scale_factor=(2.0, 3.0), mode='nearest')");
    /// ```
    #[track_caller]
    pub fn scale_factors(scale_factors: [f64; 2]) -> Self {
        Self::scale_factor(scale_factors)
    }

    /// Nearest resizing to `size`: one number for every spatial dim, or one per dim.
    ///
    /// # Panics
    ///
    /// When a size is 0.
    ///
    /// ```
    /// let up = blocks_core::nn::Upsample::size(6);
    /// assert_eq!(up.forward(&blocks_core::Tensor::ones([1, 1, 3, 2])).shape(), vec![1, 1, 6, 6]);
    /// assert_eq!(up.to_string(), "Upsample(size=6, mode='nearest')");
    /// ```
    #[track_caller]
    pub fn size(size: impl Into<PerDim<usize>>) -> Self {
        let size = size.into();
        let sizes = size.values();
        assert!(sizes.iter().all(|&s| s > 0), "Upsample: size must be positive, got {sizes:?}");
        Self::with(InterpolateSize::size(size))
    }

    fn with(target: InterpolateSize) -> Self {
        Upsample { target, mode: InterpolateMode::Nearest, hooks: Hooks::new() }
    }

    /// The same resizing, linear, for `[N, C, L]` input (`mode='linear'`, `align_corners` as given).
    ///
    /// ```
    /// let up = blocks_core::nn::Upsample::size(5).linear(true);
    /// assert_eq!(up.to_string(), "Upsample(size=5, mode='linear')");
    /// ```
    pub fn linear(self, align_corners: bool) -> Self {
        self.mode(InterpolateMode::Linear { align_corners })
    }

    /// The same resizing, bilinear (`mode='bilinear'`, `align_corners` as given).
    ///
    /// ```
    /// let up = blocks_core::nn::Upsample::scale_factor(2.0).bilinear(false);
    /// assert_eq!(up.to_string(), "Upsample(scale_factor=2.0, mode='bilinear')");
    /// ```
    pub fn bilinear(self, align_corners: bool) -> Self {
        self.mode(InterpolateMode::Bilinear { align_corners })
    }

    /// The same resizing, trilinear, for `[N, C, D, H, W]` input (`mode='trilinear'`).
    ///
    /// ```
    /// let up = blocks_core::nn::Upsample::size((2, 3, 4)).trilinear(false);
    /// assert_eq!(up.to_string(), "Upsample(size=(2, 3, 4), mode='trilinear')");
    /// ```
    pub fn trilinear(self, align_corners: bool) -> Self {
        self.mode(InterpolateMode::Trilinear { align_corners })
    }

    /// The same resizing with `mode`.
    ///
    /// ```
    /// use blocks_core::InterpolateMode;
    /// let up = blocks_core::nn::Upsample::scale_factor(2.0).mode(InterpolateMode::Nearest);
    /// assert_eq!(up.interpolate_mode(), InterpolateMode::Nearest);
    /// ```
    pub fn mode(self, mode: InterpolateMode) -> Self {
        Upsample { mode, ..self }
    }

    /// PyTorch's `recompute_scale_factor`: with `true`, the source positions
    /// come from the input and output sizes, not from the factor (a forward
    /// of an `Upsample` given a size then fails, as PyTorch's does).
    ///
    /// ```
    /// let up = blocks_core::nn::Upsample::scale_factor(1.7).recompute_scale_factor(true);
    /// assert_eq!(up.output().scales(1), vec![None]);
    /// ```
    pub fn recompute_scale_factor(self, recompute: bool) -> Self {
        Upsample { target: self.target.recompute_scale_factor(recompute), ..self }
    }

    /// The mode (and `align_corners`).
    ///
    /// ```
    /// let up = blocks_core::nn::Upsample::size(4).bilinear(true);
    /// assert_eq!(up.interpolate_mode(), blocks_core::InterpolateMode::Bilinear { align_corners: true });
    /// ```
    pub fn interpolate_mode(&self) -> InterpolateMode {
        self.mode
    }

    /// The output's size or scale factors, as `interpolate` takes them.
    ///
    /// ```
    /// use blocks_core::InterpolateSize;
    /// assert_eq!(blocks_core::nn::Upsample::size(4).output(), &InterpolateSize::size(4));
    /// ```
    pub fn output(&self) -> &InterpolateSize {
        &self.target
    }

    /// PyTorch's `extra_repr`: the scale factor as floats, or the size, and the mode.
    fn settings(&self) -> String {
        format!("{}, mode='{}'", self.target.python(), self.mode.name())
    }
}

impl<K: TensorKind> Forward<K> for Upsample {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, crate::nn::path::or_panic(x.tensor().try_interpolate(&self.target, self.mode)))
    }
}
