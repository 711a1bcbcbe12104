// A typed channel layer as the layer task writes them (here with a stand-in
// forward): feeding 6 channels into a layer taking 16 is a compile error on
// that layer, in plain words.
use blocks::prelude::*;

#[derive(Module)]
struct Conv2d<const IN: usize, const OUT: usize, const K: usize> {
    weight: Parameter,
}

impl<const IN: usize, const OUT: usize, const K: usize> Conv2d<IN, OUT, K> {
    fn new() -> Self {
        Conv2d { weight: Parameter::new(Tensor::zeros([OUT, IN, K, K])) }
    }
}

impl<const IN: usize, const OUT: usize, const K: usize> Forward<Images<IN>> for Conv2d<IN, OUT, K> {
    type Output = Images<OUT>;

    fn forward(&self, x: &Images<IN>) -> Images<OUT> {
        Images::new(x.sum_dim(&[1], true).expand(&[-1, OUT as isize, -1, -1]))
    }
}

fn main() {
    let _lenet = sequential![Conv2d::<1, 6, 5>::new(), ReLU, Conv2d::<16, 32, 5>::new()];
    let _first: Images<6> = Conv2d::<3, 6, 5>::new().forward(&Images::<1>::new(Tensor::ones([1, 1, 8, 8])));
}
