//! `deep_copy()`: a copy of a block that shares no storage with it, like
//! `copy.deepcopy(net)`, built as a structural map (burn's `Module::map`).
//!
//! `Clone` on a block stays what it is for every Rust handle: the copy
//! shares its parameters (like Python's `copy.copy(net)`, whose parameter
//! dict is the same object; a tied weight). `deep_copy` builds a new block
//! field by field ([`DeepCopy::deep_copy_with`]), every parameter and buffer
//! copied once: a [`Mapper`] owned by the call remembers the copy of each
//! tensor it has seen, so two fields holding one tensor (tied weights) still
//! hold one tensor in the copy, as deepcopy's memo keeps them. The same
//! mapper carries ties through [`to_f64`](crate::nn::ToElement::to_f64).

use std::any::{Any, TypeId};
use std::collections::HashMap;

use crate::nn::{Parameter, Sequential, TrainingFlag};
use crate::{Element, TensorBase};

/// The state of one structural map ([`deep_copy`](DeepCopy::deep_copy),
/// [`to_f64`](crate::nn::ToElement::to_f64)): the copy made of each parameter
/// and buffer met so far, by identity, so that a tensor met twice (a tied
/// weight) gives one tensor in the result. Owned by the call that maps; a
/// hand-written block passes it on to its fields.
///
/// ```
/// use blocks_core::nn::{DeepCopy, Linear, Mapper};
/// let layer = Linear::<2, 2>::new();
/// let mut mapper = Mapper::new();
/// let (a, b) = (layer.deep_copy_with(&mut mapper), layer.deep_copy_with(&mut mapper));
/// assert!(a.weight().same(b.weight())); // one copy per original
/// assert!(!a.weight().same(layer.weight()));
/// ```
#[derive(Default)]
pub struct Mapper {
    /// The copy of each original, by (the original's identity, the copy's type).
    copies: HashMap<(usize, TypeId), Box<dyn Any>>,
}

impl Mapper {
    /// A mapper that has seen nothing yet.
    ///
    /// ```
    /// let mut mapper = blocks_core::nn::Mapper::new();
    /// # let _ = &mut mapper;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// The copy of the original with identity `identity`: `make` on first
    /// sight, then another handle (`Clone`, which shares) of that copy.
    pub(crate) fn once<T: Clone + 'static>(&mut self, identity: usize, make: impl FnOnce() -> T) -> T {
        let key = (identity, TypeId::of::<T>());
        if let Some(copy) = self.copies.get(&key).and_then(|copy| copy.downcast_ref::<T>()) {
            return copy.clone();
        }
        let copy = make();
        self.copies.insert(key, Box::new(copy.clone()));
        copy
    }
}

/// A copy of a block that shares no storage with it, like
/// `copy.deepcopy(net)`: parameters and buffers copied (values,
/// `requires_grad`), ties within the block kept (one tensor in two places
/// stays one tensor in the copy), training flags copied. Gradients are not
/// copied (as `Parameter.__deepcopy__`), and a tensor in the middle of a
/// graph is copied as a leaf.
///
/// Implemented by every layer and container, `Option`, `Vec`, arrays,
/// `Box` and tuples of them, and by `#[derive(Module)]` for a struct whose
/// fields all have it (a block written by hand implements
/// [`deep_copy_with`](Self::deep_copy_with), calling it on each field).
/// `net.clone()` shares the parameters instead (a tied copy, as every
/// `Clone` of a Rust handle).
///
/// ```
/// use blocks_core::nn::{DeepCopy, Linear, Module, ModuleExt};
/// let net = Linear::<2, 2>::new();
/// let copy = net.deep_copy();
/// copy.weight().data_mut().fill(0.0);
/// assert!(net.weight().to_vec().iter().all(|&w| w != 0.0)); // the original is untouched
/// assert!(net.clone().weight().same(net.weight())); // Clone shares
/// ```
pub trait DeepCopy: Sized {
    /// The copy of this part inside a larger copy whose ties `mapper` keeps:
    /// what `#[derive(Module)]` calls on each field. Call
    /// [`deep_copy`](Self::deep_copy) for a whole block.
    ///
    /// ```
    /// use blocks_core::nn::{DeepCopy, Mapper, Parameter};
    /// let p = Parameter::new(blocks_core::Tensor::ones([2]));
    /// let copy = p.deep_copy_with(&mut Mapper::new());
    /// assert!(!copy.same(&p) && copy.requires_grad());
    /// ```
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self;

    /// The copy (see [`DeepCopy`]).
    ///
    /// ```
    /// use blocks_core::nn::{DeepCopy, Linear};
    /// let net = Linear::<3, 1>::new();
    /// assert_eq!(net.deep_copy().weight().to_vec(), net.weight().to_vec());
    /// ```
    fn deep_copy(&self) -> Self {
        self.deep_copy_with(&mut Mapper::new())
    }
}

/// A parameter's copy: a new leaf with the same values and `requires_grad`
/// (the conversion to its own element type).
impl<E: Element> DeepCopy for Parameter<E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        crate::nn::MapElement::map_element::<E>(self, mapper)
    }
}

/// A buffer's copy.
impl<E: Element> DeepCopy for TensorBase<E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        crate::nn::MapElement::map_element::<E>(self, mapper)
    }
}

/// A flag of its own, with the same mode.
impl DeepCopy for TrainingFlag {
    fn deep_copy_with(&self, _: &mut Mapper) -> Self {
        self.clone()
    }
}

impl<T: DeepCopy> DeepCopy for Option<T> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.as_ref().map(|t| t.deep_copy_with(mapper))
    }
}

impl<T: DeepCopy> DeepCopy for Vec<T> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.iter().map(|t| t.deep_copy_with(mapper)).collect()
    }
}

impl<T: DeepCopy, const N: usize> DeepCopy for [T; N] {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        let mut copies = self.iter().map(|t| t.deep_copy_with(mapper));
        std::array::from_fn(|_| copies.next().expect("one copy per item"))
    }
}

impl<T: DeepCopy> DeepCopy for Box<T> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        Box::new((**self).deep_copy_with(mapper))
    }
}

impl<T: DeepCopy> DeepCopy for Sequential<T> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        Sequential(self.0.deep_copy_with(mapper), self.1.clone())
    }
}

macro_rules! tuple_deep_copy {
    ($($t:ident $i:tt),+) => {
        impl<$($t: DeepCopy),+> DeepCopy for ($($t,)+) {
            fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
                ($(self.$i.deep_copy_with(mapper),)+)
            }
        }
    };
}

tuple_deep_copy!(A 0);
tuple_deep_copy!(A 0, B 1);
tuple_deep_copy!(A 0, B 1, C 2);
tuple_deep_copy!(A 0, B 1, C 2, D 3);
tuple_deep_copy!(A 0, B 1, C 2, D 3, E 4);
tuple_deep_copy!(A 0, B 1, C 2, D 3, E 4, G 5);
tuple_deep_copy!(A 0, B 1, C 2, D 3, E 4, G 5, H 6);
tuple_deep_copy!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, I 7);
tuple_deep_copy!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, I 7, J 8);
tuple_deep_copy!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, I 7, J 8, K 9);
tuple_deep_copy!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, I 7, J 8, K 9, L 10);
tuple_deep_copy!(A 0, B 1, C 2, D 3, E 4, G 5, H 6, I 7, J 8, K 9, L 10, M 11);
