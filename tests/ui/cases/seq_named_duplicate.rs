// Each name is one key: the second `hidden` is blamed.
use blocks::prelude::*;

fn main() {
    let _net = sequential![hidden: Linear::<20, 20>::new(), act: ReLU, hidden: Linear::<20, 10>::new()];
}
