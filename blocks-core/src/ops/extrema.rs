//! Maxima and minima: over one dim with their indices (`max_dim`, `min_dim`,
//! `argmax`, `argmin`) and over the whole tensor (`max`, `min`).

use std::sync::Arc;

use ndarray::{ArrayD, ArrayView1, ArrayViewD, Axis, IxDyn};

use super::axes::normalize_axis;
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

/// Positions along a dim, as returned by [`argmax`](TensorBase::argmax) and
/// [`max_dim`](TensorBase::max_dim): PyTorch's int64 index tensor, as `usize`
/// values with a shape.
///
/// ```
/// use blocks_core::Tensor;
/// let logits = Tensor::from_vec(vec![0.1, 2.0, -1.0, 3.0, 0.0, 0.5], [2, 3]);
/// let predicted = logits.argmax(-1, false);
/// assert_eq!(predicted.shape(), [2]);
/// assert_eq!(predicted.as_slice(), [1, 0]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indices {
    values: Arc<[usize]>,
    shape: Vec<usize>,
}

impl Indices {
    /// Indices with `shape` holding `values` in row-major order, like
    /// `torch.tensor(values, dtype=torch.int64).reshape(shape)`.
    ///
    /// # Panics
    /// If the number of values does not fill the shape (see [`try_from_vec`](Self::try_from_vec)).
    ///
    /// ```
    /// let i = blocks_core::Indices::from_vec(vec![3, 0, 2, 2], [2, 2]);
    /// assert_eq!((i.shape(), i.as_slice()), (&[2, 2][..], &[3, 0, 2, 2][..]));
    /// ```
    #[track_caller]
    pub fn from_vec(values: Vec<usize>, shape: impl AsRef<[usize]>) -> Self {
        crate::error::or_panic(Self::try_from_vec(values, shape))
    }

    /// Like [`from_vec`](Self::from_vec), returning an error on a size mismatch.
    ///
    /// # Errors
    /// A [`ShapeError`] when `values` does not have as many elements as
    /// `shape`, or the shape's element count overflows.
    ///
    /// ```
    /// assert!(blocks_core::Indices::try_from_vec(vec![1, 2, 3], [2, 2]).is_err());
    /// assert!(blocks_core::Indices::try_from_vec(vec![], [1 << 32, 1 << 32]).is_err());
    /// ```
    pub fn try_from_vec(values: Vec<usize>, shape: impl AsRef<[usize]>) -> Result<Self, ShapeError> {
        let shape = shape.as_ref().to_vec();
        // f64 stands for usize: both take 8 bytes.
        let expected = crate::numel::checked_numel::<f64>("indices", &shape)?;
        if expected != values.len() {
            return Err(ShapeError::new(format!(
                "indices: {} values cannot fill shape {shape:?} ({expected} elements)",
                values.len()
            )));
        }
        Ok(Indices { values: values.into(), shape })
    }

    /// Indices from int64 values (as PyTorch saves index tensors), refusing negative ones.
    ///
    /// # Errors
    /// A [`ShapeError`] naming the first negative value and its position, or a size mismatch.
    ///
    /// ```
    /// use blocks_core::Indices;
    /// assert_eq!(Indices::try_from_i64(&[4, 1], [2]).unwrap().as_slice(), [4, 1]);
    /// assert!(Indices::try_from_i64(&[4, -1], [2]).is_err());
    /// ```
    pub fn try_from_i64(values: &[i64], shape: impl AsRef<[usize]>) -> Result<Self, ShapeError> {
        let values = values
            .iter()
            .enumerate()
            .map(|(at, &v)| {
                usize::try_from(v)
                    .map_err(|_| ShapeError::new(format!("indices: negative index {v} at position {at}")))
            })
            .collect::<Result<Vec<usize>, _>>()?;
        Self::try_from_vec(values, shape)
    }

