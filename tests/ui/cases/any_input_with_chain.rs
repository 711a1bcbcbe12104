// `any_input` describes a hand-written generic `Forward`; a `chain` or
// `keeps_width` block has its forward written by the derive, so the two
// together are one error on `any_input`.
use blocks::prelude::*;

#[derive(Module)]
#[module(chain, any_input)]
struct Net {
    hidden: Linear<4, 8>,
    act: ReLU,
}

fn main() {}
