//! The seed's blocks, as the examples define them.

#[path = "../../../examples/seed/mod.rs"]
mod blocks_of_the_seed;

pub use blocks_of_the_seed::*;
