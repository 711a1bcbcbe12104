//! `nn.Flatten(start_dim, end_dim)`: where a typed chain meets run-time
//! sizes. It gives a [`Flat`](crate::nn::Flat), so the `Linear` after it checks its
//! width at run time, naming itself and its path.

use crate::Tensor;
use crate::nn::Hooks;
use crate::nn::{Forward, Module, Visitor};

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
#[derive(Clone, Debug)]
pub struct Flatten {
    start_dim: isize,
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

#[diagnostic::do_not_recommend]
impl Forward for Flatten {
    type Input = Tensor;
    type Output = Tensor;

    #[track_caller]
    fn forward(&self, x: &Tensor) -> Tensor {
        crate::nn::path::or_panic(x.try_flatten(self.start_dim, self.end_dim))
    }
}

#[diagnostic::do_not_recommend]
impl Module for Flatten {
    fn type_name(&self) -> String {
        "Flatten".into()
    }

    fn extra_repr(&self) -> String {
        format!("start_dim={}, end_dim={}", self.start_dim, self.end_dim)
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        visitor.hooks(&self.hooks);
    }
}

impl_block! {
    /// Flattens any tensor kind, of either element type, into a [`Flat`](crate::nn::Flat).
    ///
    /// # Panics
    ///
    /// When a dim is out of range for the input, naming the op, the shape
    /// and where the layer sits in a `Sequential` (" (at block 2)").
    ///
    /// ```
    /// use blocks_core::nn::{Batch, Flatten};
    /// let y = Flatten::new(0, -1).forward(&Batch::<3>::rand(2));
    /// assert_eq!(y.shape(), vec![6]);
    /// ```
    [] Flatten, to_plain, f64: |layer, x| crate::nn::path::or_panic(x.try_flatten(layer.start_dim, layer.end_dim))
}

crate::nn::to_element::same_in_every_element!(Flatten);
