use blocks::prelude::*;

#[derive(Module)]
enum Head {
    Small(Linear<4, 1>),
    Large(Linear<4, 8>),
}

fn main() {}
