//! The convolutional networks, as the examples define them.

#[path = "../../../examples/convnets/mod.rs"]
mod convnets_of_the_examples;

pub use convnets_of_the_examples::*;
