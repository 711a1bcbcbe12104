//! The ordered map of named tensors (of either element type) that state
//! dicts and optimizer states are made of.

use crate::AnyTensor;

/// Named tensors in insertion order, with a hash index: inserting, replacing
/// (in place, keeping the first position) and looking up a key are O(1), so
/// a file of n entries loads in O(n) whatever n. `StateDict` and
/// `OptimizerState` are both built on it.
///
/// `indexmap` is the well-kept crate for exactly this (an ordered map with an
/// index, what Python's `OrderedDict` is), so it is used rather than a
/// `Vec` and a `HashMap` kept in step by hand.
pub(crate) type TensorMap = indexmap::IndexMap<String, AnyTensor>;
