//! `torch.optim.RAdam`: Adam with the variance of the adaptive rate rectified.

use ndarray::ArrayD;

use super::fields::{Field, Fields};
use super::optimizer::{Allowed, ConfigError, nonnegative};
use super::rule::{Rule, Slot, check_betas, elementwise, lerp, pair_repr, require};
use super::{Grouped, pyrepr};
use crate::Element;

/// RAdam's hyper-parameters, with `torch.optim.RAdam`'s defaults
/// (`lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0`).
///
/// ```
/// use blocks_core::optim::RAdamConfig;
/// assert_eq!(RAdamConfig::default().lr, 1e-3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RAdamConfig {
    /// Learning rate γ.
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moment averages.
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability.
    pub eps: f64,
    /// Weight decay λ: `λθ` added to the gradient, or with
    /// `decoupled_weight_decay` `θ ← θ(1 - γλ)` (RAdamW).
    pub weight_decay: f64,
    /// Decoupled weight decay, as AdamW's.
    pub decoupled_weight_decay: bool,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Default for RAdamConfig {
    fn default() -> Self {
        RAdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

impl RAdamConfig {
    /// Checks the values as `torch.optim.RAdam` does, with its messages.
    ///
    /// # Errors
    ///
    /// PyTorch's `ValueError` message for the first value out of range.
    ///
    /// ```
    /// use blocks_core::optim::RAdamConfig;
    /// let bad = RAdamConfig { eps: -1e-8, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "Invalid epsilon value: -1e-08");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        require(nonnegative(self.lr), "learning rate", self.lr)?;
        require(nonnegative(self.eps), "epsilon value", self.eps)?;
        check_betas(self.betas)?;
        require(nonnegative(self.weight_decay), "weight_decay value", self.weight_decay)
    }
}

/// RAdam, exactly `torch.optim.RAdam`.
///
/// For each parameter θ with gradient g at step t: weight decay as Adam's
/// (or decoupled), `m ← lerp(m, g, 1-β₁)`, `v ← β₂v + (1-β₂)g²`,
/// `m̂ = m/(1-β₁ᵗ)`, `ρ∞ = 2/(1-β₂) - 1`, `ρₜ = ρ∞ - 2tβ₂ᵗ/(1-β₂ᵗ)`; when
/// `ρₜ > 5`, `θ ← θ - γm̂ · √(1-β₂ᵗ)/(√v + ε) · rₜ` with the rectification
/// `rₜ = √((ρₜ-4)(ρₜ-2)ρ∞ / ((ρ∞-4)(ρ∞-2)ρₜ))`, else `θ ← θ - γm̂`.
/// State: `step`, `exp_avg`, `exp_avg_sq`.
///
/// ```
/// use blocks_core::optim::{Optimizer, RAdam, RAdamConfig};
/// let w = blocks_core::Tensor::from_vec(vec![1.0], [1]).requires_grad_(true);
/// let mut opt = RAdam::new([&w], RAdamConfig { lr: 0.1, ..Default::default() });
/// (&w * 2.0).sum().backward();
/// opt.step(); // ρ₁ = 1: an SGD-with-momentum step, γ·m̂ = 0.1·2
/// assert!((w.item() - 0.8).abs() < 1e-6);
/// ```
pub type RAdam<E = f32> = Grouped<RAdamConfig, E>;

impl Fields for RAdamConfig {
    fn fields(&mut self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("lr", Field::Number(&mut self.lr)),
            ("betas", Field::Pair(&mut self.betas)),
            ("eps", Field::Number(&mut self.eps)),
            ("weight_decay", Field::Number(&mut self.weight_decay)),
            ("decoupled_weight_decay", Field::Flag(&mut self.decoupled_weight_decay)),
            ("maximize", Field::Flag(&mut self.maximize)),
        ]
    }
}

impl Rule for RAdamConfig {
    const NAMES: &'static [&'static str] = &["RAdam"];
    const STEP: bool = true;
    const BUFFERS: &'static [(&'static str, Allowed)] =
        &[("exp_avg", Allowed::Finite), ("exp_avg_sq", Allowed::FiniteNonNegative)];
    const REQUIRED: &'static [&'static str] = &["exp_avg", "exp_avg_sq"];

    fn check(&self) -> Result<(), ConfigError> {
        self.validate()
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn momentum(&self) -> Option<f64> {
        Some(self.betas.0)
    }

    fn set_momentum(&mut self, momentum: f64) {
        self.betas.0 = momentum;
    }

    fn repr(&self, _class: &str) -> Vec<(&'static str, String)> {
        vec![
            ("betas", pair_repr(self.betas)),
            ("capturable", "False".into()),
            ("decoupled_weight_decay", pyrepr::boolean(self.decoupled_weight_decay).into()),
            ("differentiable", "False".into()),
            ("eps", pyrepr::float(self.eps)),
            ("foreach", "None".into()),
            ("lr", pyrepr::float(self.lr)),
            ("maximize", pyrepr::boolean(self.maximize).into()),
            ("weight_decay", pyrepr::int_default_zero(self.weight_decay)),
        ]
    }

    fn initial(&self, _buffer: usize) -> Option<f64> {
        Some(0.0)
    }

    fn update<E: Element>(&self, slot: &mut Slot<E>, data: &mut ArrayD<E>, grad: &ArrayD<E>) {
        let c = *self;
        let (beta1, beta2) = c.betas;
        let step = f64::from(slot.step);
        let bias_correction1 = 1.0 - beta1.powf(step);
        let bias_correction2 = 1.0 - beta2.powf(step);
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * step * beta2.powf(step) / bias_correction2;
        let rectified = rho_t > 5.0;
        let rect = if rectified {
            ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)).powf(0.5)
        } else {
            1.0
        };
        let (weight_decay, decay) = (E::of(c.weight_decay), E::of(1.0 - c.lr * c.weight_decay));
        let (lerp_weight, beta2, one_minus_beta2) = (E::of(1.0 - beta1), E::of(beta2), E::of(1.0 - beta2));
        let (bias_correction1, sqrt_bias_correction2) =
            (E::of(bias_correction1), E::of(bias_correction2.powf(0.5)));
        let (lr, eps, rect) = (E::of(c.lr), E::of(c.eps), E::of(rect));
        elementwise(data, grad, &mut slot.buffers, |p, g, state| {
            let mut g = if c.maximize { -g } else { g };
            if c.weight_decay != 0.0 {
                if c.decoupled_weight_decay {
                    *p *= decay;
                } else {
                    g += weight_decay * *p;
                }
            }
            state[0] = lerp(state[0], g, lerp_weight);
            state[1] = state[1] * beta2 + one_minus_beta2 * g * g;
            let corrected = state[0] / bias_correction1 * lr;
            if rectified {
                *p -= corrected * (sqrt_bias_correction2 / (state[1].sqrt() + eps)) * rect;
            } else {
                *p -= corrected;
            }
        });
    }
}
