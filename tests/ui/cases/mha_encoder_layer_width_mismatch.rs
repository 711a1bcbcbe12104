// An embedding of 16 features before an encoder layer whose d_model is 12.
use blocks::prelude::*;
use blocks::nn::{TransformerEncoderLayer, TransformerOptions};

fn main() {
    let embed = Linear::<4, 16>::new();
    let layer = TransformerEncoderLayer::<12, 3>::new(TransformerOptions::default());
    let x = Batch::<4>::new(Tensor::rand([5, 2, 4]));
    let _y = layer.forward(&embed.forward(&x));
}
