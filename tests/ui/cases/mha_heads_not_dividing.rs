// 96 features cannot be split evenly over 5 heads: PyTorch's
// "embed_dim must be divisible by num_heads", here at compile time.
use blocks::prelude::*;

fn main() {
    let _mha = MultiheadAttention::<96, 5>::new();
}
