//! `Seq<D>`: a batch of sequences whose feature width is part of its type, so
//! that the compiler checks the width a recurrent layer is fed, as it checks
//! `Batch<N>` for a `Linear`.
//!
//! The layout is not in the type: a sequence is `[L, N, D]` (PyTorch's
//! default), `[N, L, D]` (a layer built with `batch_first`) or `[L, D]`
//! (one unbatched sequence), and the layer that reads it says which, as
//! PyTorch's `batch_first` does, a run-time setting of the layer. The type
//! carries what can go wrong between blocks (the width); the layout is
//! checked where the layer reads it.

use std::fmt;
use std::ops::Deref;

use crate::nn::flat::Flat;
use crate::nn::forward::short_type_name;
use crate::nn::keeps_width::{TensorKind, sealed};
use crate::nn::typed::Batch;
use crate::nn::{FeedsInto, Holds, SameWidth};
use crate::{Element, Tensor, TensorBase};

/// A tensor of sequences of `D` features: `[L, N, D]`, `[N, L, D]` with
/// `batch_first`, or `[L, D]` unbatched; 2 or 3 dimensions, the last `D`,
/// checked once when it is made.
///
/// It dereferences to [`Tensor`], so every tensor operation works on it (and
/// gives a plain tensor). `LSTM<8, 16>` takes `Seq<8>`: feeding it a
/// `Seq<5>` is a compile error on that line ("`LSTM<8, 16>` takes 8 input
/// features, but the argument has 5"); a plain tensor fed to it is checked
/// at run time, the panic naming the layer.
///
/// ```
/// use blocks_core::nn::Seq;
/// use blocks_core::Tensor;
/// let x = Seq::<8>::new(Tensor::rand([35, 4, 8])); // 35 steps, 4 sequences
/// assert_eq!(x.shape(), vec![35, 4, 8]);
/// assert!(Seq::<8>::try_new(Tensor::rand([35, 4, 7])).is_err());
/// ```
///
/// The element type is `f32` unless said otherwise: `Seq<D, f64>`.
pub struct Seq<const D: usize, E: Element = f32> {
    tensor: TensorBase<E>,
}

impl<const D: usize, E: Element> Seq<D, E> {
    /// Wraps `tensor`.
    ///
    /// # Panics
    ///
    /// When `tensor` is not 2- or 3-dimensional with `D` features last (see
    /// [`try_new`](Self::try_new)).
    ///
    /// ```
    /// let x = blocks_core::nn::Seq::<3>::new(blocks_core::Tensor::ones([5, 3]));
    /// assert_eq!(x.features(), 3);
    /// ```
    #[track_caller]
    pub fn new(tensor: TensorBase<E>) -> Self {
        match Self::try_new(tensor) {
            Ok(seq) => seq,
            Err(error) => panic!("{error}"),
        }
    }

    /// Wraps `tensor` if it has 2 or 3 dimensions and its last is `D`.
    ///
    /// # Errors
    ///
    /// A [`ShapeError`](crate::ShapeError) naming `D` and the shape otherwise.
    ///
    /// ```
    /// use blocks_core::{nn::Seq, Tensor};
    /// let error = Seq::<8>::try_new(Tensor::ones([2, 5])).unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "Seq<8>: expected [L, N, 8], [N, L, 8] or [L, 8] (8 features in the last dimension), got shape [2, 5]"
    /// );
    /// ```
    pub fn try_new(tensor: TensorBase<E>) -> Result<Self, crate::ShapeError> {
        if !Self::fits(&tensor) {
            return Err(crate::ShapeError::new(format!(
                "Seq<{D}>: expected [L, N, {D}], [N, L, {D}] or [L, {D}] ({D} features in the last dimension), got \
                 shape {:?}",
                tensor.shape()
            )));
        }
        Ok(Seq { tensor })
    }

    /// Whether `tensor` has 2 or 3 dimensions, the last `D`.
    pub(crate) fn fits(tensor: &TensorBase<E>) -> bool {
        matches!(tensor.ndim(), 2 | 3) && tensor.last_dim() == Some(D)
    }

    /// Wraps a tensor already known to fit (no check).
    pub(crate) fn trusted(tensor: TensorBase<E>) -> Self {
        Seq { tensor }
    }

    /// The number of features, `D`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Seq::<4>::new(blocks_core::Tensor::ones([2, 1, 4])).features(), 4);
    /// ```
    pub fn features(&self) -> usize {
        D
    }

    /// The plain tensor (a handle, not a copy).
    ///
    /// ```
    /// let x = blocks_core::nn::Seq::<2>::new(blocks_core::Tensor::ones([3, 2]));
    /// let t: blocks_core::Tensor = x.into_tensor();
    /// assert_eq!(t.shape(), vec![3, 2]);
    /// ```
    pub fn into_tensor(self) -> TensorBase<E> {
        self.tensor
    }
}

impl<const D: usize> Seq<D> {
    /// Uniform values in `[0, 1)` of shape `[len, batch, D]`, like
    /// `torch.rand(len, batch, D)`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::Seq::<3>::rand(5, 2).shape(), vec![5, 2, 3]);
    /// ```
    pub fn rand(len: usize, batch: usize) -> Self {
        Seq { tensor: Tensor::rand([len, batch, D]) }
    }
}

impl<const D: usize, E: Element> Clone for Seq<D, E> {
    fn clone(&self) -> Self {
        Seq { tensor: self.tensor.clone() }
    }
}

