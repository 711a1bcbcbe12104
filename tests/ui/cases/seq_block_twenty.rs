// Thirty blocks (no limit): the block that does not fit, block 20, is blamed.
use blocks::prelude::*;

fn main() {
    let _net = sequential![
        Linear::<4, 4>::new(), ReLU, Linear::<4, 4>::new(), ReLU, Linear::<4, 4>::new(), ReLU,
        Linear::<4, 4>::new(), ReLU, Linear::<4, 4>::new(), ReLU, Linear::<4, 4>::new(), ReLU,
        Linear::<4, 4>::new(), ReLU, Linear::<4, 4>::new(), ReLU, Linear::<4, 4>::new(), ReLU,
        Linear::<4, 4>::new(), ReLU, Linear::<8, 4>::new(), ReLU, Linear::<4, 4>::new(), ReLU,
        Linear::<4, 4>::new(), ReLU, Linear::<4, 4>::new(), ReLU, Linear::<4, 4>::new(), ReLU,
    ];
}
