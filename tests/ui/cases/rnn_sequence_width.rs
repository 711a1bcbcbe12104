// A recurrent layer takes `Seq<I>`: a sequence of another width is a compile
// error on the call, for an LSTM, a GRU and an RNN, and for a sequence made
// from an embedding's `Batch`.
use blocks::nn::Embedding;
use blocks::prelude::*;

fn main() {
    let _lstm = LSTM::<8, 16>::new().forward(&Seq::<5>::rand(35, 4));
    let _gru = GRU::<8, 16>::new().forward(&Seq::<5>::rand(35, 4));
    let ids = blocks::Indices::from_vec(vec![1, 2, 3, 4], [2, 2]);
    let embedded = Embedding::<10, 6>::new().forward(&ids);
    let _rnn = RNN::<8, 16>::new().forward(&embedded);
}
