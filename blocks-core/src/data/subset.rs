//! `Subset` and `ConcatDataset`: a data set seen through a list of indices,
//! and data sets one after another, as `torch.utils.data` has them.

use super::Dataset;
use crate::ShapeError;

/// The samples of `dataset` at `indices`, in that order, like
/// `torch.utils.data.Subset(dataset, indices)`: sample `i` is
/// `dataset[indices[i]]` (indices may repeat).
///
/// ```
/// use blocks_core::data::{Dataset, Subset, TensorDataset};
/// use blocks_core::Tensor;
/// let data = TensorDataset::new(Tensor::from_vec(vec![0.0, 1.0, 2.0, 3.0], [4, 1]), vec![0, 1, 2, 3]);
/// let odd = Subset::new(data, vec![3, 1]);
/// assert_eq!(odd.len(), 2);
/// assert_eq!(odd.get(0).1, 3);
/// ```
pub struct Subset<D> {
    dataset: D,
    indices: Vec<usize>,
}

impl<D: Dataset> Subset<D> {
    /// The samples of `dataset` at `indices`.
    ///
    /// # Panics
    ///
    /// When an index is not below `dataset.len()` (see [`try_new`](Self::try_new)).
    ///
    /// ```
    /// # use blocks_core::data::{Dataset, Subset, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::ones([3, 2]), vec![0, 1, 2]);
    /// assert_eq!(Subset::new(data, vec![0, 0, 2]).len(), 3);
    /// ```
    #[track_caller]
    pub fn new(dataset: D, indices: Vec<usize>) -> Self {
        Self::try_new(dataset, indices).unwrap_or_else(|error| panic!("{error}"))
    }

    /// [`new`](Self::new), with an error for an index out of range (PyTorch
    /// finds it only when the sample is read; here it is refused at once).
    ///
    /// # Errors
    ///
    /// When an index is not below `dataset.len()`.
    ///
    /// ```
    /// # use blocks_core::data::{Subset, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::ones([3, 2]), vec![0, 1, 2]);
    /// let error = Subset::try_new(data, vec![1, 3]).err().unwrap();
    /// assert_eq!(error.to_string(), "Subset: index 3 is out of range for a data set of 3 samples");
    /// ```
    pub fn try_new(dataset: D, indices: Vec<usize>) -> Result<Self, ShapeError> {
        let len = dataset.len();
        if let Some(bad) = indices.iter().find(|&&i| i >= len) {
            return Err(ShapeError::new(format!(
                "Subset: index {bad} is out of range for a data set of {len} samples"
            )));
        }
        Ok(Subset { dataset, indices })
    }

    /// The indices into the data set underneath (`subset.indices`).
    ///
    /// ```
    /// # use blocks_core::data::{Subset, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::ones([3, 2]), vec![0, 1, 2]);
    /// assert_eq!(Subset::new(data, vec![2, 0]).indices(), &[2, 0]);
    /// ```
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }

    /// The data set underneath (`subset.dataset`).
    ///
    /// ```
    /// # use blocks_core::data::{Dataset, Subset, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::ones([3, 2]), vec![0, 1, 2]);
    /// assert_eq!(Subset::new(data, vec![2]).dataset().len(), 3);
    /// ```
    pub fn dataset(&self) -> &D {
        &self.dataset
    }
}

impl<D: Dataset> Dataset for Subset<D> {
    type Sample = D::Sample;

    fn len(&self) -> usize {
        self.indices.len()
    }

    /// `dataset[indices[index]]`.
    ///
    /// # Panics
    ///
    /// When `index >= len()`.
    #[track_caller]
    fn get(&self, index: usize) -> D::Sample {
        let len = self.indices.len();
        let &inner = self
            .indices
            .get(index)
            .unwrap_or_else(|| panic!("Subset: index {index} is out of range for {len} samples"));
        self.dataset.get(inner)
    }
}

