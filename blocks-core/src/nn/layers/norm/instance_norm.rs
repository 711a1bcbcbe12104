//! `nn.InstanceNorm1d` and `nn.InstanceNorm2d`: one core,
//! [`DynInstanceNorm`] (channels from a config, taking plain tensors), and
//! the typed fronts [`InstanceNorm1d<C>`] and [`InstanceNorm2d<C>`] (on
//! `Images<C>`).
//!
//! As in PyTorch, the input `[N, C, ...]` is seen as one batch of `N · C`
//! channels (`[1, N·C, ...]`), batch-normalized, and seen back
//! (ViewBackward0); the running statistics, when tracked, take the mean of
//! the `N` instances' statistics.

use super::batch_norm::Running;
use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::images::Images;
use crate::nn::{DeepCopy, MapElement, Mapper, Module, Parameter, TrainingFlag, Visitor, register_parameter};
use crate::optim::pyrepr::{boolean, float};
use crate::{BatchNormStats, Element, Tensor, TensorBase};

/// The settings of an instance norm layer, with PyTorch's defaults:
/// `eps=1e-5, momentum=0.1, affine=False, bias=True, track_running_stats=False`
/// (`bias` counts only with `affine`; `momentum: None` leaves the running
/// statistics as they are, as PyTorch passes 0 for it).
///
/// ```
/// use blocks_core::nn::InstanceNormOptions;
/// let options = InstanceNormOptions::default();
/// assert_eq!((options.eps, options.affine, options.track_running_stats), (1e-5, false, false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InstanceNormOptions {
    /// Added to the variance before its square root.
    pub eps: f64,
    /// The weight of each new batch in the running statistics.
    pub momentum: Option<f64>,
    /// Whether the layer has a learnable per-channel scale (`weight`) and shift (`bias`).
    pub affine: bool,
    /// Whether an affine layer has its shift (`bias`).
    pub bias: bool,
    /// Whether the layer keeps running statistics (buffers `running_mean`,
    /// `running_var`, `num_batches_tracked`) and uses them in eval.
    pub track_running_stats: bool,
}

impl Default for InstanceNormOptions {
    fn default() -> Self {
        InstanceNormOptions {
            eps: 1e-5,
            momentum: Some(0.1),
            affine: false,
            bias: true,
            track_running_stats: false,
        }
    }
}

/// Instance normalization (each channel of each sample over its positions)
/// whose channel count is known only at run time: [`DynInstanceNorm1d`]
/// (`nn.InstanceNorm1d`, `[N, C, L]` or unbatched `[C, L]`) and
/// [`DynInstanceNorm2d`] (`nn.InstanceNorm2d`, `[N, C, H, W]` or `[C, H, W]`).
///
/// In training, or always without running statistics, it normalizes with
/// each instance's statistics (biased variance); tracking running
/// statistics, training blends the mean over the batch of the instances'
/// means and **unbiased** variances into `running_mean` and `running_var`
/// (leaving `num_batches_tracked` as it is, as PyTorch does), and eval
/// normalizes with them.
///
/// ```
/// use blocks_core::nn::{DynInstanceNorm2d, InstanceNormOptions, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let norm = DynInstanceNorm2d::new(2, InstanceNormOptions::default());
/// assert_eq!(
///     norm.to_string(),
///     "InstanceNorm2d(2, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"
/// );
/// let y = norm.forward(&Tensor::from_vec(vec![1.0, 3.0, 5.0, 5.0], [1, 2, 1, 2]));
/// assert_eq!(y.to_vec()[..2].iter().map(|v| v.round()).collect::<Vec<_>>(), vec![-1.0, 1.0]);
/// assert_eq!(y.to_vec()[2..], [0.0, 0.0]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", manual, input = "TensorBase<E>")]
pub struct DynInstanceNorm<const D: usize, E: Element = f32> {
    num_features: usize,
    options: InstanceNormOptions,
    weight: Option<Parameter<E>>,
    bias: Option<Parameter<E>>,
    running: Option<Running<E>>,
    training: TrainingFlag,
    hooks: Hooks,
}

/// `nn.InstanceNorm1d` with channels chosen at run time (see [`DynInstanceNorm`]).
pub type DynInstanceNorm1d = DynInstanceNorm<1>;

/// `nn.InstanceNorm2d` with channels chosen at run time (see [`DynInstanceNorm`]).
pub type DynInstanceNorm2d = DynInstanceNorm<2>;

