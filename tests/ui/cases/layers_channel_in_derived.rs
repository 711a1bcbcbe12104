// Inside a derived block's forward, with the real layers: a BatchNorm2d
// over 8 channels after a convolution giving 6 is a compile error there.
use blocks::nn::{BatchNorm2d, Conv2d};
use blocks::prelude::*;

#[derive(Module)]
struct ConvBn {
    conv: Conv2d<3, 6, 3>,
    bn: BatchNorm2d<8>,
}

impl Forward<Images<3>> for ConvBn {
    type Output = Images<8>;

    fn forward(&self, x: &Images<3>) -> Images<8> {
        self.bn.forward(&self.conv.forward(x))
    }
}

fn main() {}
