//! Containers: `Sequential` (typed, from `sequential!`), `DynSequential` (built at run time), `Vec`/arrays as `nn.ModuleList`, `Box<dyn Block>`, and indexing by position or name.

pub(crate) mod boxed;
pub(crate) mod dyn_sequential;
pub(crate) mod index;
pub(crate) mod module_list;
pub(crate) mod repeat;
pub(crate) mod sequential;
pub(crate) mod sequential_entries;
