// Attention over 8 features fed a sequence of 6-feature vectors.
use blocks::prelude::*;

fn main() {
    let mha = MultiheadAttention::<8, 2>::new();
    let x = Batch::<6>::new(Tensor::rand([5, 3, 6]));
    let _y = mha.forward(&x);
}
