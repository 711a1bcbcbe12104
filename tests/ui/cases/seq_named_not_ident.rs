// A name is an identifier (a key PyTorch could also write as an attribute).
use blocks::prelude::*;

fn main() {
    let _quoted = sequential!["hidden": Linear::<20, 256>::new(), act: ReLU];
    let _number = sequential![hidden: Linear::<20, 256>::new(), 1: ReLU];
}
