//! `torch.optim.SGD`: stochastic gradient descent with momentum, dampening,
//! Nesterov momentum and weight decay, step for step as PyTorch computes it.

use std::fmt;

use ndarray::{ArrayD, Zip};
use serde_json::{Map, Value};

use super::optimizer::{
    Allowed, ConfigError, check_keys, group_bool, group_f64, nonnegative, param_groups_json, read_group,
    state_array, unique_params,
};
use super::{Optimizer, OptimizerState, StateError, pyrepr};
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
        if !nonnegative(self.lr) {
            return Err(ConfigError::new(format!("Invalid learning rate: {}", pyrepr::float(self.lr))));
        }
        if !nonnegative(self.momentum) {
            return Err(ConfigError::new(format!(
                "Invalid momentum value: {}",
                pyrepr::float(self.momentum)
            )));
        }
        if !nonnegative(self.weight_decay) {
            return Err(ConfigError::new(format!(
                "Invalid weight_decay value: {}",
                pyrepr::float(self.weight_decay)
            )));
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(ConfigError::new("Nesterov momentum requires a momentum and zero dampening"));
        }
        Ok(())
    }

    fn to_json(self) -> Map<String, Value> {
        let mut group = Map::new();
        group.insert("lr".into(), self.lr.into());
        group.insert("momentum".into(), self.momentum.into());
        group.insert("dampening".into(), self.dampening.into());
        group.insert("weight_decay".into(), self.weight_decay.into());
        group.insert("nesterov".into(), self.nesterov.into());
        group.insert("maximize".into(), self.maximize.into());
        group
    }

    fn from_json(group: &Map<String, Value>) -> Result<Self, StateError> {
        let config = SgdConfig {
            lr: group_f64(group, "lr")?,
            momentum: group_f64(group, "momentum")?,
            dampening: group_f64(group, "dampening")?,
            weight_decay: group_f64(group, "weight_decay")?,
            nesterov: group_bool(group, "nesterov")?,
            maximize: group_bool(group, "maximize")?,
        };
        config.validate().map_err(|e| StateError::new(e.to_string()))?;
        Ok(config)
    }
}

/// Stochastic gradient descent, exactly `torch.optim.SGD`.
///
/// For each parameter θ with gradient g, in the parameters' dtype as PyTorch
/// does it (float32, or float64 for a model after `to_f64`: `Sgd<f64>` over
/// `net.parameters_of::<f64>()`):
/// `g ← g + λθ` (weight decay), then with momentum `b ← g` on the first step
/// and `b ← μb + (1-τ)g` after, `g ← g + μb` (Nesterov) or `g ← b`, and
/// finally `θ ← θ - γg`.
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
pub struct Sgd<E: Element = f32> {
    params: Vec<TensorBase<E>>,
    config: SgdConfig,
    momentum_buffers: Vec<Option<ArrayD<E>>>,
}

impl<E: Element> Sgd<E> {
    /// SGD over `params` (`net.parameters()`, or tensors `[&w, &b]`).
    ///
    /// Panics with PyTorch's message on an invalid configuration; see
    /// [`try_new`](Self::try_new).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// use blocks_core::optim::{Sgd, SgdConfig};
    /// let net = Linear::<4, 2>::new();
    /// let opt = Sgd::new(net.parameters(), SgdConfig { lr: 0.1, ..Default::default() });
    /// ```
    #[track_caller]
    pub fn new<P: AsRef<TensorBase<E>>>(params: impl IntoIterator<Item = P>, config: SgdConfig) -> Self {
        match Self::try_new(params, config) {
            Ok(sgd) => sgd,
            Err(error) => panic!("{error}"),
        }
    }

    /// Like [`new`](Self::new), returning an error on an invalid configuration.
    ///
    /// ```
    /// use blocks_core::optim::{Sgd, SgdConfig};
    /// let w = blocks_core::Tensor::ones([1]);
    /// assert!(Sgd::try_new([&w], SgdConfig { momentum: -0.5, ..Default::default() }).is_err());
    /// ```
    pub fn try_new<P: AsRef<TensorBase<E>>>(
        params: impl IntoIterator<Item = P>,
        config: SgdConfig,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let params = unique_params(params)?;
        let momentum_buffers = vec![None; params.len()];
        Ok(Sgd { params, config, momentum_buffers })
    }

