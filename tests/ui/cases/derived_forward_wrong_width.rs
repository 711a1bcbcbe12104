// The caller's argument has 5 features; the derived block takes 4.
use blocks::prelude::*;

#[derive(Module)]
#[module(chain)]
struct Net {
    hidden: Linear<4, 8>,
    act: ReLU,
}

fn main() {
    let net = Net { hidden: Linear::new(), act: ReLU };
    let _ = net.forward(&Batch::<5>::rand(2));
}