impl<const D: usize> DynInstanceNorm<D> {
    /// A layer over `num_features` channels: with `affine`, weight 1 and
    /// bias 0; with `track_running_stats`, zero means and unit variances.
    ///
    /// ```
    /// use blocks_core::nn::{DynInstanceNorm1d, InstanceNormOptions, ModuleExt};
    /// let options = InstanceNormOptions { affine: true, track_running_stats: true, ..Default::default() };
    /// let norm = DynInstanceNorm1d::new(3, options);
    /// let keys = vec!["weight", "bias", "running_mean", "running_var", "num_batches_tracked"];
    /// assert_eq!(norm.state_dict().keys(), keys);
    /// ```
    pub fn new(num_features: usize, options: InstanceNormOptions) -> Self {
        let affine = options.affine;
        DynInstanceNorm {
            hooks: Hooks::new(),
            num_features,
            options,
            weight: affine.then(|| Parameter::new(Tensor::ones([num_features]))),
            bias: (affine && options.bias).then(|| Parameter::new(Tensor::zeros([num_features]))),
            running: options.track_running_stats.then(|| Running::new(num_features)),
            training: TrainingFlag::default(),
        }
    }
}

impl<const D: usize, E: Element> DynInstanceNorm<D, E> {
    /// The number of channels.
    ///
    /// ```
    /// use blocks_core::nn::{DynInstanceNorm2d, InstanceNormOptions};
    /// assert_eq!(DynInstanceNorm2d::new(4, InstanceNormOptions::default()).num_features(), 4);
    /// ```
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The settings.
    ///
    /// ```
    /// use blocks_core::nn::{DynInstanceNorm2d, InstanceNormOptions};
    /// assert!(!DynInstanceNorm2d::new(4, InstanceNormOptions::default()).options().affine);
    /// ```
    pub fn options(&self) -> InstanceNormOptions {
        self.options
    }

    /// Panics unless `x` is `[N, C, ...D]` or unbatched `[C, ...D]` with `C = num_features`.
    #[track_caller]
    fn check_input(&self, x: &TensorBase<E>) {
        let shape = x.shape();
        if shape.len() != D + 1 && shape.len() != D + 2 {
            panic!(
                "{}: expected {}D or {}D input, got a tensor of shape {shape:?}{}",
                self.type_name(),
                D + 1,
                D + 2,
                crate::nn::path::describe()
            );
        }
        let channels = shape[shape.len() - D - 1];
        if channels != self.num_features {
            panic!(
                "{self} takes {} channels, but got a tensor of shape {shape:?}{}",
                self.num_features,
                crate::nn::path::describe()
            );
        }
    }

    /// The normalized input, as PyTorch's `F.instance_norm` computes it.
    #[track_caller]
    fn normalize(&self, x: &TensorBase<E>) -> TensorBase<E> {
        if x.shape().len() == D + 1 {
            // Unbatched: one sample, and the batch dim taken off again (SqueezeBackward1).
            return self.normalize(&x.unsqueeze(0)).squeeze_dim(0);
        }
        let shape = x.shape();
        let (n, c) = (shape[0], shape[1]);
        let eps = E::of(self.options.eps);
        let training = self.training.get();
        let signed: Vec<isize> = shape.iter().map(|&s| s as isize).collect();
        if let Some(running) = self.running.as_ref().filter(|_| !training) {
            let (w, b) = (self.weight.as_deref(), self.bias.as_deref());
            let y = x.batch_norm_eval(&running.mean, &running.var, w, b, eps);
            return y.reshape(&signed);
        }
        // [1, N·C, ...]: each instance a channel of one batch.
        let mut wide = vec![1, (n * c) as isize];
        wide.extend_from_slice(&signed[2..]);
        let tiled =
            |p: &TensorBase<E>| p.unsqueeze(0).expand(&[n as isize, c as isize]).reshape(&[(n * c) as isize]);
        let weight = self.weight.as_deref().map(tiled);
        let bias = self.bias.as_deref().map(tiled);
        let (y, stats) = x.reshape(&wide).batch_norm_train(weight.as_ref(), bias.as_ref(), eps);
        if let Some(running) = self.running.as_ref().filter(|_| training) {
            // The mean over the batch of each channel's instance statistics.
            let mean_over_batch = |s: &TensorBase<E>| {
                crate::no_grad(|| s.reshape(&[n as isize, c as isize]).mean_dim(&[0], false))
            };
            let stats = BatchNormStats {
                mean: mean_over_batch(&stats.mean),
                var: mean_over_batch(&stats.var),
                count: stats.count,
            };
            // PyTorch's instance norm leaves `num_batches_tracked` as it is.
            let momentum = Some(self.options.momentum.unwrap_or(0.0));
            stats.update_running(&running.mean, &running.var, momentum, 1);
        }
        y.reshape(&signed)
    }

