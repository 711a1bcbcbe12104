//! `Tensors`: PyTorch's `TensorDataset(*tensors)`, samples as the rows of
//! any number of tensors (inputs, float targets, weights, ...).

use ndarray::Axis;

use super::Dataset;
use crate::{ShapeError, Tensor};

/// Samples as the rows of any number of tensors of equal length, like
/// `torch.utils.data.TensorDataset(X, y)`: sample `i` is row `i` of each,
/// and a [`DataLoader`](super::DataLoader) gives batches `[X_b, y_b]`.
/// Float targets (regression) are a tensor like any other;
/// [`TensorDataset`](super::TensorDataset) is the one with class labels.
///
/// ```
/// use blocks_core::data::{DataLoader, Tensors};
/// use blocks_core::Tensor;
/// let x = Tensor::rand([10, 3]);
/// let y = Tensor::rand([10, 1]); // regression targets
/// let loader = DataLoader::new(Tensors::new(vec![x, y]), 4);
/// for batch in &loader {
///     let (xb, yb) = (&batch[0], &batch[1]);
///     assert_eq!(xb.shape()[0], yb.shape()[0]);
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Tensors {
    tensors: Vec<Tensor>,
    len: usize,
}

impl Tensors {
    /// The dataset of `tensors`' rows.
    ///
    /// # Panics
    ///
    /// If there are no tensors, one is a scalar, or their first dimensions
    /// differ ("Size mismatch between tensors", as PyTorch); see
    /// [`try_new`](Self::try_new).
    ///
    /// ```
    /// let data = blocks_core::data::Tensors::new(vec![blocks_core::Tensor::zeros([4, 2])]);
    /// assert_eq!(data.tensors().len(), 1);
    /// ```
    #[track_caller]
    pub fn new(tensors: Vec<Tensor>) -> Self {
        match Self::try_new(tensors) {
            Ok(data) => data,
            Err(error) => panic!("{error}"),
        }
    }

    /// Like [`new`](Self::new), returning an error instead of panicking.
    ///
    /// # Errors
    ///
    /// No tensors, a scalar, or first dimensions that differ.
    ///
    /// ```
    /// use blocks_core::{data::Tensors, Tensor};
    /// let error = Tensors::try_new(vec![Tensor::zeros([3, 2]), Tensor::zeros([2])]).unwrap_err();
    /// assert_eq!(error.to_string(), "Tensors: size mismatch between tensors: [3, 2] and [2]");
    /// ```
    pub fn try_new(tensors: Vec<Tensor>) -> Result<Self, ShapeError> {
        let Some(first) = tensors.first() else {
            return Err(ShapeError::new("Tensors: at least one tensor is needed".to_string()));
        };
        let Some(&len) = first.shape().first() else {
            return Err(ShapeError::new("Tensors: a scalar has no rows".to_string()));
        };
        if let Some(other) = tensors.iter().find(|t| t.shape().first() != Some(&len)) {
            return Err(ShapeError::new(format!(
                "Tensors: size mismatch between tensors: {:?} and {:?}",
                first.shape(),
                other.shape()
            )));
        }
        Ok(Tensors { tensors, len })
    }

    /// The tensors, like `dataset.tensors`.
    ///
    /// ```
    /// let data = blocks_core::data::Tensors::new(vec![blocks_core::Tensor::zeros([4, 2]), blocks_core::Tensor::ones([4])]);
    /// assert_eq!(data.tensors()[1].shape(), vec![4]);
    /// ```
    pub fn tensors(&self) -> &[Tensor] {
        &self.tensors
    }
}

impl Dataset for Tensors {
    type Sample = Vec<Tensor>;

    fn len(&self) -> usize {
        self.len
    }

    /// Row `index` of each tensor.
    ///
    /// # Panics
    ///
    /// Out of range.
    fn get(&self, index: usize) -> Vec<Tensor> {
        assert!(index < self.len, "Tensors: index {index} is out of range for {} samples", self.len);
        self.tensors
            .iter()
            .map(|t| Tensor::from_array(t.data().index_axis(Axis(0), index).to_owned()))
            .collect()
    }
}
