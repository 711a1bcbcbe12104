// After Flatten the width is a run-time value (the next Linear checks it
// when it runs), but between the Linears after it the compiler checks again:
// a block taking 84 features after one giving 120 is a compile error.
use blocks::nn::{Conv2d, Flatten, Sigmoid};
use blocks::prelude::*;

fn main() {
    let _net = sequential![
        Conv2d::<1, 16, 5>::new(),
        Flatten::default(),
        Linear::<400, 120>::new(),
        Sigmoid,
        Linear::<84, 10>::new(),
    ];
}
