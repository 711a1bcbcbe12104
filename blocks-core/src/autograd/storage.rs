//! A tensor's values: shared, immutable snapshots swapped in by writers.
//!
//! The values live in an `Arc<ArrayD>` behind a mutex that is only ever held
//! for a few instructions:
//!
//! - A **read** locks, clones the `Arc` (a counter increment) and unlocks; the
//!   reader then computes from its [`Snapshot`] with no lock held. An op on two
//!   tensors takes one snapshot, then the other: it never holds two locks.
//! - An **in-place write** by the crate (`x += &y`, an optimizer step,
//!   `set_data`) first takes snapshots of everything it reads, then locks the
//!   target, makes its `Arc` unique (copying only if a reader still holds a
//!   snapshot: copy-on-write), updates it, bumps PyTorch's version counter and
//!   unlocks. The closure run under the lock is the crate's own arithmetic on
//!   arrays it already owns: it touches no other tensor and runs no user code.
//! - [`data_mut`](crate::TensorBase::data_mut) hands out a [`DataMut`] guard
//!   that owns a private copy and holds **no** lock; dropping it swaps the copy
//!   in (lock, swap the `Arc`, bump the version, unlock).
//!
//! # Why this cannot deadlock
//!
//! A deadlock needs a thread that waits for a lock while holding another one
//! (a cycle), or a thread that waits for a lock it holds itself. Here every
//! lock is a leaf: while a data lock (or a gradient or `grad_fn` slot, see
//! `node.rs`) is held, no other lock is taken and no user code runs, so
//! neither can happen in any interleaving. The one wait under a data lock is
//! a long optimizer update waiting for the helper threads that update the
//! other parts (`threading.rs`): they take no lock and run nothing but that
//! arithmetic, so the wait always ends; and it is split only when the
//! updating thread is no rayon worker, which would run other jobs (perhaps
//! user code) while it waits. Guards given to users
//! ([`Snapshot`], [`DataMut`]) hold no lock, so a step, a `set_data` or a
//! second guard in the same thread while one is alive finishes at once. The
//! price is a copy where a write meets a live snapshot (the reader keeps the
//! values it saw, the writer gets fresh storage) and one copy per `data_mut`.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use ndarray::ArrayD;

use super::pool;
use crate::Element;

/// Locks a mutex, ignoring poisoning (the slots hold plain data that stays valid).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The values of one tensor and their version counter.
pub(crate) struct Storage<E: Element> {
    current: Mutex<Arc<ArrayD<E>>>,
    /// PyTorch's version counter: bumped by every in-place write, so that a
    /// backward that saved the old values notices.
    version: AtomicU64,
}

impl<E: Element> Storage<E> {
    pub(crate) fn new(array: ArrayD<E>) -> Self {
        Self::shared(Arc::new(array))
    }

    pub(crate) fn shared(array: Arc<ArrayD<E>>) -> Self {
        Storage { current: Mutex::new(array), version: AtomicU64::new(0) }
    }

    /// The current values (an `Arc` clone; no copy).
    pub(crate) fn snapshot(&self) -> Snapshot<E> {
        Snapshot(Arc::clone(&lock(&self.current)))
    }

    /// The current values and their version, read together.
    pub(crate) fn snapshot_with_version(&self) -> (Snapshot<E>, u64) {
        let current = lock(&self.current);
        (Snapshot(Arc::clone(&current)), self.version.load(Ordering::Acquire))
    }

