//! What one optimizer adds to the shared [`Grouped`](super::Grouped) core:
//! its hyper-parameters (one set per parameter group), the names of its
//! per-parameter state and its update formula. The trait is sealed (it sits
//! in a private module): the crate's optimizers implement it, users pick one
//! through its config type (`Sgd`, `Adam`, `RMSprop`, ...).

use std::fmt;

use ndarray::ArrayD;
use serde_json::{Map, Value};

use super::fields::{self, Fields};
use super::optimizer::{Allowed, ConfigError};
use super::{StateError, pyrepr};
use crate::Element;

/// The per-parameter state of one optimizer, PyTorch's `optimizer.state[p]`:
/// the step count (for the optimizers that keep one), float32 scalars such
/// as NAdam's `mu_product`, and the buffers shaped like the parameter, in
/// the order of [`Rule::BUFFERS`] (`None` where the configuration does not use one).
#[derive(Debug, Clone)]
pub struct Slot<E: Element> {
    /// `state[p]["step"]`, a float32 count as PyTorch keeps it.
    pub step: f32,
    /// The scalars of [`Rule::SCALARS`], in order.
    pub scalars: Vec<f32>,
    /// The buffers of [`Rule::BUFFERS`], in order.
    pub buffers: Vec<Option<ArrayD<E>>>,
}

/// The part of an optimizer that differs from one to the next; every
/// parameter group holds one value of it (its hyper-parameters).
pub trait Rule: Fields + PartialEq + fmt::Debug + Send + Sync + 'static {
    /// The class names a saved state may carry; the first is this optimizer's.
    const NAMES: &'static [&'static str];
    /// Whether the state keeps a `step` count.
    const STEP: bool;
    /// Float32 scalars of the state and their starting values (`mu_product`: 1).
    const SCALARS: &'static [(&'static str, f32)] = &[];
    /// The buffers of the state, in PyTorch's order, and what their values may be.
    const BUFFERS: &'static [(&'static str, Allowed)];
    /// The buffers a saved state must hold together with the step count.
    const REQUIRED: &'static [&'static str];
    /// Whether the state is made when the optimizer is made (Adagrad), not at the first step.
    const EAGER: bool = false;

    /// Checks the values as PyTorch's constructor does, with its messages.
    fn check(&self) -> Result<(), ConfigError>;
    /// The learning rate `lr`.
    fn lr(&self) -> f64;
    /// Sets the learning rate.
    fn set_lr(&mut self, lr: f64);
    /// `momentum`, or `betas[0]` for the Adam family: what OneCycleLR cycles.
    fn momentum(&self) -> Option<f64> {
        None
    }
    /// Sets what [`momentum`](Rule::momentum) reads.
    fn set_momentum(&mut self, _momentum: f64) {}
    /// The hyper-parameters under PyTorch's `param_groups` keys: its [`Fields`].
    fn to_json(&self) -> Map<String, Value> {
        fields::to_json(*self)
    }
    /// Reads [`to_json`](Rule::to_json)'s form (saved by an optimizer of class `class`).
    fn from_json(group: &Map<String, Value>, _class: &str) -> Result<Self, StateError> {
        fields::from_json(group)
    }
    /// The printout's lines of one group, for an optimizer printed as `class`.
    fn repr(&self, class: &str) -> Vec<(&'static str, String)>;
    /// The value a buffer starts from when the step makes it, or `None` if the
    /// configuration does not use it (or the update makes it itself).
    fn initial(&self, buffer: usize) -> Option<f64>;
    /// One step on one parameter: `slot.step` has been counted already.
    fn update<E: Element>(&self, slot: &mut Slot<E>, data: &mut ArrayD<E>, grad: &ArrayD<E>);
}

/// `ValueError(f"Invalid {what}: {value}")` unless `ok`.
pub(crate) fn require(ok: bool, what: &str, value: f64) -> Result<(), ConfigError> {
    if ok { Ok(()) } else { Err(ConfigError::new(format!("Invalid {what}: {}", pyrepr::float(value)))) }
}

