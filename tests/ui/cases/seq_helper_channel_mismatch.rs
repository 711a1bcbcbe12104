// d2l's VGG blocks from a helper function: a block whose input channels do
// not match what the block before it gives is one error on that entry,
// naming the convolution and both channel counts.
use blocks::prelude::*;

fn vgg_block<const I: usize, const O: usize>() -> Sequential<(Conv2d<I, O, 3>, ReLU, MaxPool2d)> {
    sequential![Conv2d::<I, O, 3>::new().padding(1), ReLU, MaxPool2d::new(2)]
}

fn main() {
    let _net = sequential![vgg_block::<1, 16>(), vgg_block::<32, 64>(), Flatten::default()];
}
