//! `sequential!` past twelve blocks (keys `0..N` straight through, PyTorch's
//! printout, the output of the chain) and with named entries (PyTorch's
//! `nn.Sequential(OrderedDict(...))`: keys, printout, `net.hidden`).

use blocks::nn::module_repr;
use blocks::prelude::*;

/// Sets `layer`'s weight to `[[1, j/10], [-1/2, 1]]` and its bias to
/// `[1/10, -j/5]`, returning them.
fn set(layer: &Linear<2, 2>, j: usize) -> ([[f32; 2]; 2], [f32; 2]) {
    let j = j as f32;
    let weight = [[1.0, j / 10.0], [-0.5, 1.0]];
    let bias = [0.1, -j / 5.0];
    layer.weight().data_mut().iter_mut().zip(weight.iter().flatten()).for_each(|(w, v)| *w = *v);
    layer.bias().unwrap().data_mut().iter_mut().zip(&bias).for_each(|(b, v)| *b = *v);
    (weight, bias)
}

#[rustfmt::skip]
fn thirty() -> impl Module + std::fmt::Display {
    sequential![
        Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU,
        Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU,
        Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU,
        Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU,
        Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), Tanh,
    ]
}

#[test]
fn thirty_blocks_have_keys_zero_to_twenty_nine_and_pytorchs_printout() {
    let net = thirty();
    let module: &dyn Module = &net;
    let keys: Vec<String> = module.state_dict().keys().into_iter().map(String::from).collect();
    let expected: Vec<String> =
        (0..30).step_by(2).flat_map(|k| [format!("{k}.weight"), format!("{k}.bias")]).collect();
    assert_eq!(keys, expected);
    let mut printout = String::from("Sequential(\n");
    for k in 0..30 {
        let block = match k {
            29 => "Tanh()",
            _ if k % 2 == 0 => "Linear(in_features=2, out_features=2, bias=True)",
            _ => "ReLU()",
        };
        printout.push_str(&format!("  ({k}): {block}\n"));
    }
    printout.push(')');
    assert_eq!(net.to_string(), printout);
    assert_eq!(module_repr(module), printout);
    assert_eq!(module[29].type_name(), "Tanh");
    assert_eq!(module["13"].type_name(), "ReLU");
}

#[test]
fn thirty_blocks_give_the_hand_computed_output() {
    #[rustfmt::skip]
    let net = sequential![
        Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU,
        Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU,
        Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU,
        Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU,
        Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), ReLU, Linear::<2, 2>::new(), Tanh,
    ];
    // Block k with its own type: `.1` per full chunk of twelve before it,
    // `.0` if chunks follow its own, then its place in the chunk.
    let linears: [&Linear<2, 2>; 15] = [
        &net.0.0.0,
        &net.0.0.2,
        &net.0.0.4,
        &net.0.0.6,
        &net.0.0.8,
        &net.0.0.10,
        &net.0.1.0.0,
        &net.0.1.0.2,
        &net.0.1.0.4,
        &net.0.1.0.6,
        &net.0.1.0.8,
        &net.0.1.0.10,
        &net.0.1.1.0,
        &net.0.1.1.2,
        &net.0.1.1.4,
    ];
    let _tanh: &Tanh = &net.0.1.1.5;
    let x = [[0.3f32, -0.7], [1.0, 2.0]];
    let mut rows = x.to_vec();
    for (j, layer) in linears.iter().enumerate() {
        let (w, b) = set(layer, j);
        for row in &mut rows {
            let out =
                [row[0] * w[0][0] + row[1] * w[0][1] + b[0], row[0] * w[1][0] + row[1] * w[1][1] + b[1]];
            *row = if j == 14 { out.map(f32::tanh) } else { out.map(|v| v.max(0.0)) };
        }
    }
    let expected: Vec<f32> = rows.iter().flatten().copied().collect();
    assert!(expected.iter().any(|&v| v != 0.0), "the hand computation is not all zeros: {expected:?}");
    let y: Batch<2> =
        net.forward(&Batch::<2>::new(Tensor::from_vec(x.iter().flatten().copied().collect(), [2, 2])));
    for (got, want) in y.to_vec().iter().zip(&expected) {
        assert!((got - want).abs() <= 1e-5 * want.abs().max(1.0), "{:?} != {expected:?}", y.to_vec());
    }
}

#[test]
fn a_run_time_width_error_past_twelve_names_the_block_by_its_key() {
    #[rustfmt::skip]
    let net = sequential![
        ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU,
        Linear::<3, 2>::new(),
    ];
    let panic = std::panic::catch_unwind(|| net.forward(&Tensor::ones([1, 4]))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.ends_with("(at block 13)"), "{message}");
}

