// `net.iter()` gives each block as a `&dyn Block`, which runs on a plain
// tensor: a block of your own taking only `Batch<20>` is not one, and the
// error says how to make it one.
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
    let net = sequential![Mlp { hidden: Linear::new() }, ReLU];
    for block in net.iter() {
        println!("{}", block.type_name());
    }
}
