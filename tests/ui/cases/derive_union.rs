use blocks::prelude::*;

#[derive(Module)]
union Raw {
    bits: u32,
    value: f32,
}

fn main() {}
