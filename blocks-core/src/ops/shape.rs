//! Rearranging values without computing new ones: reshape/view, flatten,
//! squeeze, unsqueeze, transpose, permute and expand.
//!
//! PyTorch returns views for these; here each forward makes one contiguous
//! (row-major) copy, and each backward hands back a row-major gradient.

use ndarray::{ArrayD, ArrayViewD, IxDyn};

use super::axes::normalize_axis;
use super::broadcast::sum_to_shape;
use crate::error::or_panic;
use crate::{Element, ShapeError, TensorBase};

impl<E: Element> TensorBase<E> {
    /// The same values in a new shape (row-major), like `x.reshape(shape)`;
    /// one entry may be `-1` to be inferred (ViewBackward0).
    ///
    /// ```
    /// let x = blocks_core::Tensor::arange(0.0, 6.0, 1.0);
    /// assert_eq!(x.reshape(&[2, -1]).shape(), vec![2, 3]);
    /// ```
    #[track_caller]
    pub fn reshape(&self, shape: &[isize]) -> Self {
        or_panic(self.try_reshape(shape))
    }

    /// Like [`reshape`](Self::reshape), returning an error when the sizes do not fit.
    ///
    /// ```
    /// assert!(blocks_core::Tensor::zeros([6]).try_reshape(&[4, -1]).is_err());
    /// ```
    pub fn try_reshape(&self, shape: &[isize]) -> Result<Self, ShapeError> {
        self.reshape_op("reshape", shape)
    }

    /// Like `x.view(shape)`: the same as [`reshape`](Self::reshape), since
    /// every tensor here is contiguous (ViewBackward0).
    ///
    /// ```
    /// let x = blocks_core::Tensor::arange(0.0, 6.0, 1.0);
    /// assert_eq!(x.view(&[-1, 2]).shape(), vec![3, 2]);
    /// ```
    #[track_caller]
    pub fn view(&self, shape: &[isize]) -> Self {
        or_panic(self.try_view(shape))
    }

    /// Like [`view`](Self::view), returning an error when the sizes do not fit.
    ///
    /// ```
    /// let error = blocks_core::Tensor::zeros([6]).try_view(&[4, -1]).unwrap_err();
    /// assert!(error.to_string().starts_with("view: shape [4, -1] is invalid"));
    /// ```
    pub fn try_view(&self, shape: &[isize]) -> Result<Self, ShapeError> {
        self.reshape_op("view", shape)
    }

    fn reshape_op(&self, op: &str, shape: &[isize]) -> Result<Self, ShapeError> {
        let old_shape = self.shape();
        let numel: usize = old_shape.iter().product();
        let new_shape = infer_shape(op, shape, &old_shape, numel)?;
        crate::numel::checked_numel::<E>(op, &new_shape)?;
        Ok(self.relabel(old_shape, new_shape, "ViewBackward0"))
    }

    /// The values of `self` (of `old_shape`) laid out in `new_shape`, recorded as `name`.
    fn relabel(&self, old_shape: Vec<usize>, new_shape: Vec<usize>, name: &'static str) -> Self {
        let data = to_shape(&self.data(), &new_shape);
        TensorBase::from_op(data, name, &[self], move |grad, _| vec![Some(reshape_owned(grad, &old_shape))])
    }

    /// Merges dims `start_dim..=end_dim` into one, like `x.flatten(start_dim, end_dim)`
    /// (ViewBackward0). A zero-dimensional tensor becomes 1-D. As in PyTorch,
    /// when `start_dim == end_dim` there is nothing to merge and `self` itself
    /// is returned. Panics on a bad dim or when `start_dim` comes after `end_dim`.
    ///
    /// ```
    /// let x = blocks_core::Tensor::zeros([2, 3, 4, 5]);
    /// assert_eq!(x.flatten(1, 2).shape(), vec![2, 12, 5]);
    /// assert_eq!(x.flatten(-2, -1).shape(), vec![2, 3, 20]);
    /// ```
    #[track_caller]
    pub fn flatten(&self, start_dim: isize, end_dim: isize) -> Self {
        or_panic(self.try_flatten(start_dim, end_dim))
    }

