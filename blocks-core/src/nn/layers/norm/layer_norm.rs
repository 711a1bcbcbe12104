//! `nn.LayerNorm(normalized_shape, eps, elementwise_affine)`.

use crate::nn::Hooks;
use crate::nn::{Forward, Parameter, TrainingFlag};
use crate::optim::pyrepr::{boolean, float};
use crate::{Element, Tensor};

/// Normalizes over the trailing dims `normalized_shape` (mean 0, biased
/// variance 1, then `· weight + bias`), like
/// `nn.LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)`.
/// It keeps the kind it is given.
///
/// ```
/// use blocks_core::nn::{Batch, LayerNorm, Module, ModuleExt};
/// let ln = LayerNorm::new([16]);
/// assert_eq!(ln.to_string(), "LayerNorm((16,), eps=1e-05, elementwise_affine=True, bias=True)");
/// let y: Batch<16> = ln.forward(&Batch::<16>::rand(3));
/// assert!(y.mean_dim(&[1], false).to_vec().iter().all(|m| m.abs() < 1e-5));
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct LayerNorm<E: Element = f32> {
    #[module(skip)]
    normalized_shape: Vec<usize>,
    #[module(skip)]
    eps: f64,
    weight: Option<Parameter<E>>,
    bias: Option<Parameter<E>>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl LayerNorm {
    /// A layer over the trailing dims `normalized_shape`, with eps `1e-5`,
    /// weight 1 and bias 0.
    ///
    /// ```
    /// let ln = blocks_core::nn::LayerNorm::new([2, 3]);
    /// assert_eq!(ln.weight().unwrap().shape(), vec![2, 3]);
    /// ```
    pub fn new(normalized_shape: impl AsRef<[usize]>) -> Self {
        Self::with_options(normalized_shape, 1e-5, true, true)
    }

    /// A layer with the given `eps`, with or without the learnable
    /// `weight` (`elementwise_affine`) and `bias` (which needs
    /// `elementwise_affine`: without it the layer has neither, and prints
    /// `bias=False` as PyTorch does).
    ///
    /// ```
    /// let ln = blocks_core::nn::LayerNorm::with_options([4], 1e-6, false, true);
    /// assert!(ln.weight().is_none() && ln.bias().is_none());
    /// assert_eq!(ln.to_string(), "LayerNorm((4,), eps=1e-06, elementwise_affine=False, bias=False)");
    /// let ln = blocks_core::nn::LayerNorm::with_options([4], 1e-5, true, false);
    /// assert_eq!(ln.to_string(), "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=False)");
    /// ```
    pub fn with_options(
        normalized_shape: impl AsRef<[usize]>,
        eps: f64,
        elementwise_affine: bool,
        bias: bool,
    ) -> Self {
        let normalized_shape = normalized_shape.as_ref().to_vec();
        LayerNorm {
            hooks: Hooks::new(),
            weight: elementwise_affine.then(|| Parameter::new(Tensor::ones(normalized_shape.clone()))),
            bias: (elementwise_affine && bias)
                .then(|| Parameter::new(Tensor::zeros(normalized_shape.clone()))),
            normalized_shape,
            eps,
            training: TrainingFlag::default(),
        }
    }
}

impl<E: Element> LayerNorm<E> {
    /// The trailing dims it normalizes over.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::LayerNorm::new([16]).normalized_shape(), [16]);
    /// ```
    pub fn normalized_shape(&self) -> &[usize] {
        &self.normalized_shape
    }

    /// The learnable scale, if any.
    ///
    /// ```
    /// assert!(blocks_core::nn::LayerNorm::new([3]).weight().is_some());
    /// ```
    pub fn weight(&self) -> Option<&Parameter<E>> {
        self.weight.as_ref()
    }

    /// The learnable shift, if any.
    ///
    /// ```
    /// assert!(blocks_core::nn::LayerNorm::new([3]).bias().is_some());
    /// ```
    pub fn bias(&self) -> Option<&Parameter<E>> {
        self.bias.as_ref()
    }
}

/// Keeps the kind it is given, of its own element type.
impl<E: Element, K: crate::nn::TensorKind<Elem = E>> Forward<K> for LayerNorm<E> {
    type Output = K;

    #[track_caller]
    fn forward(&self, input: &K) -> K {
        let x = input.tensor();
        let output = {
            crate::nn::path::or_panic(x.try_layer_norm(
                &self.normalized_shape,
                self.weight.as_deref(),
                self.bias.as_deref(),
                E::of(self.eps),
            ))
        };
        crate::nn::keep_kind(self, input, output)
    }
}

impl<E: Element> LayerNorm<E> {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        let dims: Vec<String> = self.normalized_shape.iter().map(usize::to_string).collect();
        let shape =
            if dims.len() == 1 { format!("({},)", dims[0]) } else { format!("({})", dims.join(", ")) };
        format!(
            "{shape}, eps={}, elementwise_affine={}, bias={}",
            float(self.eps),
            boolean(self.weight.is_some()),
            boolean(self.bias.is_some())
        )
    }
}