/// Data sets one after another, like `torch.utils.data.ConcatDataset(datasets)`:
/// sample `i` comes from the first data set whose cumulative size passes `i`.
///
/// ```
/// use blocks_core::data::{ConcatDataset, Dataset, TensorDataset};
/// use blocks_core::Tensor;
/// let a = TensorDataset::new(Tensor::zeros([2, 1]), vec![0, 1]);
/// let b = TensorDataset::new(Tensor::ones([3, 1]), vec![2, 3, 4]);
/// let both = ConcatDataset::new(vec![a, b]);
/// assert_eq!((both.len(), both.cumulative_sizes()), (5, &[2, 5][..]));
/// assert_eq!(both.get(2).1, 2);
/// ```
pub struct ConcatDataset<D> {
    datasets: Vec<D>,
    cumulative_sizes: Vec<usize>,
}

impl<D: Dataset> ConcatDataset<D> {
    /// `datasets` one after another.
    ///
    /// # Panics
    ///
    /// When `datasets` is empty (PyTorch's message) or the total length overflows.
    ///
    /// ```
    /// # use blocks_core::data::{ConcatDataset, Dataset, TensorDataset};
    /// let a = TensorDataset::new(blocks_core::Tensor::zeros([2, 1]), vec![0, 1]);
    /// assert_eq!(ConcatDataset::new(vec![a]).len(), 2);
    /// ```
    #[track_caller]
    pub fn new(datasets: Vec<D>) -> Self {
        Self::try_new(datasets).unwrap_or_else(|error| panic!("{error}"))
    }

    /// [`new`](Self::new), returning the error instead of panicking.
    ///
    /// # Errors
    ///
    /// When `datasets` is empty or the total length overflows.
    ///
    /// ```
    /// let error = blocks_core::data::ConcatDataset::<blocks_core::data::TensorDataset>::try_new(vec![]).err().unwrap();
    /// assert_eq!(error.to_string(), "datasets should not be an empty iterable");
    /// ```
    pub fn try_new(datasets: Vec<D>) -> Result<Self, ShapeError> {
        if datasets.is_empty() {
            return Err(ShapeError::new("datasets should not be an empty iterable"));
        }
        let mut total = 0usize;
        let mut cumulative_sizes = Vec::with_capacity(datasets.len());
        for dataset in &datasets {
            total = total
                .checked_add(dataset.len())
                .ok_or_else(|| ShapeError::new("ConcatDataset: the total length overflows"))?;
            cumulative_sizes.push(total);
        }
        Ok(ConcatDataset { datasets, cumulative_sizes })
    }

    /// The running totals of the lengths (`cumulative_sizes`).
    ///
    /// ```
    /// # use blocks_core::data::{ConcatDataset, TensorDataset};
    /// let a = TensorDataset::new(blocks_core::Tensor::zeros([2, 1]), vec![0, 1]);
    /// assert_eq!(ConcatDataset::new(vec![a]).cumulative_sizes(), &[2]);
    /// ```
    pub fn cumulative_sizes(&self) -> &[usize] {
        &self.cumulative_sizes
    }

    /// The data sets (`datasets`).
    ///
    /// ```
    /// # use blocks_core::data::{ConcatDataset, TensorDataset};
    /// let a = TensorDataset::new(blocks_core::Tensor::zeros([2, 1]), vec![0, 1]);
    /// assert_eq!(ConcatDataset::new(vec![a]).datasets().len(), 1);
    /// ```
    pub fn datasets(&self) -> &[D] {
        &self.datasets
    }
}

impl<D: Dataset> Dataset for ConcatDataset<D> {
    type Sample = D::Sample;

    fn len(&self) -> usize {
        self.cumulative_sizes.last().copied().unwrap_or(0)
    }

    /// Sample `index` of the concatenation (PyTorch's `bisect_right` on the
    /// cumulative sizes, so empty data sets are passed over).
    ///
    /// # Panics
    ///
    /// When `index >= len()`.
    #[track_caller]
    fn get(&self, index: usize) -> D::Sample {
        let which = self.cumulative_sizes.partition_point(|&end| end <= index);
        assert!(
            which < self.datasets.len(),
            "ConcatDataset: index {index} is out of range for {} samples",
            self.len()
        );
        let start = if which == 0 { 0 } else { self.cumulative_sizes[which - 1] };
        self.datasets[which].get(index - start)
    }
}
