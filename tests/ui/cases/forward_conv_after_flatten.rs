// What `Flatten` gives, passed to a convolution: a compile error at the call,
// naming the convolution, what it takes and the argument.
use blocks::prelude::*;

fn main() {
    let flat = Flatten::default().forward(&Images::<3>::new(Tensor::ones([1, 3, 8, 8])));
    let _y = Conv2d::<3, 6, 5>::new().forward(&flat);
    let _ok = Linear::<192, 10>::new().forward(&flat);
}
