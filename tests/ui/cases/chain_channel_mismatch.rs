// A convolution giving 6 channels, then a batch norm over 8: the error is on
// the batch norm's field, not on the fields after it.
use blocks::nn::{BatchNorm2d, Conv2d};
use blocks::prelude::*;

#[derive(Module)]
#[module(chain)]
struct ConvBn {
    conv: Conv2d<3, 6, 3>,
    bn: BatchNorm2d<8>,
    act: ReLU,
}

fn main() {}
