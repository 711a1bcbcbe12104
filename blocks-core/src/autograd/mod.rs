//! Define-by-run reverse-mode autograd: the tensors' storage, the graph's
//! nodes, the backward pass and the switch that turns recording off.

mod backward;
pub(crate) mod grad_hooks;
pub(crate) mod grad_mode;
pub(crate) mod gradcheck;
pub(crate) mod node;
pub(crate) mod pool;
pub(crate) mod storage;