    /// Like [`flatten`](Self::flatten), returning an error on a bad dim.
    ///
    /// # Errors
    /// A [`ShapeError`] naming the op and the shape when a dim is out of
    /// range or `start_dim` comes after `end_dim`.
    ///
    /// ```
    /// let x = blocks_core::Tensor::zeros([2, 3]);
    /// assert!(x.try_flatten(1, 3).unwrap_err().to_string().contains("flatten"));
    /// assert_eq!(x.try_flatten(0, 1).unwrap().shape(), vec![6]);
    /// ```
    pub fn try_flatten(&self, start_dim: isize, end_dim: isize) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let start = axis_for("flatten", start_dim, shape.len(), &shape)?;
        let end = axis_for("flatten", end_dim, shape.len(), &shape)?;
        if shape.is_empty() {
            return Ok(self.relabel(shape, vec![1], "ViewBackward0"));
        }
        if start > end {
            return Err(ShapeError::new(format!(
                "flatten: start_dim cannot come after end_dim (start_dim {start_dim}, end_dim {end_dim}) \
                 for a tensor of shape {shape:?}"
            )));
        }
        if start == end {
            return Ok(self.clone());
        }
        let mut new_shape = shape[..start].to_vec();
        new_shape.push(shape[start..=end].iter().product());
        new_shape.extend_from_slice(&shape[end + 1..]);
        Ok(self.relabel(shape, new_shape, "ViewBackward0"))
    }

    /// All values in one dim, like `x.flatten()` (ViewBackward0; a 1-D tensor
    /// is returned itself, as in PyTorch).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    /// assert_eq!(x.flatten_all().shape(), vec![4]);
    /// ```
    #[track_caller]
    pub fn flatten_all(&self) -> Self {
        self.flatten(0, -1)
    }

    /// Inserts a size-1 dim at `dim`, like `x.unsqueeze(dim)` (UnsqueezeBackward0);
    /// `dim` may range over `-(ndim + 1)..=ndim`. Panics on a bad dim.
    ///
    /// ```
    /// let x = blocks_core::Tensor::zeros([2, 3]);
    /// assert_eq!(x.unsqueeze(0).shape(), vec![1, 2, 3]);
    /// assert_eq!(x.unsqueeze(-1).shape(), vec![2, 3, 1]);
    /// ```
    #[track_caller]
    pub fn unsqueeze(&self, dim: isize) -> Self {
        let shape = self.shape();
        let axis = or_panic(axis_for("unsqueeze", dim, shape.len() + 1, &shape));
        let mut new_shape = shape.clone();
        new_shape.insert(axis, 1);
        self.relabel(shape, new_shape, "UnsqueezeBackward0")
    }

    /// Removes every size-1 dim, like `x.squeeze()` (SqueezeBackward0).
    ///
    /// ```
    /// let x = blocks_core::Tensor::zeros([1, 2, 1, 3]);
    /// assert_eq!(x.squeeze().shape(), vec![2, 3]);
    /// ```
    pub fn squeeze(&self) -> Self {
        let shape = self.shape();
        let new_shape = shape.iter().copied().filter(|&size| size != 1).collect();
        self.relabel(shape, new_shape, "SqueezeBackward0")
    }

    /// Removes dim `dim` if it has size 1 (otherwise keeps the shape), like
    /// `x.squeeze(dim)` (SqueezeBackward1). Panics on a bad dim.
    ///
    /// ```
    /// let x = blocks_core::Tensor::zeros([2, 1]);
    /// assert_eq!(x.squeeze_dim(-1).shape(), vec![2]);
    /// assert_eq!(x.squeeze_dim(0).shape(), vec![2, 1]);
    /// ```
    #[track_caller]
    pub fn squeeze_dim(&self, dim: isize) -> Self {
        let shape = self.shape();
        let axis = or_panic(axis_for("squeeze", dim, shape.len(), &shape));
        let mut new_shape = shape.clone();
        if shape.get(axis) == Some(&1) {
            new_shape.remove(axis);
        }
        self.relabel(shape, new_shape, "SqueezeBackward1")
    }

    /// Swaps dims `dim0` and `dim1`, like `x.transpose(dim0, dim1)`
    /// (TransposeBackward0). Panics on a bad dim.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]);
    /// let y = x.transpose(0, -1);
    /// assert_eq!(y.shape(), vec![3, 2]);
    /// assert_eq!(y.to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// ```
    #[track_caller]
    pub fn transpose(&self, dim0: isize, dim1: isize) -> Self {
        let shape = self.shape();
        let a = or_panic(axis_for("transpose", dim0, shape.len(), &shape));
        let b = or_panic(axis_for("transpose", dim1, shape.len(), &shape));
        self.swapped(a, b, "TransposeBackward0")
    }

    /// The transpose of a matrix, like `x.t()` (TBackward0); 0-D and 1-D
    /// tensors come back unchanged. Panics for more than 2 dims.
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [2, 2]);
    /// assert_eq!(x.t().to_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn t(&self) -> Self {
        let shape = self.shape();
        assert!(
            shape.len() <= 2,
            "t: expects a tensor with <= 2 dimensions, but got shape {shape:?} ({}D)",
            shape.len()
        );
        if shape.len() < 2 {
            return self.relabel(shape.clone(), shape, "TBackward0");
        }
        self.swapped(0, 1, "TBackward0")
    }

    #[track_caller]
    fn swapped(&self, a: usize, b: usize, name: &'static str) -> Self {
        let data = {
            let x = self.data();
            let mut view = x.view();
            if view.ndim() > 0 {
                view.swap_axes(a, b);
            }
            contiguous(view)
        };
        TensorBase::from_op(data, name, &[self], move |mut grad, _| {
            if grad.ndim() > 0 {
                grad.swap_axes(a, b);
            }
            vec![Some(standard(grad))]
        })
    }

    /// The dims reordered so that output dim `i` is input dim `dims[i]`, like
    /// `x.permute(dims)` (PermuteBackward0). Panics unless `dims` names every
    /// dim exactly once; see [`try_permute`](Self::try_permute).
    ///
    /// ```
    /// let x = blocks_core::Tensor::zeros([2, 3, 4]);
    /// assert_eq!(x.permute(&[2, 0, 1]).shape(), vec![4, 2, 3]);
    /// assert_eq!(x.permute(&[-1, -2, -3]).shape(), vec![4, 3, 2]);
    /// ```
    #[track_caller]
    pub fn permute(&self, dims: &[isize]) -> Self {
        or_panic(self.try_permute(dims))
    }

    /// Like [`permute`](Self::permute), returning an error for a bad order.
    ///
    /// ```
    /// let x = blocks_core::Tensor::zeros([2, 3]);
    /// let error = x.try_permute(&[0, 0]).unwrap_err();
    /// assert_eq!(error.to_string(), "permute: dim 0 appears more than once in [0, 0] (shape [2, 3])");
    /// ```
    pub fn try_permute(&self, dims: &[isize]) -> Result<Self, ShapeError> {
        let shape = self.shape();
        if dims.len() != shape.len() {
            return Err(ShapeError::new(format!(
                "permute: the number of dims in {dims:?} ({}) does not match the tensor's ({}) \
                 for shape {shape:?}",
                dims.len(),
                shape.len()
            )));
        }
        let mut axes = Vec::with_capacity(dims.len());
        for &dim in dims {
            let axis = axis_for("permute", dim, shape.len(), &shape)?;
            if axes.contains(&axis) {
                return Err(ShapeError::new(format!(
                    "permute: dim {axis} appears more than once in {dims:?} (shape {shape:?})"
                )));
            }
            axes.push(axis);
        }
        let mut inverse = vec![0; axes.len()];
        for (i, &axis) in axes.iter().enumerate() {
            inverse[axis] = i;
        }
        let data = contiguous(self.data().view().permuted_axes(IxDyn(&axes)));
        Ok(TensorBase::from_op(data, "PermuteBackward0", &[self], move |grad, _| {
            vec![Some(standard(grad.permuted_axes(IxDyn(&inverse))))]
        }))
    }

    /// The values repeated along size-1 dims (and new leading dims) to fill
    /// `sizes`, like `x.expand(sizes)` (ExpandBackward0; the gradient sums back).
    /// `-1` keeps a dim's size. Panics when the shapes do not fit; see
    /// [`try_expand`](Self::try_expand).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0], [2, 1]);
    /// let y = x.expand(&[3, -1, 2]);
    /// assert_eq!(y.shape(), vec![3, 2, 2]);
    /// assert_eq!(y.to_vec()[..4], [1.0, 1.0, 2.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn expand(&self, sizes: &[isize]) -> Self {
        or_panic(self.try_expand(sizes))
    }

    /// Like [`expand`](Self::expand), returning an error when the shapes do not fit.
    ///
    /// ```
    /// let error = blocks_core::Tensor::zeros([2, 3]).try_expand(&[2, 4]).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "expand: the expanded size of the tensor (4) must match the existing size (3) at \
    ///      non-singleton dimension 1; target sizes [2, 4], tensor shape [2, 3]"
    /// );
    /// ```
    pub fn try_expand(&self, sizes: &[isize]) -> Result<Self, ShapeError> {
        let shape = self.shape();
        let target = expand_shape(sizes, &shape)?;
        crate::numel::checked_numel::<E>("expand", &target)?;
        let data = {
            let x = self.data();
            contiguous(x.broadcast(IxDyn(&target)).expect("expand_shape checked the sizes"))
        };
        Ok(TensorBase::from_op(data, "ExpandBackward0", &[self], move |grad, _| {
            vec![Some(standard(sum_to_shape(grad, &shape)))]
        }))
    }

    /// [`expand`](Self::expand) to the shape of `other`, like `x.expand_as(other)`.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let x = Tensor::ones([3]);
    /// assert_eq!(x.expand_as(&Tensor::zeros([2, 3])).shape(), vec![2, 3]);
    /// ```
    #[track_caller]
    pub fn expand_as(&self, other: &Self) -> Self {
        let sizes: Vec<isize> = other.shape().iter().map(|&size| size as isize).collect();
        self.expand(&sizes)
    }

    /// Like `torch.broadcast_to(x, shape)`: the same as [`expand`](Self::expand).
    ///
    /// ```
    /// let x = blocks_core::Tensor::from_vec(vec![1.0, 2.0], [2]);
    /// assert_eq!(x.broadcast_to(&[2, 2]).to_vec(), vec![1.0, 2.0, 1.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn broadcast_to(&self, shape: &[isize]) -> Self {
        self.expand(shape)
    }
}

