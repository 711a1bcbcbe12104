// `chain` writes the block's forward; a hand-written one beside it conflicts.
use blocks::prelude::*;

#[derive(Module)]
#[module(chain)]
struct Mlp {
    hidden: Linear<20, 256>,
    out: Linear<256, 10>,
}

impl Forward<Batch<20>> for Mlp {
    type Output = Batch<10>;

    fn forward(&self, x: &Batch<20>) -> Batch<10> {
        self.out.forward(&self.hidden.forward(x).relu())
    }
}

fn main() {}
