//! `torch.optim.Adadelta`: steps scaled by the ratio of running averages of
//! past updates and of squared gradients.

use ndarray::ArrayD;

use super::fields::{Field, Fields};
use super::optimizer::{Allowed, ConfigError, nonnegative};
use super::rule::{Rule, Slot, elementwise, require};
use super::{Grouped, pyrepr};
use crate::Element;

/// Adadelta's hyper-parameters, with `torch.optim.Adadelta`'s defaults
/// (`lr=1.0, rho=0.9, eps=1e-6, weight_decay=0`).
///
/// ```
/// use blocks_core::optim::AdadeltaConfig;
/// assert_eq!(AdadeltaConfig::default().rho, 0.9);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdadeltaConfig {
    /// Learning rate γ, scaling the delta.
    pub lr: f64,
    /// Decay ρ of the running averages.
    pub rho: f64,
    /// Added inside the square roots for numerical stability.
    pub eps: f64,
    /// L2 penalty λ, added to the gradient as `λ·θ`.
    pub weight_decay: f64,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Default for AdadeltaConfig {
    fn default() -> Self {
        AdadeltaConfig { lr: 1.0, rho: 0.9, eps: 1e-6, weight_decay: 0.0, maximize: false }
    }
}

impl AdadeltaConfig {
    /// Checks the values as `torch.optim.Adadelta` does, with its messages.
    ///
    /// # Errors
    ///
    /// PyTorch's `ValueError` message for the first value out of range.
    ///
    /// ```
    /// use blocks_core::optim::AdadeltaConfig;
    /// let bad = AdadeltaConfig { rho: 1.5, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "Invalid rho value: 1.5");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        require(nonnegative(self.lr), "learning rate", self.lr)?;
        require((0.0..=1.0).contains(&self.rho), "rho value", self.rho)?;
        require(nonnegative(self.eps), "epsilon value", self.eps)?;
        require(nonnegative(self.weight_decay), "weight_decay value", self.weight_decay)
    }
}

/// Adadelta, exactly `torch.optim.Adadelta`.
///
/// For each parameter θ with gradient g (`g ← g + λθ` with weight decay):
/// `v ← ρv + (1-ρ)g²`, `Δ ← √(u + ε)/√(v + ε) · g`, `u ← ρu + (1-ρ)Δ²`,
/// `θ ← θ - γΔ`. State: `step`, `square_avg` (v), `acc_delta` (u).
///
/// ```
/// use blocks_core::optim::{Adadelta, AdadeltaConfig, Optimizer};
/// let w = blocks_core::Tensor::from_vec(vec![1.0], [1]).requires_grad_(true);
/// let mut opt = Adadelta::new([&w], AdadeltaConfig::default());
/// w.sum().backward();
/// opt.step(); // Δ = √1e-6/√(0.1 + 1e-6) ≈ 0.00316
/// assert!((w.item() - (1.0 - 0.0031623)).abs() < 1e-6);
/// ```
pub type Adadelta<E = f32> = Grouped<AdadeltaConfig, E>;

impl Fields for AdadeltaConfig {
    fn fields(&mut self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("lr", Field::Number(&mut self.lr)),
            ("rho", Field::Number(&mut self.rho)),
            ("eps", Field::Number(&mut self.eps)),
            ("weight_decay", Field::Number(&mut self.weight_decay)),
            ("maximize", Field::Flag(&mut self.maximize)),
        ]
    }
}

impl Rule for AdadeltaConfig {
    const NAMES: &'static [&'static str] = &["Adadelta"];
    const STEP: bool = true;
    const BUFFERS: &'static [(&'static str, Allowed)] =
        &[("square_avg", Allowed::FiniteNonNegative), ("acc_delta", Allowed::FiniteNonNegative)];
    const REQUIRED: &'static [&'static str] = &["square_avg", "acc_delta"];

    fn check(&self) -> Result<(), ConfigError> {
        self.validate()
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn repr(&self, _class: &str) -> Vec<(&'static str, String)> {
        vec![
            ("capturable", "False".into()),
            ("differentiable", "False".into()),
            ("eps", pyrepr::float(self.eps)),
            ("foreach", "None".into()),
            ("lr", pyrepr::float(self.lr)),
            ("maximize", pyrepr::boolean(self.maximize).into()),
            ("rho", pyrepr::float(self.rho)),
            ("weight_decay", pyrepr::int_default_zero(self.weight_decay)),
        ]
    }

    fn initial(&self, _buffer: usize) -> Option<f64> {
        Some(0.0)
    }

    fn update<E: Element>(&self, slot: &mut Slot<E>, data: &mut ArrayD<E>, grad: &ArrayD<E>) {
        let c = *self;
        let (rho, keep) = (E::of(c.rho), E::of(1.0 - c.rho));
        let (weight_decay, eps, neg_lr) = (E::of(c.weight_decay), E::of(c.eps), E::of(-c.lr));
        elementwise(data, grad, &mut slot.buffers, |p, g, state| {
            let mut g = if c.maximize { -g } else { g };
            if c.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            state[0] = state[0] * rho + keep * g * g;
            let std = (state[0] + eps).sqrt();
            let delta = (state[1] + eps).sqrt() / std * g;
            state[1] = state[1] * rho + keep * delta * delta;
            *p += neg_lr * delta;
        });
    }
}
