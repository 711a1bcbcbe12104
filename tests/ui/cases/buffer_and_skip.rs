use blocks::prelude::*;

#[derive(Module)]
struct Norm {
    #[module(buffer, skip)]
    running_mean: Tensor,
}

fn main() {}
