//! `nn.LazyLinear`: a fully connected layer whose input width is found at
//! its first forward.

use crate::nn::Hooks;
use std::sync::{Arc, Mutex, OnceLock};

use crate::nn::forward::Forward;
use crate::nn::{
    DeepCopy, DynLinear, MapElement, Mapper, Module, Parameter, TrainingFlag, Visitor, register_parameter,
};
use crate::{Element, TensorBase};

/// A fully connected layer that learns its input width from the first batch
/// it sees, like `nn.LazyLinear(out_features)`.
///
/// Until then its weight and bias are uninitialized ([`Parameter::is_initialized`]
/// is false): it prints `LazyLinear(in_features=0, ...)`, saving it or
/// initializing its parameters is an error, and `load_state_dict` materializes
/// them from the checkpoint instead. The first forward draws them as
/// `nn.Linear` does and from then on it is an ordinary `Linear`: it prints as
/// one and `downcast_ref::<DynLinear>()` gives it. Everything goes through `&self`;
/// two threads running the first forward at once materialize it once.
/// A clone shares the parameters (a tied layer).
///
/// ```
/// use blocks_core::nn::{LazyLinear, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let layer = LazyLinear::new(256);
/// assert_eq!(layer.to_string(), "LazyLinear(in_features=0, out_features=256, bias=True)");
/// let y = layer.forward(&Tensor::rand([2, 20])); // the dry run
/// assert_eq!(y.shape(), vec![2, 256]);
/// assert_eq!(layer.to_string(), "Linear(in_features=20, out_features=256, bias=True)");
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", manual, input = "TensorBase<E>")]
pub struct LazyLinear<E: Element = f32> {
    out_features: usize,
    weight: Parameter<E>,
    bias: Option<Parameter<E>>,
    /// The layer once both parameters have values (sharing them).
    linear: OnceLock<DynLinear<E>>,
    /// Held by the first forward while it draws the parameters.
    init_lock: Arc<Mutex<()>>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl LazyLinear {
    /// A lazy layer with `out_features` outputs and a bias.
    ///
    /// ```
    /// let layer = blocks_core::nn::LazyLinear::new(10);
    /// assert_eq!((layer.in_features(), layer.out_features()), (0, 10));
    /// ```
    pub fn new(out_features: usize) -> Self {
        Self::with_bias(out_features, true)
    }

    /// Like [`new`](Self::new), with or without a bias (`bias=False`).
    ///
    /// ```
    /// let layer = blocks_core::nn::LazyLinear::with_bias(10, false);
    /// assert!(layer.bias().is_none());
    /// ```
    pub fn with_bias(out_features: usize, bias: bool) -> Self {
        LazyLinear {
            hooks: Hooks::new(),
            out_features,
            weight: Parameter::uninitialized(&[Some(out_features), None]),
            bias: bias.then(|| Parameter::uninitialized(&[Some(out_features)])),
            linear: OnceLock::new(),
            init_lock: Arc::new(Mutex::new(())),
            training: TrainingFlag::default(),
        }
    }
}

impl<E: Element> LazyLinear<E> {
    /// The input width: 0 until it is known, as PyTorch reports.
    ///
    /// ```
    /// use blocks_core::{nn::LazyLinear, Tensor};
    /// let layer = LazyLinear::new(3);
    /// layer.forward(&Tensor::ones([1, 7]));
    /// assert_eq!(layer.in_features(), 7);
    /// ```
    pub fn in_features(&self) -> usize {
        if self.weight.is_initialized() { self.weight.shape()[1] } else { 0 }
    }

    /// The number of outputs.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::LazyLinear::new(3).out_features(), 3);
    /// ```
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// The weight, `(out_features, in_features)` once materialized.
    ///
    /// ```
    /// assert!(!blocks_core::nn::LazyLinear::new(3).weight().is_initialized());
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        &self.weight
    }

    /// The bias, `(out_features)`, if the layer has one.
    ///
    /// ```
    /// assert!(blocks_core::nn::LazyLinear::new(3).bias().is_some());
    /// ```
    pub fn bias(&self) -> Option<&Parameter<E>> {
        self.bias.as_ref()
    }

    /// Whether a parameter is still waiting for its shape, like PyTorch's
    /// `has_uninitialized_params()`.
    ///
    /// ```
    /// use blocks_core::{nn::LazyLinear, Tensor};
    /// let layer = LazyLinear::new(3);
    /// assert!(layer.has_uninitialized_params());
    /// layer.forward(&Tensor::ones([1, 2]));
    /// assert!(!layer.has_uninitialized_params());
    /// ```
    pub fn has_uninitialized_params(&self) -> bool {
        !self.weight.is_initialized() || self.bias.as_ref().is_some_and(|b| !b.is_initialized())
    }

