//! `Transformed`: a data set of images with a transform applied to each as it
//! is read, its randomness seeded per sample and epoch, so a pipeline gives
//! the same images in every run and in whatever order (or on whichever
//! thread) the samples are read.

use std::sync::atomic::{AtomicU64, Ordering};

use super::shuffle::{SplitMix64, epoch_seed};
use super::{Dataset, Transform, TransformRng};
use crate::Tensor;

/// A data set of `(image, label)` samples with `transform` applied to each
/// image as it is read, like a torchvision data set's `transform=`. Sample
/// `i` of epoch `e` draws from a stream fixed by `(seed, e, i)`: the same
/// augmentation in every run, whatever the order or thread; call
/// [`set_epoch`](Self::set_epoch) at each epoch for new draws.
///
/// ```
/// use blocks_core::data::{DataLoader, RandomHorizontalFlip, TensorDataset, Transformed};
/// use blocks_core::Tensor;
/// let images = TensorDataset::new(Tensor::rand([6, 1, 4, 4]), vec![0, 1, 0, 1, 0, 1]);
/// let data = Transformed::new(images, RandomHorizontalFlip::new(0.5), 42);
/// let loader = DataLoader::new(data, 4).shuffle(0);
/// let (x, y) = loader.iter().next().unwrap();
/// assert_eq!((x.shape(), y.len()), (vec![4, 1, 4, 4], 4));
/// loader.dataset().set_epoch(1);
/// ```
pub struct Transformed<D, T> {
    dataset: D,
    transform: T,
    seed: u64,
    epoch: AtomicU64,
}

impl<D, T> Transformed<D, T> {
    /// `dataset` with `transform` applied to each image, seeded by `seed`, at epoch 0.
    ///
    /// ```
    /// use blocks_core::data::{Normalize, TensorDataset, Transformed};
    /// let data = TensorDataset::new(blocks_core::Tensor::ones([2, 1, 1, 1]), vec![0, 1]);
    /// let t = Transformed::new(data, Normalize::new(vec![1.0], vec![1.0]), 0);
    /// assert_eq!(t.epoch(), 0);
    /// ```
    pub fn new(dataset: D, transform: T, seed: u64) -> Self {
        Transformed { dataset, transform, seed, epoch: AtomicU64::new(0) }
    }

    /// Sets the epoch the draws are for (as `DistributedSampler.set_epoch`).
    ///
    /// ```
    /// # use blocks_core::data::{Normalize, TensorDataset, Transformed};
    /// # let data = TensorDataset::new(blocks_core::Tensor::ones([2, 1, 1, 1]), vec![0, 1]);
    /// let t = Transformed::new(data, Normalize::new(vec![1.0], vec![1.0]), 0);
    /// t.set_epoch(3);
    /// assert_eq!(t.epoch(), 3);
    /// ```
    pub fn set_epoch(&self, epoch: u64) {
        self.epoch.store(epoch, Ordering::Relaxed);
    }

    /// The epoch the draws are for.
    ///
    /// ```
    /// # use blocks_core::data::{Normalize, TensorDataset, Transformed};
    /// # let data = TensorDataset::new(blocks_core::Tensor::ones([2, 1, 1, 1]), vec![0, 1]);
    /// assert_eq!(Transformed::new(data, Normalize::new(vec![0.0], vec![1.0]), 0).epoch(), 0);
    /// ```
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Relaxed)
    }

    /// The stream sample `index` draws from at the current epoch.
    ///
    /// ```
    /// # use blocks_core::data::{Normalize, TensorDataset, Transformed};
    /// # let data = TensorDataset::new(blocks_core::Tensor::ones([2, 1, 1, 1]), vec![0, 1]);
    /// let t = Transformed::new(data, Normalize::new(vec![0.0], vec![1.0]), 9);
    /// assert_eq!(t.rng(1).below(1000), t.rng(1).below(1000));
    /// ```
    pub fn rng(&self, index: usize) -> TransformRng {
        let epoch = epoch_seed(self.seed, self.epoch());
        TransformRng::new(epoch ^ SplitMix64::new(index as u64).next_u64())
    }

    /// The data set underneath.
    ///
    /// ```
    /// # use blocks_core::data::{Normalize, TensorDataset, Transformed};
    /// # let data = TensorDataset::new(blocks_core::Tensor::ones([2, 1, 1, 1]), vec![0, 1]);
    /// let t = Transformed::new(data, Normalize::new(vec![0.0], vec![1.0]), 0);
    /// assert_eq!(t.inner().len(), 2);
    /// ```
    pub fn inner(&self) -> &D {
        &self.dataset
    }
}

impl<D: Dataset<Sample = (Tensor, L)>, L, T: Transform> Dataset for Transformed<D, T> {
    type Sample = (Tensor, L);

    fn len(&self) -> usize {
        self.dataset.len()
    }

    /// Sample `index` with its image transformed.
    ///
    /// # Panics
    ///
    /// When the image does not fit the transform (the transform's message).
    #[track_caller]
    fn get(&self, index: usize) -> (Tensor, L) {
        let (image, label) = self.dataset.get(index);
        (self.transform.apply(&image, &mut self.rng(index)), label)
    }
}
