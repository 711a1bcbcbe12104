//! Image transforms for a data pipeline, as `torchvision.transforms` applies
//! them to a tensor image `[C, H, W]`: [`RandomCrop`] (with padding of any
//! [`PaddingMode`]),
//! [`RandomHorizontalFlip`], [`Normalize`], and [`Compose`] to chain them,
//! drawing from a [`TransformRng`]. A [`Transformed`](super::Transformed)
//! data set applies one to each sample.

use std::fmt;

use super::padding_mode::PaddingMode;
use super::shuffle::SplitMix64;
use crate::{ShapeError, Tensor};

/// The random numbers a transform draws: one fixed stream (SplitMix64) per
/// sample and epoch of a [`Transformed`](super::Transformed) data set, or from a seed.
///
/// ```
/// use blocks_core::data::TransformRng;
/// let (mut a, mut b) = (TransformRng::new(7), TransformRng::new(7));
/// assert_eq!(a.below(10), b.below(10));
/// assert!((0.0..1.0).contains(&a.uniform()));
/// ```
pub struct TransformRng(SplitMix64);

impl TransformRng {
    /// The stream of `seed`.
    ///
    /// ```
    /// let mut rng = blocks_core::data::TransformRng::new(0);
    /// assert!(rng.below(3) < 3);
    /// ```
    pub fn new(seed: u64) -> Self {
        TransformRng(SplitMix64::new(seed))
    }

    /// A uniform number in `[0, 1)` with 53 random bits (PyTorch's `torch.rand(1)`).
    ///
    /// ```
    /// let x = blocks_core::data::TransformRng::new(1).uniform();
    /// assert!((0.0..1.0).contains(&x));
    /// ```
    pub fn uniform(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `0..bound` (PyTorch's `torch.randint(0, bound)`).
    ///
    /// # Panics
    ///
    /// When `bound` is 0.
    ///
    /// ```
    /// assert_eq!(blocks_core::data::TransformRng::new(5).below(1), 0);
    /// ```
    #[track_caller]
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "TransformRng::below: the bound must be positive");
        self.0.below(bound)
    }
}

/// A transform of one tensor image `[..., H, W]`, as torchvision's
/// transforms take tensors. Implement it for your own.
///
/// ```
/// use blocks_core::data::{Transform, TransformRng};
/// use blocks_core::{ShapeError, Tensor};
/// /// Scales the image by two.
/// struct Double;
/// impl Transform for Double {
///     fn try_apply(&self, image: &Tensor, _: &mut TransformRng) -> Result<Tensor, ShapeError> {
///         Ok(image.mul_scalar(2.0))
///     }
/// }
/// let y = Double.apply(&Tensor::ones([1, 2, 2]), &mut TransformRng::new(0));
/// assert_eq!(y.to_vec(), vec![2.0; 4]);
/// ```
pub trait Transform: Send + Sync {
    /// The transformed image, or why `image` does not fit the transform.
    ///
    /// # Errors
    ///
    /// When the image's shape does not fit (too few dims, too small, other channels).
    fn try_apply(&self, image: &Tensor, rng: &mut TransformRng) -> Result<Tensor, ShapeError>;

    /// [`try_apply`](Self::try_apply), panicking on a shape that does not fit.
    ///
    /// # Panics
    ///
    /// With the error of `try_apply`.
    ///
    /// ```
    /// use blocks_core::data::{Transform, TransformRng, RandomHorizontalFlip};
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0], [1, 1, 2]);
    /// let y = RandomHorizontalFlip::new(1.0).apply(&x, &mut TransformRng::new(0));
    /// assert_eq!(y.to_vec(), vec![2.0, 1.0]);
    /// ```
    #[track_caller]
    fn apply(&self, image: &Tensor, rng: &mut TransformRng) -> Tensor {
        self.try_apply(image, rng).unwrap_or_else(|error| panic!("{error}"))
    }
}

/// `[leading, H, W]` of an image `[..., H, W]`.
fn planes(what: &str, shape: &[usize]) -> Result<(usize, usize, usize), ShapeError> {
    match shape {
        [lead @ .., h, w] => Ok((lead.iter().product(), *h, *w)),
        _ => Err(ShapeError::new(format!("{what}: expected an image [..., H, W], got shape {shape:?}"))),
    }
}

/// Crops a random `size` window of the image after padding it on every
/// side, like `transforms.RandomCrop(size, padding, fill=fill,
/// padding_mode=...)` (constant padding by default): the window's top and left are drawn uniformly from
/// every position that fits (none drawn when only one fits).
///
/// ```
/// use blocks_core::data::{RandomCrop, Transform, TransformRng};
/// let crop = RandomCrop::new([32, 32]).padding(4);
/// let y = crop.apply(&blocks_core::Tensor::rand([3, 32, 32]), &mut TransformRng::new(0));
/// assert_eq!(y.shape(), vec![3, 32, 32]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RandomCrop {
    size: [usize; 2],
    padding: [usize; 4],
    fill: f32,
    mode: PaddingMode,
}

