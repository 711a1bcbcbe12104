// Named entries are checked as positional ones: the entry that does not fit.
use blocks::prelude::*;

fn main() {
    let _net = sequential![hidden: Linear::<20, 256>::new(), act: ReLU, out: Linear::<128, 10>::new()];
}