    /// The shape, like `indices.shape`.
    ///
    /// ```
    /// let i = blocks_core::Tensor::zeros([2, 3]).argmax(1, true);
    /// assert_eq!(i.shape(), [2, 1]);
    /// ```
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The indices in row-major order.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 5.0, 2.0], [3]);
    /// assert_eq!(x.argmax(0, false).as_slice(), [1]);
    /// ```
    pub fn as_slice(&self) -> &[usize] {
        &self.values
    }

    /// The indices in row-major order, copied into a `Vec`, like `indices.flatten().tolist()`.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 5.0, 7.0, 2.0], [2, 2]);
    /// assert_eq!(x.argmin(1, false).to_vec(), vec![0, 1]);
    /// ```
    pub fn to_vec(&self) -> Vec<usize> {
        self.values.to_vec()
    }

    /// The number of indices, like `indices.numel()`.
    ///
    /// ```
    /// assert_eq!(blocks_core::Tensor::zeros([4, 3]).argmax(1, false).numel(), 4);
    /// ```
    pub fn numel(&self) -> usize {
        self.values.len()
    }

    /// The only index, like `indices.item()`; panics if there is not exactly one.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 5.0, 2.0], [3]);
    /// assert_eq!(x.argmax(0, false).item(), 1);
    /// ```
    #[track_caller]
    pub fn item(&self) -> usize {
        assert!(
            self.values.len() == 1,
            "item: Indices with {} elements cannot be converted to Scalar",
            self.values.len()
        );
        self.values[0]
    }

    /// The indices as a float tensor of the same shape, like `indices.float()`.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 5.0, 7.0, 2.0], [2, 2]);
    /// let i: blocks_core::Tensor = x.argmax(1, false).to_tensor();
    /// assert_eq!(i.to_vec(), vec![1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn to_tensor<E: Element>(&self) -> TensorBase<E> {
        let values = self.values.iter().map(|&i| E::from_usize(i).expect("an index fits")).collect();
        TensorBase::from_vec(values, &self.shape)
    }
}

/// Which extremum a reduction looks for.
#[derive(Clone, Copy)]
enum Extremum {
    Max,
    Min,
}

impl Extremum {
    fn name(self) -> &'static str {
        match self {
            Extremum::Max => "max",
            Extremum::Min => "min",
        }
    }

    /// Whether `candidate` replaces `best`: strictly better, or the first NaN
    /// (NaN propagates, as in PyTorch). Ties keep the first index.
    fn beats<E: Element>(self, candidate: E, best: E) -> bool {
        if best.is_nan() {
            return false;
        }
        candidate.is_nan()
            || match self {
                Extremum::Max => candidate > best,
                Extremum::Min => candidate < best,
            }
    }

    /// The index of the extremum of a non-empty lane.
    fn position<E: Element>(self, lane: ArrayView1<'_, E>) -> usize {
        let mut best = 0;
        for (i, &v) in lane.iter().enumerate().skip(1) {
            if self.beats(v, lane[best]) {
                best = i;
            }
        }
        best
    }
}

/// `array` with a 0-d array seen as shape `[1]`, so that it has an axis to reduce.
fn at_least_1d<'a, E: Element>(array: &'a ArrayD<E>) -> ArrayViewD<'a, E> {
    if array.ndim() == 0 {
        array.view().into_shape_with_order(IxDyn(&[1])).expect("one element")
    } else {
        array.view()
    }
}

/// The reduced axis, the extremum and its index along `dim` for every lane,
/// and the output shape.
struct DimReduction<E> {
    axis: usize,
    values: Vec<E>,
    indices: Vec<usize>,
    out_shape: Vec<usize>,
}

fn reduce_dim<E: Element>(
    op: &str,
    which: Extremum,
    x: &ArrayD<E>,
    dim: isize,
    keepdim: bool,
) -> Result<DimReduction<E>, ShapeError> {
    let axis = normalize_axis(op, dim, x.ndim())?;
    let view = at_least_1d(x);
    if view.len_of(Axis(axis)) == 0 {
        return Err(ShapeError::new(format!(
            "{op}: cannot reduce dim {axis} of size 0 in a tensor of shape {:?}",
            x.shape()
        )));
    }
    let indices: Vec<usize> = view.lanes(Axis(axis)).into_iter().map(|lane| which.position(lane)).collect();
    let values = view.lanes(Axis(axis)).into_iter().zip(&indices).map(|(lane, &i)| lane[i]).collect();
    let mut out_shape = x.shape().to_vec();
    if !out_shape.is_empty() {
        if keepdim {
            out_shape[axis] = 1;
        } else {
            out_shape.remove(axis);
        }
    }
    Ok(DimReduction { axis, values, indices, out_shape })
}

