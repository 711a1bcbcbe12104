//! d2l 6.1.1: a custom block, `MLP`, with its own forward (see `seed/mod.rs`:
//! `self.out.forward(&self.hidden.forward(x).relu())`, widths checked by the
//! compiler).
//!
//! Run with `cargo run --example mlp`.

mod seed;

use blocks::prelude::*;

fn main() {
    manual_seed(1);
    let net = seed::Mlp::new();
    let x = Batch::<20>::rand(2);
    println!("{}", net.forward(&x));
    println!("{net}");
}
