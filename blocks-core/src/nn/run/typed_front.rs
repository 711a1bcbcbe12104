//! `typed_front!`: the `impl Module`, `MapElement` and `DeepCopy` of a typed layer
//! (`Linear<IN, OUT>`, `Conv2d<I, O, K>`, `BatchNorm2d<C>`, ...), a struct
//! whose one field `layer` is its run-time core (`DynLinear`, `DynConv2d`,
//! ...). Both delegate to the core: the front adds sizes to the type and
//! nothing to the module tree, so its printout, parameters, keys and
//! conversions are the core's.
//!
//! ```text
//! typed_front! {
//!     [const IN: usize, const OUT: usize, E: Element] Linear<IN, OUT, E> => Linear<IN, OUT, F>
//! }
//! ```
//!
//! The generics go in brackets; after `=>` the same type with its element
//! type `E` replaced by `F` (what `to_f64` and `to_f32` give). The core is
//! the front's [`Module::core`](crate::nn::Module::core), so that
//! `downcast_ref::<DynLinear>()` finds it whatever the widths.

/// See the module documentation.
macro_rules! typed_front {
    (
        [$($generics:tt)*] $name:ident<$($arg:tt),*> => $converted:ty
    ) => {
        #[diagnostic::do_not_recommend]
        impl<$($generics)*> $crate::nn::Module for $name<$($arg),*> {
            fn type_name(&self) -> String {
                self.layer.type_name()
            }

            fn extra_repr(&self) -> String {
                self.layer.extra_repr()
            }

            fn visit<'m>(&'m self, visitor: &mut dyn $crate::nn::Visitor<'m>) {
                self.layer.visit(visitor);
            }

            fn core(&self) -> Option<&dyn $crate::nn::Module> {
                Some(&self.layer)
            }
        }

        impl<$($generics)*> $crate::nn::MapElement for $name<$($arg),*> {
            type As<F: $crate::Element> = $converted;

            fn map_element<F: $crate::Element>(&self, mapper: &mut $crate::nn::Mapper) -> $converted {
                $name { layer: self.layer.map_element(mapper) }
            }
        }

        impl<$($generics)*> $crate::nn::DeepCopy for $name<$($arg),*> {
            fn deep_copy_with(&self, mapper: &mut $crate::nn::Mapper) -> Self {
                $name { layer: self.layer.deep_copy_with(mapper) }
            }
        }
    };
}
