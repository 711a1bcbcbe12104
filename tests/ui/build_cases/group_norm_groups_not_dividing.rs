// 6 channels do not split into 4 groups: a compile error where the layer is made.
use blocks::prelude::*;

fn main() {
    let _norm = GroupNorm::<4, 6>::new();
}
