use blocks::prelude::*;

fn main() {
    let _net = sequential![
        ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU,
        Linear::<4, 4>::new(),
    ];
}
