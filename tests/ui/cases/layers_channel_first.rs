// The real layers: a first convolution taking 3 channels, fed 1-channel
// images, is a compile error: on the call of the layer itself naming both
// channel counts, and on the call of a chain starting with it.
use blocks::nn::{AvgPool2d, Conv2d, Images, Sigmoid};
use blocks::prelude::*;

fn main() {
    let x = Images::<1>::new(Tensor::ones([1, 1, 28, 28]));
    let _y: Images<6> = Conv2d::<3, 6, 5>::new().padding(2).forward(&x);
    let net = sequential![Conv2d::<3, 6, 5>::new().padding(2), Sigmoid, AvgPool2d::new(2)];
    let _y = net.forward(&x);
}
