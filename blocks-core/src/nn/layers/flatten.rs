//! `nn.Flatten(start_dim, end_dim)`: where a typed chain meets run-time
//! sizes. It gives a [`Flat`](crate::nn::Flat), so the `Linear` after it checks its
//! width at run time, naming itself and its path.

use crate::nn::Forward;
use crate::nn::Hooks;

/// Flattens dims `start_dim..=end_dim` into one, like
/// `nn.Flatten(start_dim=1, end_dim=-1)` (the defaults keep the batch dim).
///
/// It takes any tensor kind and gives a [`Flat`](crate::nn::Flat) (which a
/// `Conv2d` does not take: a compile error naming both): the flattened width
/// depends on spatial sizes, which are run-time values.
///
/// ```
/// use blocks_core::nn::{Flat, Flatten, Images};
/// use blocks_core::Tensor;
/// let y: Flat = Flatten::default().forward(&Images::<16>::new(Tensor::ones([2, 16, 5, 5])));
/// assert_eq!(y.shape(), vec![2, 400]);
/// assert_eq!(Flatten::default().to_string(), "Flatten(start_dim=1, end_dim=-1)");
/// assert_eq!(Flatten::new(0, 1).forward(&Tensor::ones([2, 3, 4])).shape(), vec![6, 4]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct Flatten {
    #[module(skip)]
    start_dim: isize,
    #[module(skip)]
    end_dim: isize,
    hooks: Hooks,
}

impl Flatten {
    /// Flattens dims `start_dim` through `end_dim` (negative counts from the end).
    ///
    /// ```
    /// let layer = blocks_core::nn::Flatten::new(1, -1);
    /// assert_eq!((layer.start_dim(), layer.end_dim()), (1, -1));
    /// ```
    pub fn new(start_dim: isize, end_dim: isize) -> Self {
        Flatten { start_dim, end_dim, hooks: Hooks::new() }
    }

    /// The first dim flattened.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Flatten::default().start_dim(), 1);
    /// ```
    pub fn start_dim(&self) -> isize {
        self.start_dim
    }

    /// The last dim flattened.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Flatten::default().end_dim(), -1);
    /// ```
    pub fn end_dim(&self) -> isize {
        self.end_dim
    }
}

impl Default for Flatten {
    /// PyTorch's defaults: `start_dim=1, end_dim=-1`.
    fn default() -> Self {
        Flatten::new(1, -1)
    }
}

impl<K: crate::nn::TensorKind> Forward<K> for Flatten {
    type Output = K::Flattened;

    #[track_caller]
    fn forward(&self, input: &K) -> K::Flattened {
        K::flattened(crate::nn::path::or_panic(input.tensor().try_flatten(self.start_dim, self.end_dim)))
    }
}

impl Flatten {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!("start_dim={}, end_dim={}", self.start_dim, self.end_dim)
    }
}
