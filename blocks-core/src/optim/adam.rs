//! `torch.optim.Adam` and `AdamW`: one type, as in PyTorch 2.x, where AdamW
//! is Adam with `decoupled_weight_decay=True`.

use ndarray::{ArrayD, Zip};
use serde_json::{Map, Value};

use super::fields::{self, Field, Fields};
use super::optimizer::{Allowed, ConfigError, nonnegative};
use super::rule::{Rule, Slot, check_betas, lerp, maximum, require};
use super::{Grouped, StateError, pyrepr};
use crate::threading::in_parts;
use crate::{Element, TensorBase};

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
        require(nonnegative(self.lr), "learning rate", self.lr)?;
        require(nonnegative(self.eps), "epsilon value", self.eps)?;
        check_betas(self.betas)?;
        require(nonnegative(self.weight_decay), "weight_decay value", self.weight_decay)
    }
}

/// Adam and AdamW, exactly `torch.optim.Adam` (whose
/// `decoupled_weight_decay=True` is `torch.optim.AdamW`).
///
/// For each parameter θ with gradient g at step t, in the parameters' dtype
/// as PyTorch does it (float32, or float64 for a model after `to_f64`:
/// `Adam<f64>` over `net.parameters_of::<f64>()`; scalars in float64): weight decay (`θ ← θ(1-γλ)` decoupled, else
/// `g ← g + λθ`), `m ← lerp(m, g, 1-β₁)`, `v ← β₂v + (1-β₂)g²`, with AMSGrad
/// `v̂ ← max(v̂, v)`, then `θ ← θ - γ/(1-β₁ᵗ) · m / (√v / √(1-β₂ᵗ) + ε)`.
/// Each parameter group has its own values ([`with_groups`](Grouped::with_groups)).
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
///
/// It prints as PyTorch prints it (`Adam (` or `AdamW (`); a zero
/// `weight_decay` prints as `0` for Adam (PyTorch's integer default):
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
pub type Adam<E = f32> = Grouped<AdamConfig, E>;

impl<E: Element> Grouped<AdamConfig, E> {
    /// AdamW, like `torch.optim.AdamW(params, ...)`, with
    /// [`AdamWConfig`](super::AdamWConfig)'s defaults (`weight_decay=1e-2`).
    /// It prints and saves as `AdamW`.
    ///
    /// # Panics
    ///
    /// With PyTorch's message on an invalid configuration.
    ///
    /// ```
    /// use blocks_core::optim::{Adam, AdamWConfig};
    /// let w = blocks_core::Tensor::ones([1]);
    /// let opt = Adam::adamw([&w], AdamWConfig { lr: 1e-2, ..Default::default() });
    /// assert!(opt.config().decoupled_weight_decay && opt.config().weight_decay == 1e-2);
    /// assert!(opt.to_string().starts_with("AdamW ("));
    /// ```
    #[track_caller]
    pub fn adamw<P: AsRef<TensorBase<E>>>(
        params: impl IntoIterator<Item = P>,
        config: super::AdamWConfig,
    ) -> Self {
        let mut adam = Self::new(params, config.into());
        adam.set_class("AdamW");
        adam
    }

    /// AdamW over several parameter groups (each config made from an
    /// [`AdamWConfig`](super::AdamWConfig) with `.into()`, or an
    /// [`AdamConfig`] with `decoupled_weight_decay` on).
    ///
    /// # Panics
    ///
    /// With PyTorch's message on an invalid group.
    ///
    /// ```
    /// use blocks_core::optim::{Adam, AdamWConfig, ParamGroup};
    /// let (w, b) = (blocks_core::Tensor::ones([2]), blocks_core::Tensor::ones([1]));
    /// let base = AdamWConfig { lr: 1e-3, ..Default::default() };
    /// let opt = Adam::adamw_with_groups(vec![
    ///     ParamGroup::new([&w], base.into()),
    ///     ParamGroup::new([&b], AdamWConfig { weight_decay: 0.0, ..base }.into()),
    /// ]);
    /// assert!(opt.to_string().starts_with("AdamW ("));
    /// ```
    #[track_caller]
    pub fn adamw_with_groups(groups: Vec<super::ParamGroup<AdamConfig, E>>) -> Self {
        let mut adam = Self::with_groups(groups);
        adam.set_class("AdamW");
        adam
    }
}

