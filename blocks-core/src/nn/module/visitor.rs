//! `Visitor` and `Member`: what a block reports about itself (parameters,
//! buffers, children, its training flag), of either element type.

use std::any::Any;
use std::marker::PhantomData;

use crate::nn::{Module, Parameter, TrainingFlag};
use crate::{AnyTensor, ByElement, Element, Tensor, Tensor64, TensorBase};

/// Receives what a block registers directly: parameters, buffers, children
/// and its training flag.
///
/// `#[derive(Module)]` calls these in field order; hand-written blocks do the
/// same in their [`Module::visit`]. A parameter or a buffer of either element
/// type comes through one method ([`ParamRef`], [`BufferRef`] tell which);
/// `(&parameter).into()` makes one, and [`register_parameter`] is the
/// shorthand.
pub trait Visitor<'m> {
    /// A trainable parameter under `name`.
    fn parameter(&mut self, name: &str, parameter: ParamRef<'m>);
    /// A buffer (saved with the model, never trained) under `name`.
    fn buffer(&mut self, name: &str, buffer: BufferRef<'m>);
    /// A child block under `name`.
    fn child(&mut self, name: &str, child: &'m dyn Module);
    /// A buffer holding whole numbers (BatchNorm's `num_batches_tracked`),
    /// saved as int64 as PyTorch has it. A buffer for every other visitor.
    fn integer_buffer(&mut self, name: &str, buffer: &'m Tensor) {
        self.buffer(name, BufferRef::F32(buffer));
    }
    /// The block's own forward hooks (its [`Hooks`](crate::nn::Hooks) field):
    /// what registering a hook on the block finds. Ignored unless the
    /// visitor asks for it.
    fn hooks(&mut self, hooks: &'m crate::nn::Hooks) {
        let _ = hooks;
    }

    /// The block's own training flag (PyTorch's `self.training`): what
    /// `train()`/`eval()` set and [`Module::is_training`] reads. Ignored
    /// unless the visitor asks for it.
    fn training_flag(&mut self, flag: &'m TrainingFlag) {
        let _ = flag;
    }
}

/// A parameter of either element type, as a block reports it to a
/// [`Visitor`] (PyTorch's parameters carry their dtype the same way).
///
/// ```
/// use blocks_core::nn::{ParamRef, Parameter};
/// let p = Parameter::new(blocks_core::Tensor64::ones([2]));
/// let tagged = ParamRef::from(&p);
/// assert!(matches!(tagged, ParamRef::F64(_)));
/// assert_eq!((tagged.dtype(), tagged.numel()), ("float64", 2));
/// ```
#[derive(Clone, Copy)]
pub enum ParamRef<'m> {
    /// A float32 parameter.
    F32(&'m Parameter<f32>),
    /// A float64 parameter (a model converted with [`to_f64`](crate::nn::ToElement::to_f64)).
    F64(&'m Parameter<f64>),
}

/// A buffer of either element type, as a block reports it to a [`Visitor`].
///
/// ```
/// use blocks_core::nn::BufferRef;
/// let running_mean = blocks_core::Tensor::zeros([3]);
/// assert!(matches!(BufferRef::from(&running_mean), BufferRef::F32(_)));
/// ```
#[derive(Clone, Copy)]
pub enum BufferRef<'m> {
    /// A float32 buffer.
    F32(&'m Tensor),
    /// A float64 buffer.
    F64(&'m Tensor64),
}

/// Tags a parameter or a buffer with its element type.
struct Tag<'m>(PhantomData<&'m ()>);

impl<'m> ByElement for Tag<'m> {
    type In<E: Element> = &'m Parameter<E>;
    type Out<E: Element> = ParamRef<'m>;

    fn f32(&self, parameter: &'m Parameter<f32>) -> ParamRef<'m> {
        ParamRef::F32(parameter)
    }

    fn f64(&self, parameter: &'m Parameter<f64>) -> ParamRef<'m> {
        ParamRef::F64(parameter)
    }
}

struct TagBuffer<'m>(PhantomData<&'m ()>);

impl<'m> ByElement for TagBuffer<'m> {
    type In<E: Element> = &'m TensorBase<E>;
    type Out<E: Element> = BufferRef<'m>;

    fn f32(&self, buffer: &'m Tensor) -> BufferRef<'m> {
        BufferRef::F32(buffer)
    }

    fn f64(&self, buffer: &'m Tensor64) -> BufferRef<'m> {
        BufferRef::F64(buffer)
    }
}

impl<'m, E: Element> From<&'m Parameter<E>> for ParamRef<'m> {
    fn from(parameter: &'m Parameter<E>) -> Self {
        E::dispatch(&Tag(PhantomData), parameter)
    }
}

impl<'m, E: Element> From<&'m TensorBase<E>> for BufferRef<'m> {
    fn from(buffer: &'m TensorBase<E>) -> Self {
        E::dispatch(&TagBuffer(PhantomData), buffer)
    }
}

/// Runs `$body` with `$p` bound to the parameter whatever its element type.
macro_rules! either {
    ($value:expr, $p:ident => $body:expr) => {
        match $value {
            ParamRef::F32($p) => $body,
            ParamRef::F64($p) => $body,
        }
    };
}

impl<'m> ParamRef<'m> {
    /// The parameter if it has element type `E`.
    ///
    /// ```
    /// use blocks_core::nn::{ParamRef, Parameter};
    /// let p = Parameter::new(blocks_core::Tensor::ones([1]));
    /// assert!(ParamRef::from(&p).get::<f32>().is_some() && ParamRef::from(&p).get::<f64>().is_none());
    /// ```
    pub fn get<E: Element>(self) -> Option<&'m Parameter<E>> {
        either!(self, p => (p as &dyn Any).downcast_ref())
    }

    /// The parameter's tensor, of either element type.
    ///
    /// ```
    /// use blocks_core::nn::{ParamRef, Parameter};
    /// let p = Parameter::new(blocks_core::Tensor::ones([2]));
    /// assert_eq!(ParamRef::from(&p).tensor().shape(), vec![2]);
    /// ```
    pub fn tensor(self) -> AnyTensor {
        either!(self, p => p.tensor().clone().into())
    }

    /// PyTorch's name of its dtype: `float32` or `float64`.
    ///
    /// ```
    /// # use blocks_core::nn::{ParamRef, Parameter};
    /// assert_eq!(ParamRef::from(&Parameter::new(blocks_core::Tensor::ones([1]))).dtype(), "float32");
    /// ```
    pub fn dtype(self) -> &'static str {
        match self {
            ParamRef::F32(_) => f32::DTYPE,
            ParamRef::F64(_) => f64::DTYPE,
        }
    }

    /// Its number of values.
    ///
    /// ```
    /// # use blocks_core::nn::{ParamRef, Parameter};
    /// assert_eq!(ParamRef::from(&Parameter::new(blocks_core::Tensor::ones([2, 3]))).numel(), 6);
    /// ```
    pub fn numel(self) -> usize {
        either!(self, p => p.numel())
    }

    /// Whether it has values (see [`Parameter::is_initialized`]).
    ///
    /// ```
    /// # use blocks_core::nn::{ParamRef, Parameter};
    /// assert!(!ParamRef::from(&Parameter::uninitialized(&[Some(2), None])).is_initialized());
    /// ```
    pub fn is_initialized(self) -> bool {
        either!(self, p => p.is_initialized())
    }

    /// Clears its gradient.
    ///
    /// ```
    /// # use blocks_core::nn::{ParamRef, Parameter};
    /// let p = Parameter::new(blocks_core::Tensor::ones([1]));
    /// p.sum().backward();
    /// ParamRef::from(&p).zero_grad();
    /// assert!(p.grad().is_none());
    /// ```
    pub fn zero_grad(self) {
        either!(self, p => p.zero_grad())
    }

    /// Sets `requires_grad`.
    ///
    /// ```
    /// # use blocks_core::nn::{ParamRef, Parameter};
    /// let p = Parameter::new(blocks_core::Tensor::ones([1]));
    /// ParamRef::from(&p).set_requires_grad(false);
    /// assert!(!p.requires_grad());
    /// ```
    pub fn set_requires_grad(self, requires_grad: bool) {
        either!(self, p => p.set_requires_grad(requires_grad))
    }

    /// The identity of the tensor (shared handles have the same one).
    pub(crate) fn identity(self) -> usize {
        either!(self, p => p.identity())
    }
}

impl<'m> BufferRef<'m> {
    /// The buffer if it has element type `E`.
    ///
    /// ```
    /// use blocks_core::nn::BufferRef;
    /// let t = blocks_core::Tensor64::zeros([1]);
    /// assert!(BufferRef::from(&t).get::<f64>().is_some());
    /// ```
    pub fn get<E: Element>(self) -> Option<&'m TensorBase<E>> {
        match self {
            BufferRef::F32(t) => (t as &dyn Any).downcast_ref(),
            BufferRef::F64(t) => (t as &dyn Any).downcast_ref(),
        }
    }

    /// The buffer, of either element type.
    ///
    /// ```
    /// use blocks_core::nn::BufferRef;
    /// assert_eq!(BufferRef::from(&blocks_core::Tensor::zeros([3])).tensor().shape(), vec![3]);
    /// ```
    pub fn tensor(self) -> AnyTensor {
        match self {
            BufferRef::F32(t) => t.clone().into(),
            BufferRef::F64(t) => t.clone().into(),
        }
    }
}

/// One thing a block registers directly, as reported to a [`Visitor`].
///
/// ```
/// use blocks_core::nn::{Linear, Member, Module, ModuleExt};
/// let layer = Linear::<2, 1>::new();
/// let members = layer.members();
/// assert!(matches!(members[0], (ref name, Member::Parameter(_)) if name == "weight"));
/// ```
#[derive(Clone, Copy)]
pub enum Member<'m> {
    /// A trainable parameter, of either element type.
    Parameter(ParamRef<'m>),
    /// A buffer: saved with the model, never trained.
    Buffer(BufferRef<'m>),
    /// A child block.
    Child(&'m dyn Module),
}

impl<'m> Visitor<'m> for Vec<(String, Member<'m>)> {
    fn parameter(&mut self, name: &str, parameter: ParamRef<'m>) {
        self.push((name.to_string(), Member::Parameter(parameter)));
    }
    fn buffer(&mut self, name: &str, buffer: BufferRef<'m>) {
        self.push((name.to_string(), Member::Buffer(buffer)));
    }
    fn child(&mut self, name: &str, child: &'m dyn Module) {
        self.push((name.to_string(), Member::Child(child)));
    }
}

impl<'m> Member<'m> {
    /// The parameter if this is one of element type `E`.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// let layer = Linear::<2, 1>::new();
    /// let (_, weight) = layer.members()[0];
    /// assert!(weight.parameter::<f32>().is_some() && weight.parameter::<f64>().is_none());
    /// ```
    pub fn parameter<E: Element>(&self) -> Option<&'m Parameter<E>> {
        match *self {
            Member::Parameter(p) => p.get(),
            _ => None,
        }
    }

    /// The buffer if this is one of element type `E`.
    ///
    /// ```
    /// use blocks_core::nn::{BatchNorm1d, Module, ModuleExt};
    /// let norm = BatchNorm1d::<2>::new();
    /// let (_, running_mean) = norm.members()[2];
    /// assert_eq!(running_mean.buffer::<f32>().unwrap().to_vec(), vec![0.0, 0.0]);
    /// ```
    pub fn buffer<E: Element>(&self) -> Option<&'m TensorBase<E>> {
        match *self {
            Member::Buffer(t) => t.get(),
            _ => None,
        }
    }

    /// The tensor of a parameter or a buffer, of either element type; `None`
    /// for a child.
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// let layer = Linear::<2, 1>::new();
    /// assert_eq!(layer.members()[0].1.tensor().unwrap().shape(), vec![1, 2]);
    /// ```
    pub fn tensor(&self) -> Option<AnyTensor> {
        match *self {
            Member::Parameter(p) => Some(p.tensor()),
            Member::Buffer(t) => Some(t.tensor()),
            Member::Child(_) => None,
        }
    }

    /// Whether this is a parameter (of either element type).
    ///
    /// ```
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// assert!(Linear::<2, 1>::new().members()[0].1.is_parameter());
    /// ```
    pub fn is_parameter(&self) -> bool {
        matches!(self, Member::Parameter(_))
    }
}

/// Reports parameter `parameter` of any element type to `visitor` under
/// `name`: the shorthand of `visitor.parameter(name, parameter.into())`.
///
/// ```
/// use blocks_core::nn::{register_parameter, Member, ParamRef, Parameter, Visitor};
/// let p = Parameter::new(blocks_core::Tensor64::ones([2]));
/// let mut seen: Vec<(String, Member<'_>)> = Vec::new();
/// register_parameter(&mut seen, "weight", &p);
/// assert!(matches!(seen[0].1, Member::Parameter(ParamRef::F64(_))));
/// ```
pub fn register_parameter<'m, E: Element>(
    visitor: &mut dyn Visitor<'m>,
    name: &str,
    parameter: &'m Parameter<E>,
) {
    visitor.parameter(name, parameter.into());
}

/// Reports buffer `buffer` of any element type to `visitor` under `name`
/// (see [`register_parameter`]).
///
/// ```
/// use blocks_core::nn::{register_buffer, BufferRef, Member, Visitor};
/// let running_mean = blocks_core::Tensor64::zeros([2]);
/// let mut seen: Vec<(String, Member<'_>)> = Vec::new();
/// register_buffer(&mut seen, "running_mean", &running_mean);
/// assert!(matches!(seen[0].1, Member::Buffer(BufferRef::F64(_))));
/// ```
pub fn register_buffer<'m, E: Element>(visitor: &mut dyn Visitor<'m>, name: &str, buffer: &'m TensorBase<E>) {
    visitor.buffer(name, buffer.into());
}
