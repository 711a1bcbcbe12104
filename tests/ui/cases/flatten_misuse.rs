// `#[module(flatten)]`: one list per block, with no key of its own, and no
// other field whose key could be one of the list's `0`, `1`, ...
use blocks::prelude::*;

#[derive(Module)]
struct TwoLists {
    #[module(flatten)]
    encoder: Vec<Linear<4, 4>>,
    #[module(flatten)]
    decoder: Vec<Linear<4, 4>>,
}

#[derive(Module)]
struct Renamed {
    #[module(flatten, rename = "layers")]
    blocks: Vec<Box<dyn Block>>,
}

#[derive(Module)]
struct Skipped {
    #[module(flatten, skip)]
    blocks: Vec<Box<dyn Block>>,
}

#[derive(Module)]
struct Tuple(#[module(flatten)] Vec<Box<dyn Block>>, Linear<4, 4>);

#[derive(Module)]
struct NumberKey {
    #[module(flatten)]
    blocks: Vec<Box<dyn Block>>,
    #[module(rename = "1")]
    head: Linear<4, 4>,
}

fn main() {}
