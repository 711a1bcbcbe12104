use blocks::prelude::*;

#[derive(Module)]
struct Encoder {
    linear: Linear<20, 8>,
}

fn main() {
    let _net = sequential![Encoder { linear: Linear::new() }, ReLU];
}