impl<const D: usize, E: Element> Deref for Seq<D, E> {
    type Target = TensorBase<E>;

    fn deref(&self) -> &TensorBase<E> {
        &self.tensor
    }
}

impl<const D: usize, E: Element> From<Seq<D, E>> for TensorBase<E> {
    fn from(seq: Seq<D, E>) -> TensorBase<E> {
        seq.tensor
    }
}

/// Prints as the tensor does (PyTorch's layout).
impl<const D: usize, E: Element> fmt::Display for Seq<D, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.tensor, f)
    }
}

impl<const D: usize, E: Element> fmt::Debug for Seq<D, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.tensor, f)
    }
}

impl<const D: usize, E: Element> sealed::Sealed for Seq<D, E> {}

/// A sequence is a kind a width-keeping layer (`Dropout`, `ReLU`) gives back.
impl<const D: usize, E: Element> TensorKind for Seq<D, E> {
    type Elem = E;

    fn tensor(&self) -> &TensorBase<E> {
        self
    }

    fn from_same_kind(tensor: TensorBase<E>) -> Option<Self> {
        Seq::try_new(tensor).ok()
    }

    type Flattened = Flat<E>;

    fn flattened(tensor: TensorBase<E>) -> Flat<E> {
        Flat::new(tensor)
    }
}

impl<const D: usize, E: Element> Holds for Seq<D, E> {
    type Inner = TensorBase<E>;
}

/// A sequence of `GIVES` features fed to a block taking `TAKES`: the
/// compile-time width check, worded as for `Batch`.
impl<B: ?Sized, const GIVES: usize, const TAKES: usize, E: Element> FeedsInto<Seq<TAKES, E>, B>
    for Seq<GIVES, E>
where
    B: SameWidth<TAKES, GIVES>,
{
    type Checked = <B as SameWidth<TAKES, GIVES>>::Checked;

    fn feed_into(&self) -> Seq<TAKES, E> {
        Seq::trusted(TensorBase::clone(self))
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self
    }
}

/// A `Batch<N>` of 2 or 3 dimensions (what an `Embedding<V, N>` gives for
/// `[L, N]` indices) is a sequence of `N` features: its width is checked at
/// compile time, its number of dimensions at run time.
impl<B: ?Sized, const GIVES: usize, const TAKES: usize, E: Element> FeedsInto<Seq<TAKES, E>, B>
    for Batch<GIVES, E>
where
    B: SameWidth<TAKES, GIVES>,
{
    type Checked = <B as SameWidth<TAKES, GIVES>>::Checked;

    #[track_caller]
    fn feed_into(&self) -> Seq<TAKES, E> {
        Seq::trusted(<Self as FeedsInto<Seq<TAKES, E>, B>>::feed_ref(self).clone())
    }

    #[track_caller]
    fn feed_ref(&self) -> &TensorBase<E> {
        check_sequence::<B, TAKES, E>(self)
    }
}

/// A sequence fed to a block taking `Batch<TAKES>` (a `Linear` on every
/// step's features, d2l's output layer after an RNN): its width checked at
/// compile time.
impl<B: ?Sized, const GIVES: usize, const TAKES: usize, E: Element> FeedsInto<Batch<TAKES, E>, B>
    for Seq<GIVES, E>
where
    B: SameWidth<TAKES, GIVES>,
{
    type Checked = <B as SameWidth<TAKES, GIVES>>::Checked;

    fn feed_into(&self) -> Batch<TAKES, E> {
        Batch::trusted(TensorBase::clone(self))
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self
    }
}

/// A plain tensor fed to a block taking `Seq<TAKES>`, checked at run time.
#[diagnostic::do_not_recommend]
impl<B: ?Sized, const TAKES: usize, E: Element> FeedsInto<Seq<TAKES, E>, B> for TensorBase<E> {
    type Checked = ();

    #[track_caller]
    fn feed_into(&self) -> Seq<TAKES, E> {
        Seq::trusted(<Self as FeedsInto<Seq<TAKES, E>, B>>::feed_ref(self).clone())
    }

    #[track_caller]
    fn feed_ref(&self) -> &TensorBase<E> {
        check_sequence::<B, TAKES, E>(self)
    }
}

/// A sequence fed to a block taking a plain tensor (the run-time layers).
#[diagnostic::do_not_recommend]
impl<B: ?Sized, const GIVES: usize, E: Element> FeedsInto<TensorBase<E>, B> for Seq<GIVES, E> {
    type Checked = ();

    fn feed_into(&self) -> TensorBase<E> {
        TensorBase::clone(self)
    }

    fn feed_ref(&self) -> &TensorBase<E> {
        self
    }
}

/// `tensor`, if it is a sequence of `TAKES` features; else panics naming
/// block `B` and where it runs.
#[track_caller]
fn check_sequence<B: ?Sized, const TAKES: usize, E: Element>(tensor: &TensorBase<E>) -> &TensorBase<E> {
    if !Seq::<TAKES, E>::fits(tensor) {
        panic!(
            "{} takes sequences of {TAKES} input features ([L, N, {TAKES}], [N, L, {TAKES}] or [L, {TAKES}]), but \
             got a tensor of shape {:?}{}",
            short_type_name::<B>(),
            tensor.shape(),
            crate::nn::path::describe()
        );
    }
    tensor
}