#[test]
fn named_entries_have_ordered_dict_keys_and_printout() {
    // nn.Sequential(OrderedDict([("hidden", nn.Linear(20, 256)), ("act", nn.ReLU()), ("out", nn.Linear(256, 10))]))
    let net = sequential![hidden: Linear::<20, 256>::new(), act: ReLU, out: Linear::<256, 10>::new()];
    let keys: Vec<String> = net.state_dict().keys().into_iter().map(String::from).collect();
    assert_eq!(keys, ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]);
    assert_eq!(
        net.to_string(),
        "Sequential(\n  (hidden): Linear(in_features=20, out_features=256, bias=True)\n  (act): ReLU()\n  \
         (out): Linear(in_features=256, out_features=10, bias=True)\n)"
    );
    let names: Vec<String> = net.named_parameters().into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, keys);
}

#[test]
fn a_named_entry_is_reached_by_its_name_with_its_type() {
    manual_seed(1);
    let net = sequential![hidden: Linear::<4, 3>::new(), act: ReLU, out: Linear::<3, 2>::new()];
    let hidden: &Linear<4, 3> = &net.hidden;
    assert!(hidden.weight().same(net.0.hidden.weight()));
    let module: &dyn Module = &net;
    assert!(module["out"].downcast_ref::<Linear<3, 2>>().unwrap().weight().same(net.out.weight()));
    let x = Batch::<4>::rand(5);
    let y: Batch<2> = net.forward(&x);
    let by_hand = net.out.forward(&net.hidden.forward(&x).relu());
    assert_eq!(y.to_vec(), by_hand.to_vec());
}

#[test]
fn a_run_time_width_error_in_a_named_entry_names_it() {
    let net = sequential![act: ReLU, out: Linear::<3, 2>::new()];
    let panic = std::panic::catch_unwind(|| net.forward(&Tensor::ones([1, 4]))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.ends_with("(at block out)"), "{message}");
}

#[test]
fn nested_sequentials_keep_pytorchs_nested_keys() {
    // nn.Sequential(nn.Linear(4, 8), nn.Sequential(OrderedDict([("hidden", nn.Linear(8, 8)), ("act", nn.ReLU())])), nn.Linear(8, 2))
    let net = sequential![
        Linear::<4, 8>::new(),
        sequential![hidden: Linear::<8, 8>::new(), act: ReLU],
        Linear::<8, 2>::new(),
    ];
    let keys: Vec<String> = net.state_dict().keys().into_iter().map(String::from).collect();
    assert_eq!(keys, ["0.weight", "0.bias", "1.hidden.weight", "1.hidden.bias", "2.weight", "2.bias"]);
    assert_eq!(
        net.to_string(),
        "Sequential(\n  (0): Linear(in_features=4, out_features=8, bias=True)\n  (1): Sequential(\n    \
         (hidden): Linear(in_features=8, out_features=8, bias=True)\n    (act): ReLU()\n  )\n  \
         (2): Linear(in_features=8, out_features=2, bias=True)\n)"
    );
    assert_eq!(net.0.1.hidden.weight().shape(), vec![8, 8]);
    assert_eq!(net.forward(&Batch::<4>::rand(3)).shape(), vec![3, 2]);
}

#[test]
fn a_named_sequential_loads_a_state_dict_by_name() {
    let source = sequential![hidden: Linear::<2, 3>::new(), act: ReLU, out: Linear::<3, 1>::new()];
    let target = sequential![hidden: Linear::<2, 3>::new(), act: ReLU, out: Linear::<3, 1>::new()];
    target.load_state_dict(&source.state_dict()).unwrap();
    assert_eq!(target.out.weight().to_vec(), source.out.weight().to_vec());
    assert_eq!(target.hidden.bias().unwrap().to_vec(), source.hidden.bias().unwrap().to_vec());
}

#[test]
fn a_sequential_held_in_a_variable_is_a_block_of_another() {
    // The outer chain goes on with what the inner one gives: Batch<8> after
    // its ReLU, which keeps the kind; the named one gives Batch<3>.
    let inner = sequential![Linear::<5, 8>::new(), ReLU];
    let named = sequential![hidden: Linear::<8, 3>::new(), act: ReLU];
    let outer = sequential![Linear::<4, 5>::new(), inner, named, Linear::<3, 2>::new()];
    let y: Batch<2> = outer.forward(&Batch::<4>::rand(6));
    assert_eq!(y.shape(), vec![6, 2]);
    let keys: Vec<String> = outer.state_dict().keys().into_iter().map(String::from).collect();
    assert_eq!(
        keys,
        [
            "0.weight",
            "0.bias",
            "1.0.weight",
            "1.0.bias",
            "2.hidden.weight",
            "2.hidden.bias",
            "3.weight",
            "3.bias"
        ]
    );
}
