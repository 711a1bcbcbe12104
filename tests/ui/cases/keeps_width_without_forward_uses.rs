use blocks::prelude::*;

// Marked as keeping the width, but without the forward that does it: one
// error, where the struct is defined; its uses (a call on the block, a
// named Sequential holding it and a call on that) are not reported again.
#[derive(Module)]
#[module(keeps_width)]
struct Centered;

fn main() {
    let _y = Centered.forward(&Batch::<4>::rand(2));
    let net = sequential![hidden: Linear::<8, 4>::new(), center: Centered];
    let _z = net.forward(&Tensor::rand([2, 8]));
}
