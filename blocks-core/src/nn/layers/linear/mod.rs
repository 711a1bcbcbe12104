//! `nn.Linear` and `nn.LazyLinear`.

pub(crate) mod lazy_linear;
pub(crate) mod linear;