impl<E: Element> TensorBase<E> {
    /// The maximum along `dim` and its index, like `torch.max(x, dim, keepdim)` (MaxBackward0).
    ///
    /// Of equal maxima the first index is returned, and the gradient flows to
    /// that position only, as in PyTorch; NaN counts as the maximum. Panics on
    /// a bad dim or an empty dim.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 7.0, 7.0, 4.0, 2.0, 3.0], [2, 3]);
    /// let (values, indices) = x.max_dim(1, false);
    /// assert_eq!(values.to_vec(), vec![7.0, 4.0]);
    /// assert_eq!(indices.as_slice(), [1, 0]);
    /// ```
    #[track_caller]
    pub fn max_dim(&self, dim: isize, keepdim: bool) -> (Self, Indices) {
        or_panic(self.try_max_dim(dim, keepdim))
    }

    /// Like [`max_dim`](Self::max_dim), returning an error on a bad or empty dim.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::zeros([2, 3]).try_max_dim(2, false).is_err());
    /// ```
    pub fn try_max_dim(&self, dim: isize, keepdim: bool) -> Result<(Self, Indices), ShapeError> {
        self.extremum_dim("max_dim", Extremum::Max, dim, keepdim)
    }

    /// The minimum along `dim` and its index, like `torch.min(x, dim, keepdim)` (MinBackward0).
    ///
    /// Of equal minima the first index is returned and gets the gradient; NaN
    /// counts as the minimum. Panics on a bad dim or an empty dim.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 7.0, 4.0, 2.0], [2, 2]);
    /// let (values, indices) = x.min_dim(0, true);
    /// assert_eq!(values.shape(), vec![1, 2]);
    /// assert_eq!(values.to_vec(), vec![1.0, 2.0]);
    /// assert_eq!(indices.as_slice(), [0, 1]);
    /// ```
    #[track_caller]
    pub fn min_dim(&self, dim: isize, keepdim: bool) -> (Self, Indices) {
        or_panic(self.try_min_dim(dim, keepdim))
    }

    /// Like [`min_dim`](Self::min_dim), returning an error on a bad or empty dim.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::zeros([2, 0]).try_min_dim(1, false).is_err());
    /// ```
    pub fn try_min_dim(&self, dim: isize, keepdim: bool) -> Result<(Self, Indices), ShapeError> {
        self.extremum_dim("min_dim", Extremum::Min, dim, keepdim)
    }

    /// The index of the maximum along `dim`, like `torch.argmax(x, dim, keepdim)`.
    ///
    /// Of equal maxima the first index is returned. Panics on a bad or empty dim.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let logits = Tensor::from_vec(vec![0.1, 2.0, -1.0, 3.0, 0.0, 0.5], [2, 3]);
    /// assert_eq!(logits.argmax(1, false).to_vec(), vec![1, 0]);
    /// ```
    #[track_caller]
    pub fn argmax(&self, dim: isize, keepdim: bool) -> Indices {
        or_panic(self.try_argmax(dim, keepdim))
    }

    /// Like [`argmax`](Self::argmax), returning an error on a bad or empty dim.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::zeros([2, 3]).try_argmax(-3, false).is_err());
    /// ```
    pub fn try_argmax(&self, dim: isize, keepdim: bool) -> Result<Indices, ShapeError> {
        let r = reduce_dim("argmax", Extremum::Max, &self.data(), dim, keepdim)?;
        Ok(Indices { values: r.indices.into(), shape: r.out_shape })
    }

    /// The index of the minimum along `dim`, like `torch.argmin(x, dim, keepdim)`.
    ///
    /// Of equal minima the first index is returned. Panics on a bad or empty dim.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![3.0, 1.0, 1.0], [3]);
    /// assert_eq!(x.argmin(0, false).item(), 1);
    /// ```
    #[track_caller]
    pub fn argmin(&self, dim: isize, keepdim: bool) -> Indices {
        or_panic(self.try_argmin(dim, keepdim))
    }

