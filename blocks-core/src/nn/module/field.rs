//! How `#[derive(Module)]` registers a field: [`Field`] for blocks and
//! parameters, [`BufferField`] for `#[module(buffer)]` tensors,
//! [`FlattenField`] for `#[module(flatten)]` lists. Their
//! `on_unimplemented` messages are the compile errors a user sees for a field
//! that would never be registered.

use std::marker::PhantomData;

use crate::nn::{Module, Parameter, TrainingFlag, Visitor};
use crate::{Element, TensorBase};

/// A field type that a block registers: a child block, a [`Parameter`], the
/// block's [`TrainingFlag`], or an `Option` of a block or a `Parameter`
/// (absent when `None`). `Owner` is the block that holds
/// the field, named in the error for a field that is none of these.
///
/// ```
/// use blocks_core::__private::Field;
/// use blocks_core::nn::{Linear, Member};
/// struct Net;
/// let layer = Linear::<2, 1>::new();
/// let mut seen: Vec<(String, Member<'_>)> = Vec::new();
/// Field::<Net>::visit_field(&layer, "fc", &mut seen);
/// Field::<Net>::visit_field(&None::<Linear<2, 1>>, "absent", &mut seen);
/// assert_eq!(seen.len(), 1);
/// assert_eq!(seen[0].0, "fc");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a block, a Parameter or a buffer, so `{Owner}` would never register this field",
    label = "not a block, a Parameter or a buffer",
    note = "mark it #[module(skip)] for plain data, #[module(buffer)] to save a Tensor with the model, or make it a Parameter to train it"
)]
pub trait Field<Owner: ?Sized> {
    /// Reports the field to `visitor` under `name`.
    fn visit_field<'m>(&'m self, name: &str, visitor: &mut dyn Visitor<'m>);
}

impl<M: Module, Owner: ?Sized> Field<Owner> for M {
    fn visit_field<'m>(&'m self, name: &str, visitor: &mut dyn Visitor<'m>) {
        visitor.child(name, self.as_dyn());
    }
}

/// A block's own forward hooks: what `register_forward_hook` on the block finds.
#[diagnostic::do_not_recommend]
impl<Owner: ?Sized> Field<Owner> for crate::nn::Hooks {
    fn visit_field<'m>(&'m self, _: &str, visitor: &mut dyn Visitor<'m>) {
        visitor.hooks(self);
    }
}

/// A block's own training flag: `train()`/`eval()` on any ancestor set it.
#[diagnostic::do_not_recommend]
impl<Owner: ?Sized> Field<Owner> for TrainingFlag {
    fn visit_field<'m>(&'m self, _: &str, visitor: &mut dyn Visitor<'m>) {
        visitor.training_flag(self);
    }
}

#[diagnostic::do_not_recommend]
impl<E: Element, Owner: ?Sized> Field<Owner> for Parameter<E> {
    fn visit_field<'m>(&'m self, name: &str, visitor: &mut dyn Visitor<'m>) {
        crate::nn::register_parameter(visitor, name, self);
    }
}

impl<T: Field<Owner>, Owner: ?Sized> Field<Owner> for Option<T> {
    fn visit_field<'m>(&'m self, name: &str, visitor: &mut dyn Visitor<'m>) {
        if let Some(field) = self {
            field.visit_field(name, visitor);
        }
    }
}

/// Never implemented: a plain tensor field is PyTorch's silent "never
/// registered" pitfall, so `#[derive(Module)]` asks for this of the block
/// that holds one, which the compiler reports on the field's type.
///
/// ```compile_fail,E0277
/// fn registered<O: blocks_core::__private::PlainTensorField>() {}
/// struct Norm;
/// // error: a plain `Tensor` field is never registered, so `Norm` would neither train nor save it
/// registered::<Norm>();
/// ```
#[diagnostic::on_unimplemented(
    message = "a plain `Tensor` field is never registered, so `{Self}` would neither train nor save it",
    label = "a plain tensor: neither a Parameter nor a buffer",
    note = "mark it #[module(buffer)] to save it with the model (PyTorch's `register_buffer`), make it a `Parameter` to train it, or mark it #[module(skip)] for plain data"
)]
pub trait PlainTensorField {}

/// Picks how `#[derive(Module)]` registers a field of type `T` in block `O`
/// by method resolution (autoref specialization): fields written as a
/// tensor type get [`ProbeTensor`], so a plain tensor gets its own error;
/// every other type gets [`ProbeField`].
///
/// ```
/// use blocks_core::__private::{Probe, ProbeField as _, ProbeTensor as _};
/// use blocks_core::nn::{Linear, Member};
/// struct Net;
/// let layer = Linear::<2, 1>::new();
/// let mut seen: Vec<(String, Member<'_>)> = Vec::new();
/// (&&Probe::<Linear<2, 1>, Net>::new()).register(&layer, "fc", &mut seen);
/// assert_eq!(seen[0].0, "fc");
/// ```
pub struct Probe<T, O: ?Sized>(PhantomData<fn(&O) -> T>);

impl<T, O: ?Sized> Probe<T, O> {
    /// The probe for a field of type `T` in block `O`.
    ///
    /// ```
    /// let _probe = blocks_core::__private::Probe::<blocks_core::nn::ReLU, ()>::new();
    /// ```
    pub fn new() -> Self {
        Probe(PhantomData)
    }
}

