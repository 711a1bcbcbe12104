// An embedding projection of 16 features before attention over 12.
use blocks::prelude::*;

#[derive(Module)]
#[module(chain)]
struct Encoder {
    embed: Linear<4, 16>,
    attention: MultiheadAttention<12, 3>,
}

fn main() {}