impl Fields for AdamConfig {
    fn fields(&mut self) -> Vec<(&'static str, Field<'_>)> {
        vec![
            ("lr", Field::Number(&mut self.lr)),
            ("betas", Field::Pair(&mut self.betas)),
            ("eps", Field::Number(&mut self.eps)),
            ("weight_decay", Field::Number(&mut self.weight_decay)),
            ("amsgrad", Field::Flag(&mut self.amsgrad)),
            ("maximize", Field::Flag(&mut self.maximize)),
            ("decoupled_weight_decay", Field::Flag(&mut self.decoupled_weight_decay)),
        ]
    }
}

impl Rule for AdamConfig {
    const NAMES: &'static [&'static str] = &["Adam", "AdamW"];
    const STEP: bool = true;
    const BUFFERS: &'static [(&'static str, Allowed)] = &[
        ("exp_avg", Allowed::Finite),
        ("exp_avg_sq", Allowed::FiniteNonNegative),
        ("max_exp_avg_sq", Allowed::FiniteNonNegative),
    ];
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

    fn from_json(group: &Map<String, Value>, class: &str) -> Result<Self, StateError> {
        let mut config: AdamConfig = fields::from_json(group)?;
        // As PyTorch's AdamW.__setstate__: an AdamW stays decoupled whatever it loads.
        config.decoupled_weight_decay |= class == "AdamW";
        Ok(config)
    }

    fn repr(&self, class: &str) -> Vec<(&'static str, String)> {
        let weight_decay = if class == "AdamW" {
            pyrepr::float(self.weight_decay)
        } else {
            pyrepr::int_default_zero(self.weight_decay)
        };
        vec![
            ("amsgrad", pyrepr::boolean(self.amsgrad).into()),
            ("betas", super::rule::pair_repr(self.betas)),
            ("capturable", "False".into()),
            ("decoupled_weight_decay", pyrepr::boolean(self.decoupled_weight_decay).into()),
            ("differentiable", "False".into()),
            ("eps", pyrepr::float(self.eps)),
            ("foreach", "None".into()),
            ("fused", "None".into()),
            ("lr", pyrepr::float(self.lr)),
            ("maximize", pyrepr::boolean(self.maximize).into()),
            ("weight_decay", weight_decay),
        ]
    }

    fn initial(&self, buffer: usize) -> Option<f64> {
        (buffer < 2 || self.amsgrad).then_some(0.0)
    }

    fn update<E: Element>(&self, slot: &mut Slot<E>, data: &mut ArrayD<E>, grad: &ArrayD<E>) {
        let c = *self;
        let (beta1, beta2) = c.betas;
        // Scalars PyTorch hands to the kernels in the parameters' dtype, rounded once.
        let weight_decay = E::of(c.weight_decay);
        let decay = E::of(1.0 - c.lr * c.weight_decay);
        let lerp_weight = E::of(1.0 - beta1);
        let beta2_e = E::of(beta2);
        let one_minus_beta2 = E::of(1.0 - beta2);
        let eps = E::of(c.eps);
        // Python floats: the step count read back as a double.
        let step = f64::from(slot.step);
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
        let [Some(m), Some(v), v_max] = &mut slot.buffers[..] else {
            unreachable!("exp_avg and exp_avg_sq are made before the update")
        };
        // Long parameters are updated in parts on several threads.
        let len = data.len();
        match (v_max, c.amsgrad) {
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
    }
}
