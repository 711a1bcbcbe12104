//! `torch.optim.Adamax`: Adam with the infinity norm in place of the second moment.

use ndarray::ArrayD;

use super::fields::{Field, Fields};
use super::optimizer::{Allowed, ConfigError, nonnegative};
use super::rule::{Rule, Slot, check_betas, elementwise, lerp, maximum, pair_repr, require};
use super::{Grouped, pyrepr};
use crate::Element;

/// Adamax's hyper-parameters, with `torch.optim.Adamax`'s defaults
/// (`lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0`).
///
/// ```
/// use blocks_core::optim::AdamaxConfig;
/// assert_eq!(AdamaxConfig::default().lr, 2e-3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamaxConfig {
    /// Learning rate γ.
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first moment and of the infinity norm.
    pub betas: (f64, f64),
    /// Added to |g| for numerical stability.
    pub eps: f64,
    /// L2 penalty λ, added to the gradient as `λ·θ`.
    pub weight_decay: f64,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Default for AdamaxConfig {
    fn default() -> Self {
        AdamaxConfig { lr: 2e-3, betas: (0.9, 0.999), eps: 1e-8, weight_decay: 0.0, maximize: false }
    }
}

impl AdamaxConfig {
    /// Checks the values as `torch.optim.Adamax` does, with its messages.
    ///
    /// # Errors
    ///
    /// PyTorch's `ValueError` message for the first value out of range.
    ///
    /// ```
    /// use blocks_core::optim::AdamaxConfig;
    /// let bad = AdamaxConfig { betas: (0.9, 1.0), ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "Invalid beta parameter at index 1: 1.0");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        require(nonnegative(self.lr), "learning rate", self.lr)?;
        require(nonnegative(self.eps), "epsilon value", self.eps)?;
        check_betas(self.betas)?;
        require(nonnegative(self.weight_decay), "weight_decay value", self.weight_decay)
    }
}

/// Adamax, exactly `torch.optim.Adamax`.
///
/// For each parameter θ with gradient g at step t (`g ← g + λθ` with weight
/// decay): `m ← lerp(m, g, 1-β₁)`, `u ← max(β₂u, |g| + ε)`,
/// `θ ← θ - γ/(1-β₁ᵗ) · m/u`. State: `step`, `exp_avg`, `exp_inf`.
///
/// ```
/// use blocks_core::optim::{Adamax, AdamaxConfig, Optimizer};
/// let w = blocks_core::Tensor::from_vec(vec![1.0], [1]).requires_grad_(true);
/// let mut opt = Adamax::new([&w], AdamaxConfig { lr: 0.1, ..Default::default() });
/// (&w * 2.0).sum().backward();
/// opt.step(); // the first step moves by about lr
/// assert!((w.item() - 0.9).abs() < 1e-6);
/// ```
pub type Adamax<E = f32> = Grouped<AdamaxConfig, E>;

impl Fields for AdamaxConfig {
    fn fields(&mut self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("lr", Field::Number(&mut self.lr)),
            ("betas", Field::Pair(&mut self.betas)),
            ("eps", Field::Number(&mut self.eps)),
            ("weight_decay", Field::Number(&mut self.weight_decay)),
            ("maximize", Field::Flag(&mut self.maximize)),
        ]
    }
}

impl Rule for AdamaxConfig {
    const NAMES: &'static [&'static str] = &["Adamax"];
    const STEP: bool = true;
    const BUFFERS: &'static [(&'static str, Allowed)] =
        &[("exp_avg", Allowed::Finite), ("exp_inf", Allowed::FiniteNonNegative)];
    const REQUIRED: &'static [&'static str] = &["exp_avg", "exp_inf"];

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
        let clr = c.lr / (1.0 - beta1.powf(f64::from(slot.step)));
        let (lerp_weight, beta2, eps) = (E::of(1.0 - beta1), E::of(beta2), E::of(c.eps));
        let (weight_decay, neg_clr) = (E::of(c.weight_decay), E::of(-clr));
        elementwise(data, grad, &mut slot.buffers, |p, g, state| {
            let mut g = if c.maximize { -g } else { g };
            if c.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            state[0] = lerp(state[0], g, lerp_weight);
            state[1] = maximum(state[1] * beta2, g.abs() + eps);
            *p += neg_clr * state[0] / state[1];
        });
    }
}
