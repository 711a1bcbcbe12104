//! `nn.Linear`: `Linear<IN, OUT>` with widths in its type, and `DynLinear`
//! with widths chosen at run time (from a config or a checkpoint).

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::typed::Batch;
use crate::nn::{Parameter, TrainingFlag};
use crate::{Element, Tensor, TensorBase};

/// A fully connected layer whose widths are known only at run time, like
/// `nn.Linear(in_features, out_features)`: `y = x Wᵀ + b`, W is `(out, in)`.
///
/// It takes and gives plain tensors; a wrong input width panics naming the
/// layer, both widths and where in a `Sequential` it happened.
///
/// `DynLinear<f64>` is the layer in float64 ([`to_f64`](crate::nn::ToElement::to_f64)).
///
/// ```
/// use blocks_core::nn::{DynLinear, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let hidden = 128; // read from a config
/// let layer = DynLinear::new(64, hidden);
/// assert_eq!(layer.forward(&Tensor::rand([2, 64])).shape(), vec![2, 128]);
/// assert_eq!(layer.to_string(), "Linear(in_features=64, out_features=128, bias=True)");
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "Linear", input = "TensorBase<E>", extra_repr = "Self::settings")]
pub struct DynLinear<E: Element = f32> {
    #[module(skip)]
    in_features: usize,
    #[module(skip)]
    out_features: usize,
    weight: Parameter<E>,
    bias: Option<Parameter<E>>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl DynLinear {
    /// A layer with PyTorch's default initialization: weight and bias from
    /// U(-1/√in, 1/√in) (kaiming_uniform with a = √5), from this thread's generator.
    ///
    /// ```
    /// let layer = blocks_core::nn::DynLinear::new(4, 2);
    /// assert!(layer.weight().to_vec().iter().all(|w| w.abs() <= 0.5));
    /// ```
    pub fn new(in_features: usize, out_features: usize) -> Self {
        Self::with_bias(in_features, out_features, true)
    }

    /// Like [`new`](Self::new), with or without a bias (`bias=False`).
    ///
    /// ```
    /// let layer = blocks_core::nn::DynLinear::with_bias(4, 2, false);
    /// assert!(layer.bias().is_none());
    /// ```
    pub fn with_bias(in_features: usize, out_features: usize, bias: bool) -> Self {
        let weight = Parameter::new(Tensor::zeros([out_features, in_features]));
        let bias = bias.then(|| Parameter::new(Tensor::zeros([out_features])));
        crate::nn::init::reset_linear(&weight, bias.as_ref());
        Self::from_parameters(weight, bias)
    }

    /// Draws new values as PyTorch's `reset_parameters` does (see [`new`](Self::new)).
    ///
    /// ```
    /// let layer = blocks_core::nn::DynLinear::new(4, 2);
    /// blocks_core::nn::init::zeros_(layer.weight());
    /// layer.reset_parameters();
    /// assert!(layer.weight().to_vec().iter().any(|w| *w != 0.0));
    /// ```
    pub fn reset_parameters(&self) {
        crate::nn::init::reset_linear(&self.weight, self.bias.as_ref());
    }
}

impl<E: Element> DynLinear<E> {
    /// A layer on existing parameters (shared handles): weight `(out, in)`, bias `(out)`.
    pub(crate) fn from_parameters(weight: Parameter<E>, bias: Option<Parameter<E>>) -> Self {
        let shape = weight.shape();
        DynLinear {
            hooks: Hooks::new(),
            in_features: shape[1],
            out_features: shape[0],
            weight,
            bias,
            training: TrainingFlag::default(),
        }
    }

    /// A layer holding the given weight `(out, in)` and optional bias `(out)`.
    ///
    /// ```
    /// use blocks_core::{nn::DynLinear, Tensor};
    /// let layer = DynLinear::from_tensors(Tensor::ones([3, 2]), Some(Tensor::zeros([3]))).unwrap();
    /// assert_eq!(layer.out_features(), 3);
    /// assert!(DynLinear::from_tensors(Tensor::ones([3, 2]), Some(Tensor::zeros([2]))).is_err());
    /// ```
    pub fn from_tensors(
        weight: TensorBase<E>,
        bias: Option<TensorBase<E>>,
    ) -> Result<Self, crate::ShapeError> {
        let shape = weight.shape();
        if shape.len() != 2 {
            return Err(crate::ShapeError::new(format!(
                "Linear: the weight must be 2-D (out_features, in_features), got {shape:?}"
            )));
        }
        if let Some(b) = &bias
            && b.shape() != [shape[0]]
        {
            return Err(crate::ShapeError::new(format!(
                "Linear: a weight of shape {shape:?} needs a bias of shape [{}], got {:?}",
                shape[0],
                b.shape()
            )));
        }
        Ok(DynLinear {
            hooks: Hooks::new(),
            in_features: shape[1],
            out_features: shape[0],
            weight: Parameter::new(weight),
            bias: bias.map(Parameter::new),
            training: TrainingFlag::default(),
        })
    }

