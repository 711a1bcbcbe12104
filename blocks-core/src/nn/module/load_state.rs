//! A model's state dict, and loading one into a model: PyTorch's
//! `state_dict()` and `load_state_dict()`, each tensor cast to the dtype of
//! the parameter or buffer it is copied into.

use std::collections::HashSet;

use crate::nn::ModuleExt;
use crate::nn::state_dict::{LoadReport, ShapeMismatch, StateDict, StateDictError};
use crate::nn::{BufferRef, Member, Module, ParamRef, Parameter, Visitor};
use crate::{AnyTensor, Element, Tensor, TensorBase};

/// The parameters and buffers of `module` under their keys, each in its
/// element type.
pub(crate) fn state_dict_of(module: &dyn Module) -> StateDict {
    let mut state = StateDict::new();
    for (key, member) in module.named_members() {
        let uninitialized = crate::nn::uninitialized::is_uninitialized(&member);
        if let Some(tensor) = member.tensor() {
            state.insert(key.clone(), tensor);
        }
        if uninitialized {
            state.uninitialized.insert(key);
        }
    }
    module.visit(&mut IntegerKeys { prefix: String::new(), out: &mut state.integers });
    state
}

/// Collects the dotted keys of integer buffers (see [`Visitor::integer_buffer`]).
struct IntegerKeys<'a> {
    prefix: String,
    out: &'a mut HashSet<String>,
}

impl IntegerKeys<'_> {
    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_string() } else { format!("{}.{name}", self.prefix) }
    }
}

impl<'m> Visitor<'m> for IntegerKeys<'_> {
    fn parameter(&mut self, _: &str, _: ParamRef<'m>) {}
    fn buffer(&mut self, _: &str, _: BufferRef<'m>) {}
    fn child(&mut self, name: &str, child: &'m dyn Module) {
        let prefix = self.key(name);
        child.visit(&mut IntegerKeys { prefix, out: self.out });
    }
    fn integer_buffer(&mut self, name: &str, _: &'m Tensor) {
        self.out.insert(self.key(name));
    }
}

/// Checks everything first, then copies: on error nothing has changed. An
/// uninitialized parameter takes the checkpoint's shape where it fits what
/// is known of it (PyTorch's lazy modules materialize from the checkpoint).
/// Each tensor is cast to the dtype of the member it goes into, as
/// PyTorch's `copy_` does (float64 into float32 rounds to nearest even).
pub(crate) fn load_into(
    module: &dyn Module,
    state: &StateDict,
    strict: bool,
) -> Result<LoadReport, StateDictError> {
    let own: Vec<(String, Member<'_>)> =
        module.named_members().into_iter().filter(|(_, m)| !matches!(m, Member::Child(_))).collect();
    let own_keys: HashSet<&str> = own.iter().map(|(k, _)| k.as_str()).collect();
    let has = |key: &str| own_keys.contains(key);
    let missing: Vec<String> =
        own.iter().filter(|(k, _)| state.entry(k).is_none()).map(|(k, _)| k.clone()).collect();
    let unexpected: Vec<String> = state.keys().into_iter().filter(|k| !has(k)).map(String::from).collect();
    let (mut mismatched, mut uninitialized) = (Vec::new(), Vec::new());
    for (key, member) in &own {
        let Some(source) = state.entry(key) else { continue };
        let target_pending = crate::nn::uninitialized::is_uninitialized(member);
        if state.uninitialized.contains(key) {
            if !target_pending {
                uninitialized.push(key.clone());
            }
            continue;
        }
        let checkpoint = source.shape();
        let (fits, model) = match *member {
            Member::Parameter(ParamRef::F32(p)) => (p.fits(&checkpoint), p.expected_shape()),
            Member::Parameter(ParamRef::F64(p)) => (p.fits(&checkpoint), p.expected_shape()),
            Member::Buffer(t) => (t.tensor().shape() == checkpoint, t.tensor().shape()),
            Member::Child(_) => (true, Vec::new()),
        };
        if !fits {
            mismatched.push(ShapeMismatch { key: key.clone(), checkpoint, model });
        }
    }
    if !mismatched.is_empty()
        || !uninitialized.is_empty()
        || (strict && (!missing.is_empty() || !unexpected.is_empty()))
    {
        return Err(StateDictError {
            module: module.type_name(),
            missing,
            unexpected,
            mismatched,
            uninitialized,
        });
    }
    for (key, member) in &own {
        let Some(source) = state.entry(key).filter(|_| !state.uninitialized.contains(key)) else { continue };
        match *member {
            Member::Parameter(ParamRef::F32(p)) => copy_into_parameter(p, source),
            Member::Parameter(ParamRef::F64(p)) => copy_into_parameter(p, source),
            Member::Buffer(BufferRef::F32(t)) => t.set_data(&source.cast()),
            Member::Buffer(BufferRef::F64(t)) => t.set_data(&source.cast()),
            Member::Child(_) => {}
        }
    }
    Ok(LoadReport { missing_keys: missing, unexpected_keys: unexpected })
}

/// Materializes an uninitialized parameter; copies into any other (cast to its dtype).
fn copy_into_parameter<E: Element>(parameter: &Parameter<E>, source: &AnyTensor) {
    let values: TensorBase<E> = source.cast();
    if !parameter.materialize_with(|| values.clone()).expect("shape checked above") {
        parameter.set_data(&values);
    }
}
