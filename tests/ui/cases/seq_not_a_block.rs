use blocks::prelude::*;

struct Dropout(f32);

fn main() {
    let _net = sequential![Linear::<4, 4>::new(), Dropout(0.5), ReLU];
}
