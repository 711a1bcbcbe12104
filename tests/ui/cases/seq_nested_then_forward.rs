// A mismatch inside a nested sequential!, then a forward call: one error, on
// the inner block; the outer chain and the call are not blamed for it.
use blocks::prelude::*;

fn main() {
    let net = sequential![
        Linear::<4, 5>::new(),
        sequential![Linear::<5, 8>::new(), ReLU, Linear::<9, 2>::new()],
        ReLU,
    ];
    let _y = net.forward(&Batch::<4>::rand(3));
}
