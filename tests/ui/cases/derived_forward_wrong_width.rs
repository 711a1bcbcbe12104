// The caller's argument does not fit the derived block: the errors say what
// the block takes and what the argument is.
use blocks::nn::Conv2d;
use blocks::prelude::*;

#[derive(Module)]
#[module(chain)]
struct Net {
    hidden: Linear<4, 8>,
    act: ReLU,
}

#[derive(Module)]
#[module(chain)]
struct Features {
    conv: Conv2d<3, 8, 3>,
    act: ReLU,
}

fn main() {
    let net = Net { hidden: Linear::new(), act: ReLU };
    // 5 features where the block takes 4.
    let _ = net.forward(&Batch::<5>::rand(2));
    // Images where the block takes rows of features.
    let _ = net.forward(&Images::<4>::new(Tensor::ones([1, 4, 2, 2])));
    let features = Features { conv: Conv2d::new(), act: ReLU };
    // 1 channel where the block takes 3.
    let _ = features.forward(&Images::<1>::new(Tensor::ones([1, 1, 8, 8])));
}
