//! `DataLoader`: mini-batches of a dataset, optionally reshuffled every epoch
//! in an order fixed by a seed.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::Axis;

use super::shuffle::{epoch_seed, permutation};
use super::{DistributedSampler, TensorDataset};
use crate::Tensor;

/// Mini-batches of a [`TensorDataset`], like `torch.utils.data.DataLoader(
/// dataset, batch_size, shuffle, drop_last)`: each iteration is one epoch
/// and yields `(inputs, labels)` with inputs `[B, ...]`.
///
/// With [`shuffle`](Self::shuffle) every epoch has its own order, fixed by the
/// seed and the epoch number, so a run is reproducible and can resume in
/// the middle with [`set_epoch`](Self::set_epoch).
///
/// ```
/// use blocks_core::data::{DataLoader, TensorDataset};
/// use blocks_core::Tensor;
/// let data = TensorDataset::new(Tensor::rand([10, 64]), vec![3; 10]);
/// let loader = DataLoader::new(data, 4).shuffle(0);
/// let sizes: Vec<usize> = loader.iter().map(|(x, y)| { assert_eq!(x.shape()[1], 64); y.len() }).collect();
/// assert_eq!(sizes, vec![4, 4, 2]);
/// ```
pub struct DataLoader {
    dataset: TensorDataset,
    batch_size: usize,
    seed: Option<u64>,
    sampler: Option<DistributedSampler>,
    drop_last: bool,
    next_epoch: AtomicU64,
}

impl DataLoader {
    /// Batches of `batch_size` samples in dataset order (no shuffling), the
    /// last one smaller if the size does not divide. Panics if `batch_size` is 0.
    ///
    /// ```
    /// use blocks_core::data::{DataLoader, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::zeros([5, 2]), vec![0, 1, 2, 3, 4]);
    /// let labels: Vec<Vec<usize>> = DataLoader::new(data, 2).iter().map(|(_, y)| y).collect();
    /// assert_eq!(labels, vec![vec![0, 1], vec![2, 3], vec![4]]);
    /// ```
    pub fn new(dataset: TensorDataset, batch_size: usize) -> Self {
        assert!(batch_size > 0, "DataLoader: batch_size must be at least 1");
        DataLoader {
            dataset,
            batch_size,
            seed: None,
            sampler: None,
            drop_last: false,
            next_epoch: AtomicU64::new(0),
        }
    }

    /// Reshuffles every epoch, in an order fixed by `seed` (`shuffle=True`
    /// with a seeded generator).
    ///
    /// ```
    /// use blocks_core::data::{DataLoader, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::zeros([6, 1]), (0..6).collect());
    /// let a = DataLoader::new(data.clone(), 6).shuffle(7);
    /// let b = DataLoader::new(data, 6).shuffle(7);
    /// assert_eq!(a.iter().next().unwrap().1, b.iter().next().unwrap().1);
    /// ```
    ///
    /// # Panics
    ///
    /// If the loader has a [`sampler`](Self::sampler) (shuffle the sampler instead).
    #[track_caller]
    pub fn shuffle(mut self, seed: u64) -> Self {
        assert!(self.sampler.is_none(), "DataLoader: sampler option is mutually exclusive with shuffle");
        self.seed = Some(seed);
        self
    }

    /// Reads only the samples `sampler` picks, in its order (`sampler=` in
    /// PyTorch): with a [`DistributedSampler`], each process of a
    /// data-parallel run its own shard. `batch_size` is then per process.
    /// The loader's epoch goes to the sampler, so [`set_epoch`](Self::set_epoch)
    /// is PyTorch's `sampler.set_epoch`.
    ///
    /// ```
    /// use blocks_core::data::{DataLoader, DistributedSampler, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::zeros([10, 1]), (0..10).collect());
    /// let loader = DataLoader::new(data, 2).sampler(DistributedSampler::new(10, 3, 1));
    /// let labels: Vec<Vec<usize>> = loader.iter().map(|(_, y)| y).collect();
    /// assert_eq!(labels, [vec![1, 4], vec![7, 0]]);
    /// ```
    ///
    /// # Panics
    ///
    /// If the sampler was made for a data set of another length, or the
    /// loader shuffles already (shuffle the sampler instead).
    #[track_caller]
    pub fn sampler(mut self, sampler: DistributedSampler) -> Self {
        assert!(self.seed.is_none(), "DataLoader: sampler option is mutually exclusive with shuffle");
        assert_eq!(
            sampler.dataset_len(),
            self.dataset.len(),
            "DataLoader: the sampler was made for {} samples but the dataset has {}",
            sampler.dataset_len(),
            self.dataset.len()
        );
        self.sampler = Some(sampler);
        self
    }

    /// Leaves out the last batch when it would be smaller than the others (`drop_last=True`).
    ///
    /// ```
    /// use blocks_core::data::{DataLoader, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::zeros([5, 1]), vec![0; 5]);
    /// assert_eq!(DataLoader::new(data, 2).drop_last(true).iter().count(), 2);
    /// ```
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// The number of batches in an epoch, like `len(loader)`.
    ///
    /// ```
    /// use blocks_core::data::{DataLoader, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::zeros([1437, 64]), vec![0; 1437]);
    /// assert_eq!(DataLoader::new(data.clone(), 32).len(), 45);
    /// assert_eq!(DataLoader::new(data, 32).drop_last(true).len(), 44);
    /// ```
    pub fn len(&self) -> usize {
        let n = self.sampler.as_ref().map_or(self.dataset.len(), DistributedSampler::len);
        if self.drop_last { n / self.batch_size } else { n.div_ceil(self.batch_size) }
    }

