// 96 features do not split into 5 heads: a compile error where the layer is made.
use blocks::prelude::*;

fn main() {
    let _mha = MultiheadAttention::<96, 5>::new();
}
