//! Tensor operations, each with its backward. One family per file.

mod activation;
mod arithmetic;
pub(crate) mod axes;
pub(crate) mod broadcast;
mod compare;
mod extrema;
mod index;
mod join;
mod linear;
mod loss;
pub(crate) mod matmul;
mod reduce;
pub(crate) mod shape;
mod softmax;
mod unary;

pub use compare::CompareOperand;
pub use extrema::Indices;
