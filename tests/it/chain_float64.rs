//! Chains of float64 blocks: `sequential!` written with float64 layers in
//! place (the chain check starts from a tensor of any element type), and a
//! `#[module(chain)]` block generic over its element type, converted with
//! `to_f64()`. Both run on `Batch<N, f64>` and pass `gradcheck_module`.

use blocks::prelude::*;
use blocks::{Tensor64, gradcheck_module};

#[test]
fn a_sequential_of_float64_layers_is_checked_runs_and_gradchecks() {
    manual_seed(3);
    let net = sequential![
        Linear::<2, 3>::new().to_f64(),
        Tanh,
        Linear::<3, 4>::new().to_f64(),
        ReLU,
        Linear::<4, 1>::new().to_f64(),
    ];
    assert_eq!(net.state_dict().keys(), ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]);
    assert_eq!(net.parameters_of::<f64>().len(), 6);
    assert!(net.parameters().is_empty(), "no float32 parameters");

    let x = Batch::<2, f64>::new(Tensor64::from_vec(vec![0.5, -1.0, 2.0, 0.25], [2, 2]));
    let y: Batch<1, f64> = net.forward(&x);
    // The same numbers by hand, layer by layer, in float64.
    let by_hand = net.0.4.forward(&net.0.2.forward(&net.0.0.forward(&x).map(|h| h.tanh())).relu());
    assert_eq!(y.to_vec(), by_hand.to_vec());

    let x = Tensor64::randn([3, 2]).requires_grad_(true);
    gradcheck_module(&net, |xs| net.forward(&xs[0]).tanh().sum(), &[x]).unwrap();
}

#[test]
fn a_named_sequential_of_float64_layers_keys_its_blocks_by_name() {
    let net =
        sequential![hidden: Linear::<4, 8>::new().to_f64(), act: ReLU, out: Linear::<8, 2>::new().to_f64()];
    assert_eq!(net.state_dict().keys(), ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]);
    let y: Batch<2, f64> = net.forward(&Batch::new(Tensor64::ones([5, 4])));
    assert_eq!(y.shape(), vec![5, 2]);
    let x = Tensor64::randn([2, 4]).requires_grad_(true);
    gradcheck_module(&net, |xs| net.forward(&xs[0]).sum(), &[x]).unwrap();
}

#[test]
fn a_float64_sequential_nests_and_starts_with_a_width_keeping_block() {
    let net = sequential![
        ReLU,
        sequential![Linear::<3, 3>::new().to_f64(), Sigmoid],
        Flatten::default(),
        Linear::<3, 2>::new().to_f64(),
    ];
    assert_eq!(net.state_dict().keys(), ["1.0.weight", "1.0.bias", "3.weight", "3.bias"]);
    let y: Batch<2, f64> = net.forward(&Tensor64::randn([4, 3]));
    assert_eq!(y.shape(), vec![4, 2]);
    let x = Tensor64::randn([2, 3]).requires_grad_(true);
    gradcheck_module(&net, |xs| net.forward(&xs[0]).sum(), &[x]).unwrap();
}

/// d2l's MLP as a chained block generic over its element type.
#[derive(Module, Clone)]
#[module(chain)]
struct Mlp<E: Element = f32> {
    hidden: Linear<4, 8, E>,
    act: ReLU,
    out: Linear<8, 2, E>,
}

/// A chained block whose first field keeps the width: it takes a plain
/// tensor of its element type.
#[derive(Module, Clone)]
#[module(chain)]
struct Head<E: Element> {
    act: Tanh,
    mlp: Mlp<E>,
    squash: Sigmoid,
}

#[test]
fn a_generic_chained_block_converts_to_float64_runs_and_gradchecks() {
    manual_seed(11);
    let net = Mlp { hidden: Linear::new(), act: ReLU, out: Linear::new() };
    let x = Batch::<4>::new(blocks::Tensor::randn([3, 4]));
    let single: Batch<2> = net.forward(&x);

    let double: Mlp<f64> = net.to_f64();
    assert_eq!(double.state_dict().keys(), net.state_dict().keys());
    let y: Batch<2, f64> = double.forward(&Batch::new(x.to_f64()));
    let by_hand = double.out.forward(&double.hidden.forward(&Batch::new(x.to_f64())).relu());
    assert_eq!(y.to_vec(), by_hand.to_vec());
    for (a, b) in single.to_vec().iter().zip(y.to_vec()) {
        assert!((f64::from(*a) - b).abs() < 1e-5, "float32 {a} and float64 {b} agree");
    }

    let x = Tensor64::randn([3, 4]).requires_grad_(true);
    gradcheck_module(&double, |xs| double.forward(&xs[0]).tanh().sum(), &[x]).unwrap();
}

#[test]
fn a_generic_chained_block_starting_with_a_width_keeping_block_takes_its_element_type() {
    let net = Head {
        act: Tanh,
        mlp: Mlp { hidden: Linear::new(), act: ReLU, out: Linear::new() },
        squash: Sigmoid,
    };
    let _: Batch<2> = net.forward(&blocks::Tensor::ones([1, 4]));
    let double: Head<f64> = net.to_f64();
    assert_eq!(
        double.state_dict().keys(),
        ["mlp.hidden.weight", "mlp.hidden.bias", "mlp.out.weight", "mlp.out.bias"]
    );
    let x = Tensor64::randn([2, 4]).requires_grad_(true);
    gradcheck_module(&double, |xs| double.forward(&xs[0]).sum(), &[x]).unwrap();
}
