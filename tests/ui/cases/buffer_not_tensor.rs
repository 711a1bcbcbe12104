use blocks::prelude::*;

#[derive(Module)]
struct Norm {
    #[module(buffer)]
    momentum: f32,
    scale: Parameter,
}

fn main() {}
