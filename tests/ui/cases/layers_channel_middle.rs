// The real layers: 6 channels fed to a convolution taking 16, in the middle
// of a chain (past an activation and a pool that keep the channels), is a
// compile error on the offending block.
use blocks::nn::{AvgPool2d, Conv2d, Sigmoid};
use blocks::prelude::*;

fn main() {
    let _net = sequential![
        Conv2d::<1, 6, 5>::new().padding(2),
        Sigmoid,
        AvgPool2d::new(2),
        Conv2d::<16, 32, 5>::new(),
        Sigmoid,
    ];
}
