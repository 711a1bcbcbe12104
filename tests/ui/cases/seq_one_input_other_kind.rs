// A block of your own with one `impl Forward<Batch<20>>` is given exactly
// `Batch<20>` in a chain: after a `Flatten` (which gives `Flat`) it is one
// error on the block, saying how to take other kinds.
use blocks::prelude::*;

#[derive(Module)]
struct Mlp {
    hidden: Linear<20, 10>,
}

impl Forward<Batch<20>> for Mlp {
    type Output = Batch<10>;

    fn forward(&self, x: &Batch<20>) -> Batch<10> {
        self.hidden.forward(x)
    }
}

fn main() {
    let _net = sequential![Linear::<4, 20>::new(), Flatten::default(), Mlp { hidden: Linear::new() }, ReLU];
}
