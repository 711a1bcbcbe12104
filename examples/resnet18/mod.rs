//! torchvision's ResNet-18 rebuilt from blocks' layers ([`model`]), and what
//! `cargo run --example resnet18` does with a weights file and an input file
//! ([`check`]). Used by the example and by the tests (`tests/it/resnet18.rs`
//! includes this folder).
#![allow(dead_code, unused_imports)]

mod check;
mod model;

pub use check::{Checked, IoCase, MIN_SIDE, TOLERANCE, load_into, load_weights, read_io, run, top5};
pub use model::{BasicBlock, Downsample, ResNet, Stage, resnet18};