    /// Runs `f` on the current values under the lock: for reads of a few
    /// words (the shape, one element) where cloning the `Arc` costs more.
    /// `f` must not touch any tensor.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&ArrayD<E>) -> R) -> R {
        f(&lock(&self.current))
    }

    pub(crate) fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// Updates the values in place and bumps the version. The storage is
    /// copied first only if a snapshot of it is alive. `f` must not touch any
    /// tensor (take snapshots of what it reads before calling this).
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut ArrayD<E>) -> R) -> R {
        let mut current = lock(&self.current);
        if Arc::get_mut(&mut current).is_none() {
            *current = Arc::new(pool::copy(&current));
        }
        let result = f(Arc::get_mut(&mut current).expect("made unique above"));
        self.version.fetch_add(1, Ordering::AcqRel);
        result
    }

    /// Swaps in `values` and bumps the version; the old values are dropped
    /// (or recycled) after the lock is released.
    pub(crate) fn replace(&self, values: Arc<ArrayD<E>>) {
        let old = {
            let mut current = lock(&self.current);
            self.version.fetch_add(1, Ordering::AcqRel);
            std::mem::replace(&mut *current, values)
        };
        if let Some(array) = Arc::into_inner(old) {
            pool::recycle(array);
        }
    }

    /// The values if no snapshot shares them, for a node being dropped to
    /// give back to the pool (leaving an empty array, without allocating).
    pub(crate) fn take_unshared(&mut self) -> Option<ArrayD<E>> {
        let current = self.current.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
        let values = Arc::get_mut(current)?;
        let empty = ArrayD::from_shape_vec(ndarray::IxDyn(&[0]), Vec::new()).expect("an empty array");
        Some(std::mem::replace(values, empty))
    }
}

/// The values of a tensor at the moment they were read, as returned by
/// [`data`](crate::TensorBase::data): derefs to an [`ArrayD`].
///
/// A snapshot holds no lock. Writes to the tensor after it was taken do not
/// show in it (the writer copies), and it never blocks them.
///
/// ```
/// let w = blocks_core::Tensor::ones([2]);
/// let before = w.data();
/// w.set_data(&blocks_core::Tensor::zeros([2]));
/// assert_eq!(before.sum(), 2.0);
/// assert_eq!(w.data().sum(), 0.0);
/// ```
#[derive(Debug)]
pub struct Snapshot<E: Element>(pub(crate) Arc<ArrayD<E>>);

impl<E: Element> Snapshot<E> {
    /// The values as an owned array: moved out if no one else holds them,
    /// copied otherwise.
    ///
    /// ```
    /// let a = blocks_core::Tensor::ones([2]).data().into_array();
    /// assert_eq!(a.len(), 2);
    /// ```
    pub fn into_array(self) -> ArrayD<E> {
        Arc::try_unwrap(self.0).unwrap_or_else(|shared| pool::copy(&shared))
    }
}

impl<E: Element> Deref for Snapshot<E> {
    type Target = ArrayD<E>;

    fn deref(&self) -> &ArrayD<E> {
        &self.0
    }
}

/// Write access to a tensor's values, as returned by
/// [`data_mut`](crate::TensorBase::data_mut): derefs mutably to an [`ArrayD`].
///
/// The guard owns a private copy and holds no lock; the tensor keeps its old
/// values until the guard is dropped, which swaps the new ones in and bumps
/// the version counter.
///
/// ```
/// let w = blocks_core::Tensor::zeros([2, 2]);
/// {
///     let mut data = w.data_mut();
///     data[[0, 1]] = 5.0;
///     assert_eq!(w.to_vec(), vec![0.0; 4], "not swapped in yet");
/// }
/// assert_eq!(w.to_vec(), vec![0.0, 5.0, 0.0, 0.0]);
/// ```
pub struct DataMut<'a, E: Element> {
    storage: &'a Storage<E>,
    values: Option<ArrayD<E>>,
}

impl<'a, E: Element> DataMut<'a, E> {
    pub(crate) fn new(storage: &'a Storage<E>) -> Self {
        let values = pool::copy(&storage.snapshot());
        DataMut { storage, values: Some(values) }
    }
}

impl<E: Element> Deref for DataMut<'_, E> {
    type Target = ArrayD<E>;

    fn deref(&self) -> &ArrayD<E> {
        self.values.as_ref().expect("present until drop")
    }
}

impl<E: Element> DerefMut for DataMut<'_, E> {
    fn deref_mut(&mut self) -> &mut ArrayD<E> {
        self.values.as_mut().expect("present until drop")
    }
}

impl<E: Element> Drop for DataMut<'_, E> {
    fn drop(&mut self) {
        if let Some(values) = self.values.take() {
            self.storage.replace(Arc::new(values));
        }
    }
}

impl<E: Element> std::fmt::Debug for DataMut<'_, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}
