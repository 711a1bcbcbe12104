// A `transparent` front shows its one block field; with two, which one it
// shows is not clear: one error on `transparent`.
use blocks::prelude::*;

#[derive(Module)]
#[module(transparent, name = "Front")]
struct Front {
    first: DynLinear,
    second: DynLinear,
}

fn main() {}
