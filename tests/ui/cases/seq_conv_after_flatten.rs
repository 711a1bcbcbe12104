// `Flatten` gives a `Flat` tensor (its width known at run time): a `Linear`
// takes it, a convolution does not. A `Conv2d` after a `Flatten` is one
// compile error on the convolution, naming what it takes and what it is given.
use blocks::prelude::*;

fn main() {
    let _net = sequential![
        Conv2d::<1, 6, 5>::new(),
        ReLU,
        Flatten::default(),
        Conv2d::<6, 16, 5>::new(),
        Linear::<16, 10>::new(),
    ];
}