    /// The ordinary `Linear` this layer has become, once its parameters have
    /// values (from a forward or a checkpoint); `None` before.
    ///
    /// ```
    /// use blocks_core::{nn::LazyLinear, Tensor};
    /// let layer = LazyLinear::new(3);
    /// assert!(layer.linear().is_none());
    /// layer.forward(&Tensor::ones([1, 2]));
    /// assert_eq!(layer.linear().unwrap().in_features(), 2);
    /// ```
    pub fn linear(&self) -> Option<&DynLinear<E>> {
        if let Some(linear) = self.linear.get() {
            return Some(linear);
        }
        if self.has_uninitialized_params() {
            return None;
        }
        Some(self.linear.get_or_init(|| {
            let linear = DynLinear::from_parameters(self.weight.clone(), self.bias.clone());
            linear.set_training(self.training.get());
            linear
        }))
    }

    /// Materializes what is still uninitialized for an input of `width` features.
    fn initialize(&self, width: usize) {
        let _guard = self.init_lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let fresh_bias = self.bias.as_ref().filter(|b| !b.is_initialized());
        if !self.weight.is_initialized() {
            let weight = TensorBase::<E>::zeros([self.out_features, width]);
            let bias = fresh_bias.map(|_| TensorBase::<E>::zeros([self.out_features]));
            crate::nn::init::reset_linear(&weight, bias.as_ref());
            self.weight.materialize_with(|| weight).expect("the weight is drawn in its own shape");
            if let (Some(parameter), Some(values)) = (fresh_bias, bias) {
                parameter.materialize_with(|| values).expect("the bias is drawn in its own shape");
            }
        } else if let Some(parameter) = fresh_bias {
            // The weight came from a checkpoint without the bias: draw the bias alone.
            let (fan_in, values) = (self.in_features(), TensorBase::<E>::zeros([self.out_features]));
            let bound = if fan_in > 0 { 1.0 / (fan_in as f64).sqrt() } else { 0.0 };
            crate::nn::init::uniform_(&values, -bound, bound);
            parameter.materialize_with(|| values).expect("the bias is drawn in its own shape");
        }
    }
}

impl<E: Element, Fed: crate::nn::FeedsInto<TensorBase<E>, Self>> Forward<Fed> for LazyLinear<E> {
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let x: &TensorBase<E> = &given.feed_into();
        if self.has_uninitialized_params() {
            let shape = x.shape();
            let Some(&width) = shape.last() else {
                panic!(
                    "{self} needs an input whose last dimension holds the features, got a 0-dimensional \
                     tensor{}",
                    crate::nn::path::describe()
                );
            };
            self.initialize(width);
        }
        Forward::forward(self.linear().expect("materialized above"), x)
    }
}

#[diagnostic::do_not_recommend]
impl<E: Element> Module for LazyLinear<E> {
    fn type_name(&self) -> String {
        if self.linear().is_some() { "Linear" } else { "LazyLinear" }.into()
    }

    fn extra_repr(&self) -> String {
        let bias = if self.bias.is_some() { "True" } else { "False" };
        format!("in_features={}, out_features={}, bias={bias}", self.in_features(), self.out_features)
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        register_parameter(visitor, "weight", &self.weight);
        if let Some(bias) = &self.bias {
            register_parameter(visitor, "bias", bias);
        }
        visitor.training_flag(&self.training);
        visitor.hooks(&self.hooks);
    }

    fn core(&self) -> Option<&dyn Module> {
        Some(self.linear()?)
    }

    /// Sets the mode here and on the `Linear` it became, if it has.
    fn set_training(&self, training: bool) {
        self.training.set(training);
        if let Some(linear) = self.linear.get() {
            linear.set_training(training);
        }
    }
}

/// The layer in element type `F`: uninitialized parameters stay
/// uninitialized (the first forward draws them in `F`), initialized ones are
/// converted.
impl<E: Element> MapElement for LazyLinear<E> {
    type As<F: Element> = LazyLinear<F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> LazyLinear<F> {
        LazyLinear {
            hooks: self.hooks.clone(),
            out_features: self.out_features,
            weight: self.weight.map_element(mapper),
            bias: self.bias.map_element(mapper),
            linear: OnceLock::new(),
            init_lock: Arc::new(Mutex::new(())),
            training: self.training.clone(),
        }
    }
}

/// The copy is the map to the layer's own element type.
impl<E: Element> DeepCopy for LazyLinear<E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.map_element::<E>(mapper)
    }
}