impl RandomCrop {
    /// Windows of `size` (`[h, w]`), no padding.
    ///
    /// ```
    /// assert_eq!(blocks_core::data::RandomCrop::new([2, 3]).to_string(), "RandomCrop(size=(2, 3), padding=None)");
    /// ```
    pub fn new(size: [usize; 2]) -> Self {
        RandomCrop { size, padding: [0; 4], fill: 0.0, mode: PaddingMode::Constant }
    }

    /// The same crop after padding every side with `padding` (`padding=4`).
    ///
    /// ```
    /// let crop = blocks_core::data::RandomCrop::new([32, 32]).padding(4);
    /// assert_eq!(crop.to_string(), "RandomCrop(size=(32, 32), padding=4)");
    /// ```
    pub fn padding(self, padding: usize) -> Self {
        RandomCrop { padding: [padding; 4], ..self }
    }

    /// The same crop with padding `[left, top, right, bottom]` (torchvision's
    /// four-number `padding`).
    ///
    /// ```
    /// let crop = blocks_core::data::RandomCrop::new([2, 2]).padding_sides([1, 0, 0, 2]);
    /// assert_eq!(crop.to_string(), "RandomCrop(size=(2, 2), padding=[1, 0, 0, 2])");
    /// ```
    pub fn padding_sides(self, padding: [usize; 4]) -> Self {
        RandomCrop { padding, ..self }
    }

    /// The value the padding holds (`fill=`, 0 by default).
    ///
    /// ```
    /// use blocks_core::data::{RandomCrop, Transform, TransformRng};
    /// let crop = RandomCrop::new([3, 3]).padding(1).fill(-1.0);
    /// let y = crop.apply(&blocks_core::Tensor::ones([1, 1, 1]), &mut TransformRng::new(0));
    /// assert_eq!(y.to_vec().iter().filter(|&&v| v == -1.0).count(), 8);
    /// ```
    pub fn fill(self, fill: f32) -> Self {
        RandomCrop { fill, ..self }
    }

    /// How the padding is filled (`padding_mode=`, constant by default).
    ///
    /// # Errors
    ///
    /// Applying the crop fails when the padding is too long for the image
    /// in that mode (reflect: shorter than the side; symmetric: at most the side).
    ///
    /// ```
    /// use blocks_core::data::{PaddingMode, RandomCrop, Transform, TransformRng};
    /// let crop = RandomCrop::new([3, 3]).padding(1).padding_mode(PaddingMode::Edge);
    /// let y = crop.apply(&blocks_core::Tensor::ones([1, 1, 1]), &mut TransformRng::new(0));
    /// assert_eq!(y.to_vec(), vec![1.0; 9]);
    /// ```
    pub fn padding_mode(self, mode: PaddingMode) -> Self {
        RandomCrop { mode, ..self }
    }

    /// The window with its top-left at `(top, left)` of the padded image
    /// `[lead, h, w]` (`values`), as a tensor of `shape`'s leading dims.
    fn window(
        &self,
        values: &[f32],
        shape: &[usize],
        (h, w): (usize, usize),
        (top, left): (usize, usize),
    ) -> Tensor {
        let [th, tw] = self.size;
        let [pl, pt, ..] = self.padding;
        let lead: usize = shape[..shape.len() - 2].iter().product();
        let mut out = Vec::with_capacity(lead * th * tw);
        for plane in 0..lead {
            for row in top..top + th {
                for col in left..left + tw {
                    // The pixel the padded position shows; none in the constant's padding.
                    let source = self.mode.source(row, pt, h).zip(self.mode.source(col, pl, w));
                    out.push(source.map_or(self.fill, |(r, c)| values[(plane * h + r) * w + c]));
                }
            }
        }
        let mut out_shape = shape[..shape.len() - 2].to_vec();
        out_shape.extend([th, tw]);
        Tensor::from_vec(out, out_shape)
    }
}

