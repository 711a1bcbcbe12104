// `#[module(flatten)]` on a single block: nothing to flatten.
use blocks::prelude::*;

#[derive(Module)]
struct Net {
    #[module(flatten)]
    body: Linear<4, 4>,
}

fn main() {}
