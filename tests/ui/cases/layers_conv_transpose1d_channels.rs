// The 1-d transposed convolution checks its channels as Conv1d does: a
// signal of 3 channels fed where it takes 2 is a compile error on the call,
// and a Conv1d after it must take the channels it gives.
use blocks::nn::{Conv1d, ConvTranspose1d, Images};
use blocks::prelude::*;

fn main() {
    let x = Images::<3>::new(Tensor::ones([1, 3, 8]));
    let _y: Images<4> = ConvTranspose1d::<2, 4, 3>::new().forward(&x);
    let net = sequential![ConvTranspose1d::<3, 4, 3>::new().stride(2), Conv1d::<8, 2, 1>::new()];
    let _ = net;
}
