//! `nn.BatchNorm1d` and `nn.BatchNorm2d`: one core, [`DynBatchNorm`]
//! (channels from a config, taking plain tensors), and the typed fronts
//! [`BatchNorm1d<C>`] (on `Batch<C>`) and [`BatchNorm2d<C>`] (on
//! `Images<C>`).

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::images::Images;
use crate::nn::typed::Batch;
use crate::nn::{
    DeepCopy, MapElement, Mapper, Module, Parameter, TrainingFlag, Visitor, register_buffer,
    register_parameter,
};
use crate::optim::pyrepr::{boolean, float};
use crate::{Element, Tensor, TensorBase};

/// The settings of a batch norm layer, with PyTorch's defaults:
/// `eps=1e-5, momentum=0.1, affine=True, bias=True, track_running_stats=True`.
///
/// `momentum: None` makes the running statistics a cumulative average
/// (factor `1 / num_batches_tracked`), as PyTorch's `momentum=None`.
///
/// ```
/// use blocks_core::nn::BatchNormOptions;
/// let options = BatchNormOptions { momentum: None, ..Default::default() };
/// assert_eq!((options.eps, options.affine, options.track_running_stats), (1e-5, true, true));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchNormOptions {
    /// Added to the variance before its square root.
    pub eps: f64,
    /// The weight of each new batch in the running statistics, or `None`
    /// for a cumulative average.
    pub momentum: Option<f64>,
    /// Whether the layer has a learnable per-channel scale (`weight`) and shift (`bias`).
    pub affine: bool,
    /// Whether an affine layer has its shift (`bias`).
    pub bias: bool,
    /// Whether the layer keeps running statistics (buffers `running_mean`,
    /// `running_var`, `num_batches_tracked`) and uses them in eval.
    pub track_running_stats: bool,
}

impl Default for BatchNormOptions {
    fn default() -> Self {
        BatchNormOptions {
            eps: 1e-5,
            momentum: Some(0.1),
            affine: true,
            bias: true,
            track_running_stats: true,
        }
    }
}

/// Batch normalization over the channel dim whose channel count is known
/// only at run time: [`DynBatchNorm1d`] (`nn.BatchNorm1d`, inputs `[N, C]`
/// or `[N, C, L]`) and [`DynBatchNorm2d`] (`nn.BatchNorm2d`, `[N, C, H, W]`).
///
/// In training it normalizes with the batch's statistics (biased variance)
/// and, when it tracks running statistics, adds 1 to `num_batches_tracked`
/// and blends the batch mean and **unbiased** variance into `running_mean`
/// and `running_var`; in eval it normalizes with the running statistics.
///
/// ```
/// use blocks_core::nn::{BatchNormOptions, DynBatchNorm1d, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let bn = DynBatchNorm1d::new(2, BatchNormOptions::default());
/// assert_eq!(bn.to_string(), "BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)");
/// let y = bn.forward(&Tensor::from_vec(vec![1.0, 0.0, 3.0, 0.0], [2, 2]));
/// assert_eq!(y.to_vec()[0].round(), -1.0);
/// assert_eq!(bn.parameter("running_mean").unwrap().to_vec(), vec![0.2, 0.0]);
/// assert_eq!(bn.parameter("num_batches_tracked").unwrap().item(), 1.0);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", manual, input = "TensorBase<E>")]
pub struct DynBatchNorm<const D: usize, E: Element = f32> {
    num_features: usize,
    options: BatchNormOptions,
    weight: Option<Parameter<E>>,
    bias: Option<Parameter<E>>,
    running: Option<Running<E>>,
    training: TrainingFlag,
    hooks: Hooks,
}

/// The buffers of a layer that tracks running statistics (also `SyncBatchNorm`'s).
#[derive(Clone)]
pub(crate) struct Running<E: Element> {
    pub(crate) mean: TensorBase<E>,
    pub(crate) var: TensorBase<E>,
    /// An integer count, stored exactly in a float32 tensor (whatever `E`)
    /// up to 2^24 and saved as int64 (PyTorch's dtype).
    pub(crate) num_batches_tracked: Tensor,
}

impl Running<f32> {
    /// PyTorch's starting statistics: zero means, unit variances, no batch.
    pub(crate) fn new(num_features: usize) -> Self {
        Running {
            mean: Tensor::zeros([num_features]),
            var: Tensor::ones([num_features]),
            num_batches_tracked: Tensor::scalar(0.0),
        }
    }
}

impl<E: Element> Running<E> {
    /// Reports the buffers under PyTorch's keys.
    pub(crate) fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        register_buffer(visitor, "running_mean", &self.mean);
        register_buffer(visitor, "running_var", &self.var);
        visitor.integer_buffer("num_batches_tracked", &self.num_batches_tracked);
    }

    /// The buffers in element type `F` (the count stays as it is stored).
    pub(crate) fn map_element<F: Element>(&self, mapper: &mut Mapper) -> Running<F> {
        Running {
            mean: self.mean.map_element(mapper),
            var: self.var.map_element(mapper),
            num_batches_tracked: self.num_batches_tracked.map_element(mapper),
        }
    }
}

