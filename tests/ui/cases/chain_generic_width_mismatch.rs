// A chained block generic over its element type is checked over that type:
// a width mismatch is one error on the field.
use blocks::prelude::*;

#[derive(Module)]
#[module(chain)]
struct Mlp<E: Element = f32> {
    hidden: Linear<20, 256, E>,
    act: ReLU,
    out: Linear<128, 10, E>,
}

fn main() {}
