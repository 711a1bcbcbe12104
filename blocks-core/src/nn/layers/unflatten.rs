//! `nn.Unflatten(dim, unflattened_size)`: one dim seen as several
//! (ViewBackward0), the inverse of `Flatten`. The sizes are run-time
//! values, so it gives a plain tensor, checked by the block after it.

use crate::nn::{Forward, Hooks, TensorKind};
use crate::{ShapeError, TensorBase};

/// One dim of the input seen as several, like `nn.Unflatten(dim, unflattened_size)`.
///
/// ```
/// use blocks_core::nn::Unflatten;
/// use blocks_core::Tensor;
/// let unflatten = Unflatten::new(1, [2, 3]);
/// assert_eq!(unflatten.to_string(), "Unflatten(dim=1, unflattened_size=(2, 3))");
/// assert_eq!(unflatten.forward(&Tensor::zeros([4, 6])).shape(), vec![4, 2, 3]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct Unflatten {
    #[module(skip)]
    dim: isize,
    #[module(skip)]
    unflattened_size: Vec<usize>,
    hooks: Hooks,
}

impl Unflatten {
    /// Dim `dim` (negative from the end) seen as `unflattened_size`.
    ///
    /// # Panics
    ///
    /// When `unflattened_size` is empty, as PyTorch refuses it.
    ///
    /// ```
    /// let unflatten = blocks_core::nn::Unflatten::new(-1, [2, 2, 2]);
    /// assert_eq!(unflatten.forward(&blocks_core::Tensor::zeros([3, 8])).shape(), vec![3, 2, 2, 2]);
    /// ```
    #[track_caller]
    pub fn new(dim: isize, unflattened_size: impl AsRef<[usize]>) -> Self {
        let unflattened_size = unflattened_size.as_ref().to_vec();
        assert!(!unflattened_size.is_empty(), "Unflatten: unflattened_size must be non-empty");
        Unflatten { dim, unflattened_size, hooks: Hooks::new() }
    }

    /// The dim unflattened.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Unflatten::new(1, [2, 3]).dim(), 1);
    /// ```
    pub fn dim(&self) -> isize {
        self.dim
    }

    /// The sizes it becomes.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Unflatten::new(1, [2, 3]).unflattened_size(), [2, 3]);
    /// ```
    pub fn unflattened_size(&self) -> &[usize] {
        &self.unflattened_size
    }

    /// PyTorch's `extra_repr` (the sizes as a Python tuple).
    fn settings(&self) -> String {
        let sizes: Vec<String> = self.unflattened_size.iter().map(usize::to_string).collect();
        let tuple =
            if sizes.len() == 1 { format!("({},)", sizes[0]) } else { format!("({})", sizes.join(", ")) };
        format!("dim={}, unflattened_size={tuple}", self.dim)
    }

    /// `x` with its dim unflattened, or PyTorch's error.
    fn try_unflatten<E: crate::Element>(&self, x: &TensorBase<E>) -> Result<TensorBase<E>, ShapeError> {
        let shape = x.shape();
        let rank = shape.len() as isize;
        let dim = if self.dim < 0 { self.dim + rank } else { self.dim };
        if dim < 0 || dim >= rank {
            return Err(ShapeError::new(format!(
                "unflatten: input {shape:?}: Dimension out of range (expected to be in range of [{}, {}], but got {})",
                -rank,
                rank - 1,
                self.dim
            )));
        }
        let dim = dim as usize;
        let product = self.unflattened_size.iter().try_fold(1usize, |p, &s| p.checked_mul(s));
        if product != Some(shape[dim]) {
            return Err(ShapeError::new(format!(
                "unflatten: input {shape:?}: Provided sizes {:?} don't multiply up to the size of dim {} ({}) in \
                 the input tensor",
                self.unflattened_size, self.dim, shape[dim]
            )));
        }
        let mut sizes: Vec<isize> = shape[..dim].iter().map(|&s| s as isize).collect();
        sizes.extend(self.unflattened_size.iter().map(|&s| s as isize));
        sizes.extend(shape[dim + 1..].iter().map(|&s| s as isize));
        x.try_reshape(&sizes)
    }
}

impl<K: TensorKind> Forward<K> for Unflatten {
    type Output = TensorBase<K::Elem>;

    #[track_caller]
    fn forward(&self, x: &K) -> TensorBase<K::Elem> {
        crate::nn::path::or_panic(self.try_unflatten(x.tensor()))
    }
}
