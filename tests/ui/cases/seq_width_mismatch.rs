use blocks::prelude::*;

fn main() {
    let _net = sequential![Linear::<20, 256>::new(), ReLU, Linear::<128, 10>::new()];
}
