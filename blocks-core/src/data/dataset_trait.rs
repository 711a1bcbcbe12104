//! `Dataset`: anything with a length and samples by index (PyTorch's
//! map-style `Dataset`, `__len__` and `__getitem__`), and `Collate`: how
//! samples become a batch (PyTorch's `default_collate`).

use crate::Tensor;

/// A data set a [`DataLoader`](super::DataLoader) reads by index, like a
/// map-style `torch.utils.data.Dataset`: [`len`](Self::len) is `__len__`,
/// [`get`](Self::get) is `__getitem__`. Implement it for your own data.
///
/// ```
/// use blocks_core::data::{DataLoader, Dataset};
/// use blocks_core::Tensor;
///
/// /// y = 2x + 1 at x = 0, 1, 2, ...: a regression data set computed on demand.
/// struct Line(usize);
/// impl Dataset for Line {
///     type Sample = (Tensor, Tensor);
///     fn len(&self) -> usize {
///         self.0
///     }
///     fn get(&self, index: usize) -> (Tensor, Tensor) {
///         let x = index as f32;
///         (Tensor::from_vec(vec![x], [1]), Tensor::from_vec(vec![2.0 * x + 1.0], [1]))
///     }
/// }
///
/// let loader = DataLoader::new(Line(5), 2);
/// let (x, y) = loader.iter().next().unwrap();
/// assert_eq!((x.shape(), y.to_vec()), (vec![2, 1], vec![1.0, 3.0]));
/// ```
pub trait Dataset: Send + Sync {
    /// One sample, what `dataset[i]` returns.
    type Sample;

    /// The number of samples, like `len(dataset)`.
    fn len(&self) -> usize;

    /// Sample `index` (`0 <= index < len()`), like `dataset[index]`.
    fn get(&self, index: usize) -> Self::Sample;

    /// Whether there are no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How samples become a batch when no collate function is given, like
/// PyTorch's `default_collate`: tensors are stacked along a new first
/// dimension, class labels gathered into a `Vec<usize>`, float targets into a
/// 1-d tensor, and tuples and `Vec`s collated element by element.
///
/// ```
/// use blocks_core::data::Collate;
/// use blocks_core::Tensor;
/// let samples = vec![(Tensor::ones([3]), 1usize), (Tensor::zeros([3]), 0)];
/// let (x, y) = Collate::collate(samples);
/// assert_eq!((x.shape(), y), (vec![2, 3], vec![1, 0]));
/// ```
pub trait Collate: Sized {
    /// What a batch of these samples is.
    type Batch;

    /// The batch of `samples`, in their order.
    ///
    /// # Panics
    ///
    /// If the samples' tensors do not all have one shape (as `torch.stack`).
    fn collate(samples: Vec<Self>) -> Self::Batch;
}

impl Collate for Tensor {
    type Batch = Tensor;

    fn collate(samples: Vec<Tensor>) -> Tensor {
        let refs: Vec<&Tensor> = samples.iter().collect();
        if refs.is_empty() {
            return Tensor::zeros([0]);
        }
        Tensor::stack(&refs, 0)
    }
}

impl Collate for usize {
    type Batch = Vec<usize>;

    fn collate(samples: Vec<usize>) -> Vec<usize> {
        samples
    }
}

impl Collate for f32 {
    type Batch = Tensor;

    fn collate(samples: Vec<f32>) -> Tensor {
        let n = samples.len();
        Tensor::from_vec(samples, [n])
    }
}

impl<A: Collate, B: Collate> Collate for (A, B) {
    type Batch = (A::Batch, B::Batch);

    fn collate(samples: Vec<(A, B)>) -> (A::Batch, B::Batch) {
        let (a, b): (Vec<A>, Vec<B>) = samples.into_iter().unzip();
        (A::collate(a), B::collate(b))
    }
}

impl<T: Collate> Collate for Vec<T> {
    type Batch = Vec<T::Batch>;

    /// Element `i` of every sample, collated, for each `i`.
    ///
    /// # Panics
    ///
    /// If the samples have different lengths.
    fn collate(samples: Vec<Vec<T>>) -> Vec<T::Batch> {
        let width = samples.first().map_or(0, Vec::len);
        let mut columns: Vec<Vec<T>> = (0..width).map(|_| Vec::with_capacity(samples.len())).collect();
        for sample in samples {
            assert_eq!(sample.len(), width, "collate: samples with {} and {width} elements", sample.len());
            for (column, value) in columns.iter_mut().zip(sample) {
                column.push(value);
            }
        }
        columns.into_iter().map(T::collate).collect()
    }
}

/// A shared data set is one too (a [`Subset`](super::Subset) of each part of
/// one data set, as `random_split` gives).
impl<D: Dataset + ?Sized> Dataset for std::sync::Arc<D> {
    type Sample = D::Sample;

    fn len(&self) -> usize {
        (**self).len()
    }

    fn get(&self, index: usize) -> D::Sample {
        (**self).get(index)
    }
}

/// A boxed data set is one too (`ConcatDataset<Box<dyn Dataset<Sample = S>>>`
/// joins data sets of different types).
impl<D: Dataset + ?Sized> Dataset for Box<D> {
    type Sample = D::Sample;

    fn len(&self) -> usize {
        (**self).len()
    }

    fn get(&self, index: usize) -> D::Sample {
        (**self).get(index)
    }
}
