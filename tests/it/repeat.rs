//! `Repeat<N, B>`: `N` blocks of one type run in order, typed at its edges,
//! with PyTorch's keys and printout for `nn.Sequential(*[make() for _ in
//! range(N)])`: against the blocks run by hand, finite differences, inside a
//! `sequential!`, with hooks and a run-time error's place.

use blocks::nn::{DynLinear, Repeat};
use blocks::prelude::*;
use blocks::{Tensor64, gradcheck_module};

use crate::support::panic_message;

#[test]
fn repeat_runs_its_blocks_in_order_with_pytorchs_keys_and_printout() {
    manual_seed(7);
    let layers = Repeat::<3, Linear<4, 4>>::new(|_| Linear::new());
    let x = Tensor::rand([2, 4]);
    let mut by_hand = x.clone();
    for layer in layers.blocks() {
        by_hand = layer.forward(&by_hand).into();
    }
    assert_eq!(layers.forward(&x).to_vec(), by_hand.to_vec());

    let keys: Vec<String> = layers.named_parameters().into_iter().map(|(key, _)| key).collect();
    assert_eq!(keys, ["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"]);
    // As PyTorch prints nn.Sequential(*[nn.Linear(4, 4) for _ in range(3)]).
    assert_eq!(
        layers.to_string(),
        "Sequential(\n  (0): Linear(in_features=4, out_features=4, bias=True)\n  (1): Linear(in_features=4, \
         out_features=4, bias=True)\n  (2): Linear(in_features=4, out_features=4, bias=True)\n)"
    );
}

#[test]
fn a_repeated_stage_is_typed_at_its_edges_inside_a_sequential() {
    manual_seed(8);
    let net = sequential![
        Conv2d::<1, 4, 3>::new().padding(1),
        ReLU,
        Repeat::<2, Conv2d<4, 4, 3>>::new(|_| Conv2d::new().padding(1)),
        AdaptiveAvgPool2d::new(1),
        Flatten::default(),
        Linear::<4, 2>::new(),
    ];
    let y = net.forward(&Images::<1>::new(Tensor::rand([3, 1, 6, 6])));
    assert_eq!(y.shape(), vec![3, 2]);
    let keys: Vec<String> = net.named_parameters().into_iter().map(|(key, _)| key).collect();
    assert_eq!(&keys[2..6], ["2.0.weight", "2.0.bias", "2.1.weight", "2.1.bias"]);

    // Each repeated block keeps its own hooks.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen_in_hook = std::sync::Arc::clone(&seen);
    let handle = net.0.2.blocks()[1].register_forward_hook(move |x, _| {
        seen_in_hook.lock().unwrap().push(x.shape());
        None
    });
    net.forward(&Images::<1>::new(Tensor::rand([2, 1, 5, 5])));
    handle.remove();
    assert_eq!(*seen.lock().unwrap(), [vec![2, 4, 5, 5]]);
}

#[test]
fn a_run_time_error_names_the_repeated_blocks_place() {
    // Sizes from a config: the second block takes 4 features, the first gives 3.
    let layers = Repeat::<2, DynLinear>::new(|i| DynLinear::new(3 + i, 3));
    let net = sequential![Linear::<3, 3>::new(), layers];
    let caught = std::panic::catch_unwind(|| net.forward(&Tensor::rand([2, 3]))).unwrap_err();
    let message = panic_message(caught);
    assert!(message.ends_with("(at block 1.1)"), "{message}");
}

#[test]
fn repeat_passes_gradcheck_in_float64() {
    manual_seed(9);
    let layers = Repeat::<2, Linear<3, 3>>::new(|_| Linear::new()).to_f64();
    let x = Tensor64::rand([2, 3]).requires_grad_(true);
    gradcheck_module(&layers, |xs| layers.forward(&xs[0]).tanh().sum(), &[x]).unwrap();
    // A copy is a new model with the same values.
    let copy = layers.deep_copy();
    assert!(!copy.blocks()[0].weight().same(layers.blocks()[0].weight()));
    assert_eq!(copy.blocks()[0].weight().to_vec(), layers.blocks()[0].weight().to_vec());
}
