//! `torch.optim.RMSprop`: a running average of squared gradients divides
//! each step, optionally centered and with momentum.

use ndarray::ArrayD;

use super::fields::{Field, Fields};
use super::optimizer::{Allowed, ConfigError, nonnegative};
use super::rule::{Rule, Slot, elementwise, lerp, require};
use super::{Grouped, pyrepr};
use crate::Element;

/// RMSprop's hyper-parameters, with `torch.optim.RMSprop`'s defaults
/// (`lr=1e-2, alpha=0.99, eps=1e-8`, no weight decay, momentum or centering).
///
/// ```
/// use blocks_core::optim::RMSpropConfig;
/// let config = RMSpropConfig { momentum: 0.9, centered: true, ..Default::default() };
/// assert_eq!((config.lr, config.alpha), (1e-2, 0.99));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RMSpropConfig {
    /// Learning rate γ.
    pub lr: f64,
    /// Smoothing constant α of the running averages.
    pub alpha: f64,
    /// Added to the denominator for numerical stability.
    pub eps: f64,
    /// L2 penalty λ, added to the gradient as `λ·θ`.
    pub weight_decay: f64,
    /// Momentum factor μ (0 turns it off).
    pub momentum: f64,
    /// Divide by the estimated variance of the gradient (subtracting the squared mean gradient).
    pub centered: bool,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Default for RMSpropConfig {
    fn default() -> Self {
        RMSpropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

impl RMSpropConfig {
    /// Checks the values as `torch.optim.RMSprop` does, with its messages.
    ///
    /// # Errors
    ///
    /// PyTorch's `ValueError` message for the first value out of range.
    ///
    /// ```
    /// use blocks_core::optim::RMSpropConfig;
    /// let bad = RMSpropConfig { alpha: -0.5, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "Invalid alpha value: -0.5");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        require(nonnegative(self.lr), "learning rate", self.lr)?;
        require(nonnegative(self.eps), "epsilon value", self.eps)?;
        require(nonnegative(self.momentum), "momentum value", self.momentum)?;
        require(nonnegative(self.weight_decay), "weight_decay value", self.weight_decay)?;
        require(nonnegative(self.alpha), "alpha value", self.alpha)
    }
}

/// RMSprop, exactly `torch.optim.RMSprop`.
///
/// For each parameter θ with gradient g (`g ← g + λθ` with weight decay):
/// `v ← αv + (1-α)g²`; centered, `ḡ ← lerp(ḡ, g, 1-α)` and the denominator is
/// `√(v - ḡ²) + ε`, else `√v + ε`; with momentum `b ← μb + g/denom`,
/// `θ ← θ - γb`, else `θ ← θ - γg/denom`. State: `step`, `square_avg`,
/// `momentum_buffer` (with momentum), `grad_avg` (centered).
///
/// ```
/// use blocks_core::optim::{Optimizer, RMSprop, RMSpropConfig};
/// let w = blocks_core::Tensor::from_vec(vec![1.0], [1]).requires_grad_(true);
/// let mut opt = RMSprop::new([&w], RMSpropConfig { lr: 0.01, ..Default::default() });
/// (&w * 2.0).sum().backward(); // g = 2: v = 0.01·4, step = 0.01·2/√0.04 = 0.1
/// opt.step();
/// assert!((w.item() - 0.9).abs() < 1e-6);
/// assert!(opt.to_string().starts_with("RMSprop (\nParameter Group 0\n    alpha: 0.99\n"));
/// ```
pub type RMSprop<E = f32> = Grouped<RMSpropConfig, E>;

impl Fields for RMSpropConfig {
    fn fields(&mut self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("lr", Field::Number(&mut self.lr)),
            ("momentum", Field::Number(&mut self.momentum)),
            ("alpha", Field::Number(&mut self.alpha)),
            ("eps", Field::Number(&mut self.eps)),
            ("centered", Field::Flag(&mut self.centered)),
            ("weight_decay", Field::Number(&mut self.weight_decay)),
            ("maximize", Field::Flag(&mut self.maximize)),
        ]
    }
}

impl Rule for RMSpropConfig {
    const NAMES: &'static [&'static str] = &["RMSprop"];
    const STEP: bool = true;
    const BUFFERS: &'static [(&'static str, Allowed)] = &[
        ("square_avg", Allowed::FiniteNonNegative),
        ("momentum_buffer", Allowed::Finite),
        ("grad_avg", Allowed::Finite),
    ];
    const REQUIRED: &'static [&'static str] = &["square_avg"];

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
        Some(self.momentum)
    }

    fn set_momentum(&mut self, momentum: f64) {
        self.momentum = momentum;
    }

    fn repr(&self, _class: &str) -> Vec<(&'static str, String)> {
        vec![
            ("alpha", pyrepr::float(self.alpha)),
            ("capturable", "False".into()),
            ("centered", pyrepr::boolean(self.centered).into()),
            ("differentiable", "False".into()),
            ("eps", pyrepr::float(self.eps)),
            ("foreach", "None".into()),
            ("lr", pyrepr::float(self.lr)),
            ("maximize", pyrepr::boolean(self.maximize).into()),
            ("momentum", pyrepr::int_default_zero(self.momentum)),
            ("weight_decay", pyrepr::int_default_zero(self.weight_decay)),
        ]
    }

    fn initial(&self, buffer: usize) -> Option<f64> {
        match buffer {
            0 => Some(0.0),
            1 => (self.momentum > 0.0).then_some(0.0),
            _ => self.centered.then_some(0.0),
        }
    }

    fn update<E: Element>(&self, slot: &mut Slot<E>, data: &mut ArrayD<E>, grad: &ArrayD<E>) {
        let c = *self;
        let (alpha, keep) = (E::of(c.alpha), E::of(1.0 - c.alpha));
        let (weight_decay, eps, momentum, neg_lr) =
            (E::of(c.weight_decay), E::of(c.eps), E::of(c.momentum), E::of(-c.lr));
        elementwise(data, grad, &mut slot.buffers, |p, g, state| {
            let mut g = if c.maximize { -g } else { g };
            if c.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            state[0] = state[0] * alpha + keep * g * g;
            let avg = if c.centered {
                state[2] = lerp(state[2], g, keep);
                (state[0] + -state[2] * state[2]).sqrt()
            } else {
                state[0].sqrt()
            } + eps;
            if c.momentum > 0.0 {
                state[1] = state[1] * momentum + g / avg;
                *p += neg_lr * state[1];
            } else {
                *p += neg_lr * g / avg;
            }
        });
    }
}
