//! `torch.optim.Adam` and `AdamW`: one type, as in PyTorch 2.x, where AdamW
//! is Adam with `decoupled_weight_decay=True`.

use std::fmt;

use ndarray::{ArrayD, Zip};
use serde_json::{Map, Value};

use super::optimizer::{
    Allowed, ConfigError, check_keys, group_bool, group_f64, nonnegative, param_groups_json, read_group,
    state_array, state_step, unique_params,
};
use super::{Optimizer, OptimizerState, StateError, pyrepr};
use crate::threading::in_parts;
use crate::{Element, Tensor, TensorBase};

/// Adam's hyper-parameters, with `torch.optim.Adam`'s defaults
/// (`lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0`); AdamW's
/// (`weight_decay=1e-2`) are [`AdamWConfig`](super::AdamWConfig)'s.
///
/// ```
/// use blocks_core::optim::AdamConfig;
/// let config = AdamConfig { lr: 0.01, amsgrad: true, ..Default::default() };
/// assert_eq!(config.betas, (0.9, 0.999));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamConfig {
    /// Learning rate γ.
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moment averages.
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability.
    pub eps: f64,
    /// Weight decay λ: an L2 penalty `λθ` added to the gradient (Adam), or,
    /// with `decoupled_weight_decay`, `θ ← θ(1 - γλ)` before the step (AdamW).
    pub weight_decay: f64,
    /// AMSGrad: normalize by the running maximum of the second moment.
    pub amsgrad: bool,
    /// Maximize the objective instead of minimizing it.
    pub maximize: bool,
    /// AdamW's decoupled weight decay instead of the L2 penalty.
    pub decoupled_weight_decay: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
        }
    }
}

impl AdamConfig {
    /// Checks the values as `torch.optim.Adam` does, with its messages.
    ///
    /// ```
    /// use blocks_core::optim::AdamConfig;
    /// let bad = AdamConfig { betas: (1.0, 0.999), ..Default::default() };
    /// assert_eq!(bad.validate().unwrap_err().to_string(), "Invalid beta parameter at index 0: 1.0");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (beta1, beta2) = self.betas;
        if !nonnegative(self.lr) {
            return Err(ConfigError::new(format!("Invalid learning rate: {}", pyrepr::float(self.lr))));
        }
        if !nonnegative(self.eps) {
            return Err(ConfigError::new(format!("Invalid epsilon value: {}", pyrepr::float(self.eps))));
        }
        if !(0.0..1.0).contains(&beta1) {
            return Err(ConfigError::new(format!(
                "Invalid beta parameter at index 0: {}",
                pyrepr::float(beta1)
            )));
        }
        if !(0.0..1.0).contains(&beta2) {
            return Err(ConfigError::new(format!(
                "Invalid beta parameter at index 1: {}",
                pyrepr::float(beta2)
            )));
        }
        if !nonnegative(self.weight_decay) {
            return Err(ConfigError::new(format!(
                "Invalid weight_decay value: {}",
                pyrepr::float(self.weight_decay)
            )));
        }
        Ok(())
    }

    fn to_json(self) -> Map<String, Value> {
        let mut group = Map::new();
        group.insert("lr".into(), self.lr.into());
        group.insert("betas".into(), vec![self.betas.0, self.betas.1].into());
        group.insert("eps".into(), self.eps.into());
        group.insert("weight_decay".into(), self.weight_decay.into());
        group.insert("amsgrad".into(), self.amsgrad.into());
        group.insert("maximize".into(), self.maximize.into());
        group.insert("decoupled_weight_decay".into(), self.decoupled_weight_decay.into());
        group
    }

    fn from_json(group: &Map<String, Value>) -> Result<Self, StateError> {
        let betas = match group.get("betas").and_then(Value::as_array).map(Vec::as_slice) {
            Some([b1, b2]) => b1.as_f64().zip(b2.as_f64()),
            _ => None,
        }
        .ok_or_else(|| StateError::new("param_groups: \"betas\" must be a pair of numbers"))?;
        let config = AdamConfig {
            lr: group_f64(group, "lr")?,
            betas,
            eps: group_f64(group, "eps")?,
            weight_decay: group_f64(group, "weight_decay")?,
            amsgrad: group_bool(group, "amsgrad")?,
            maximize: group_bool(group, "maximize")?,
            decoupled_weight_decay: group_bool(group, "decoupled_weight_decay")?,
        };
        config.validate().map_err(|e| StateError::new(e.to_string()))?;
        Ok(config)
    }
}

