// A call's argument that the first block does not take: the message speaks
// of the argument and states the width the block takes, for a sequential!
// and for a single layer.
use blocks::prelude::*;

fn main() {
    let net = sequential![Linear::<4, 8>::new(), ReLU, Linear::<8, 2>::new()];
    let _y = net.forward(&Batch::<5>::rand(3));
    let _z = Linear::<4, 8>::new().forward(&Batch::<5>::rand(3));
}
