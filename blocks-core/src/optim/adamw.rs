//! `AdamWConfig`: AdamW's hyper-parameters with `torch.optim.AdamW`'s
//! defaults, a type of its own so that `..Default::default()` cannot lose
//! the weight decay.

use super::AdamConfig;

/// AdamW's hyper-parameters, with `torch.optim.AdamW`'s defaults
/// (`lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2`), for
/// [`Adam::adamw`](super::Adam::adamw). The weight decay is always
/// decoupled (`θ ← θ(1 - γλ)` before the step).
///
/// ```
/// use blocks_core::optim::{Adam, AdamWConfig};
/// let config = AdamWConfig { lr: 0.01, ..Default::default() };
/// assert_eq!(config.weight_decay, 0.01); // PyTorch's AdamW default, kept
/// let opt = Adam::adamw([&blocks_core::Tensor::ones([1])], config);
/// assert!(opt.config().decoupled_weight_decay && opt.config().weight_decay == 0.01);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate γ.
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moment averages.
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability.
    pub eps: f64,
    /// Decoupled weight decay λ: `θ ← θ(1 - γλ)` before each step.
    pub weight_decay: f64,
    /// AMSGrad: normalize by the running maximum of the second moment.
    pub amsgrad: bool,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
            maximize: false,
        }
    }
}

impl From<AdamWConfig> for AdamConfig {
    /// The same values as an [`AdamConfig`] with `decoupled_weight_decay` on.
    ///
    /// ```
    /// use blocks_core::optim::{AdamConfig, AdamWConfig};
    /// let config = AdamConfig::from(AdamWConfig::default());
    /// assert_eq!((config.weight_decay, config.decoupled_weight_decay), (1e-2, true));
    /// ```
    fn from(c: AdamWConfig) -> Self {
        AdamConfig {
            lr: c.lr,
            betas: c.betas,
            eps: c.eps,
            weight_decay: c.weight_decay,
            amsgrad: c.amsgrad,
            maximize: c.maximize,
            decoupled_weight_decay: true,
        }
    }
}