/// One parameter's state: PyTorch's `step` (a float32 count), `exp_avg`,
/// `exp_avg_sq` and, with AMSGrad, `max_exp_avg_sq`.
#[derive(Clone)]
struct Moments<E: Element> {
    step: f32,
    exp_avg: ArrayD<E>,
    exp_avg_sq: ArrayD<E>,
    max_exp_avg_sq: Option<ArrayD<E>>,
}

/// Adam and AdamW, exactly `torch.optim.Adam` (whose
/// `decoupled_weight_decay=True` is `torch.optim.AdamW`).
///
/// For each parameter θ with gradient g at step t, in the parameters' dtype
/// as PyTorch does it (float32, or float64 for a model after `to_f64`:
/// `Adam<f64>` over `net.parameters_of::<f64>()`; scalars in float64): weight decay (`θ ← θ(1-γλ)` decoupled, else
/// `g ← g + λθ`), `m ← lerp(m, g, 1-β₁)`, `v ← β₂v + (1-β₂)g²`, with AMSGrad
/// `v̂ ← max(v̂, v)`, then `θ ← θ - γ/(1-β₁ᵗ) · m / (√v / √(1-β₂ᵗ) + ε)`.
///
/// ```
/// use blocks_core::optim::{Adam, AdamConfig, Optimizer};
/// use blocks_core::Tensor;
/// let w = Tensor::from_vec(vec![1.0, -1.0], [2]).requires_grad_(true);
/// let mut opt = Adam::new([&w], AdamConfig { lr: 0.1, ..Default::default() });
/// (&w * &w).sum().backward();
/// opt.step(); // the first step moves every weight by about lr, against its gradient
/// assert!((w.to_vec()[0] - 0.9).abs() < 1e-6 && (w.to_vec()[1] + 0.9).abs() < 1e-6);
/// ```
pub struct Adam<E: Element = f32> {
    params: Vec<TensorBase<E>>,
    config: AdamConfig,
    adamw: bool,
    moments: Vec<Option<Moments<E>>>,
}

impl<E: Element> Adam<E> {
    /// Adam over `params` (`net.parameters()`, or tensors `[&w, &b]`).
    ///
    /// Panics with PyTorch's message on an invalid configuration; see
    /// [`try_new`](Self::try_new).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// use blocks_core::optim::{Adam, AdamConfig};
    /// let net = Linear::<4, 2>::new();
    /// let opt = Adam::new(net.parameters(), AdamConfig { lr: 1e-2, ..Default::default() });
    /// assert!(opt.to_string().starts_with("Adam ("));
    /// ```
    #[track_caller]
    pub fn new<P: AsRef<TensorBase<E>>>(params: impl IntoIterator<Item = P>, config: AdamConfig) -> Self {
        match Self::try_new(params, config) {
            Ok(adam) => adam,
            Err(error) => panic!("{error}"),
        }
    }

    /// Like [`new`](Self::new), returning an error on an invalid configuration.
    ///
    /// ```
    /// use blocks_core::optim::{Adam, AdamConfig};
    /// let w = blocks_core::Tensor::ones([1]);
    /// assert!(Adam::try_new([&w], AdamConfig { eps: -1.0, ..Default::default() }).is_err());
    /// ```
    pub fn try_new<P: AsRef<TensorBase<E>>>(
        params: impl IntoIterator<Item = P>,
        config: AdamConfig,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let params = unique_params(params)?;
        let moments = vec![None; params.len()];
        Ok(Adam { params, config, adamw: false, moments })
    }

    /// AdamW, like `torch.optim.AdamW(params, ...)`, with
    /// [`AdamWConfig`](super::AdamWConfig)'s defaults (`weight_decay=1e-2`).
    /// It prints and saves as `AdamW`.
    ///
    /// Panics with PyTorch's message on an invalid configuration.
    ///
    /// ```
    /// use blocks_core::optim::{Adam, AdamWConfig};
    /// let w = blocks_core::Tensor::ones([1]);
    /// let opt = Adam::adamw([&w], AdamWConfig { lr: 1e-2, ..Default::default() });
    /// assert!(opt.config().decoupled_weight_decay && opt.config().weight_decay == 1e-2);
    /// assert!(opt.to_string().starts_with("AdamW ("));
    /// ```
    pub fn adamw<P: AsRef<TensorBase<E>>>(
        params: impl IntoIterator<Item = P>,
        config: super::AdamWConfig,
    ) -> Self {
        let mut adam = Self::new(params, config.into());
        adam.adamw = true;
        adam
    }