impl BatchNormOptions {
    /// PyTorch's `extra_repr` of a batch norm over `num_features` channels.
    pub(crate) fn repr(&self, num_features: usize) -> String {
        format!(
            "{num_features}, eps={}, momentum={}, affine={}, bias={}, track_running_stats={}",
            float(self.eps),
            self.momentum.map_or("None".to_string(), float),
            boolean(self.affine),
            boolean(self.bias),
            boolean(self.track_running_stats)
        )
    }
}

/// `nn.BatchNorm1d` with its channels chosen at run time (see [`DynBatchNorm`]).
pub type DynBatchNorm1d = DynBatchNorm<1>;

/// `nn.BatchNorm2d` with its channels chosen at run time (see [`DynBatchNorm`]).
pub type DynBatchNorm2d = DynBatchNorm<2>;

impl<const D: usize> DynBatchNorm<D> {
    /// A layer over `num_features` channels: weight 1, bias 0, running mean
    /// 0, running variance 1, no batches tracked, as PyTorch starts it.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNormOptions, DynBatchNorm2d, Module, ModuleExt};
    /// let bn = DynBatchNorm2d::new(3, BatchNormOptions::default());
    /// let keys = bn.state_dict().keys().into_iter().map(String::from).collect::<Vec<_>>();
    /// assert_eq!(keys, ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
    /// ```
    pub fn new(num_features: usize, options: BatchNormOptions) -> Self {
        let affine = options.affine;
        DynBatchNorm {
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

impl<const D: usize, E: Element> DynBatchNorm<D, E> {
    /// The number of channels.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNormOptions, DynBatchNorm1d};
    /// assert_eq!(DynBatchNorm1d::new(4, BatchNormOptions::default()).num_features(), 4);
    /// ```
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The settings.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNormOptions, DynBatchNorm1d};
    /// assert_eq!(DynBatchNorm1d::new(4, BatchNormOptions::default()).options().eps, 1e-5);
    /// ```
    pub fn options(&self) -> BatchNormOptions {
        self.options
    }

    /// The per-channel scale, if the layer is affine.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNormOptions, DynBatchNorm1d};
    /// assert_eq!(DynBatchNorm1d::new(2, BatchNormOptions::default()).weight().unwrap().to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn weight(&self) -> Option<&Parameter<E>> {
        self.weight.as_ref()
    }

    /// The per-channel shift, if the layer has one.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNormOptions, DynBatchNorm1d};
    /// assert_eq!(DynBatchNorm1d::new(2, BatchNormOptions::default()).bias().unwrap().to_vec(), vec![0.0, 0.0]);
    /// ```
    pub fn bias(&self) -> Option<&Parameter<E>> {
        self.bias.as_ref()
    }

    /// Panics unless `x` has the dims this layer takes and `num_features` channels in dim 1.
    #[track_caller]
    fn check_input(&self, x: &TensorBase<E>) {
        let shape = x.shape();
        let (dims_ok, expected) = if D == 1 {
            (shape.len() == 2 || shape.len() == 3, "2D or 3D input")
        } else {
            (shape.len() == 4, "4D input")
        };
        if !dims_ok {
            panic!(
                "{}: expected {expected}, got a tensor of shape {shape:?}{}",
                self.type_name(),
                crate::nn::path::describe()
            );
        }
        if shape[1] != self.num_features {
            panic!(
                "{self} takes {} channels (in dimension 1), but got a tensor of shape {shape:?}{}",
                self.num_features,
                crate::nn::path::describe()
            );
        }
    }

    /// The forward on a checked tensor.
    #[track_caller]
    fn normalize(&self, x: &TensorBase<E>) -> TensorBase<E> {
        let eps = E::of(self.options.eps);
        let (weight, bias) = (self.weight.as_deref(), self.bias.as_deref());
        let training = self.training.get();
        match &self.running {
            Some(running) if !training => x.batch_norm_eval(&running.mean, &running.var, weight, bias, eps),
            running => {
                let (y, stats) = x.batch_norm_train(weight, bias, eps);
                if let Some(running) = running.as_ref().filter(|_| training) {
                    // One in-place update under the tensor's lock, so forwards
                    // in several threads each count once.
                    let count = running.num_batches_tracked.update_data(|tracked| {
                        tracked.map_inplace(|n| *n += 1.0);
                        tracked.iter().next().copied().unwrap_or(1.0)
                    });
                    stats.update_running(&running.mean, &running.var, self.options.momentum, count as u64);
                }
                y
            }
        }
    }
}

impl<const D: usize, E: Element, Fed: crate::nn::FeedsInto<TensorBase<E>, Self>> Forward<Fed>
    for DynBatchNorm<D, E>
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
impl<const D: usize, E: Element> Module for DynBatchNorm<D, E> {
    fn type_name(&self) -> String {
        format!("BatchNorm{D}d")
    }

