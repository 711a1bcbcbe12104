//! How `#[derive(Module)]` registers a field: [`Field`] for blocks and
//! parameters, [`BufferField`] for `#[module(buffer)]` tensors. Their
//! `on_unimplemented` messages are the compile errors a user sees for a field
//! that would never be registered.

use super::{Module, Parameter, Visitor};
use crate::{Element, Tensor, TensorBase};

/// A field type that a block registers: a child block, a [`Parameter`], or
/// an `Option` of either (absent when `None`). `Owner` is the block that holds
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

impl<Owner: ?Sized> Field<Owner> for Parameter {
    fn visit_field<'m>(&'m self, name: &str, visitor: &mut dyn Visitor<'m>) {
        visitor.parameter(name, self);
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
/// registered" pitfall, so asking for it turns into this error on the field,
/// worded for the block that holds it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` would never register this plain `Tensor` field: it is not a Parameter or a buffer",
    label = "a plain tensor is neither trained nor saved",
    note = "mark it #[module(buffer)] to save it with the model (like `register_buffer`), make it a `Parameter` to train it, or mark it #[module(skip)]"
)]
pub trait PlainTensorField {}

impl<E: Element, Owner: ?Sized + PlainTensorField> Field<Owner> for TensorBase<E> {
    fn visit_field<'m>(&'m self, _: &str, _: &mut dyn Visitor<'m>) {}
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

impl BufferField for Tensor {
    fn visit_buffer<'m>(&'m self, name: &str, visitor: &mut dyn Visitor<'m>) {
        visitor.buffer(name, self);
    }
}

impl BufferField for Option<Tensor> {
    fn visit_buffer<'m>(&'m self, name: &str, visitor: &mut dyn Visitor<'m>) {
        if let Some(buffer) = self {
            visitor.buffer(name, buffer);
        }
    }
}