    /// PyTorch's `extra_repr` (the bias printed as the layer has one).
    fn settings(&self) -> String {
        let o = &self.options;
        format!(
            "{}, eps={}, momentum={}, affine={}, bias={}, track_running_stats={}",
            self.num_features,
            float(o.eps),
            o.momentum.map_or("None".to_string(), float),
            boolean(o.affine),
            boolean(o.affine && o.bias),
            boolean(o.track_running_stats)
        )
    }
}

impl<const D: usize, E: Element, Fed: crate::nn::FeedsInto<TensorBase<E>, Self>> Forward<Fed>
    for DynInstanceNorm<D, E>
{
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let x: &TensorBase<E> = &given.feed_into();
        self.check_input(x);
        self.normalize(x)
    }
}

#[diagnostic::do_not_recommend]
impl<const D: usize, E: Element> Module for DynInstanceNorm<D, E> {
    fn type_name(&self) -> String {
        format!("InstanceNorm{D}d")
    }

    fn extra_repr(&self) -> String {
        self.settings()
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        if let Some(weight) = &self.weight {
            register_parameter(visitor, "weight", weight);
        }
        if let Some(bias) = &self.bias {
            register_parameter(visitor, "bias", bias);
        }
        if let Some(running) = &self.running {
            running.visit(visitor);
        }
        visitor.training_flag(&self.training);
        visitor.hooks(&self.hooks);
    }
}

impl<const D: usize, E: Element> MapElement for DynInstanceNorm<D, E> {
    type As<F: Element> = DynInstanceNorm<D, F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> DynInstanceNorm<D, F> {
        DynInstanceNorm {
            hooks: self.hooks.clone(),
            num_features: self.num_features,
            options: self.options,
            weight: self.weight.map_element(mapper),
            bias: self.bias.map_element(mapper),
            running: self.running.as_ref().map(|running| running.map_element(mapper)),
            training: self.training.clone(),
        }
    }
}

/// The copy is the map to the layer's own element type.
impl<const D: usize, E: Element> DeepCopy for DynInstanceNorm<D, E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.map_element::<E>(mapper)
    }
}

/// `nn.InstanceNorm1d(C)` on signals `[N, C, L]` with the channels in its
/// type: the compiler checks that the block before it gives `C` channels.
///
/// ```
/// use blocks_core::nn::{Images, InstanceNorm1d};
/// use blocks_core::Tensor;
/// let norm = InstanceNorm1d::<3>::new();
/// let y: Images<3> = norm.forward(&Images::<3>::new(Tensor::rand([2, 3, 5])));
/// assert_eq!(y.shape(), vec![2, 3, 5]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Images<C, E>")]
pub struct InstanceNorm1d<const C: usize, E: Element = f32> {
    layer: DynInstanceNorm<1, E>,
}

/// `nn.InstanceNorm2d(C)` on images `[N, C, H, W]` with the channels in its
/// type: the compiler checks that the block before it gives `C` channels.
///
/// ```
/// use blocks_core::nn::{Images, InstanceNorm2d, InstanceNormOptions};
/// use blocks_core::Tensor;
/// let norm = InstanceNorm2d::<3>::with_options(InstanceNormOptions { affine: true, ..Default::default() });
/// let y: Images<3> = norm.forward(&Images::<3>::new(Tensor::rand([2, 3, 4, 4])));
/// assert_eq!(y.shape(), vec![2, 3, 4, 4]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Images<C, E>")]
pub struct InstanceNorm2d<const C: usize, E: Element = f32> {
    layer: DynInstanceNorm<2, E>,
}

impl<const C: usize> InstanceNorm1d<C> {
    /// PyTorch's defaults: no affine, no running statistics.
    ///
    /// ```
    /// assert!(blocks_core::nn::InstanceNorm1d::<4>::new().to_string().starts_with("InstanceNorm1d(4, eps=1e-05"));
    /// ```
    pub fn new() -> Self {
        Self::with_options(InstanceNormOptions::default())
    }

    /// The layer with `options`.
    ///
    /// ```
    /// use blocks_core::nn::{InstanceNorm1d, InstanceNormOptions};
    /// let norm = InstanceNorm1d::<4>::with_options(InstanceNormOptions { track_running_stats: true, ..Default::default() });
    /// assert!(norm.core().options().track_running_stats);
    /// ```
    pub fn with_options(options: InstanceNormOptions) -> Self {
        InstanceNorm1d { layer: DynInstanceNorm::new(C, options) }
    }
}

