//! torchvision's ResNet-18 and the `resnet18` example's checks, as the example defines them.

#[path = "../../../examples/resnet18/mod.rs"]
mod resnet18_of_the_example;

pub use resnet18_of_the_example::*;
