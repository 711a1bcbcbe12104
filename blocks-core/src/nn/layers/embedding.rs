//! `nn.Embedding(num_embeddings, embedding_dim)`: [`DynEmbedding`] (sizes
//! from a config, giving a plain tensor) and [`Embedding<N, D>`] (sizes in
//! its type, giving `Batch<D>`), both taking int64 [`Indices`] of any shape.

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::typed::Batch;
use crate::nn::{Parameter, TrainingFlag};
use ndarray::Axis;

use crate::{Element, Indices, Tensor, TensorBase};

/// A table of `num_embeddings` rows of `embedding_dim` values, looked up
/// by indices of any shape (`indices.shape() + [embedding_dim]`), like
/// `nn.Embedding(num_embeddings, embedding_dim)`; rows start from N(0, 1).
///
/// ```
/// use blocks_core::nn::{DynEmbedding, Module, ModuleExt};
/// use blocks_core::Indices;
/// let embed = DynEmbedding::new(50, 16);
/// assert_eq!(embed.to_string(), "Embedding(50, 16)");
/// let y = embed.forward(&Indices::from_vec(vec![3, 1, 4, 1, 5, 9], [2, 3]));
/// assert_eq!(y.shape(), vec![2, 3, 16]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "Embedding", input = "crate::Indices", extra_repr = "Self::settings")]
pub struct DynEmbedding<E: Element = f32> {
    weight: Parameter<E>,
    #[module(skip)]
    padding_idx: Option<usize>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl DynEmbedding {
    /// A table with rows drawn from N(0, 1) (PyTorch's default), from this thread's generator.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynEmbedding::new(10, 3).weight().shape(), vec![10, 3]);
    /// ```
    pub fn new(num_embeddings: usize, embedding_dim: usize) -> Self {
        let weight = Parameter::new(Tensor::zeros([num_embeddings, embedding_dim]));
        crate::nn::init::normal_(&weight, 0.0, 1.0);
        DynEmbedding { weight, padding_idx: None, training: TrainingFlag::default(), hooks: Hooks::new() }
    }

    /// A table like [`new`](Self::new)'s whose row `padding_idx` starts at
    /// zero and never gets a gradient, like
    /// `nn.Embedding(num_embeddings, embedding_dim, padding_idx=padding_idx)`.
    /// A negative `padding_idx` counts from the end (`-1` is the last row),
    /// as in PyTorch.
    ///
    /// # Panics
    ///
    /// When `padding_idx` is not in `-num_embeddings..num_embeddings`
    /// (PyTorch's "Padding_idx must be within num_embeddings").
    ///
    /// ```
    /// use blocks_core::nn::{DynEmbedding, Module, ModuleExt};
    /// let embed = DynEmbedding::with_padding_idx(10, 3, -1);
    /// assert_eq!(embed.to_string(), "Embedding(10, 3, padding_idx=9)");
    /// assert_eq!(embed.weight().to_vec()[27..], [0.0; 3]);
    /// assert!(std::panic::catch_unwind(|| DynEmbedding::with_padding_idx(10, 3, 10)).is_err());
    /// ```
    #[track_caller]
    pub fn with_padding_idx(num_embeddings: usize, embedding_dim: usize, padding_idx: isize) -> Self {
        let normalized = if padding_idx < 0 {
            num_embeddings.checked_sub(padding_idx.unsigned_abs())
        } else {
            Some(padding_idx.unsigned_abs()).filter(|&i| i < num_embeddings)
        };
        let Some(padding_idx) = normalized else {
            panic!(
                "Embedding: padding_idx {padding_idx} must be within num_embeddings ({num_embeddings}): \
                 in -{num_embeddings}..{num_embeddings}"
            )
        };
        let mut embedding = Self::new(num_embeddings, embedding_dim);
        embedding.weight.update_data(|w| w.index_axis_mut(Axis(0), padding_idx).fill(0.0));
        embedding.padding_idx = Some(padding_idx);
        embedding
    }
}

impl<E: Element> DynEmbedding<E> {
    /// The number of rows.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynEmbedding::new(10, 3).num_embeddings(), 10);
    /// ```
    pub fn num_embeddings(&self) -> usize {
        self.weight.shape()[0]
    }

