//! Data: the [`Dataset`] trait (a user's own data), datasets of tensors
//! with class labels or any targets ([`Tensors`]), a seeded train/test split,
//! mini-batch loading with reproducible shuffling, each process its shard in
//! data-parallel training ([`DistributedSampler`]), and accuracy; image
//! augmentation as torchvision's transforms ([`RandomCrop`],
//! [`RandomHorizontalFlip`], [`Normalize`], [`Compose`], applied by a seeded
//! [`Transformed`] data set), and [`Subset`] / [`ConcatDataset`].
//!
//! ```
//! use blocks_core::data::{accuracy, DataLoader, TensorDataset};
//! use blocks_core::Tensor;
//! let data = TensorDataset::new(Tensor::rand([100, 64]), (0..100).map(|i| i % 10).collect());
//! let (train, test) = data.split(0.2, 42);
//! let loader = DataLoader::new(train, 32).shuffle(0);
//! for (x, y) in &loader {
//!     assert_eq!(x.shape()[0], y.len());
//! }
//! let logits = Tensor::zeros([test.len(), 10]);
//! assert!(accuracy(&logits, test.labels()) <= 1.0);
//! ```

mod dataset;
mod dataset_trait;
mod loader;
mod metrics;
mod padding_mode;
mod sampler;
mod shuffle;
mod subset;
mod tensors;
mod transformed;
mod transforms;

pub use dataset::{TensorDataset, train_test_split};
pub use dataset_trait::{Collate, Dataset};
pub use loader::{Batches, DataLoader};
pub use metrics::{accuracy, correct, predict};
pub use padding_mode::PaddingMode;
pub use sampler::DistributedSampler;
pub use subset::{ConcatDataset, Subset};
pub use tensors::Tensors;
pub use transformed::Transformed;
pub use transforms::{Compose, Normalize, RandomCrop, RandomHorizontalFlip, Transform, TransformRng};
