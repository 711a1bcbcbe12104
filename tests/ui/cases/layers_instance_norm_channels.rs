// InstanceNorm1d<C> and InstanceNorm2d<C> have their channels in their
// types, as BatchNorm2d<C> has: fed another channel count, on the call or
// in a chain, it is a compile error naming both counts.
use blocks::nn::{Conv1d, Conv2d, Images, InstanceNorm1d, InstanceNorm2d};
use blocks::prelude::*;

fn main() {
    let x = Images::<3>::new(Tensor::ones([2, 3, 4, 4]));
    let _y: Images<4> = InstanceNorm2d::<4>::new().forward(&x);
    let net = sequential![Conv2d::<3, 8, 3>::new(), InstanceNorm2d::<16>::new(), ReLU];
    let _ = net;
    let signals = sequential![Conv1d::<2, 6, 3>::new(), InstanceNorm1d::<4>::new()];
    let _ = signals;
}
