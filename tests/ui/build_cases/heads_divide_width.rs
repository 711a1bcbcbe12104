// Heads that divide the width build and run (the pass case: it makes
// trybuild build these cases, not only check them, so that the checks
// the compiler evaluates when it generates code are reported).
use blocks::prelude::*;

fn main() {
    let mha = MultiheadAttention::<96, 4>::new();
    let x = Batch::<96>::new(Tensor::rand([5, 2, 96]));
    let y: Batch<96> = mha.forward(&x);
    assert_eq!(y.shape(), vec![5, 2, 96]);
    let _norm = GroupNorm::<3, 6>::new();
    let _lstm = LSTM::<8, 16>::new();
    let _gru = GRU::<8, 16, 32>::bidirectional();
}
