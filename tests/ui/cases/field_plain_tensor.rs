use blocks::prelude::*;

#[derive(Module)]
struct Norm {
    scale: Parameter,
    running_mean: Tensor,
    mask: Option<Tensor>,
}

fn main() {}
