use blocks::prelude::*;

#[derive(Module)]
#[module(nmae = "MLP")]
struct Mlp {
    #[module(skp)]
    depth: usize,
    #[module(name = "out")]
    out: Linear<4, 2>,
}

fn main() {}