    /// The hyper-parameters.
    ///
    /// ```
    /// use blocks_core::optim::{Adam, AdamConfig};
    /// let opt = Adam::new([&blocks_core::Tensor::ones([1])], AdamConfig::default());
    /// assert_eq!(opt.config().eps, 1e-8);
    /// ```
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// How many steps parameter `index` has taken (PyTorch's `state[p]["step"]`).
    ///
    /// ```
    /// use blocks_core::optim::{Adam, AdamConfig, Optimizer};
    /// let w = blocks_core::Tensor::ones([1]).requires_grad_(true);
    /// let mut opt = Adam::new([&w], AdamConfig::default());
    /// w.sum().backward();
    /// opt.step();
    /// assert_eq!(opt.step_count(0), 1);
    /// ```
    pub fn step_count(&self, index: usize) -> u64 {
        self.moments.get(index).and_then(Option::as_ref).map_or(0, |m| m.step as u64)
    }

    fn class_name(&self) -> &'static str {
        if self.adamw { "AdamW" } else { "Adam" }
    }
}

impl<E: Element> super::LearningRate for Adam<E> {
    fn learning_rate(&self) -> f64 {
        Optimizer::lr(self)
    }

    fn set_learning_rate(&mut self, lr: f64) {
        Optimizer::set_lr(self, lr);
    }
}