    /// Like [`argmin`](Self::argmin), returning an error on a bad or empty dim.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::zeros([0]).try_argmin(0, false).is_err());
    /// ```
    pub fn try_argmin(&self, dim: isize, keepdim: bool) -> Result<Indices, ShapeError> {
        let r = reduce_dim("argmin", Extremum::Min, &self.data(), dim, keepdim)?;
        Ok(Indices { values: r.indices.into(), shape: r.out_shape })
    }

    fn extremum_dim(
        &self,
        op: &str,
        which: Extremum,
        dim: isize,
        keepdim: bool,
    ) -> Result<(Self, Indices), ShapeError> {
        let DimReduction { axis, values, indices, out_shape } =
            reduce_dim(op, which, &self.data(), dim, keepdim)?;
        let data = ArrayD::from_shape_vec(IxDyn(&out_shape), values).expect("one value per lane");
        let indices: Arc<[usize]> = indices.into();
        let saved = Arc::clone(&indices);
        let name = match which {
            Extremum::Max => "MaxBackward0",
            Extremum::Min => "MinBackward0",
        };
        let values = TensorBase::from_op(data, name, &[self], move |grad, ctx| {
            let mut full = ArrayD::zeros(ctx.input(0).raw_dim());
            {
                let mut view = if full.ndim() == 0 {
                    full.view_mut().into_shape_with_order(IxDyn(&[1])).expect("one element")
                } else {
                    full.view_mut()
                };
                // Lanes and the gradient both run over the other axes in row-major order.
                for ((mut lane, &g), &i) in
                    view.lanes_mut(Axis(axis)).into_iter().zip(grad.iter()).zip(&*saved)
                {
                    lane[i] = g;
                }
            }
            vec![Some(full)]
        });
        Ok((values, Indices { values: indices, shape: out_shape }))
    }

    /// The largest element as a zero-dimensional tensor, like `torch.max(x)` (MaxBackward1).
    ///
    /// NaN propagates. As in PyTorch, the gradient is shared evenly among all
    /// elements equal to the maximum. Panics on an empty tensor.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::from_vec(vec![1.0, 3.0, 3.0, 2.0], [4]).requires_grad_(true);
    /// let m = x.max();
    /// assert_eq!(m.item(), 3.0);
    /// m.backward();
    /// assert_eq!(x.grad().unwrap().to_vec(), vec![0.0, 0.5, 0.5, 0.0]);
    /// ```
    #[track_caller]
    pub fn max(&self) -> Self {
        self.extremum(Extremum::Max, "MaxBackward1")
    }

    /// The smallest element as a zero-dimensional tensor, like `torch.min(x)` (MinBackward1).
    ///
    /// NaN propagates; the gradient is shared evenly among all elements equal
    /// to the minimum. Panics on an empty tensor.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![4.0, -1.0, 2.0], [3]);
    /// assert_eq!(x.min().item(), -1.0);
    /// ```
    #[track_caller]
    pub fn min(&self) -> Self {
        self.extremum(Extremum::Min, "MinBackward1")
    }

    #[track_caller]
    fn extremum(&self, which: Extremum, name: &'static str) -> Self {
        let value = {
            let x = self.data();
            let mut values = x.iter().copied();
            let Some(first) = values.next() else {
                panic!(
                    "{}(): Expected reduction dim to be specified for input.numel() == 0. \
                     Specify the reduction dim with the 'dim' argument (input shape {:?}).",
                    which.name(),
                    x.shape()
                );
            };
            values.fold(first, |best, v| if which.beats(v, best) { v } else { best })
        };
        let data = ArrayD::from_elem(IxDyn(&[]), value);
        TensorBase::from_op(data, name, &[self], move |grad, ctx| {
            let x = ctx.input(0);
            let hit = |v: E| if value.is_nan() { v.is_nan() } else { v == value };
            let count = x.iter().filter(|&&v| hit(v)).count();
            let share = grad[[]] / E::from_usize(count).expect("count fits");
            vec![Some(x.mapv(|v| if hit(v) { share } else { E::zero() }))]
        })
    }
}
