// A chained block's fields run in order: the third field takes 128
// features where the first gives 256 (the ReLU between keeps the width).
use blocks::prelude::*;

#[derive(Module)]
#[module(chain)]
struct Mlp {
    hidden: Linear<20, 256>,
    act: ReLU,
    out: Linear<128, 10>,
    last: ReLU,
}

fn main() {}
