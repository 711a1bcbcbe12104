//! The module machinery, PyTorch's `nn.Module`: the [`Module`](crate::nn::Module) trait, visiting a block's members, state dicts, the printout, conversions (`to_f64`, `deep_copy`) and forward hooks.

pub(crate) mod apply;
pub(crate) mod deep_copy;
pub(crate) mod field;
pub(crate) mod gradcheck_module;
pub(crate) mod hook_storage;
pub(crate) mod hook_value;
pub(crate) mod hooks;
pub(crate) mod load_state;
pub(crate) mod module_trait;
pub(crate) mod parameter;
pub(crate) mod path;
pub(crate) mod repr;
pub(crate) mod state_dict;
pub(crate) mod to_element;
pub(crate) mod training;
pub(crate) mod uninitialized;
pub(crate) mod visitor;
