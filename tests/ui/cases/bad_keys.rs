use blocks::prelude::*;

#[derive(Module)]
struct Net {
    encoder: Linear<4, 4>,
    #[module(rename = "encoder")]
    decoder: Linear<4, 4>,
    #[module(rename = "")]
    head: Linear<4, 1>,
    #[module(rename = "block.0")]
    tail: Linear<4, 1>,
}

fn main() {}
