//! `torch.optim.SGD`: stochastic gradient descent with momentum, dampening,
//! Nesterov momentum and weight decay, step for step as PyTorch computes it.

use ndarray::{ArrayD, Zip};

use super::fields::{Field, Fields};
use super::optimizer::{Allowed, ConfigError, nonnegative};
use super::rule::{Rule, Slot, require};
use super::{Grouped, pyrepr};
use crate::threading::in_parts;
use crate::{Element, TensorBase};

/// SGD's hyper-parameters, with `torch.optim.SGD`'s defaults
/// (`lr=1e-3`, everything else off).
///
/// ```
/// use blocks_core::optim::SgdConfig;
/// let config = SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() };
/// assert_eq!((config.dampening, config.nesterov), (0.0, false));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdConfig {
    /// Learning rate γ.
    pub lr: f64,
    /// Momentum factor μ (0 turns momentum off).
    pub momentum: f64,
    /// Dampening τ: the new gradient enters the momentum buffer scaled by `1 - τ`.
    pub dampening: f64,
    /// L2 penalty λ, added to the gradient as `λ·θ` before momentum.
    pub weight_decay: f64,
    /// Nesterov momentum (needs `momentum > 0` and `dampening == 0`).
    pub nesterov: bool,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

impl SgdConfig {
    /// Checks the values as `torch.optim.SGD` does, with its messages.
    ///
    /// ```
    /// use blocks_core::optim::SgdConfig;
    /// let bad = SgdConfig { nesterov: true, ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "Nesterov momentum requires a momentum and zero dampening");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        require(nonnegative(self.lr), "learning rate", self.lr)?;
        require(nonnegative(self.momentum), "momentum value", self.momentum)?;
        require(nonnegative(self.weight_decay), "weight_decay value", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(ConfigError::new("Nesterov momentum requires a momentum and zero dampening"));
        }
        Ok(())
    }
}

/// Stochastic gradient descent, exactly `torch.optim.SGD`.
///
/// For each parameter θ with gradient g, in the parameters' dtype as PyTorch
/// does it (float32, or float64 for a model after `to_f64`: `Sgd<f64>` over
/// `net.parameters_of::<f64>()`):
/// `g ← g + λθ` (weight decay), then with momentum `b ← g` on the first step
/// and `b ← μb + (1-τ)g` after, `g ← g + μb` (Nesterov) or `g ← b`, and
/// finally `θ ← θ - γg`. Each parameter group has its own values
/// ([`with_groups`](Grouped::with_groups)).
///
/// ```
/// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
/// use blocks_core::Tensor;
/// let w = Tensor::from_vec(vec![1.0], [1]).requires_grad_(true);
/// let mut opt = Sgd::new([&w], SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() });
/// for _ in 0..2 {
///     opt.zero_grad();
///     (&w * 2.0).sum().backward(); // g = 2
///     opt.step();
/// }
/// // b1 = 2, θ1 = 1 - 0.2 = 0.8; b2 = 0.9·2 + 2 = 3.8, θ2 = 0.8 - 0.38 = 0.42
/// assert!((w.item() - 0.42).abs() < 1e-6);
/// ```
///
/// It prints as PyTorch prints it; hyper-parameters whose PyTorch default is
/// the integer `0` (momentum, dampening, weight_decay) print as `0` when zero:
///
/// ```
/// use blocks_core::optim::{Sgd, SgdConfig};
/// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig { lr: 0.1, ..Default::default() });
/// assert_eq!(
///     opt.to_string(),
///     "SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n    \
///      fused: None\n    lr: 0.1\n    maximize: False\n    momentum: 0\n    nesterov: False\n    weight_decay: 0\n)"
/// );
/// ```
pub type Sgd<E = f32> = Grouped<SgdConfig, E>;

impl<E: Element> Grouped<SgdConfig, E> {
    /// The momentum buffer of parameter `index`, once a step has made it.
    ///
    /// ```
    /// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
    /// let w = blocks_core::Tensor::ones([2]).requires_grad_(true);
    /// let mut opt = Sgd::new([&w], SgdConfig { momentum: 0.9, ..Default::default() });
    /// assert!(opt.momentum_buffer(0).is_none());
    /// w.sum().backward();
    /// opt.step();
    /// assert_eq!(opt.momentum_buffer(0).unwrap().to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn momentum_buffer(&self, index: usize) -> Option<TensorBase<E>> {
        self.state_buffer(index, "momentum_buffer")
    }
}

impl Fields for SgdConfig {
    fn fields(&mut self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("lr", Field::Number(&mut self.lr)),
            ("momentum", Field::Number(&mut self.momentum)),
            ("dampening", Field::Number(&mut self.dampening)),
            ("weight_decay", Field::Number(&mut self.weight_decay)),
            ("nesterov", Field::Flag(&mut self.nesterov)),
            ("maximize", Field::Flag(&mut self.maximize)),
        ]
    }
}

impl Rule for SgdConfig {
    const NAMES: &'static [&'static str] = &["SGD"];
    const STEP: bool = false;
    const BUFFERS: &'static [(&'static str, Allowed)] = &[("momentum_buffer", Allowed::Finite)];
    const REQUIRED: &'static [&'static str] = &[];

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
            ("dampening", pyrepr::int_default_zero(self.dampening)),
            ("differentiable", "False".into()),
            ("foreach", "None".into()),
            ("fused", "None".into()),
            ("lr", pyrepr::float(self.lr)),
            ("maximize", pyrepr::boolean(self.maximize).into()),
            ("momentum", pyrepr::int_default_zero(self.momentum)),
            ("nesterov", pyrepr::boolean(self.nesterov).into()),
            ("weight_decay", pyrepr::int_default_zero(self.weight_decay)),
        ]
    }

    fn initial(&self, _buffer: usize) -> Option<f64> {
        None
    }

    fn update<E: Element>(&self, slot: &mut Slot<E>, data: &mut ArrayD<E>, grad: &ArrayD<E>) {
        let c = *self;
        // PyTorch passes these to the kernels as scalars of the parameters' dtype: rounded once.
        let weight_decay = E::of(c.weight_decay);
        let momentum = E::of(c.momentum);
        let keep = E::of(1.0 - c.dampening);
        let neg_lr = E::of(-c.lr);
        let gradient = move |g: E, p: E| {
            let g = if c.maximize { -g } else { g };
            if c.weight_decay != 0.0 { g + weight_decay * p } else { g }
        };
        // Long parameters are updated in parts on several threads.
        let len = data.len();
        if c.momentum == 0.0 {
            let zip = Zip::from(data).and(grad);
            in_parts(
                zip,
                len,
                |zip| zip.split(),
                |zip| {
                    zip.for_each(|p, &g| *p += neg_lr * gradient(g, *p));
                },
            );
            return;
        }
        let buffer = &mut slot.buffers[0];
        let first = buffer.is_none();
        let buffer = buffer.get_or_insert_with(|| ArrayD::zeros(grad.raw_dim()));
        let zip = Zip::from(data).and(grad).and(buffer);
        in_parts(
            zip,
            len,
            |zip| zip.split(),
            |zip| {
                zip.for_each(|p, &g, b| {
                    let g = gradient(g, *p);
                    *b = if first { g } else { *b * momentum + keep * g };
                    let direction = if c.nesterov { g + momentum * *b } else { *b };
                    *p += neg_lr * direction;
                });
            },
        );
    }
}
