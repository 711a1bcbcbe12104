//! The typed tensor kinds a block takes and gives: `Batch<N>` (N features), `Images<C>` (C channels), `Flat` (what `Flatten` gives), `Scalar` and `Seq<D>` (sequences of D features).

pub(crate) mod concat;
pub(crate) mod flat;
pub(crate) mod images;
pub(crate) mod sequence;
pub(crate) mod size_check;
pub(crate) mod typed;
