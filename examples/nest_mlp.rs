//! d2l 6.1.3: blocks inside blocks. `NestMLP` (see `seed/mod.rs`) holds a
//! Sequential and a Linear, and the `chimera` chains it with a Linear and a
//! FixedHiddenMLP; the compiler checks that NestMLP's 16 features feed
//! `Linear<16, 20>`.
//!
//! Run with `cargo run --example nest_mlp`.

mod seed;

use blocks::prelude::*;

fn main() {
    manual_seed(4);
    // chimera = nn.Sequential(NestMLP(), nn.LazyLinear(20), FixedHiddenMLP())
    let chimera = sequential![seed::NestMlp::new(), Linear::<16, 20>::new(), seed::FixedHiddenMlp::new()];
    let x = Tensor::rand([2, 20]);
    println!("{}", chimera.forward(&x));
    println!("{chimera}");
    let keys: Vec<String> = chimera.named_parameters().into_iter().map(|(key, _)| key).collect();
    println!("{keys:?}");
}
