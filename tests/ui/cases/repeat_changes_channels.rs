// A `Repeat` gives each block what the one before it gave, so its block must
// give what it takes: repeating a convolution from 4 to 8 channels is a
// compile error naming the block and both kinds.
use blocks::nn::Repeat;
use blocks::prelude::*;

fn main() {
    let stage = Repeat::<2, Conv2d<4, 8, 3>>::new(|_| Conv2d::new());
    let _y = stage.forward(&Images::<4>::new(Tensor::ones([1, 4, 8, 8])));
}