    /// Whether an epoch has no batches.
    ///
    /// ```
    /// use blocks_core::data::{DataLoader, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::zeros([3, 1]), vec![0; 3]);
    /// assert!(DataLoader::new(data, 4).drop_last(true).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The dataset.
    ///
    /// ```
    /// use blocks_core::data::{DataLoader, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::zeros([3, 1]), vec![0; 3]);
    /// assert_eq!(DataLoader::new(data, 2).dataset().len(), 3);
    /// ```
    pub fn dataset(&self) -> &TensorDataset {
        &self.dataset
    }

    /// The batch size.
    ///
    /// ```
    /// use blocks_core::data::{DataLoader, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::zeros([3, 1]), vec![0; 3]);
    /// assert_eq!(DataLoader::new(data, 2).batch_size(), 2);
    /// ```
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The batches of the next epoch (the first call gives epoch 0, the next
    /// epoch 1, ...), like `iter(loader)`; `for (x, y) in &loader` does the same.
    ///
    /// ```
    /// use blocks_core::data::{DataLoader, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::zeros([8, 1]), (0..8).collect());
    /// let loader = DataLoader::new(data, 8).shuffle(1);
    /// let first = loader.iter().next().unwrap().1;
    /// let second = loader.iter().next().unwrap().1; // a new epoch, a new order
    /// assert_ne!(first, second);
    /// assert_eq!(loader.epoch(0).next().unwrap().1, first);
    /// ```
    pub fn iter(&self) -> Batches<'_> {
        self.epoch(self.next_epoch.fetch_add(1, Ordering::Relaxed))
    }

    /// The batches of epoch `epoch`, whatever epochs were iterated before.
    ///
    /// ```
    /// use blocks_core::data::{DataLoader, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::zeros([4, 1]), (0..4).collect());
    /// let loader = DataLoader::new(data, 4).shuffle(3);
    /// assert_eq!(loader.epoch(5).next().unwrap().1, loader.epoch(5).next().unwrap().1);
    /// ```
    pub fn epoch(&self, epoch: u64) -> Batches<'_> {
        let n = self.dataset.len();
        let order = match (&self.sampler, self.seed) {
            (Some(sampler), _) => sampler.indices(epoch),
            (None, Some(seed)) => permutation(n, epoch_seed(seed, epoch)),
            (None, None) => (0..n).collect(),
        };
        Batches { loader: self, order, position: 0 }
    }

    /// Makes the next [`iter`](Self::iter) give epoch `epoch` (to resume a run).
    ///
    /// ```
    /// use blocks_core::data::{DataLoader, TensorDataset};
    /// let data = TensorDataset::new(blocks_core::Tensor::zeros([4, 1]), (0..4).collect());
    /// let loader = DataLoader::new(data, 4).shuffle(3);
    /// loader.set_epoch(2);
    /// assert_eq!(loader.iter().next().unwrap().1, loader.epoch(2).next().unwrap().1);
    /// ```
    pub fn set_epoch(&self, epoch: u64) {
        self.next_epoch.store(epoch, Ordering::Relaxed);
    }
}

impl<'a> IntoIterator for &'a DataLoader {
    type Item = (Tensor, Vec<usize>);
    type IntoIter = Batches<'a>;

    fn into_iter(self) -> Batches<'a> {
        self.iter()
    }
}

impl fmt::Debug for DataLoader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataLoader")
            .field("samples", &self.dataset.len())
            .field("batch_size", &self.batch_size)
            .field("shuffle_seed", &self.seed)
            .field("sampler", &self.sampler)
            .field("drop_last", &self.drop_last)
            .finish()
    }
}

/// The batches of one epoch: `(inputs, labels)`, inputs copied from the
/// dataset's rows (`[B, ...]`, not requiring grad).
///
/// ```
/// use blocks_core::data::{DataLoader, TensorDataset};
/// let data = TensorDataset::new(blocks_core::Tensor::zeros([5, 3]), vec![1; 5]);
/// let loader = DataLoader::new(data, 2);
/// let batches = loader.iter();
/// assert_eq!(batches.len(), 3);
/// ```
pub struct Batches<'a> {
    loader: &'a DataLoader,
    order: Vec<usize>,
    position: usize,
}

impl Iterator for Batches<'_> {
    type Item = (Tensor, Vec<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        let remaining = self.order.len() - self.position;
        let size = remaining.min(self.loader.batch_size);
        if size == 0 || (self.loader.drop_last && size < self.loader.batch_size) {
            return None;
        }
        let indices = &self.order[self.position..self.position + size];
        self.position += size;
        let dataset = &self.loader.dataset;
        let inputs = Tensor::from_array(dataset.inputs().data().select(Axis(0), indices));
        let labels = indices.iter().map(|&i| dataset.labels()[i]).collect();
        Some((inputs, labels))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let remaining = self.order.len() - self.position;
        let batch = self.loader.batch_size;
        let count = if self.loader.drop_last { remaining / batch } else { remaining.div_ceil(batch) };
        (count, Some(count))
    }
}

impl ExactSizeIterator for Batches<'_> {}