/// The shape `x.expand(sizes)` has for a tensor of `shape`, with PyTorch's checks.
fn expand_shape(sizes: &[isize], shape: &[usize]) -> Result<Vec<usize>, ShapeError> {
    let fail = |what: String| {
        Err(ShapeError::new(format!("expand: {what}; target sizes {sizes:?}, tensor shape {shape:?}")))
    };
    if sizes.len() < shape.len() {
        return fail(format!(
            "the number of sizes provided ({}) must be greater or equal to the number of \
             dimensions in the tensor ({})",
            sizes.len(),
            shape.len()
        ));
    }
    let extra = sizes.len() - shape.len();
    let mut target = Vec::with_capacity(sizes.len());
    for (i, &size) in sizes.iter().enumerate() {
        if size < -1 {
            return fail(format!("invalid size {size} at dimension {i}"));
        }
        if i < extra {
            if size == -1 {
                return fail(format!(
                    "the expanded size of the tensor (-1) isn't allowed in a leading, \
                     non-existing dimension {i}"
                ));
            }
            target.push(size as usize);
            continue;
        }
        let existing = shape[i - extra];
        match size {
            -1 => target.push(existing),
            size if size as usize == existing || existing == 1 => target.push(size as usize),
            size => {
                return fail(format!(
                    "the expanded size of the tensor ({size}) must match the existing size \
                     ({existing}) at non-singleton dimension {i}"
                ));
            }
        }
    }
    Ok(target)
}