impl Transform for RandomCrop {
    fn try_apply(&self, image: &Tensor, rng: &mut TransformRng) -> Result<Tensor, ShapeError> {
        let shape = image.shape();
        let (_, h, w) = planes("RandomCrop", &shape)?;
        let [pl, pt, pr, pb] = self.padding;
        let padded = |side: usize, a: usize, b: usize| side.checked_add(a).and_then(|s| s.checked_add(b));
        let (Some(ph), Some(pw)) = (padded(h, pt, pb), padded(w, pl, pr)) else {
            return Err(ShapeError::new("RandomCrop: the padded image is too large"));
        };
        let refused =
            [(pl, w), (pr, w), (pt, h), (pb, h)].into_iter().find_map(|(p, side)| self.mode.refuses(p, side));
        if let Some(reason) = refused {
            return Err(ShapeError::new(format!("RandomCrop: {reason}")));
        }
        let [th, tw] = self.size;
        if ph < th || pw < tw {
            return Err(ShapeError::new(format!(
                "Required crop size ({th}, {tw}) is larger than input image size ({ph}, {pw})"
            )));
        }
        let lead = shape[..shape.len() - 2].iter().product::<usize>();
        crate::numel::checked_alloc::<f32>("RandomCrop", "the crop", &[lead, th, tw])?;
        // torchvision's get_params: the whole image when it is the crop's size, no draw.
        let (top, left) = if ph == th && pw == tw {
            (0, 0)
        } else {
            let top = rng.below((ph - th + 1) as u64) as usize;
            (top, rng.below((pw - tw + 1) as u64) as usize)
        };
        Ok(self.window(&image.to_vec(), &shape, (h, w), (top, left)))
    }
}

impl fmt::Display for RandomCrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [h, w] = self.size;
        let padding = match self.padding {
            [0, 0, 0, 0] => "None".to_string(),
            [p, q, r, s] if p == q && q == r && r == s => p.to_string(),
            sides => format!("{sides:?}"),
        };
        write!(f, "RandomCrop(size=({h}, {w}), padding={padding})")
    }
}

/// Mirrors the image left to right with probability `p`, like
/// `transforms.RandomHorizontalFlip(p=0.5)`.
///
/// ```
/// use blocks_core::data::{RandomHorizontalFlip, Transform, TransformRng};
/// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 2, 2]);
/// let never = RandomHorizontalFlip::new(0.0).apply(&x, &mut TransformRng::new(0));
/// assert_eq!(never.to_vec(), x.to_vec());
/// let always = RandomHorizontalFlip::new(1.0).apply(&x, &mut TransformRng::new(0));
/// assert_eq!(always.to_vec(), vec![2.0, 1.0, 4.0, 3.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RandomHorizontalFlip {
    p: f64,
}

impl RandomHorizontalFlip {
    /// A flip with probability `p`.
    ///
    /// # Panics
    ///
    /// When `p` is not in `[0, 1]`.
    ///
    /// ```
    /// assert_eq!(blocks_core::data::RandomHorizontalFlip::new(0.5).to_string(), "RandomHorizontalFlip(p=0.5)");
    /// ```
    #[track_caller]
    pub fn new(p: f64) -> Self {
        assert!((0.0..=1.0).contains(&p), "RandomHorizontalFlip: p must be in [0, 1], got {p}");
        RandomHorizontalFlip { p }
    }
}

impl Default for RandomHorizontalFlip {
    fn default() -> Self {
        Self::new(0.5)
    }
}

impl Transform for RandomHorizontalFlip {
    fn try_apply(&self, image: &Tensor, rng: &mut TransformRng) -> Result<Tensor, ShapeError> {
        let shape = image.shape();
        let (_, _, w) = planes("RandomHorizontalFlip", &shape)?;
        // torchvision: `if torch.rand(1) < self.p: return F.hflip(img)`; one draw per call.
        if rng.uniform() >= self.p || w == 0 {
            return Ok(Tensor::from_vec(image.to_vec(), shape));
        }
        let values = image.to_vec();
        let flipped: Vec<f32> = values.chunks_exact(w).flat_map(|row| row.iter().rev().copied()).collect();
        Ok(Tensor::from_vec(flipped, shape))
    }
}

impl fmt::Display for RandomHorizontalFlip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RandomHorizontalFlip(p={:?})", self.p)
    }
}