impl<E: Element> Optimizer<E> for Adam<E> {
    fn step(&mut self) {
        super::optimizer::check_initialized("Adam", &self.params);
        let c = self.config;
        let (beta1, beta2) = c.betas;
        // Scalars PyTorch hands to the kernels in the parameters' dtype, rounded once.
        let weight_decay = E::of(c.weight_decay);
        let decay = E::of(1.0 - c.lr * c.weight_decay);
        let lerp_weight = E::of(1.0 - beta1);
        let beta2_e = E::of(beta2);
        let one_minus_beta2 = E::of(1.0 - beta2);
        let eps = E::of(c.eps);
        for (param, slot) in self.params.iter().zip(&mut self.moments) {
            if !param.requires_grad() {
                continue;
            }
            param.with_grad(|grad| {
                let Some(grad) = grad else { return };
                let moments = slot.get_or_insert_with(|| Moments {
                    step: 0.0,
                    exp_avg: ArrayD::zeros(grad.raw_dim()),
                    exp_avg_sq: ArrayD::zeros(grad.raw_dim()),
                    max_exp_avg_sq: None,
                });
                if c.amsgrad && moments.max_exp_avg_sq.is_none() {
                    moments.max_exp_avg_sq = Some(ArrayD::zeros(grad.raw_dim()));
                }
                moments.step += 1.0;
                // Python floats: the step count read back as a double.
                let step = f64::from(moments.step);
                let bias_correction1 = 1.0 - beta1.powf(step);
                let bias_correction2 = 1.0 - beta2.powf(step);
                let neg_step_size = E::of(-(c.lr / bias_correction1));
                let bias_correction2_sqrt = E::of(bias_correction2.powf(0.5));
                let update = |p: &mut E, g: E, m: &mut E, v: &mut E, v_max: Option<&mut E>| {
                    let mut g = if c.maximize { -g } else { g };
                    if c.weight_decay != 0.0 {
                        if c.decoupled_weight_decay {
                            *p *= decay;
                        } else {
                            g += weight_decay * *p;
                        }
                    }
                    *m = lerp(*m, g, lerp_weight);
                    *v = *v * beta2_e + one_minus_beta2 * g * g;
                    let second = match v_max {
                        Some(v_max) => {
                            *v_max = maximum(*v_max, *v);
                            *v_max
                        }
                        None => *v,
                    };
                    let denom = second.sqrt() / bias_correction2_sqrt + eps;
                    *p += neg_step_size * (*m / denom);
                };
                let (m, v) = (&mut moments.exp_avg, &mut moments.exp_avg_sq);
                // Long parameters are updated in parts on several threads.
                param.update_data(|data| {
                    let len = data.len();
                    match (&mut moments.max_exp_avg_sq, c.amsgrad) {
                        (Some(v_max), true) => {
                            let zip = Zip::from(data).and(grad).and(m).and(v).and(v_max);
                            in_parts(
                                zip,
                                len,
                                |zip| zip.split(),
                                |zip| {
                                    zip.for_each(|p, &g, m, v, v_max| update(p, g, m, v, Some(v_max)));
                                },
                            );
                        }
                        _ => {
                            let zip = Zip::from(data).and(grad).and(m).and(v);
                            in_parts(
                                zip,
                                len,
                                |zip| zip.split(),
                                |zip| {
                                    zip.for_each(|p, &g, m, v| update(p, g, m, v, None));
                                },
                            );
                        }
                    }
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
        for (index, moments) in self.moments.iter().enumerate() {
            let Some(m) = moments else { continue };
            state.insert(format!("state.{index}.step"), Tensor::scalar(m.step));
            state.insert(format!("state.{index}.exp_avg"), TensorBase::from_array(m.exp_avg.clone()));
            state.insert(format!("state.{index}.exp_avg_sq"), TensorBase::from_array(m.exp_avg_sq.clone()));
            if let Some(max) = &m.max_exp_avg_sq {
                state.insert(format!("state.{index}.max_exp_avg_sq"), TensorBase::from_array(max.clone()));
            }
        }
        state.set_metadata("optimizer", self.class_name());
        state.set_metadata("param_groups", param_groups_json(self.config.to_json(), self.params.len()));
        state
    }

    fn load_state_dict(&mut self, state: &OptimizerState) -> Result<(), StateError> {
        let group = read_group(state, &["Adam", "AdamW"], self.params.len())?;
        let mut config = AdamConfig::from_json(&group)?;
        // As PyTorch's AdamW.__setstate__: an AdamW stays decoupled whatever it loads.
        config.decoupled_weight_decay |= self.adamw;
        check_keys(state, self.params.len(), &["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"])?;
        let mut moments = Vec::with_capacity(self.params.len());
        for (index, param) in self.params.iter().enumerate() {
            let shape = param.shape();
            let step = state_step(state, index)?;
            let exp_avg = state_array(state, index, "exp_avg", &shape, Allowed::Finite)?;
            let exp_avg_sq = state_array(state, index, "exp_avg_sq", &shape, Allowed::FiniteNonNegative)?;
            let max_exp_avg_sq =
                state_array(state, index, "max_exp_avg_sq", &shape, Allowed::FiniteNonNegative)?;
            moments.push(match (step, exp_avg, exp_avg_sq) {
                (None, None, None) if max_exp_avg_sq.is_none() => None,
                (Some(step), Some(exp_avg), Some(exp_avg_sq)) => {
                    Some(Moments { step, exp_avg, exp_avg_sq, max_exp_avg_sq })
                }
                _ => {
                    return Err(StateError::new(format!(
                        "parameter {index} needs a one-element step, exp_avg and exp_avg_sq together"
                    )));
                }
            });
        }
        self.config = config;
        self.moments = moments;
        Ok(())
    }
}

/// `torch.lerp` on CPU: `a + w(b - a)` for small weights, else `b - (b - a)(1 - w)`.
fn lerp<E: Element>(start: E, end: E, weight: E) -> E {
    if weight.abs() < E::of(0.5) {
        start + weight * (end - start)
    } else {
        end - (end - start) * (E::one() - weight)
    }
}

/// `torch.maximum`: NaN wins.
fn maximum<E: Element>(a: E, b: E) -> E {
    if a.is_nan() || b.is_nan() { E::nan() } else { a.max(b) }
}

/// PyTorch's printout of the optimizer (`Adam (` or `AdamW (`); a zero
/// `weight_decay` prints as `0` for Adam (PyTorch's integer default).
///
/// ```
/// use blocks_core::optim::{Adam, AdamConfig};
/// let opt = Adam::new([&blocks_core::Tensor::ones([1])], AdamConfig::default());
/// assert_eq!(
///     opt.to_string(),
///     "Adam (\nParameter Group 0\n    amsgrad: False\n    betas: (0.9, 0.999)\n    capturable: False\n    \
///      decoupled_weight_decay: False\n    differentiable: False\n    eps: 1e-08\n    foreach: None\n    \
///      fused: None\n    lr: 0.001\n    maximize: False\n    weight_decay: 0\n)"
/// );
/// ```
impl<E: Element> fmt::Display for Adam<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.config;
        let weight_decay =
            if self.adamw { pyrepr::float(c.weight_decay) } else { pyrepr::int_default_zero(c.weight_decay) };
        f.write_str(&pyrepr::optimizer(
            self.class_name(),
            vec![
                ("amsgrad", pyrepr::boolean(c.amsgrad).into()),
                ("betas", format!("({}, {})", pyrepr::float(c.betas.0), pyrepr::float(c.betas.1))),
                ("capturable", "False".into()),
                ("decoupled_weight_decay", pyrepr::boolean(c.decoupled_weight_decay).into()),
                ("differentiable", "False".into()),
                ("eps", pyrepr::float(c.eps)),
                ("foreach", "None".into()),
                ("fused", "None".into()),
                ("lr", pyrepr::float(c.lr)),
                ("maximize", pyrepr::boolean(c.maximize).into()),
                ("weight_decay", weight_decay),
            ],
        ))
    }
}

impl<E: Element> fmt::Debug for Adam<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