    /// The number of input features.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynLinear::new(4, 2).in_features(), 4);
    /// ```
    pub fn in_features(&self) -> usize {
        self.in_features
    }

    /// The number of output features.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynLinear::new(4, 2).out_features(), 2);
    /// ```
    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// The weight, `(out_features, in_features)`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynLinear::new(4, 2).weight().shape(), vec![2, 4]);
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        &self.weight
    }

    /// The bias, `(out_features)`, if the layer has one.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynLinear::new(4, 2).bias().unwrap().shape(), vec![2]);
    /// ```
    pub fn bias(&self) -> Option<&Parameter<E>> {
        self.bias.as_ref()
    }
}

impl<E: Element, Fed> Forward<Fed> for DynLinear<E>
where
    Fed: crate::nn::FeedsInto<TensorBase<E>, Self>,
{
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    /// `x Wᵀ + b` on a tensor whose last dimension is `in_features`.
    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let x = given.feed_ref();
        if x.last_dim() != Some(self.in_features) {
            panic!(
                "{self} takes {} input features, but got a tensor of shape {:?}{}",
                self.in_features,
                x.shape(),
                crate::nn::path::describe()
            );
        }
        x.linear(&self.weight, self.bias.as_deref())
    }
}

/// A fully connected layer with its widths in its type, like
/// `nn.Linear(IN, OUT)`: the compiler checks that the block before it gives
/// `IN` features.
///
/// ```
/// use blocks_core::nn::{Batch, Linear, Module, ModuleExt};
/// let layer = Linear::<20, 256>::new();
/// let y = layer.forward(&Batch::<20>::rand(2)); // a Batch<256>
/// assert_eq!(y.shape(), vec![2, 256]);
/// assert_eq!(layer.to_string(), "Linear(in_features=20, out_features=256, bias=True)");
/// ```
///
/// `Linear<IN, OUT, f64>` is the layer in float64, taking `Batch<IN, f64>`:
///
/// ```
/// use blocks_core::nn::{Batch, Linear, ToElement};
/// use blocks_core::Tensor64;
/// let layer: Linear<3, 2, f64> = Linear::<3, 2>::new().to_f64();
/// let y: Batch<2, f64> = layer.forward(&Tensor64::ones([4, 3]));
/// assert_eq!(y.shape(), vec![4, 2]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Batch<IN, E>")]
pub struct Linear<const IN: usize, const OUT: usize, E: Element = f32> {
    layer: DynLinear<E>,
}

impl<const IN: usize, const OUT: usize> Linear<IN, OUT> {
    /// A layer with PyTorch's default initialization (see [`DynLinear::new`]).
    ///
    /// ```
    /// let layer = blocks_core::nn::Linear::<4, 2>::new();
    /// assert_eq!(layer.weight().shape(), vec![2, 4]);
    /// ```
    pub fn new() -> Self {
        Linear { layer: DynLinear::new(IN, OUT) }
    }

    /// A layer without a bias (`bias=False`).
    ///
    /// ```
    /// assert!(blocks_core::nn::Linear::<4, 2>::without_bias().bias().is_none());
    /// ```
    pub fn without_bias() -> Self {
        Linear { layer: DynLinear::with_bias(IN, OUT, false) }
    }
}

impl<const IN: usize, const OUT: usize, E: Element> Linear<IN, OUT, E> {
    /// The weight, `(OUT, IN)`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Linear::<4, 2>::new().weight().shape(), vec![2, 4]);
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        self.layer.weight()
    }

    /// The bias, `(OUT)`, if any.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Linear::<4, 2>::new().bias().unwrap().shape(), vec![2]);
    /// ```
    pub fn bias(&self) -> Option<&Parameter<E>> {
        self.layer.bias()
    }
}

impl<const IN: usize, const OUT: usize> Default for Linear<IN, OUT> {
    fn default() -> Self {
        Self::new()
    }
}

/// Takes `Batch<IN>`, or a plain tensor (or `Flat`) checked at run time;
/// reads the tensor given, no handle made.
impl<const IN: usize, const OUT: usize, E: Element, Fed> Forward<Fed> for Linear<IN, OUT, E>
where
    Fed: crate::nn::FeedsInto<Batch<IN, E>, Self>,
{
    type Output = crate::nn::Checked<Fed, Batch<IN, E>, Self, Batch<OUT, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Batch<OUT, E> {
        Batch::trusted(given.feed_ref().linear(&self.layer.weight, self.layer.bias.as_deref()))
    }
}

impl<E: Element> DynLinear<E> {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        let bias = if self.bias.is_some() { "True" } else { "False" };
        format!("in_features={}, out_features={}, bias={bias}", self.in_features, self.out_features)
    }
}
