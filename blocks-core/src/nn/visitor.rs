//! `Visitor` and `Member`: what a block reports about itself (parameters,
//! buffers, children, its training flag), of either element type.

use std::any::Any;

use super::{Module, Parameter, TrainingFlag};
use crate::{AnyTensor, Element, Tensor, Tensor64, TensorBase};

/// Receives what a block registers directly: parameters, buffers, children
/// and its training flag.
///
/// `#[derive(Module)]` calls these in field order; hand-written blocks do the
/// same in their [`Module::visit`].
pub trait Visitor<'m> {
    /// A trainable parameter under `name`.
    fn parameter(&mut self, name: &str, parameter: &'m Parameter);
    /// A buffer (saved with the model, never trained) under `name`.
    fn buffer(&mut self, name: &str, buffer: &'m Tensor);
    /// A float64 parameter (of a model converted with
    /// [`to_f64`](super::ToElement::to_f64)) under `name`. Ignored unless the
    /// visitor asks for it, so a visitor written for float32 models keeps
    /// compiling.
    fn parameter_f64(&mut self, name: &str, parameter: &'m Parameter<f64>) {
        let _ = (name, parameter);
    }
    /// A float64 buffer under `name` (see [`parameter_f64`](Self::parameter_f64)).
    fn buffer_f64(&mut self, name: &str, buffer: &'m Tensor64) {
        let _ = (name, buffer);
    }
    /// A child block under `name`.
    fn child(&mut self, name: &str, child: &'m dyn Module);
    /// A buffer holding whole numbers (BatchNorm's `num_batches_tracked`),
    /// saved as int64 as PyTorch has it. A buffer for every other visitor.
    fn integer_buffer(&mut self, name: &str, buffer: &'m Tensor) {
        self.buffer(name, buffer);
    }
    /// The block's own forward hooks (its [`Hooks`](super::Hooks) field):
    /// what registering a hook on the block finds. Ignored unless the
    /// visitor asks for it.
    fn hooks(&mut self, hooks: &'m super::Hooks) {
        let _ = hooks;
    }

    /// The block's own training flag (PyTorch's `self.training`): what
    /// `train()`/`eval()` set and [`Module::is_training`] reads. Ignored
    /// unless the visitor asks for it.
    fn training_flag(&mut self, flag: &'m TrainingFlag) {
        let _ = flag;
    }
}

/// One thing a block registers directly, as reported to a [`Visitor`].
///
/// ```
/// use blocks_core::nn::{Linear, Member, Module};
/// let layer = Linear::<2, 1>::new();
/// let members = layer.members();
/// assert!(matches!(members[0], (ref name, Member::Parameter(_)) if name == "weight"));
/// ```
#[derive(Clone, Copy)]
pub enum Member<'m> {
    /// A trainable parameter.
    Parameter(&'m Parameter),
    /// A buffer: saved with the model, never trained.
    Buffer(&'m Tensor),
    /// A float64 parameter (a model converted with [`to_f64`](super::ToElement::to_f64)).
    ParameterF64(&'m Parameter<f64>),
    /// A float64 buffer.
    BufferF64(&'m Tensor64),
    /// A child block.
    Child(&'m dyn Module),
}

impl<'m> Visitor<'m> for Vec<(String, Member<'m>)> {
    fn parameter(&mut self, name: &str, parameter: &'m Parameter) {
        self.push((name.to_string(), Member::Parameter(parameter)));
    }
    fn buffer(&mut self, name: &str, buffer: &'m Tensor) {
        self.push((name.to_string(), Member::Buffer(buffer)));
    }
    fn parameter_f64(&mut self, name: &str, parameter: &'m Parameter<f64>) {
        self.push((name.to_string(), Member::ParameterF64(parameter)));
    }
    fn buffer_f64(&mut self, name: &str, buffer: &'m Tensor64) {
        self.push((name.to_string(), Member::BufferF64(buffer)));
    }
    fn child(&mut self, name: &str, child: &'m dyn Module) {
        self.push((name.to_string(), Member::Child(child)));
    }
}

impl<'m> Member<'m> {
    /// The parameter if this is one of element type `E`.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module};
    /// let layer = Linear::<2, 1>::new();
    /// let (_, weight) = layer.members()[0];
    /// assert!(weight.parameter::<f32>().is_some() && weight.parameter::<f64>().is_none());
    /// ```
    pub fn parameter<E: Element>(&self) -> Option<&'m Parameter<E>> {
        let any: &'m dyn Any = match *self {
            Member::Parameter(p) => p,
            Member::ParameterF64(p) => p,
            _ => return None,
        };
        any.downcast_ref()
    }

    /// The buffer if this is one of element type `E`.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNorm1d, Module};
    /// let norm = BatchNorm1d::<2>::new();
    /// let (_, running_mean) = norm.members()[2];
    /// assert_eq!(running_mean.buffer::<f32>().unwrap().to_vec(), vec![0.0, 0.0]);
    /// ```
    pub fn buffer<E: Element>(&self) -> Option<&'m TensorBase<E>> {
        let any: &'m dyn Any = match *self {
            Member::Buffer(t) => t,
            Member::BufferF64(t) => t,
            _ => return None,
        };
        any.downcast_ref()
    }

    /// The tensor of a parameter or a buffer, of either element type; `None`
    /// for a child.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module};
    /// let layer = Linear::<2, 1>::new();
    /// assert_eq!(layer.members()[0].1.tensor().unwrap().shape(), vec![1, 2]);
    /// ```
    pub fn tensor(&self) -> Option<AnyTensor> {
        match *self {
            Member::Parameter(p) => Some(p.tensor().clone().into()),
            Member::ParameterF64(p) => Some(p.tensor().clone().into()),
            Member::Buffer(t) => Some(t.clone().into()),
            Member::BufferF64(t) => Some(t.clone().into()),
            Member::Child(_) => None,
        }
    }

    /// Whether this is a parameter (of either element type).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module};
    /// assert!(Linear::<2, 1>::new().members()[0].1.is_parameter());
    /// ```
    pub fn is_parameter(&self) -> bool {
        matches!(self, Member::Parameter(_) | Member::ParameterF64(_))
    }
}

/// Reports parameter `parameter` of any element type to `visitor` under
/// `name`: how a layer generic over its element type registers its
/// parameters ([`Visitor::parameter`] for float32, [`Visitor::parameter_f64`]
/// for float64).
///
/// ```
/// use blocks_core::nn::{register_parameter, Member, Parameter, Visitor};
/// let p = Parameter::new(blocks_core::Tensor64::ones([2]));
/// let mut seen: Vec<(String, Member<'_>)> = Vec::new();
/// register_parameter(&mut seen, "weight", &p);
/// assert!(matches!(seen[0].1, Member::ParameterF64(_)));
/// ```
pub fn register_parameter<'m, E: Element>(
    visitor: &mut dyn Visitor<'m>,
    name: &str,
    parameter: &'m Parameter<E>,
) {
    E::visit_parameter(visitor, name, parameter);
}

/// Reports buffer `buffer` of any element type to `visitor` under `name`
/// (see [`register_parameter`]).
///
/// ```
/// use blocks_core::nn::{register_buffer, Member, Visitor};
/// let running_mean = blocks_core::Tensor64::zeros([2]);
/// let mut seen: Vec<(String, Member<'_>)> = Vec::new();
/// register_buffer(&mut seen, "running_mean", &running_mean);
/// assert!(matches!(seen[0].1, Member::BufferF64(_)));
/// ```
pub fn register_buffer<'m, E: Element>(visitor: &mut dyn Visitor<'m>, name: &str, buffer: &'m TensorBase<E>) {
    E::visit_buffer(visitor, name, buffer);
}
