// What a recurrent layer gives carries its width: a second LSTM or a Linear
// head after it that takes another width is a compile error on that call,
// and so is a bidirectional layer's doubled width fed to a layer expecting H.
use blocks::prelude::*;

fn main() {
    let x = Seq::<8>::rand(35, 4);
    let (output, _) = LSTM::<8, 16>::new().forward(&x);
    let _second = LSTM::<32, 8>::new().forward(&output);
    let _head = Linear::<32, 2>::new().forward(&output);
    let (both_ways, _) = GRU::<8, 16, 32>::bidirectional().forward(&x);
    let _next = GRU::<16, 16>::new().forward(&both_ways);
}
