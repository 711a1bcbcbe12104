use blocks::prelude::*;

#[derive(Module)]
struct Mlp {
    hidden: Linear<20, 256>,
    depth: usize,
}

fn main() {}
