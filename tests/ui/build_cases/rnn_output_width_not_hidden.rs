// One direction gives H output features, two give 2H: a third size in the
// type is a compile error where the layer is made.
use blocks::prelude::*;

fn main() {
    let _one_way = LSTM::<8, 16, 32>::new();
    let _two_ways = GRU::<8, 16, 16>::bidirectional();
}
