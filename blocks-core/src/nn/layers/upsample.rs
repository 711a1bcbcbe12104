//! `nn.Upsample`: images resized by a scale factor or to a size, nearest or
//! bilinear (`align_corners` either way), through
//! [`interpolate`](crate::TensorBase::interpolate). It keeps the channels, so
//! `Images<C>` stay `Images<C>`.

use crate::nn::{Forward, Hooks, Size2, TensorKind, keep_kind};
use crate::optim::pyrepr::float;
use crate::{InterpolateMode, InterpolateSize};

/// What an [`Upsample`] was given: a size, or a scale factor (one number or
/// one per dim), printed as PyTorch prints it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Size(Size2),
    Scale(f64),
    Scales([f64; 2]),
}

/// Images resized, like `nn.Upsample(size=None, scale_factor=None,
/// mode='nearest', align_corners=None)`: give a scale factor
/// ([`scale_factor`](Self::scale_factor), [`scale_factors`](Self::scale_factors))
/// or a size ([`size`](Self::size)), then the mode ([`bilinear`](Self::bilinear)).
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
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct Upsample {
    #[module(skip)]
    target: Target,
    #[module(skip)]
    mode: InterpolateMode,
    hooks: Hooks,
}

impl Upsample {
    /// Nearest upsampling by `scale_factor` in both dims (the output
    /// `floor(size · scale_factor)`).
    ///
    /// # Panics
    ///
    /// When the factor is not a positive finite number.
    ///
    /// ```
    /// let up = blocks_core::nn::Upsample::scale_factor(1.5);
    /// assert_eq!(up.forward(&blocks_core::Tensor::ones([1, 1, 3, 3])).shape(), vec![1, 1, 4, 4]);
    /// ```
    #[track_caller]
    pub fn scale_factor(scale_factor: f64) -> Self {
        Self::with(Target::Scale(positive(scale_factor)))
    }

    /// Nearest upsampling by a factor per dim (height, width).
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
        Self::with(Target::Scales(scale_factors.map(positive)))
    }

    /// Nearest resizing to `size` (one number for a square).
    ///
    /// # Panics
    ///
    /// When a size is 0.
    ///
    /// ```
    /// let up = blocks_core::nn::Upsample::size(6);
    /// assert_eq!(up.forward(&blocks_core::Tensor::ones([1, 1, 3, 2])).shape(), vec![1, 1, 6, 6]);
    /// ```
    #[track_caller]
    pub fn size(size: impl Into<Size2>) -> Self {
        let size = size.into();
        assert!(size.pair().iter().all(|&s| s > 0), "Upsample: size must be positive, got {size}");
        Self::with(Target::Size(size))
    }

    fn with(target: Target) -> Self {
        Upsample { target, mode: InterpolateMode::Nearest, hooks: Hooks::new() }
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
    /// assert_eq!(blocks_core::nn::Upsample::size(4).output(), InterpolateSize::Size([4, 4]));
    /// ```
    pub fn output(&self) -> InterpolateSize {
        match self.target {
            Target::Size(size) => InterpolateSize::Size(size.pair()),
            Target::Scale(s) => InterpolateSize::ScaleFactor([s, s]),
            Target::Scales(s) => InterpolateSize::ScaleFactor(s),
        }
    }

    /// PyTorch's `extra_repr`: the scale factor as floats, or the size, and the mode.
    fn settings(&self) -> String {
        let target = match self.target {
            Target::Size(size) => format!("size={size}"),
            Target::Scale(s) => format!("scale_factor={}", float(s)),
            Target::Scales([h, w]) => format!("scale_factor=({}, {})", float(h), float(w)),
        };
        format!("{target}, mode='{}'", self.mode.name())
    }
}

/// `factor`, checked to be a positive finite number.
#[track_caller]
fn positive(factor: f64) -> f64 {
    assert!(factor.is_finite() && factor > 0.0, "Upsample: scale_factor must be positive, got {factor}");
    factor
}

impl<K: TensorKind> Forward<K> for Upsample {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, crate::nn::path::or_panic(x.tensor().try_interpolate(self.output(), self.mode)))
    }
}
