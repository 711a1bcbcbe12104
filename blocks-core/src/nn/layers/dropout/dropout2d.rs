//! `nn.Dropout2d(p)`: zeroing whole channels in training, the identity in eval.

use crate::nn::Hooks;
use crate::nn::{Forward, TrainingFlag};
use crate::optim::pyrepr::float;

/// Zeroes each whole channel of an `[N, C, H, W]` input with probability
/// `p` and scales the rest by `1/(1-p)` in training; the identity in eval,
/// like `nn.Dropout2d(p=0.5)`. A 3-D input is read as `[N, C, L]`, as
/// PyTorch 2.15 reads it (see [`Tensor::dropout2d`]).
///
/// Its mode follows `train()`/`eval()` on it or on any block above it; the
/// masks come from this thread's generator, seeded by
/// [`manual_seed`](crate::manual_seed). It keeps the kind it is given.
///
/// ```
/// use blocks_core::nn::{Dropout2d, Module, ModuleExt};
/// use blocks_core::{manual_seed, Tensor};
/// let layer = Dropout2d::new(0.5);
/// assert_eq!(layer.to_string(), "Dropout2d(p=0.5, inplace=False)");
/// manual_seed(0);
/// let y = layer.forward(&Tensor::ones([4, 8, 2, 2]));
/// for channel in y.to_vec().chunks(4) {
///     assert!(channel == [0.0; 4] || channel == [2.0; 4]);
/// }
/// layer.eval();
/// let x = Tensor::ones([1, 3, 2, 2]);
/// assert!(layer.forward(&x).same(&x));
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct Dropout2d {
    #[module(skip)]
    p: f64,
    training: TrainingFlag,
    hooks: Hooks,
}

impl Dropout2d {
    /// The forward on either element type: the input checked here, so that
    /// a panic names the place in a `Sequential` (" (at block 2)").
    #[track_caller]
    fn run<E: crate::Element>(&self, x: &crate::TensorBase<E>) -> crate::TensorBase<E> {
        let training = self.training.get();
        if training && self.p != 0.0 {
            crate::nn::path::or_panic(crate::ops::dropout::check_dropout2d_input(&x.shape()));
        }
        x.dropout2d(self.p, training)
    }

    /// A channel dropout layer zeroing a channel with probability `p`.
    ///
    /// # Panics
    ///
    /// When `p` is not in `[0, 1]`, as PyTorch's constructor refuses it.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Dropout2d::new(0.2).p(), 0.2);
    /// assert!(std::panic::catch_unwind(|| blocks_core::nn::Dropout2d::new(-0.1)).is_err());
    /// ```
    #[track_caller]
    pub fn new(p: f64) -> Self {
        assert!((0.0..=1.0).contains(&p), "dropout probability has to be between 0 and 1, but got {p}");
        Dropout2d { p, training: TrainingFlag::default(), hooks: Hooks::new() }
    }

    /// The probability of zeroing a channel.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Dropout2d::default().p(), 0.5);
    /// ```
    pub fn p(&self) -> f64 {
        self.p
    }
}

impl Default for Dropout2d {
    /// PyTorch's default, `p = 0.5`.
    fn default() -> Self {
        Dropout2d::new(0.5)
    }
}

impl<K: crate::nn::TensorKind> Forward<K> for Dropout2d {
    type Output = K;

    #[track_caller]
    fn forward(&self, input: &K) -> K {
        crate::nn::keep_kind(self, input, self.run(input.tensor()))
    }
}

impl Dropout2d {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!("p={}, inplace=False", float(self.p))
    }
}