/// [`normalize_axis`] for a tensor of `shape`, whose error also names the shape.
/// `rank` is the number of valid positions (`ndim`, or `ndim + 1` for an inserted dim).
pub(crate) fn axis_for(op: &str, dim: isize, rank: usize, shape: &[usize]) -> Result<usize, ShapeError> {
    normalize_axis(op, dim, rank).map_err(|error| ShapeError::new(format!("{error} for shape {shape:?}")))
}

/// A row-major owned copy of `view`.
pub(crate) fn contiguous<E: Element>(view: ArrayViewD<'_, E>) -> ArrayD<E> {
    view.as_standard_layout().into_owned()
}

/// `array` itself when it is row-major, otherwise a row-major copy.
pub(crate) fn standard<E: Element>(array: ArrayD<E>) -> ArrayD<E> {
    if array.is_standard_layout() { array } else { contiguous(array.view()) }
}

/// `array` laid out in `shape` (same element count), without a copy when it is row-major.
pub(crate) fn reshape_owned<E: Element>(array: ArrayD<E>, shape: &[usize]) -> ArrayD<E> {
    if array.is_standard_layout() {
        array.into_shape_with_order(IxDyn(shape)).expect("element count checked")
    } else {
        to_shape(&array, shape)
    }
}

/// The values of `array` laid out in `shape`, in row-major order (a copy only
/// when `array` is not contiguous).
pub(crate) fn to_shape<E: Element>(array: &ArrayD<E>, shape: &[usize]) -> ArrayD<E> {
    array.to_shape((IxDyn(shape), ndarray::Order::RowMajor)).expect("element count checked").into_owned()
}

/// Resolves a `-1` in `requested` and checks the element count.
pub(crate) fn infer_shape(
    op: &str,
    requested: &[isize],
    old_shape: &[usize],
    numel: usize,
) -> Result<Vec<usize>, ShapeError> {
    let fail = || {
        ShapeError::new(format!(
            "{op}: shape {requested:?} is invalid for input of shape {old_shape:?} ({numel} elements)"
        ))
    };
    let mut inferred = None;
    let mut known = 1usize;
    for (i, &size) in requested.iter().enumerate() {
        match size {
            -1 if inferred.is_none() => inferred = Some(i),
            size if size >= 0 => known = known.checked_mul(size as usize).ok_or_else(fail)?,
            _ => return Err(fail()),
        }
    }
    let mut shape: Vec<usize> = requested.iter().map(|&s| s.max(0) as usize).collect();
    if let Some(i) = inferred {
        if known == 0 || !numel.is_multiple_of(known) {
            return Err(fail());
        }
        shape[i] = numel / known;
    } else if known != numel {
        return Err(fail());
    }
    Ok(shape)
}
