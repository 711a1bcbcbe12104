use blocks::prelude::*;

#[derive(Module)]
struct Mlp {
    hidden: Linear<20, 256>,
    out: Linear<128, 10>,
}

impl Forward<Batch<20>> for Mlp {
    type Output = Batch<10>;

    fn forward(&self, x: &Batch<20>) -> Batch<10> {
        let h = self.hidden.forward(x).relu();
        self.out.forward(&h)
    }
}

fn main() {}
