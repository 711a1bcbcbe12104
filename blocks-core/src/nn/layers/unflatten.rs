//! `nn.Unflatten(dim, unflattened_size)`: one dim seen as several
//! (ViewBackward0), the inverse of `Flatten`. The sizes are run-time
//! values (one of them may be `-1`, inferred from the input), so it gives a
//! plain tensor, checked by the block after it.

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
/// let inferred = Unflatten::new(1, [3, -1]);
/// assert_eq!(inferred.to_string(), "Unflatten(dim=1, unflattened_size=(3, -1))");
/// assert_eq!(inferred.forward(&Tensor::zeros([2, 12])).shape(), vec![2, 3, 4]);
/// ```
#[derive(blocks_macros::Module, Clone, Debug)]
#[module(crate = "crate", any_input, extra_repr = "Self::settings")]
pub struct Unflatten {
    #[module(skip)]
    dim: isize,
    #[module(skip)]
    unflattened_size: Vec<isize>,
    hooks: Hooks,
}

impl Unflatten {
    /// Dim `dim` (negative from the end) seen as `unflattened_size`, where
    /// one size may be `-1`: what the others leave of the dim.
    ///
    /// # Panics
    ///
    /// When `unflattened_size` is empty, has a size below `-1`, or more
    /// than one `-1`, as PyTorch refuses them.
    ///
    /// ```
    /// let unflatten = blocks_core::nn::Unflatten::new(-1, [2, 2, 2]);
    /// assert_eq!(unflatten.forward(&blocks_core::Tensor::zeros([3, 8])).shape(), vec![3, 2, 2, 2]);
    /// ```
    #[track_caller]
    pub fn new(dim: isize, unflattened_size: impl AsRef<[isize]>) -> Self {
        let unflattened_size = unflattened_size.as_ref().to_vec();
        assert!(!unflattened_size.is_empty(), "Unflatten: unflattened_size must be non-empty");
        if let Some(size) = unflattened_size.iter().find(|&&s| s < -1) {
            panic!("Unflatten: invalid shape dimension {size}");
        }
        assert!(
            unflattened_size.iter().filter(|&&s| s == -1).count() <= 1,
            "Unflatten: only one dimension can be inferred"
        );
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

    /// The sizes it becomes, as given (`-1` for the inferred one).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Unflatten::new(1, [2, -1]).unflattened_size(), [2, -1]);
    /// ```
    pub fn unflattened_size(&self) -> &[isize] {
        &self.unflattened_size
    }

    /// PyTorch's `extra_repr` (the sizes as a Python tuple).
    fn settings(&self) -> String {
        let sizes: Vec<String> = self.unflattened_size.iter().map(isize::to_string).collect();
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
        // The product of the given sizes; with a `-1`, the one size that makes it the dim's.
        let known = self
            .unflattened_size
            .iter()
            .filter(|&&s| s >= 0)
            .try_fold(1usize, |p, &s| p.checked_mul(s as usize));
        let inferred = match known {
            Some(known) if self.unflattened_size.contains(&-1) => {
                (known > 0 && shape[dim].is_multiple_of(known)).then(|| shape[dim] / known)
            }
            _ => None,
        };
        let fits = inferred.is_some() || known == Some(shape[dim]);
        if !fits {
            return Err(ShapeError::new(format!(
                "unflatten: input {shape:?}: Provided sizes {:?} don't multiply up to the size of dim {} ({}) in \
                 the input tensor",
                self.unflattened_size, self.dim, shape[dim]
            )));
        }
        let mut sizes: Vec<isize> = shape[..dim].iter().map(|&s| s as isize).collect();
        sizes.extend(
            self.unflattened_size.iter().map(|&s| if s == -1 { inferred.unwrap_or(0) as isize } else { s }),
        );
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

#[cfg(test)]
mod tests {
    use super::Unflatten;
    use crate::Tensor;

    #[test]
    fn infers_the_size_marked_minus_one() {
        let x = Tensor::arange(0.0, 24.0, 1.0).reshape(&[2, 12]);
        let y = Unflatten::new(-1, [-1, 4]).forward(&x);
        assert_eq!(y.shape(), vec![2, 3, 4]);
        assert_eq!(y.to_vec(), x.to_vec());
    }

    #[test]
    fn refuses_sizes_that_do_not_fit_with_pytorchs_message() {
        let x = Tensor::zeros([2, 12]);
        for sizes in [vec![5, -1], vec![0, -1], vec![3, 5]] {
            let error = Unflatten::new(1, &sizes).try_unflatten(&x).unwrap_err().to_string();
            assert!(
                error.contains(&format!(
                    "Provided sizes {sizes:?} don't multiply up to the size of dim 1 (12)"
                )),
                "{error}"
            );
        }
    }

    #[test]
    #[should_panic(expected = "Unflatten: only one dimension can be inferred")]
    fn refuses_two_inferred_sizes() {
        Unflatten::new(1, [-1, -1]);
    }

    #[test]
    #[should_panic(expected = "Unflatten: invalid shape dimension -2")]
    fn refuses_sizes_below_minus_one() {
        Unflatten::new(1, [3, -2]);
    }
}
