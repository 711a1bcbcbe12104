//! Uninitialized parameters (PyTorch's `UninitializedParameter`): what a lazy
//! layer holds until its first forward or a checkpoint tells its widths.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::nn::ModuleExt;
use crate::nn::{Member, Module, Parameter};
use crate::{Element, ShapeError, Tensor, TensorBase};

/// The state of a parameter made uninitialized.
pub(crate) struct Pending {
    /// The dimensions known in advance (`Some(256)`), and those not (`None`).
    known: Vec<Option<usize>>,
    initialized: AtomicBool,
    /// Held while deciding and swapping in the values, so that exactly one caller materializes.
    lock: Mutex<()>,
}

impl Pending {
    /// The same state in a new cell (for a deep copy).
    pub(crate) fn copy(&self) -> Pending {
        Pending {
            known: self.known.clone(),
            initialized: AtomicBool::new(self.initialized.load(Ordering::Acquire)),
            lock: Mutex::new(()),
        }
    }
}

impl Parameter {
    /// A parameter without values yet, like PyTorch's `UninitializedParameter`:
    /// `known` gives its number of dimensions and the lengths known in advance
    /// (`[Some(out_features), None]` for a lazy weight). It prints as
    /// `<UninitializedParameter>`, saving it is an error, and the
    /// initializers refuse it, until [`materialize_with`](Self::materialize_with)
    /// (a lazy layer's first forward) or `load_state_dict` gives it values.
    ///
    /// ```
    /// use blocks_core::nn::Parameter;
    /// let w = Parameter::uninitialized(&[Some(256), None]);
    /// assert!(!w.is_initialized());
    /// assert_eq!(w.to_string(), "<UninitializedParameter>");
    /// ```
    pub fn uninitialized(known: &[Option<usize>]) -> Self {
        let mut parameter = Parameter::new(Tensor::zeros([0]));
        parameter.tensor.set_uninitialized(true);
        parameter.pending = Some(Arc::new(Pending {
            known: known.to_vec(),
            initialized: AtomicBool::new(false),
            lock: Mutex::new(()),
        }));
        parameter
    }
}

impl<E: Element> Parameter<E> {
    /// Whether the parameter has values: always, except for an
    /// [`uninitialized`](Self::uninitialized) one not yet materialized.
    /// Optimizers and savers check this before touching a parameter.
    ///
    /// ```
    /// use blocks_core::{nn::Parameter, Tensor};
    /// assert!(Parameter::new(Tensor::ones([2])).is_initialized());
    /// assert!(!Parameter::uninitialized(&[None]).is_initialized());
    /// ```
    pub fn is_initialized(&self) -> bool {
        self.pending.as_ref().is_none_or(|pending| pending.initialized.load(Ordering::Acquire))
    }

    /// Gives an uninitialized parameter the values `make()` returns (a copy),
    /// keeping the handle, so every clone of it (a tied weight, an optimizer's
    /// list) sees them. Thread-safe: of several callers racing, exactly one
    /// materializes it and the others get `Ok(false)`. `make` runs with no
    /// lock held (so it may itself use the parameter). Returns `Ok(true)` if
    /// this call materialized it, `Ok(false)` if it already had values (`make`
    /// is not run when that is known beforehand), and an error, leaving it
    /// uninitialized, when the values' shape contradicts what was known.
    ///
    /// ```
    /// use blocks_core::{nn::Parameter, Tensor};
    /// let w = Parameter::uninitialized(&[Some(3), None]);
    /// assert!(w.materialize_with(|| Tensor::ones([2, 5])).is_err());
    /// assert_eq!(w.materialize_with(|| Tensor::ones([3, 5])).unwrap(), true);
    /// assert_eq!(w.materialize_with(|| Tensor::zeros([3, 5])).unwrap(), false);
    /// assert_eq!(w.shape(), vec![3, 5]);
    /// assert!(w.requires_grad());
    /// ```
    pub fn materialize_with(&self, make: impl FnOnce() -> TensorBase<E>) -> Result<bool, ShapeError> {
        let Some(pending) = &self.pending else { return Ok(false) };
        if pending.initialized.load(Ordering::Acquire) {
            return Ok(false);
        }
        let values = make();
        // Held only to decide and swap in; no user code runs under it.
        let _guard = pending.lock.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if pending.initialized.load(Ordering::Acquire) {
            return Ok(false);
        }
        let shape = values.shape();
        if !self.fits(&shape) {
            return Err(ShapeError::new(format!(
                "cannot materialize a parameter of shape {:?} with values of shape {shape:?}",
                self.expected_shape()
            )));
        }
        *self.tensor.data_mut() = values.to_array();
        pending.initialized.store(true, Ordering::Release);
        self.tensor.set_uninitialized(false);
        Ok(true)
    }

    /// Whether values of `shape` fit what is known of an uninitialized
    /// parameter's shape (for an initialized one: whether it is its shape).
    pub(crate) fn fits(&self, shape: &[usize]) -> bool {
        match &self.pending {
            Some(pending) if !self.is_initialized() => {
                pending.known.len() == shape.len()
                    && pending.known.iter().zip(shape).all(|(known, &len)| known.is_none_or(|k| k == len))
            }
            _ => self.shape() == shape,
        }
    }

    /// The shape as known, 0 standing for the lengths not known yet (as
    /// PyTorch prints `in_features=0`).
    pub(crate) fn expected_shape(&self) -> Vec<usize> {
        match &self.pending {
            Some(pending) if !self.is_initialized() => {
                pending.known.iter().map(|known| known.unwrap_or(0)).collect()
            }
            _ => self.shape(),
        }
    }
}

/// The dotted names of the parameters of `module` that are still
/// uninitialized (lazy layers before their first forward), in
/// `named_parameters` order; empty when the model is ready to train or save.
///
/// ```
/// use blocks_core::nn::{LazyLinear, Module, ModuleExt, ReLU, Sequential, uninitialized_parameters};
/// use blocks_core::Tensor;
/// let net = Sequential::new((LazyLinear::new(8), ReLU));
/// assert_eq!(uninitialized_parameters(&net), ["0.weight", "0.bias"]);
/// net.forward(&Tensor::rand([2, 4]));
/// assert!(uninitialized_parameters(&net).is_empty());
/// ```
pub fn uninitialized_parameters<M: Module + ?Sized>(module: &M) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    module
        .named_members()
        .into_iter()
        .filter_map(|(name, member)| match member {
            Member::Parameter(p) if seen.insert(p.identity()) && !p.is_initialized() => Some(name),
            _ => None,
        })
        .collect()
}

/// Whether `member` is a parameter without values.
pub(crate) fn is_uninitialized(member: &Member<'_>) -> bool {
    match member {
        Member::Parameter(p) => !p.is_initialized(),
        _ => false,
    }
}
