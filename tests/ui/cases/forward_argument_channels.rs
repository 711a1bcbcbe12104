// Channels as widths: a call's argument with 1 channel into a convolution
// taking 3 is blamed on the argument.
use blocks::nn::Conv2d;
use blocks::prelude::*;

fn main() {
    let net = sequential![Conv2d::<3, 6, 5>::new(), ReLU];
    let _y = net.forward(&Images::<1>::new(Tensor::ones([1, 1, 8, 8])));
}