    /// The length of each row.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynEmbedding::new(10, 3).embedding_dim(), 3);
    /// ```
    pub fn embedding_dim(&self) -> usize {
        self.weight.shape()[1]
    }

    /// The table, `[num_embeddings, embedding_dim]`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynEmbedding::new(4, 2).weight().numel(), 8);
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        &self.weight
    }

    /// The row that gets no gradient (made non-negative), if any.
    ///
    /// ```
    /// use blocks_core::nn::DynEmbedding;
    /// assert_eq!(DynEmbedding::with_padding_idx(10, 3, -2).padding_idx(), Some(8));
    /// assert_eq!(DynEmbedding::new(10, 3).padding_idx(), None);
    /// ```
    pub fn padding_idx(&self) -> Option<usize> {
        self.padding_idx
    }
}

impl<E: Element, Fed: crate::nn::FeedsInto<Indices, Self>> Forward<Fed> for DynEmbedding<E> {
    type Output = crate::nn::Checked<Fed, Indices, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let indices: &Indices = &given.feed_into();
        TensorBase::embedding_padded(indices, &self.weight, self.padding_idx)
    }
}

/// An embedding table with its sizes in its type, like
/// `nn.Embedding(N, D)`: it gives `Batch<D>`, so the compiler checks the
/// width of the block after it.
///
/// ```
/// use blocks_core::nn::{Batch, Embedding, Linear};
/// use blocks_core::Indices;
/// let embed = Embedding::<50, 16>::new();
/// let x: Batch<16> = embed.forward(&Indices::from_vec(vec![1, 2, 3], [3]));
/// assert_eq!(Linear::<16, 4>::new().forward(&x).shape(), vec![3, 4]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "crate::Indices")]
pub struct Embedding<const N: usize, const D: usize, E: Element = f32> {
    layer: DynEmbedding<E>,
}

impl<const N: usize, const D: usize> Embedding<N, D> {
    /// A table with rows drawn from N(0, 1).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Embedding::<10, 3>::new().weight().shape(), vec![10, 3]);
    /// ```
    pub fn new() -> Self {
        Embedding { layer: DynEmbedding::new(N, D) }
    }

    /// A table whose row `padding_idx` starts at zero and never gets a
    /// gradient (negative counts from the end), like
    /// `nn.Embedding(N, D, padding_idx=padding_idx)`.
    ///
    /// # Panics
    ///
    /// When `padding_idx` is not in `-N..N`.
    ///
    /// ```
    /// let embed = blocks_core::nn::Embedding::<10, 3>::with_padding_idx(0);
    /// assert_eq!(embed.to_string(), "Embedding(10, 3, padding_idx=0)");
    /// ```
    #[track_caller]
    pub fn with_padding_idx(padding_idx: isize) -> Self {
        Embedding { layer: DynEmbedding::with_padding_idx(N, D, padding_idx) }
    }
}

impl<const N: usize, const D: usize, E: Element> Embedding<N, D, E> {
    /// The table, `[N, D]`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Embedding::<4, 2>::new().weight().numel(), 8);
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        self.layer.weight()
    }
}

impl<const N: usize, const D: usize> Default for Embedding<N, D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const D: usize, E: Element, Fed: crate::nn::FeedsInto<Indices, Self>> Forward<Fed>
    for Embedding<N, D, E>
{
    type Output = crate::nn::Checked<Fed, Indices, Self, Batch<D, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Batch<D, E> {
        let indices: &Indices = &given.feed_into();
        Batch::trusted(Forward::forward(&self.layer, indices))
    }
}

impl<E: Element> DynEmbedding<E> {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        let sizes = format!("{}, {}", self.num_embeddings(), self.embedding_dim());
        match self.padding_idx {
            Some(padding_idx) => format!("{sizes}, padding_idx={padding_idx}"),
            None => sizes,
        }
    }
}
