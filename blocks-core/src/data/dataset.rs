//! `TensorDataset`: inputs (one row per sample) with integer class labels.

use ndarray::Axis;

use crate::{ShapeError, Tensor};

/// Samples as the rows of a tensor, with one class label each, like
/// `torch.utils.data.TensorDataset(inputs, labels)`.
///
/// ```
/// use blocks_core::data::TensorDataset;
/// use blocks_core::Tensor;
/// let data = TensorDataset::new(Tensor::rand([5, 64]), vec![0, 3, 9, 1, 3]);
/// assert_eq!(data.len(), 5);
/// let (x, y) = data.get(1);
/// assert_eq!((x.shape(), y), (vec![64], 3));
/// ```
#[derive(Clone, Debug)]
pub struct TensorDataset {
    inputs: Tensor,
    labels: Vec<usize>,
}

impl TensorDataset {
    /// A dataset of `inputs` (`[N, ...]`) and `labels` (N of them).
    ///
    /// Panics if the counts differ; see [`try_new`](Self::try_new).
    ///
    /// ```
    /// let data = blocks_core::data::TensorDataset::new(blocks_core::Tensor::zeros([2, 3]), vec![1, 0]);
    /// assert_eq!(data.labels(), &[1, 0]);
    /// ```
    #[track_caller]
    pub fn new(inputs: Tensor, labels: Vec<usize>) -> Self {
        match Self::try_new(inputs, labels) {
            Ok(data) => data,
            Err(error) => panic!("{error}"),
        }
    }

    /// Like [`new`](Self::new), returning an error when the counts differ.
    ///
    /// ```
    /// let error = blocks_core::data::TensorDataset::try_new(blocks_core::Tensor::zeros([2, 3]), vec![1]).unwrap_err();
    /// assert_eq!(error.to_string(), "TensorDataset: 2 input rows (shape [2, 3]) but 1 labels");
    /// ```
    pub fn try_new(inputs: Tensor, labels: Vec<usize>) -> Result<Self, ShapeError> {
        let shape = inputs.shape();
        if shape.first() != Some(&labels.len()) {
            let rows = shape.first().map_or("no".to_string(), usize::to_string);
            return Err(ShapeError::new(format!(
                "TensorDataset: {rows} input rows (shape {shape:?}) but {} labels",
                labels.len()
            )));
        }
        Ok(TensorDataset { inputs, labels })
    }

    /// The number of samples, like `len(dataset)`.
    ///
    /// ```
    /// assert_eq!(blocks_core::data::TensorDataset::new(blocks_core::Tensor::zeros([4, 1]), vec![0; 4]).len(), 4);
    /// ```
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    ///
    /// ```
    /// assert!(blocks_core::data::TensorDataset::new(blocks_core::Tensor::zeros([0, 3]), vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// All inputs, `[N, ...]`.
    ///
    /// ```
    /// let data = blocks_core::data::TensorDataset::new(blocks_core::Tensor::zeros([4, 2]), vec![0; 4]);
    /// assert_eq!(data.inputs().shape(), vec![4, 2]);
    /// ```
    pub fn inputs(&self) -> &Tensor {
        &self.inputs
    }

    /// All labels.
    ///
    /// ```
    /// let data = blocks_core::data::TensorDataset::new(blocks_core::Tensor::zeros([2, 2]), vec![7, 8]);
    /// assert_eq!(data.labels(), &[7, 8]);
    /// ```
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Sample `index`: its input row and label, like `dataset[index]`. Panics out of range.
    ///
    /// ```
    /// use blocks_core::{data::TensorDataset, Tensor};
    /// let data = TensorDataset::new(Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]), vec![0, 1]);
    /// assert_eq!(data.get(1).0.to_vec(), vec![3.0, 4.0]);
    /// ```
    pub fn get(&self, index: usize) -> (Tensor, usize) {
        assert!(
            index < self.len(),
            "TensorDataset: index {index} is out of range for {} samples",
            self.len()
        );
        let row = self.inputs.data().index_axis(Axis(0), index).to_owned();
        (Tensor::from_array(row), self.labels[index])
    }

    /// The samples at `indices`, in that order (copied), like `Subset`.
    /// Panics on an index out of range.
    ///
    /// ```
    /// use blocks_core::{data::TensorDataset, Tensor};
    /// let data = TensorDataset::new(Tensor::from_vec(vec![1.0, 2.0, 3.0], [3, 1]), vec![5, 6, 7]);
    /// let picked = data.subset(&[2, 0]);
    /// assert_eq!((picked.inputs().to_vec(), picked.labels()), (vec![3.0, 1.0], &[7, 5][..]));
    /// ```
    #[track_caller]
    pub fn subset(&self, indices: &[usize]) -> TensorDataset {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            panic!("TensorDataset: index {bad} is out of range for {} samples", self.len());
        }
        let inputs = Tensor::from_array(self.inputs.data().select(Axis(0), indices));
        TensorDataset { inputs, labels: indices.iter().map(|&i| self.labels[i]).collect() }
    }

    /// Splits into a shuffled training set and test set, with
    /// [`train_test_split`](super::train_test_split)'s sizes and order.
    ///
    /// ```
    /// use blocks_core::{data::TensorDataset, Tensor};
    /// let data = TensorDataset::new(Tensor::rand([10, 4]), (0..10).map(|i| i % 3).collect());
    /// let (train, test) = data.split(0.2, 42);
    /// assert_eq!((train.len(), test.len()), (8, 2));
    /// ```
    #[track_caller]
    pub fn split(&self, test_fraction: f64, seed: u64) -> (TensorDataset, TensorDataset) {
        let (train, test) = super::train_test_split(self.len(), test_fraction, seed);
        (self.subset(&train), self.subset(&test))
    }
}

impl super::Dataset for TensorDataset {
    type Sample = (Tensor, usize);

    fn len(&self) -> usize {
        TensorDataset::len(self)
    }

    fn get(&self, index: usize) -> (Tensor, usize) {
        TensorDataset::get(self, index)
    }
}

/// The sample indices `0..n` shuffled by `seed` and cut into a training and
/// a test part, like scikit-learn's `train_test_split(..., test_size=f,
/// random_state=seed)`: the test part has `ceil(f·n)` samples. The order is
/// fixed by the seed in every version of blocks (not numpy's order).
///
/// Panics unless `0 < test_fraction < 1` and both parts are non-empty.
///
/// ```
/// use blocks_core::data::train_test_split;
/// let (train, test) = train_test_split(1797, 0.2, 0);
/// assert_eq!((train.len(), test.len()), (1437, 360));
/// assert_eq!(train_test_split(1797, 0.2, 0), (train, test)); // same seed, same split
/// ```
#[track_caller]
pub fn train_test_split(n: usize, test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    assert!(
        test_fraction > 0.0 && test_fraction < 1.0,
        "train_test_split: test_fraction must be between 0 and 1 (exclusive), got {test_fraction}"
    );
    let n_test = (test_fraction * n as f64).ceil() as usize;
    assert!(
        n_test > 0 && n_test < n,
        "train_test_split: with {n} samples and test_fraction {test_fraction}, the training set \
         would have {} and the test set {n_test} samples; both need at least one",
        n.saturating_sub(n_test)
    );
    let mut order = super::shuffle::permutation(n, seed);
    let train = order.split_off(n_test);
    (train, order)
}
