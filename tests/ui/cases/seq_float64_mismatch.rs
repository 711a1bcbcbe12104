// A chain of float64 layers is checked as one of float32 layers: a width
// mismatch is one error on the block that does not fit, and so is a float32
// layer after a float64 one.
use blocks::prelude::*;

fn main() {
    let _wrong_width = sequential![Linear::<2, 3>::new().to_f64(), ReLU, Linear::<4, 1>::new().to_f64()];
    let _wrong_element = sequential![Linear::<2, 3>::new().to_f64(), ReLU, Linear::<3, 1>::new()];
}
