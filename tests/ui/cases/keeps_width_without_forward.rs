use blocks::prelude::*;

// Marked as keeping the width, but without the forward that does it.
#[derive(Module)]
#[module(keeps_width)]
struct CenteredLayer;

fn main() {
    let net = sequential![Linear::<8, 128>::new(), CenteredLayer];
    net.forward(&Tensor::rand([4, 8]));
}