impl<const C: usize> InstanceNorm2d<C> {
    /// PyTorch's defaults: no affine, no running statistics.
    ///
    /// ```
    /// assert!(blocks_core::nn::InstanceNorm2d::<4>::new().to_string().starts_with("InstanceNorm2d(4, eps=1e-05"));
    /// ```
    pub fn new() -> Self {
        Self::with_options(InstanceNormOptions::default())
    }

    /// The layer with `options`.
    ///
    /// ```
    /// use blocks_core::nn::{InstanceNorm2d, InstanceNormOptions};
    /// let norm = InstanceNorm2d::<4>::with_options(InstanceNormOptions { affine: true, ..Default::default() });
    /// assert!(norm.core().options().affine);
    /// ```
    pub fn with_options(options: InstanceNormOptions) -> Self {
        InstanceNorm2d { layer: DynInstanceNorm::new(C, options) }
    }
}

impl<const C: usize, E: Element> InstanceNorm1d<C, E> {
    /// The run-time core.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::InstanceNorm1d::<4>::new().core().num_features(), 4);
    /// ```
    pub fn core(&self) -> &DynInstanceNorm<1, E> {
        &self.layer
    }
}

impl<const C: usize, E: Element> InstanceNorm2d<C, E> {
    /// The run-time core.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::InstanceNorm2d::<4>::new().core().num_features(), 4);
    /// ```
    pub fn core(&self) -> &DynInstanceNorm<2, E> {
        &self.layer
    }
}

impl<const C: usize> Default for InstanceNorm1d<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const C: usize> Default for InstanceNorm2d<C> {
    fn default() -> Self {
        Self::new()
    }
}

/// Takes `Images<C>` (`[N, C, L]`), or a plain tensor checked at run time.
impl<const C: usize, E: Element, Fed: crate::nn::FeedsInto<Images<C, E>, Self>> Forward<Fed>
    for InstanceNorm1d<C, E>
{
    type Output = crate::nn::Checked<Fed, Images<C, E>, Self, Images<C, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Images<C, E> {
        let x: &Images<C, E> = &given.feed_into();
        self.layer.check_input(x);
        Images::trusted(self.layer.normalize(x))
    }
}

/// Takes `Images<C>` (`[N, C, H, W]`), or a plain tensor checked at run time.
impl<const C: usize, E: Element, Fed: crate::nn::FeedsInto<Images<C, E>, Self>> Forward<Fed>
    for InstanceNorm2d<C, E>
{
    type Output = crate::nn::Checked<Fed, Images<C, E>, Self, Images<C, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Images<C, E> {
        let x: &Images<C, E> = &given.feed_into();
        self.layer.check_input(x);
        Images::trusted(self.layer.normalize(x))
    }
}

#[cfg(test)]
mod tests {
    use crate::nn::{DynInstanceNorm1d, DynInstanceNorm2d, InstanceNormOptions, ModuleExt, ToElement};
    use crate::{Tensor64, gradcheck_module};

    fn input(shape: &[usize]) -> Tensor64 {
        let len = shape.iter().product::<usize>();
        let values = (0..len).map(|i| ((i * 29) % 31) as f64 / 7.0 - 2.0).collect();
        Tensor64::from_vec(values, shape).requires_grad_(true)
    }

    /// The layer in float64, in training and (tracking statistics) in eval,
    /// with its affine parameters, against finite differences.
    #[test]
    fn instance_norm_gradcheck_in_float64() {
        let affine = InstanceNormOptions { affine: true, track_running_stats: true, ..Default::default() };
        let norm = DynInstanceNorm2d::new(3, affine).to_f64();
        let x = input(&[2, 3, 3, 4]);
        let weighted = |y: Tensor64| (&y * &y.tanh()).sum();
        gradcheck_module(&norm, |xs| weighted(norm.forward(&xs[0])), std::slice::from_ref(&x)).unwrap();
        norm.eval();
        gradcheck_module(&norm, |xs| weighted(norm.forward(&xs[0])), std::slice::from_ref(&x)).unwrap();
        let plain = DynInstanceNorm1d::new(4, InstanceNormOptions::default()).to_f64();
        let y = plain.forward(&input(&[4, 5]));
        assert_eq!(y.grad_fn(), Some("SqueezeBackward1"));
        gradcheck_module(&plain, |xs| weighted(plain.forward(&xs[0])), &[input(&[2, 4, 5])]).unwrap();
    }
}
