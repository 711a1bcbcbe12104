// Inside a derived block's forward, the channel check is the same.
use blocks::prelude::*;

#[derive(Module)]
struct Conv2d<const IN: usize, const OUT: usize> {
    weight: Parameter,
}

impl<const IN: usize, const OUT: usize> Forward<Images<IN>> for Conv2d<IN, OUT> {
    type Output = Images<OUT>;

    fn forward(&self, x: &Images<IN>) -> Images<OUT> {
        Images::new(x.sum_dim(&[1], true).expand(&[-1, OUT as isize, -1, -1]))
    }
}

#[derive(Module)]
struct Block {
    conv1: Conv2d<3, 8>,
    conv2: Conv2d<16, 16>,
}

impl Forward<Images<3>> for Block {
    type Output = Images<16>;

    fn forward(&self, x: &Images<3>) -> Images<16> {
        let h = ReLU.forward(&self.conv1.forward(x));
        self.conv2.forward(&h)
    }
}

fn main() {}
