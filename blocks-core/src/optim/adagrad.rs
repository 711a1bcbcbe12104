//! `torch.optim.Adagrad`: steps divided by the root of the summed squared
//! gradients, with a decaying rate.

use ndarray::ArrayD;

use super::fields::{Field, Fields};
use super::optimizer::{Allowed, ConfigError, nonnegative};
use super::rule::{Rule, Slot, elementwise, require};
use super::{Grouped, pyrepr};
use crate::Element;

/// Adagrad's hyper-parameters, with `torch.optim.Adagrad`'s defaults
/// (`lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10`).
///
/// ```
/// use blocks_core::optim::AdagradConfig;
/// let config = AdagradConfig { lr_decay: 1e-3, ..Default::default() };
/// assert_eq!((config.lr, config.eps), (1e-2, 1e-10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdagradConfig {
    /// Learning rate γ.
    pub lr: f64,
    /// The rate at step t is `γ / (1 + (t-1)·lr_decay)`.
    pub lr_decay: f64,
    /// L2 penalty λ, added to the gradient as `λ·θ`.
    pub weight_decay: f64,
    /// The value the sum of squared gradients starts from.
    pub initial_accumulator_value: f64,
    /// Added to the denominator for numerical stability.
    pub eps: f64,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        AdagradConfig {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

impl AdagradConfig {
    /// Checks the values as `torch.optim.Adagrad` does, with its messages.
    ///
    /// # Errors
    ///
    /// PyTorch's `ValueError` message for the first value out of range.
    ///
    /// ```
    /// use blocks_core::optim::AdagradConfig;
    /// let bad = AdagradConfig { lr_decay: -1.0, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "Invalid lr_decay value: -1.0");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        require(nonnegative(self.lr), "learning rate", self.lr)?;
        require(nonnegative(self.lr_decay), "lr_decay value", self.lr_decay)?;
        require(nonnegative(self.weight_decay), "weight_decay value", self.weight_decay)?;
        require(
            nonnegative(self.initial_accumulator_value),
            "initial_accumulator_value value",
            self.initial_accumulator_value,
        )?;
        require(nonnegative(self.eps), "epsilon value", self.eps)
    }
}

/// Adagrad, exactly `torch.optim.Adagrad`.
///
/// For each parameter θ with gradient g at step t (`g ← g + λθ` with weight
/// decay): `s ← s + g²`, `θ ← θ - γ/(1 + (t-1)·lr_decay) · g/(√s + ε)`.
/// As in PyTorch, the state (`step` 0, `sum` filled with
/// `initial_accumulator_value`) exists from the start.
///
/// ```
/// use blocks_core::optim::{Adagrad, AdagradConfig, Optimizer};
/// let w = blocks_core::Tensor::from_vec(vec![1.0], [1]).requires_grad_(true);
/// let mut opt = Adagrad::new([&w], AdagradConfig { lr: 0.1, ..Default::default() });
/// assert_eq!(opt.state_dict().keys(), vec!["state.0.step", "state.0.sum"]);
/// (&w * 2.0).sum().backward(); // s = 4, step = 0.1·2/2
/// opt.step();
/// assert!((w.item() - 0.9).abs() < 1e-6);
/// ```
pub type Adagrad<E = f32> = Grouped<AdagradConfig, E>;

impl Fields for AdagradConfig {
    fn fields(&mut self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("lr", Field::Number(&mut self.lr)),
            ("lr_decay", Field::Number(&mut self.lr_decay)),
            ("eps", Field::Number(&mut self.eps)),
            ("weight_decay", Field::Number(&mut self.weight_decay)),
            ("initial_accumulator_value", Field::Number(&mut self.initial_accumulator_value)),
            ("maximize", Field::Flag(&mut self.maximize)),
        ]
    }
}

impl Rule for AdagradConfig {
    const NAMES: &'static [&'static str] = &["Adagrad"];
    const STEP: bool = true;
    const BUFFERS: &'static [(&'static str, Allowed)] = &[("sum", Allowed::FiniteNonNegative)];
    const REQUIRED: &'static [&'static str] = &["sum"];
    const EAGER: bool = true;

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
            ("differentiable", "False".into()),
            ("eps", pyrepr::float(self.eps)),
            ("foreach", "None".into()),
            ("fused", "None".into()),
            ("initial_accumulator_value", pyrepr::int_default_zero(self.initial_accumulator_value)),
            ("lr", pyrepr::float(self.lr)),
            ("lr_decay", pyrepr::int_default_zero(self.lr_decay)),
            ("maximize", pyrepr::boolean(self.maximize).into()),
            ("weight_decay", pyrepr::int_default_zero(self.weight_decay)),
        ]
    }

    fn initial(&self, _buffer: usize) -> Option<f64> {
        Some(self.initial_accumulator_value)
    }

    fn update<E: Element>(&self, slot: &mut Slot<E>, data: &mut ArrayD<E>, grad: &ArrayD<E>) {
        let c = *self;
        let clr = c.lr / (1.0 + (f64::from(slot.step) - 1.0) * c.lr_decay);
        let (weight_decay, eps, neg_clr) = (E::of(c.weight_decay), E::of(c.eps), E::of(-clr));
        elementwise(data, grad, &mut slot.buffers, |p, g, state| {
            let mut g = if c.maximize { -g } else { g };
            if c.weight_decay != 0.0 {
                g += weight_decay * *p;
            }
            state[0] += E::one() * g * g;
            *p += neg_clr * g / (state[0].sqrt() + eps);
        });
    }
}