    /// The hyper-parameters.
    ///
    /// ```
    /// use blocks_core::optim::{Sgd, SgdConfig};
    /// let opt = Sgd::new([&blocks_core::Tensor::ones([1])], SgdConfig::default());
    /// assert_eq!(opt.config().lr, 1e-3);
    /// ```
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }

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
        self.momentum_buffers.get(index)?.as_ref().map(|b| TensorBase::from_array(b.clone()))
    }
}

impl<E: Element> super::LearningRate for Sgd<E> {
    fn learning_rate(&self) -> f64 {
        Optimizer::lr(self)
    }

    fn set_learning_rate(&mut self, lr: f64) {
        Optimizer::set_lr(self, lr);
    }
}

impl<E: Element> Optimizer<E> for Sgd<E> {
    fn step(&mut self) {
        super::optimizer::check_initialized("SGD", &self.params);
        let c = self.config;
        // PyTorch passes these to the kernels as scalars of the parameters' dtype: rounded once.
        let weight_decay = E::of(c.weight_decay);
        let momentum = E::of(c.momentum);
        let keep = E::of(1.0 - c.dampening);
        let neg_lr = E::of(-c.lr);
        let gradient = move |g: E, p: E| {
            let g = if c.maximize { -g } else { g };
            if c.weight_decay != 0.0 { g + weight_decay * p } else { g }
        };
        for (param, buffer) in self.params.iter().zip(&mut self.momentum_buffers) {
            if !param.requires_grad() {
                continue;
            }
            param.with_grad(|grad| {
                let Some(grad) = grad else { return };
                // Long parameters are updated in parts on several threads.
                param.update_data(|data| {
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
                });
            });
        }
    }

    fn params(&self) -> &[TensorBase<E>] {
        &self.params
    }

    fn lr(&self) -> f64 {
        self.config.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    fn state_dict(&self) -> OptimizerState {
        let mut state = OptimizerState::new();
        for (index, buffer) in self.momentum_buffers.iter().enumerate() {
            if let Some(buffer) = buffer {
                state
                    .insert(format!("state.{index}.momentum_buffer"), TensorBase::from_array(buffer.clone()));
            }
        }
        state.set_metadata("optimizer", "SGD");
        state.set_metadata("param_groups", param_groups_json(self.config.to_json(), self.params.len()));
        state
    }

    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<(), StateError> {
        let group = read_group(state, &["SGD"], self.params.len())?;
        let config = SgdConfig::from_json(&group)?;
        check_keys(state, self.params.len(), &["momentum_buffer"])?;
        let buffers = self
            .params
            .iter()
            .enumerate()
            .map(|(index, p)| state_array(state, index, "momentum_buffer", &p.shape(), Allowed::Finite))
            .collect::<Result<Vec<_>, _>>()?;
        self.config = config;
        self.momentum_buffers = buffers;
        Ok(())
    }
}

/// PyTorch's printout of the optimizer. Hyper-parameters whose PyTorch
/// default is the integer `0` (momentum, dampening, weight_decay) print as
/// `0` when zero, as for a user who left them out.
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
impl<E: Element> fmt::Display for Sgd<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        f.write_str(&pyrepr::optimizer(
            "SGD",
            vec![
                ("dampening", pyrepr::int_default_zero(c.dampening)),
                ("differentiable", "False".into()),
                ("foreach", "None".into()),
                ("fused", "None".into()),
                ("lr", pyrepr::float(c.lr)),
                ("maximize", pyrepr::boolean(c.maximize).into()),
                ("momentum", pyrepr::int_default_zero(c.momentum)),
                ("nesterov", pyrepr::boolean(c.nesterov).into()),
                ("weight_decay", pyrepr::int_default_zero(c.weight_decay)),
            ],
        ))
    }
}

impl<E: Element> fmt::Debug for Sgd<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
