use blocks::prelude::*;

#[derive(Module)]
#[module(name = "NestMLP")]
struct NestMlp {
    net: Sequential<(Linear<20, 64>, ReLU, Linear<64, 32>, ReLU)>,
    linear: Linear<32, 16>,
}

impl Forward<Batch<20>> for NestMlp {
    type Output = Batch<16>;

    fn forward(&self, x: &Batch<20>) -> Batch<16> {
        self.linear.forward(&self.net.forward(x))
    }
}

#[derive(Module)]
#[module(name = "FixedHiddenMLP")]
struct FixedHiddenMlp {
    linear: Linear<20, 20>,
}

impl Forward<Batch<20>> for FixedHiddenMlp {
    type Output = Scalar;

    fn forward(&self, x: &Batch<20>) -> Scalar {
        Scalar::new(self.linear.forward(x).sum())
    }
}

fn main() {
    let nest = NestMlp { net: sequential![Linear::new(), ReLU, Linear::new(), ReLU], linear: Linear::new() };
    let fixed = FixedHiddenMlp { linear: Linear::new() };
    let _chimera = sequential![nest, Linear::<15, 20>::new(), fixed];
}
