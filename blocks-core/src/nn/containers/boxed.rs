//! `Box<M>` as a block, delegating to `M`, so `Box<dyn Module>` holds any block.

use std::any::Any;

use crate::nn::{Member, Module, Visitor};

/// A boxed block is the block it holds: same name, members, mode and repr;
/// [`as_any`](Module::as_any) and [`as_dyn`](Module::as_dyn) answer with the
/// block inside.
///
/// ```
/// use blocks_core::nn::{Linear, Module, ModuleExt, ReLU};
/// let blocks: Vec<Box<dyn Module>> = vec![Box::new(Linear::<2, 3>::new()), Box::new(ReLU)];
/// assert_eq!(blocks[1].type_name(), "ReLU");
/// assert_eq!(blocks.named_parameters()[0].0, "0.weight");
/// ```
#[diagnostic::do_not_recommend]
impl<M: Module + ?Sized> Module for Box<M> {
    fn type_name(&self) -> String {
        (**self).type_name()
    }

    fn extra_repr(&self) -> String {
        (**self).extra_repr()
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        (**self).visit(visitor);
    }

    fn as_any(&self) -> &dyn Any {
        (**self).as_any()
    }

    fn as_dyn(&self) -> &dyn Module {
        (**self).as_dyn()
    }

    fn core(&self) -> Option<&dyn Module> {
        (**self).core()
    }

    fn members(&self) -> Vec<(String, Member<'_>)> {
        (**self).members()
    }

    fn set_training(&self, training: bool) {
        (**self).set_training(training);
    }

    fn is_training(&self) -> bool {
        (**self).is_training()
    }
}
