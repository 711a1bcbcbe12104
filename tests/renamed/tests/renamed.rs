//! blocks as a renamed dependency (`nn = { package = "blocks", .. }`):
//! `sequential!` reaches it through `$crate`, `#[derive(Module)]` through
//! `#[module(crate = "::nn")]`.

use nn::nn::{Linear, ModuleExt, ReLU};

#[derive(nn::Module)]
#[module(crate = "::nn", chain)]
struct Mlp {
    hidden: Linear<4, 8>,
    act: ReLU,
    out: Linear<8, 2>,
}

#[test]
fn sequential_and_derive_under_another_name() {
    let net = nn::sequential![Linear::<4, 8>::new(), ReLU, nn::sequential![Linear::<8, 2>::new()]];
    assert_eq!(net.forward(&nn::Tensor::rand([3, 4])).shape(), vec![3, 2]);
    assert_eq!(net.state_dict().keys(), ["0.weight", "0.bias", "2.0.weight", "2.0.bias"]);

    let mlp = Mlp { hidden: Linear::new(), act: ReLU, out: Linear::new() };
    assert_eq!(mlp.forward(&nn::Tensor::rand([3, 4])).shape(), vec![3, 2]);
    assert_eq!(mlp.named_parameters()[2].0, "out.weight");
}
