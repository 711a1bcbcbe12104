use blocks::prelude::*;

#[derive(Module)]
struct Loss {
    linear: Linear<20, 1>,
}

impl Forward<Batch<20>> for Loss {
    type Output = Scalar;

    fn forward(&self, x: &Batch<20>) -> Scalar {
        Scalar::new(self.linear.forward(x).sum())
    }
}

fn main() {
    let _net = sequential![Loss { linear: Linear::new() }, Linear::<20, 10>::new()];
}
