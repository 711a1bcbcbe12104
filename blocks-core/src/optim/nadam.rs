//! `torch.optim.NAdam`: Adam with Nesterov momentum and a momentum schedule.

use ndarray::ArrayD;

use super::fields::{Field, Fields};
use super::optimizer::{Allowed, ConfigError, nonnegative};
use super::rule::{Rule, Slot, check_betas, elementwise, lerp, pair_repr, require};
use super::{Grouped, pyrepr};
use crate::Element;

/// NAdam's hyper-parameters, with `torch.optim.NAdam`'s defaults (`lr=2e-3,
/// betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3`).
///
/// ```
/// use blocks_core::optim::NAdamConfig;
/// let config = NAdamConfig { weight_decay: 1e-2, decoupled_weight_decay: true, ..Default::default() };
/// assert_eq!(config.momentum_decay, 4e-3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NAdamConfig {
    /// Learning rate γ.
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moment averages.
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability.
    pub eps: f64,
    /// Weight decay λ: `λθ` added to the gradient, or with
    /// `decoupled_weight_decay` `θ ← θ(1 - γλ)` (NAdamW).
    pub weight_decay: f64,
    /// ψ of the momentum schedule `μₜ = β₁(1 - ½·0.96^(tψ))`.
    pub momentum_decay: f64,
    /// Decoupled weight decay, as AdamW's.
    pub decoupled_weight_decay: bool,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Default for NAdamConfig {
    fn default() -> Self {
        NAdamConfig {
            lr: 2e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

impl NAdamConfig {
    /// Checks the values as `torch.optim.NAdam` does, with its messages.
    ///
    /// # Errors
    ///
    /// PyTorch's `ValueError` message for the first value out of range.
    ///
    /// ```
    /// use blocks_core::optim::NAdamConfig;
    /// let bad = NAdamConfig { momentum_decay: -1.0, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "Invalid momentum_decay value: -1.0");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        require(nonnegative(self.lr), "learning rate", self.lr)?;
        require(nonnegative(self.eps), "epsilon value", self.eps)?;
        check_betas(self.betas)?;
        require(nonnegative(self.weight_decay), "weight_decay value", self.weight_decay)?;
        require(nonnegative(self.momentum_decay), "momentum_decay value", self.momentum_decay)
    }
}

/// NAdam, exactly `torch.optim.NAdam`.
///
/// For each parameter θ with gradient g at step t: weight decay as Adam's
/// (or decoupled), `μₜ = β₁(1 - ½·0.96^(tψ))`, `Πₜ = Πₜ₋₁μₜ` (the float32
/// `mu_product`), `m ← lerp(m, g, 1-β₁)`, `v ← β₂v + (1-β₂)g²`,
/// `d = √(v/(1-β₂ᵗ)) + ε`, then
/// `θ ← θ - γ(1-μₜ)/(1-Πₜ) · g/d - γμₜ₊₁/(1-Πₜμₜ₊₁) · m/d`.
/// State: `step`, `mu_product`, `exp_avg`, `exp_avg_sq`.
///
/// ```
/// use blocks_core::optim::{NAdam, NAdamConfig, Optimizer};
/// let w = blocks_core::Tensor::from_vec(vec![1.0], [1]).requires_grad_(true);
/// let mut opt = NAdam::new([&w], NAdamConfig { lr: 0.1, ..Default::default() });
/// w.sum().backward();
/// opt.step();
/// assert_eq!(opt.state_dict().keys(), vec!["state.0.step", "state.0.mu_product", "state.0.exp_avg", "state.0.exp_avg_sq"]);
/// assert!(w.item() < 1.0);
/// ```
pub type NAdam<E = f32> = Grouped<NAdamConfig, E>;

impl Fields for NAdamConfig {
    fn fields(&mut self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("lr", Field::Number(&mut self.lr)),
            ("betas", Field::Pair(&mut self.betas)),
            ("eps", Field::Number(&mut self.eps)),
            ("weight_decay", Field::Number(&mut self.weight_decay)),
            ("momentum_decay", Field::Number(&mut self.momentum_decay)),
            ("decoupled_weight_decay", Field::Flag(&mut self.decoupled_weight_decay)),
            ("maximize", Field::Flag(&mut self.maximize)),
        ]
    }
}

impl Rule for NAdamConfig {
    const NAMES: &'static [&'static str] = &["NAdam"];
    const STEP: bool = true;
    const SCALARS: &'static [(&'static str, f32)] = &[("mu_product", 1.0)];
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
            ("momentum_decay", pyrepr::float(self.momentum_decay)),
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
        let bias_correction2 = 1.0 - beta2.powf(step);
        let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(step * c.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((step + 1.0) * c.momentum_decay));
        // `mu_product` is a float32 tensor in PyTorch: each product is rounded to float32.
        slot.scalars[0] *= mu as f32;
        let mu_product = f64::from(slot.scalars[0]);
        let mu_product_next = mu_product * mu_next;
        let grad_value = E::of(-c.lr * (1.0 - mu) / (1.0 - mu_product));
        let avg_value = E::of((-c.lr * mu_next) / (1.0 - mu_product_next));
        let (weight_decay, decay) = (E::of(c.weight_decay), E::of(1.0 - c.lr * c.weight_decay));
        let (lerp_weight, beta2, one_minus_beta2) = (E::of(1.0 - beta1), E::of(beta2), E::of(1.0 - beta2));
        let (bias_correction2, eps) = (E::of(bias_correction2), E::of(c.eps));
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
            let denom = (state[1] / bias_correction2).sqrt() + eps;
            *p += grad_value * g / denom;
            *p += avg_value * state[0] / denom;
        });
    }
}
