//! `nn.Dropout` and `nn.Dropout2d`.

pub(crate) mod dropout;
pub(crate) mod dropout2d;
