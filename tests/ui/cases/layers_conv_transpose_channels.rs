// A transposed convolution has its channels in its type as `Conv2d` has:
// fed 16 channels where it takes 8 is a compile error on the call, and in a
// chain after a block giving 16; the block after it is checked against its O.
use blocks::nn::{Conv2d, ConvTranspose2d, Images, ReLU};
use blocks::prelude::*;

fn main() {
    let x = Images::<16>::new(Tensor::ones([1, 16, 5, 5]));
    let _y: Images<4> = ConvTranspose2d::<8, 4, 3>::new().stride(2).forward(&x);
    let net = sequential![Conv2d::<3, 16, 3>::new(), ReLU, ConvTranspose2d::<8, 4, 3>::new()];
    let _ = net;
    let up = sequential![ConvTranspose2d::<16, 8, 3>::new(), Conv2d::<4, 2, 1>::new()];
    let _ = up;
}