/// Checks `betas` as the Adam family does.
pub(crate) fn check_betas(betas: (f64, f64)) -> Result<(), ConfigError> {
    require((0.0..1.0).contains(&betas.0), "beta parameter at index 0", betas.0)?;
    require((0.0..1.0).contains(&betas.1), "beta parameter at index 1", betas.1)
}

/// `(0.9, 0.999)` as Python prints a tuple of floats.
pub(crate) fn pair_repr(pair: (f64, f64)) -> String {
    format!("({}, {})", pyrepr::float(pair.0), pyrepr::float(pair.1))
}

/// `torch.lerp` on CPU: `a + w(b - a)` for small weights, else `b - (b - a)(1 - w)`.
pub(crate) fn lerp<E: Element>(start: E, end: E, weight: E) -> E {
    if weight.abs() < E::of(0.5) {
        start + weight * (end - start)
    } else {
        end - (end - start) * (E::one() - weight)
    }
}

/// `torch.maximum`: NaN wins.
pub(crate) fn maximum<E: Element>(a: E, b: E) -> E {
    if a.is_nan() || b.is_nan() { E::nan() } else { a.max(b) }
}

/// The slices one thread works on: a run of a parameter's values, of its
/// gradient and of its state buffers (those present).
struct Run<'a, E> {
    data: &'a mut [E],
    grad: &'a [E],
    buffers: Vec<Option<&'a mut [E]>>,
}

impl<E> Run<'_, E> {
    fn split(self) -> (Self, Self) {
        let middle = self.data.len() / 2;
        let (data_a, data_b) = self.data.split_at_mut(middle);
        let (grad_a, grad_b) = self.grad.split_at(middle);
        let (buffers_a, buffers_b) = self
            .buffers
            .into_iter()
            .map(|b| match b {
                Some(b) => {
                    let (a, b) = b.split_at_mut(middle);
                    (Some(a), Some(b))
                }
                None => (None, None),
            })
            .unzip();
        (
            Run { data: data_a, grad: grad_a, buffers: buffers_a },
            Run { data: data_b, grad: grad_b, buffers: buffers_b },
        )
    }
}

/// Runs `f(θ, g, state)` on every element of a parameter: `state` holds the
/// element's value in each of the slot's buffers, in order (0 for a buffer
/// the configuration does not use), and what `f` leaves there is written
/// back. Long parameters are updated in parts on several threads.
pub(crate) fn elementwise<E: Element>(
    data: &mut ArrayD<E>,
    grad: &ArrayD<E>,
    buffers: &mut [Option<ArrayD<E>>],
    f: impl Fn(&mut E, E, &mut [E]) + Sync,
) {
    if data.as_slice().is_none() {
        *data = data.as_standard_layout().into_owned();
    }
    for buffer in buffers.iter_mut().flatten() {
        if buffer.as_slice().is_none() {
            *buffer = buffer.as_standard_layout().into_owned();
        }
    }
    let grad = grad.as_standard_layout();
    let len = data.len();
    let count = buffers.len();
    let run = Run {
        data: data.as_slice_mut().expect("made contiguous above"),
        grad: grad.as_slice().expect("a standard layout is contiguous"),
        buffers: buffers.iter_mut().map(|b| b.as_mut().and_then(|b| b.as_slice_mut())).collect(),
    };
    crate::threading::in_parts(run, len, Run::split, |mut run| {
        let mut values = vec![E::zero(); count];
        for i in 0..run.data.len() {
            for (value, buffer) in values.iter_mut().zip(&run.buffers) {
                if let Some(buffer) = buffer {
                    *value = buffer[i];
                }
            }
            f(&mut run.data[i], run.grad[i], &mut values);
            for (value, buffer) in values.iter().zip(&mut run.buffers) {
                if let Some(buffer) = buffer {
                    buffer[i] = *value;
                }
            }
        }
    });
}