    fn extra_repr(&self) -> String {
        self.options.repr(self.num_features)
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

impl<const D: usize, E: Element> MapElement for DynBatchNorm<D, E> {
    type As<F: Element> = DynBatchNorm<D, F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> DynBatchNorm<D, F> {
        DynBatchNorm {
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
impl<const D: usize, E: Element> DeepCopy for DynBatchNorm<D, E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.map_element::<E>(mapper)
    }
}

/// Batch normalization of `Batch<C>` rows (`[N, C]`), with `C` in its
/// type, like `nn.BatchNorm1d(C)`; for `[N, C, L]` signals use
/// [`DynBatchNorm1d`].
///
/// ```
/// use blocks_core::nn::{Batch, BatchNorm1d, Module, ModuleExt};
/// let bn = BatchNorm1d::<32>::new();
/// assert_eq!(bn.to_string(), "BatchNorm1d(32, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)");
/// let y: Batch<32> = bn.forward(&Batch::<32>::rand(4));
/// assert_eq!(y.shape(), vec![4, 32]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Batch<C, E>")]
pub struct BatchNorm1d<const C: usize, E: Element = f32> {
    layer: DynBatchNorm<1, E>,
}

impl<const C: usize> BatchNorm1d<C> {
    /// The layer with PyTorch's defaults (see [`BatchNormOptions`]).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::BatchNorm1d::<6>::new().core().num_features(), 6);
    /// ```
    pub fn new() -> Self {
        Self::with_options(BatchNormOptions::default())
    }

    /// The layer with the given settings.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNorm1d, BatchNormOptions};
    /// let bn = BatchNorm1d::<2>::with_options(BatchNormOptions { momentum: None, ..Default::default() });
    /// assert!(bn.to_string().contains("momentum=None"));
    /// ```
    pub fn with_options(options: BatchNormOptions) -> Self {
        BatchNorm1d { layer: DynBatchNorm::new(C, options) }
    }
}

impl<const C: usize, E: Element> BatchNorm1d<C, E> {
    /// The run-time core (settings, weight, bias).
    ///
    /// ```
    /// assert!(blocks_core::nn::BatchNorm1d::<2>::new().core().weight().is_some());
    /// ```
    pub fn core(&self) -> &DynBatchNorm<1, E> {
        &self.layer
    }
}

impl<const C: usize> Default for BatchNorm1d<C> {
    fn default() -> Self {
        Self::new()
    }
}

/// Takes `Batch<C>`, or a plain tensor checked at run time.
impl<const C: usize, E: Element, Fed: crate::nn::FeedsInto<Batch<C, E>, Self>> Forward<Fed>
    for BatchNorm1d<C, E>
{
    type Output = crate::nn::Checked<Fed, Batch<C, E>, Self, Batch<C, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Batch<C, E> {
        let x: &Batch<C, E> = &given.feed_into();
        self.layer.check_input(x);
        Batch::trusted(self.layer.normalize(x))
    }
}

/// Batch normalization of `Images<C>` (`[N, C, H, W]`), with `C` in its
/// type, like `nn.BatchNorm2d(C)`: feeding it other channels is a
/// compile error.
///
/// ```
/// use blocks_core::nn::{BatchNorm2d, Images, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let bn = BatchNorm2d::<6>::new();
/// bn.eval();
/// let y: Images<6> = bn.forward(&Images::<6>::new(Tensor::ones([1, 6, 2, 2])));
/// assert!(y.to_vec().iter().all(|v| (v - 1.0).abs() < 1e-4)); // running stats 0 and 1
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Images<C, E>")]
pub struct BatchNorm2d<const C: usize, E: Element = f32> {
    layer: DynBatchNorm<2, E>,
}

impl<const C: usize> BatchNorm2d<C> {
    /// The layer with PyTorch's defaults (see [`BatchNormOptions`]).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::BatchNorm2d::<6>::new().core().num_features(), 6);
    /// ```
    pub fn new() -> Self {
        Self::with_options(BatchNormOptions::default())
    }

    /// The layer with the given settings.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNorm2d, BatchNormOptions};
    /// let bn = BatchNorm2d::<2>::with_options(BatchNormOptions { momentum: None, ..Default::default() });
    /// assert!(bn.to_string().contains("momentum=None"));
    /// ```
    pub fn with_options(options: BatchNormOptions) -> Self {
        BatchNorm2d { layer: DynBatchNorm::new(C, options) }
    }
}

impl<const C: usize, E: Element> BatchNorm2d<C, E> {
    /// The run-time core (settings, weight, bias).
    ///
    /// ```
    /// assert!(blocks_core::nn::BatchNorm2d::<2>::new().core().weight().is_some());
    /// ```
    pub fn core(&self) -> &DynBatchNorm<2, E> {
        &self.layer
    }
}

impl<const C: usize> Default for BatchNorm2d<C> {
    fn default() -> Self {
        Self::new()
    }
}

/// Takes `Images<C>`, or a plain tensor checked at run time.
impl<const C: usize, E: Element, Fed: crate::nn::FeedsInto<Images<C, E>, Self>> Forward<Fed>
    for BatchNorm2d<C, E>
{
    type Output = crate::nn::Checked<Fed, Images<C, E>, Self, Images<C, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Images<C, E> {
        let x: &Images<C, E> = &given.feed_into();
        self.layer.check_input(x);
        Images::trusted(self.layer.normalize(x))
    }
}