/// `(x - mean[c]) / std[c]` for each channel `c` (dim -3), like
/// `transforms.Normalize(mean, std)`.
///
/// ```
/// use blocks_core::data::{Normalize, Transform, TransformRng};
/// let x = blocks_core::Tensor::from_vec(vec![1.0, 3.0, 0.0, 4.0], [2, 1, 2]);
/// let y = Normalize::new(vec![1.0, 2.0], vec![2.0, 0.5]).apply(&x, &mut TransformRng::new(0));
/// assert_eq!(y.to_vec(), vec![0.0, 1.0, -4.0, 4.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Normalize {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl Normalize {
    /// A normalization by channel (one `mean` and `std` per channel, or one for all).
    ///
    /// # Panics
    ///
    /// When a `std` is 0 (PyTorch's message), or `mean` and `std` have
    /// different lengths or are empty.
    ///
    /// ```
    /// let n = blocks_core::data::Normalize::new(vec![0.5], vec![0.25]);
    /// assert_eq!(n.to_string(), "Normalize(mean=[0.5], std=[0.25])");
    /// ```
    #[track_caller]
    pub fn new(mean: Vec<f32>, std: Vec<f32>) -> Self {
        Self::try_new(mean, std).unwrap_or_else(|error| panic!("{error}"))
    }

    /// [`new`](Self::new), returning the error instead of panicking.
    ///
    /// # Errors
    ///
    /// When a `std` is 0, or `mean` and `std` have different lengths or are empty.
    ///
    /// ```
    /// let error = blocks_core::data::Normalize::try_new(vec![0.0], vec![0.0]).unwrap_err();
    /// assert!(error.to_string().contains("std evaluated to zero"));
    /// ```
    pub fn try_new(mean: Vec<f32>, std: Vec<f32>) -> Result<Self, ShapeError> {
        if mean.is_empty() || mean.len() != std.len() {
            return Err(ShapeError::new(format!(
                "Normalize: mean and std need one value per channel, got {} and {}",
                mean.len(),
                std.len()
            )));
        }
        if std.contains(&0.0) {
            return Err(ShapeError::new(format!(
                "std evaluated to zero after conversion to float32, leading to division by zero (std={std:?})"
            )));
        }
        Ok(Normalize { mean, std })
    }
}

impl Transform for Normalize {
    fn try_apply(&self, image: &Tensor, _: &mut TransformRng) -> Result<Tensor, ShapeError> {
        let shape = image.shape();
        if shape.len() < 3 {
            return Err(ShapeError::new(format!(
                "Normalize: expected a tensor image [..., C, H, W], got shape {shape:?}"
            )));
        }
        let channels = shape[shape.len() - 3];
        let plane = shape[shape.len() - 2] * shape[shape.len() - 1];
        let one = self.mean.len() == 1;
        if !one && self.mean.len() != channels {
            return Err(ShapeError::new(format!(
                "Normalize: {} means and stds for an image of {channels} channels (shape {shape:?})",
                self.mean.len()
            )));
        }
        let mut values = image.to_vec();
        if plane > 0 {
            for (k, chunk) in values.chunks_exact_mut(plane).enumerate() {
                let c = if one { 0 } else { k % channels };
                // torchvision: tensor.sub_(mean).div_(std), in float32.
                chunk.iter_mut().for_each(|v| *v = (*v - self.mean[c]) / self.std[c]);
            }
        }
        Ok(Tensor::from_vec(values, shape))
    }
}

impl fmt::Display for Normalize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Normalize(mean={:?}, std={:?})", self.mean, self.std)
    }
}

/// Transforms applied in order, like `transforms.Compose([...])`, each drawing
/// from the same stream.
///
/// ```
/// use blocks_core::data::{Compose, Normalize, RandomCrop, RandomHorizontalFlip, Transform, TransformRng};
/// let augment = Compose::new()
///     .then(RandomCrop::new([8, 8]).padding(2))
///     .then(RandomHorizontalFlip::new(0.5))
///     .then(Normalize::new(vec![0.5], vec![0.5]));
/// let y = augment.apply(&blocks_core::Tensor::rand([1, 8, 8]), &mut TransformRng::new(3));
/// assert_eq!(y.shape(), vec![1, 8, 8]);
/// assert_eq!(augment.len(), 3);
/// ```
#[derive(Default)]
pub struct Compose {
    transforms: Vec<Box<dyn Transform>>,
}

impl Compose {
    /// No transforms (the identity).
    ///
    /// ```
    /// assert!(blocks_core::data::Compose::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Compose::default()
    }

    /// These transforms and then `transform`.
    ///
    /// ```
    /// let c = blocks_core::data::Compose::new().then(blocks_core::data::RandomHorizontalFlip::new(1.0));
    /// assert_eq!(c.len(), 1);
    /// ```
    pub fn then(mut self, transform: impl Transform + 'static) -> Self {
        self.transforms.push(Box::new(transform));
        self
    }

    /// How many transforms.
    ///
    /// ```
    /// assert_eq!(blocks_core::data::Compose::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.transforms.len()
    }

    /// Whether there are none.
    ///
    /// ```
    /// assert!(blocks_core::data::Compose::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.transforms.is_empty()
    }
}

impl Transform for Compose {
    fn try_apply(&self, image: &Tensor, rng: &mut TransformRng) -> Result<Tensor, ShapeError> {
        let mut x = image.clone();
        for transform in &self.transforms {
            x = transform.try_apply(&x, rng)?;
        }
        Ok(x)
    }
}
