//! Embedding look-up: rows of a weight table picked by int64 indices of any
//! shape, like `torch.nn.functional.embedding` (EmbeddingBackward0).

use ndarray::{ArrayD, Axis, IxDyn};

use crate::error::or_panic;
use crate::{Element, Indices, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// The rows of `weight` (`[num_embeddings, embedding_dim]`) at `indices`,
    /// shaped `indices.shape() + [embedding_dim]`, like
    /// `torch.nn.functional.embedding(indices, weight)` (EmbeddingBackward0).
    ///
    /// The gradient of a row is the sum of the gradients of every position that picked it.
    ///
    /// # Panics
    /// On an index not below `num_embeddings`, naming the index and the table
    /// size, or a weight that is not 2-D (see [`try_embedding`](Self::try_embedding)).
    ///
    /// ```
    /// use blocks_core::{Indices, Tensor};
    /// let weight = Tensor::from_vec(vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5], [3, 2]);
    /// let y = Tensor::embedding(&Indices::from_vec(vec![2, 0], [2]), &weight);
    /// assert_eq!(y.shape(), vec![2, 2]);
    /// assert_eq!(y.to_vec(), vec![2.0, 2.5, 0.0, 0.5]);
    /// ```
    #[track_caller]
    pub fn embedding(indices: &Indices, weight: &Self) -> Self {
        or_panic(Self::try_embedding(indices, weight))
    }

    /// Like [`embedding`](Self::embedding), returning an error on a bad index or weight.
    ///
    /// # Errors
    /// A [`ShapeError`] for a weight that is not 2-D, an index out of range
    /// (naming the index, its position and the table size), or an output
    /// larger than memory.
    ///
    /// ```
    /// use blocks_core::{Indices, Tensor};
    /// let err = Tensor::try_embedding(&Indices::from_vec(vec![7], [1]), &Tensor::zeros([5, 2])).unwrap_err();
    /// assert_eq!(err.to_string(), "embedding: index 7 (at position 0) is out of range for a table of 5 embeddings (weight [5, 2])");
    /// ```
    pub fn try_embedding(indices: &Indices, weight: &Self) -> Result<Self, ShapeError> {
        Self::try_embedding_padded(indices, weight, None)
    }

    /// Like [`embedding`](Self::embedding), with PyTorch's `padding_idx`:
    /// positions that pick row `padding_idx` add nothing to its gradient, so
    /// that row's gradient is always zero, like
    /// `torch.nn.functional.embedding(indices, weight, padding_idx)`.
    ///
    /// # Panics
    /// On an index not below `num_embeddings`, a weight that is not 2-D, or
    /// a `padding_idx` not below `num_embeddings` (see
    /// [`try_embedding_padded`](Self::try_embedding_padded)).
    ///
    /// ```
    /// use blocks_core::{Indices, Tensor};
    /// let weight = Tensor::ones([3, 2]).requires_grad_(true);
    /// Tensor::embedding_padded(&Indices::from_vec(vec![0, 1, 0], [3]), &weight, Some(0)).sum().backward();
    /// assert_eq!(weight.grad().unwrap().to_vec(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn embedding_padded(indices: &Indices, weight: &Self, padding_idx: Option<usize>) -> Self {
        or_panic(Self::try_embedding_padded(indices, weight, padding_idx))
    }

    /// Like [`embedding_padded`](Self::embedding_padded), returning an error
    /// on a bad index, weight or `padding_idx`.
    ///
    /// # Errors
    /// A [`ShapeError`] for a weight that is not 2-D, an index out of range
    /// (naming the index, its position and the table size), or a
    /// `padding_idx` out of range.
    ///
    /// ```
    /// use blocks_core::{Indices, Tensor};
    /// let err = Tensor::try_embedding_padded(&Indices::from_vec(vec![0], [1]), &Tensor::zeros([5, 2]), Some(5));
    /// assert_eq!(err.unwrap_err().to_string(), "embedding: padding_idx 5 is out of range for a table of 5 embeddings");
    /// ```
    pub fn try_embedding_padded(
        indices: &Indices,
        weight: &Self,
        padding_idx: Option<usize>,
    ) -> Result<Self, ShapeError> {
        let w_shape = weight.shape();
        if w_shape.len() != 2 {
            return Err(ShapeError::new(format!(
                "embedding: the weight must be 2-D (num_embeddings, embedding_dim), got weight {w_shape:?}"
            )));
        }
        let (num, dim) = (w_shape[0], w_shape[1]);
        if let Some((at, &index)) = indices.as_slice().iter().enumerate().find(|&(_, &i)| i >= num) {
            return Err(ShapeError::new(format!(
                "embedding: index {index} (at position {at}) is out of range for a table of {num} embeddings \
                 (weight {w_shape:?})"
            )));
        }
        if let Some(padding) = padding_idx.filter(|&i| i >= num) {
            return Err(ShapeError::new(format!(
                "embedding: padding_idx {padding} is out of range for a table of {num} embeddings"
            )));
        }
        // Few indices into a wide table can ask for more than memory holds.
        let mut out_shape = indices.shape().to_vec();
        out_shape.push(dim);
        crate::numel::checked_alloc::<E>("embedding", "the output", &out_shape)?;
        let data = {
            let w = weight.data();
            let mut values = Vec::with_capacity(indices.numel() * dim);
            for &i in indices.as_slice() {
                values.extend(w.index_axis(Axis(0), i).iter().copied());
            }
            ArrayD::from_shape_vec(IxDyn(&out_shape), values).expect("one row per index")
        };
        let picked = indices.clone();
        Ok(TensorBase::from_op(data, "EmbeddingBackward0", &[weight], move |grad, _| {
            let grad = grad.as_standard_layout();
            let mut dw = vec![E::zero(); num * dim];
            if dim > 0 {
                for (&i, g) in
                    picked.as_slice().iter().zip(grad.as_slice().expect("standard layout").chunks_exact(dim))
                {
                    if Some(i) == padding_idx {
                        continue;
                    }
                    dw[i * dim..(i + 1) * dim].iter_mut().zip(g).for_each(|(d, &g)| *d += g);
                }
            }
            vec![Some(ArrayD::from_shape_vec(IxDyn(&[num, dim]), dw).expect("weight size"))]
        }))
    }
}
