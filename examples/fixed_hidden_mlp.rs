//! d2l 6.1.3: code in forward. `FixedHiddenMLP` (see `seed/mod.rs`) has a
//! constant weight that is never trained, uses one Linear twice, and runs a
//! `while` loop.
//!
//! Run with `cargo run --example fixed_hidden_mlp`.

mod seed;

use std::sync::atomic::Ordering;

use blocks::prelude::*;

fn main() {
    manual_seed(3);
    let net = seed::FixedHiddenMlp::new();
    let x = Batch::<20>::rand(2);
    let y = net.forward(&x);
    println!("{y}");
    println!("halved {} times", net.halvings.load(Ordering::Relaxed));

    y.backward();
    let grad = net.linear.weight().grad().expect("the shared Linear gets a gradient");
    println!("linear.weight.grad sums both uses: shape {:?}", grad.shape());
    println!("rand_weight is a buffer, not a parameter: {:?}", net.named_buffers()[0].0);
    println!("{net}");
}
