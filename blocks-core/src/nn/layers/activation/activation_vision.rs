//! The activations of mobile vision nets, as blocks: `nn.Hardswish`,
//! `nn.Hardsigmoid`, `nn.Mish` (no settings) and `nn.PReLU` (a learned
//! slope, one or one per channel). Each keeps the kind it is given.

use crate::nn::{Forward, Hooks, Parameter, TensorKind, keep_kind};
use crate::{Element, Tensor};

/// `x · relu6(x + 3) / 6` as a block, like `nn.Hardswish()`.
///
/// ```
/// use blocks_core::{nn::Hardswish, Tensor};
/// let layer = Hardswish::default();
/// assert_eq!(layer.to_string(), "Hardswish()");
/// assert_eq!(layer.forward(&Tensor::from_vec(vec![-4.0, 4.0], [2])).to_vec(), vec![0.0, 4.0]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug, Default)]
#[module(crate = "crate", any_input)]
pub struct Hardswish {
    hooks: Hooks,
}

impl<K: TensorKind> Forward<K> for Hardswish {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, x.tensor().hardswish())
    }
}

/// `relu6(x + 3) / 6` as a block, like `nn.Hardsigmoid()`.
///
/// ```
/// use blocks_core::{nn::Hardsigmoid, Tensor};
/// let layer = Hardsigmoid::default();
/// assert_eq!(layer.to_string(), "Hardsigmoid()");
/// assert_eq!(layer.forward(&Tensor::from_vec(vec![0.0, 9.0], [2])).to_vec(), vec![0.5, 1.0]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug, Default)]
#[module(crate = "crate", any_input)]
pub struct Hardsigmoid {
    hooks: Hooks,
}

impl<K: TensorKind> Forward<K> for Hardsigmoid {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, x.tensor().hardsigmoid())
    }
}

/// `x · tanh(softplus(x))` as a block, like `nn.Mish()`.
///
/// ```
/// use blocks_core::{nn::Mish, Tensor};
/// let layer = Mish::default();
/// assert_eq!(layer.to_string(), "Mish()");
/// assert_eq!(layer.forward(&Tensor::zeros([2])).to_vec(), vec![0.0, 0.0]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug, Default)]
#[module(crate = "crate", any_input)]
pub struct Mish {
    hooks: Hooks,
}

impl<K: TensorKind> Forward<K> for Mish {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, x.tensor().mish())
    }
}

/// `x` where `x > 0`, else `weight · x`, with a learned slope, like
/// `nn.PReLU(num_parameters=1, init=0.25)`: one slope for every element,
/// or one per channel (dim 1 of the input) with `num_parameters = C`.
/// The parameter is `weight`, `[num_parameters]`.
///
/// ```
/// use blocks_core::nn::{ModuleExt, PReLU};
/// use blocks_core::Tensor;
/// let layer = PReLU::default();
/// assert_eq!(layer.to_string(), "PReLU(num_parameters=1)");
/// assert_eq!(layer.forward(&Tensor::from_vec(vec![-4.0, 4.0], [2])).to_vec(), vec![-1.0, 4.0]);
/// assert_eq!(PReLU::new(3, 0.25).parameter("weight").unwrap().shape(), vec![3]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct PReLU<E: Element = f32> {
    #[module(skip)]
    num_parameters: usize,
    weight: Parameter<E>,
    hooks: Hooks,
}

impl PReLU {
    /// `num_parameters` slopes, each starting at `init` (PyTorch's defaults: 1 and 0.25).
    ///
    /// # Panics
    ///
    /// When `num_parameters` is 0 or the weight would not fit in memory.
    ///
    /// ```
    /// let layer = blocks_core::nn::PReLU::new(4, 0.1);
    /// assert_eq!(layer.to_string(), "PReLU(num_parameters=4)");
    /// assert_eq!(layer.weight().to_vec(), vec![0.1; 4]);
    /// ```
    #[track_caller]
    pub fn new(num_parameters: usize, init: f64) -> Self {
        assert!(num_parameters > 0, "PReLU: num_parameters must be positive");
        if let Err(error) = crate::numel::checked_alloc::<f32>("PReLU", "the weight", &[num_parameters]) {
            panic!("{error}");
        }
        let weight = Parameter::new(Tensor::full([num_parameters], init as f32));
        PReLU { num_parameters, weight, hooks: Hooks::new() }
    }
}

impl Default for PReLU {
    /// One slope starting at 0.25, PyTorch's defaults.
    fn default() -> Self {
        PReLU::new(1, 0.25)
    }
}

impl<E: Element> PReLU<E> {
    /// The slopes, `[num_parameters]`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::PReLU::default().weight().to_vec(), vec![0.25]);
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        &self.weight
    }

    /// How many slopes: 1, or the input's channels.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::PReLU::new(3, 0.25).num_parameters(), 3);
    /// ```
    pub fn num_parameters(&self) -> usize {
        self.num_parameters
    }

    /// PyTorch's `extra_repr`.
    fn settings(&self) -> String {
        format!("num_parameters={}", self.num_parameters)
    }
}

impl<E: Element, K: TensorKind<Elem = E>> Forward<K> for PReLU<E> {
    type Output = K;

    #[track_caller]
    fn forward(&self, x: &K) -> K {
        keep_kind(self, x, crate::nn::path::or_panic(x.tensor().try_prelu(&self.weight)))
    }
}

#[cfg(test)]
mod tests {
    use crate::nn::{PReLU, ToElement};
    use crate::{Tensor64, gradcheck_module};

    /// The layer's slopes in float64 against finite differences (inputs away from 0).
    #[test]
    fn prelu_layer_gradcheck_in_float64() {
        let prelu = PReLU::new(3, 0.25).to_f64();
        let values = (0..24)
            .map(|i| if i % 2 == 0 { -0.5 - i as f64 / 10.0 } else { 0.3 + i as f64 / 20.0 })
            .collect();
        let x = Tensor64::from_vec(values, [2, 3, 4]).requires_grad_(true);
        gradcheck_module(
            &prelu,
            |xs| {
                let y = prelu.forward(&xs[0]);
                (&y * &y).sum()
            },
            &[x],
        )
        .unwrap();
    }
}
