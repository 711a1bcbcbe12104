//! `nn.Dropout(p)`: random zeroing in training, the identity in eval.

use crate::nn::Hooks;
use crate::nn::{Forward, TrainingFlag};
use crate::optim::pyrepr::float;

/// Zeroes each element with probability `p` and scales the rest by
/// `1/(1-p)` in training; the identity in eval, like `nn.Dropout(p=0.5)`.
///
/// Its mode follows `train()`/`eval()` on it or on any block above it; the
/// masks come from this thread's generator, seeded by
/// [`manual_seed`](crate::manual_seed). It keeps the kind it is given.
///
/// ```
/// use blocks_core::nn::{Dropout, Module, ModuleExt};
/// use blocks_core::{manual_seed, Tensor};
/// let layer = Dropout::new(0.5);
/// assert_eq!(layer.to_string(), "Dropout(p=0.5, inplace=False)");
/// manual_seed(0);
/// let y = layer.forward(&Tensor::ones([100]));
/// assert!(y.to_vec().iter().all(|&v| v == 0.0 || v == 2.0));
/// layer.eval();
/// let x = Tensor::ones([3]);
/// assert!(layer.forward(&x).same(&x));
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct Dropout {
    #[module(skip)]
    p: f64,
    training: TrainingFlag,
    hooks: Hooks,
}

impl Dropout {
    /// A dropout layer zeroing with probability `p`.
    ///
    /// # Panics
    ///
    /// When `p` is not in `[0, 1]`, as PyTorch's constructor refuses it.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Dropout::new(0.2).p(), 0.2);
    /// assert!(std::panic::catch_unwind(|| blocks_core::nn::Dropout::new(1.5)).is_err());
    /// ```
    #[track_caller]
    pub fn new(p: f64) -> Self {
        assert!((0.0..=1.0).contains(&p), "dropout probability has to be between 0 and 1, but got {p}");
        Dropout { p, training: TrainingFlag::default(), hooks: Hooks::new() }
    }

    /// The probability of zeroing an element.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Dropout::default().p(), 0.5);
    /// ```
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl Default for Dropout {
    /// PyTorch's default, `p = 0.5`.
    fn default() -> Self {
        Dropout::new(0.5)
    }
}

impl<K: crate::nn::TensorKind> Forward<K> for Dropout {
    type Output = K;

    #[track_caller]
    fn forward(&self, input: &K) -> K {
        let x = input.tensor();
        let output = { x.dropout(self.p, self.training.get()) };
        crate::nn::keep_kind(self, input, output)
    }
}

impl Dropout {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!("p={}, inplace=False", float(self.p))
    }
}