impl<T, O: ?Sized> Default for Probe<T, O> {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers a field that is a block, a Parameter or an `Option` of either
/// (the general case; see [`Probe`]).
///
/// ```
/// use blocks_core::__private::{Probe, ProbeField};
/// use blocks_core::nn::{Member, Parameter};
/// use blocks_core::Tensor;
/// struct Net;
/// let scale = Parameter::new(Tensor::ones([1]));
/// let mut seen: Vec<(String, Member<'_>)> = Vec::new();
/// Probe::<Parameter, Net>::new().register(&scale, "scale", &mut seen);
/// assert!(matches!(seen[0].1, Member::Parameter(_)));
/// ```
pub trait ProbeField<T, O: ?Sized> {
    /// Reports `field` to `visitor` under `name`.
    fn register<'m>(&self, field: &'m T, name: &str, visitor: &mut dyn Visitor<'m>)
    where
        T: Field<O>;
}

impl<T, O: ?Sized> ProbeField<T, O> for Probe<T, O> {
    fn register<'m>(&self, field: &'m T, name: &str, visitor: &mut dyn Visitor<'m>)
    where
        T: Field<O>,
    {
        field.visit_field(name, visitor);
    }
}

/// A plain tensor field: never registered, so asking for it is the
/// [`PlainTensorField`] error on the field (see [`Probe`]).
///
/// ```compile_fail,E0277
/// use blocks_core::__private::{Probe, ProbeField as _, ProbeTensor as _};
/// use blocks_core::nn::Member;
/// use blocks_core::Tensor;
/// struct Net;
/// let mut seen: Vec<(String, Member<'_>)> = Vec::new();
/// // error: a plain `Tensor` field is never registered, so `Net` would neither train nor save it
/// (&&Probe::<Tensor, Net>::new()).register(&Tensor::ones([1]), "t", &mut seen);
/// ```
pub trait ProbeTensor<T, O: ?Sized> {
    /// Never called in code that compiles.
    fn register<'m>(&self, field: &'m T, name: &str, visitor: &mut dyn Visitor<'m>)
    where
        O: PlainTensorField;
}

impl<E: Element, O: ?Sized> ProbeTensor<TensorBase<E>, O> for &Probe<TensorBase<E>, O> {
    fn register<'m>(&self, _: &'m TensorBase<E>, _: &str, _: &mut dyn Visitor<'m>)
    where
        O: PlainTensorField,
    {
    }
}

impl<E: Element, O: ?Sized> ProbeTensor<Option<TensorBase<E>>, O> for &Probe<Option<TensorBase<E>>, O> {
    fn register<'m>(&self, _: &'m Option<TensorBase<E>>, _: &str, _: &mut dyn Visitor<'m>)
    where
        O: PlainTensorField,
    {
    }
}

/// A field type that `#[module(buffer)]` saves with the block but never
/// trains (PyTorch's `register_buffer`): a `Tensor`, or an `Option<Tensor>`
/// (absent when `None`).
///
/// ```
/// use blocks_core::__private::BufferField;
/// use blocks_core::nn::Member;
/// use blocks_core::Tensor;
/// let running_mean = Tensor::zeros([4]);
/// let mut seen: Vec<(String, Member<'_>)> = Vec::new();
/// running_mean.visit_buffer("running_mean", &mut seen);
/// assert!(matches!(seen[0].1, Member::Buffer(_)));
/// ```
#[diagnostic::on_unimplemented(
    message = "#[module(buffer)] saves a `Tensor` or an `Option<Tensor>`, not `{Self}`",
    label = "not a `Tensor`",
    note = "use #[module(skip)] for plain data; a child block or a Parameter needs no attribute"
)]
pub trait BufferField {
    /// Reports the buffer to `visitor` under `name`.
    fn visit_buffer<'m>(&'m self, name: &str, visitor: &mut dyn Visitor<'m>);
}

impl<E: Element> BufferField for TensorBase<E> {
    fn visit_buffer<'m>(&'m self, name: &str, visitor: &mut dyn Visitor<'m>) {
        crate::nn::register_buffer(visitor, name, self);
    }
}

impl<E: Element> BufferField for Option<TensorBase<E>> {
    fn visit_buffer<'m>(&'m self, name: &str, visitor: &mut dyn Visitor<'m>) {
        if let Some(buffer) = self {
            crate::nn::register_buffer(visitor, name, buffer);
        }
    }
}

/// A field type whose blocks `#[module(flatten)]` registers at the level of
/// the block that holds it, keyed `0`, `1`, ... (PyTorch's
/// `self.add_module(str(idx), module)` in d2l's `MySequential`): a `Vec` or
/// an array of blocks (`Vec<Box<dyn Block>>`, `[Linear<4, 4>; 3]`).
///
/// ```
/// use blocks_core::__private::FlattenField;
/// use blocks_core::nn::{Linear, Member, ReLU};
/// let list = vec![Linear::<2, 1>::new(), Linear::<2, 1>::new()];
/// let mut seen: Vec<(String, Member<'_>)> = Vec::new();
/// list.visit_items(&mut seen);
/// let keys: Vec<&str> = seen.iter().map(|(key, _)| key.as_str()).collect();
/// assert_eq!(keys, ["0", "1"]);
/// ```
#[diagnostic::on_unimplemented(
    message = "#[module(flatten)] registers the blocks of a list (`Vec<M>` or `[M; N]` of blocks), not `{Self}`",
    label = "not a list of blocks",
    note = "remove `flatten` to register this field under its own name"
)]
pub trait FlattenField {
    /// Reports each item to `visitor` as a child keyed by its position.
    fn visit_items<'m>(&'m self, visitor: &mut dyn Visitor<'m>);
}

impl<M: Module> FlattenField for Vec<M> {
    fn visit_items<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        self.visit(visitor);
    }
}

impl<M: Module, const N: usize> FlattenField for [M; N] {
    fn visit_items<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        self.visit(visitor);
    }
}
