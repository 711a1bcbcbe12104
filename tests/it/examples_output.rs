//! The chapter's examples stay true: each example's functions are compiled
//! here as a module and checked for the values its `main` prints (d2l's
//! "Parameter Management", "Parameter Initialization", "Lazy
//! Initialization", "Custom Layers" and "File I/O", and "Layers and
//! Modules"' `MySequential`).

#[allow(dead_code)]
#[path = "../../examples/custom_layers.rs"]
mod custom_layers;
#[allow(dead_code)]
#[path = "../../examples/file_io.rs"]
mod file_io;
#[allow(dead_code)]
#[path = "../../examples/init.rs"]
mod init;
#[allow(dead_code)]
#[path = "../../examples/lazy.rs"]
mod lazy;
#[allow(dead_code)]
#[path = "../../examples/my_sequential.rs"]
mod my_sequential;
#[allow(dead_code)]
#[path = "../../examples/parameters.rs"]
mod parameters;

use std::path::PathBuf;

use blocks::nn::{apply, uninitialized_parameters};
use blocks::prelude::*;

fn shapes(list: &[(&str, &[usize])]) -> Vec<(String, Vec<usize>)> {
    list.iter().map(|(name, shape)| (name.to_string(), shape.to_vec())).collect()
}

/// A fresh directory for one test's files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("blocks-examples-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---- parameters ----

#[test]
fn parameters_one_layer_state_dict_and_bias() {
    let (net, y) = parameters::net(&Tensor::rand([2, 4]));
    assert_eq!(y.shape(), vec![2, 1]);
    let layer = &net.0.2;
    let (weight, bias) = (layer.weight().detach(), layer.bias().unwrap().detach());
    assert_eq!(
        layer.state_dict().to_string(),
        format!("OrderedDict([('weight', {weight}), ('bias', {bias})])")
    );
    let shown = layer.bias().unwrap().to_string();
    assert_eq!(shown, format!("Parameter containing:\n{}", layer.bias().unwrap().tensor()));
    assert!(shown.ends_with(", requires_grad=True)"));
    assert!(!bias.to_string().contains("requires_grad"), "`.data` prints the values alone");
    assert!(layer.weight().grad().is_none());
}

#[test]
fn parameters_all_at_once() {
    let (net, _) = parameters::net(&Tensor::rand([2, 4]));
    assert_eq!(parameters::shapes(&net.0.0), shapes(&[("weight", &[8, 4]), ("bias", &[8])]));
    assert_eq!(
        parameters::shapes(&net),
        shapes(&[("0.weight", &[8, 4]), ("0.bias", &[8]), ("2.weight", &[1, 8]), ("2.bias", &[1])])
    );
    assert!(net.state_dict().get("2.bias").unwrap().same(net.0.2.bias().unwrap()));
}

#[test]
fn parameters_rgnet_names_and_nested_access() {
    let rgnet = parameters::rgnet();
    assert_eq!(uninitialized_parameters(&rgnet).len(), 18);
    assert_eq!(rgnet.forward(&Tensor::rand([2, 4])).shape(), vec![2, 1]);
    let printed = rgnet.to_string();
    assert!(printed.starts_with(
        "Sequential(\n  (0): Sequential(\n    (block 0): Sequential(\n      (0): Linear(in_features=4, out_features=8, \
         bias=True)\n      (1): ReLU()\n      (2): Linear(in_features=8, out_features=4, bias=True)\n      (3): ReLU()\n    )\n    (block 1): Sequential("
    ));
    assert!(printed.ends_with("    )\n  )\n  (1): Linear(in_features=4, out_features=1, bias=True)\n)"));
    let bias = parameters::rgnet_bias(&rgnet);
    assert_eq!(bias.shape(), vec![8]);
    assert!(bias.same(&rgnet.parameter("0.block 1.0.bias").unwrap()));
    assert!(!bias.same(&rgnet.parameter("0.block 0.0.bias").unwrap()));
    assert_eq!(rgnet.state_dict().keys()[4], "0.block 1.0.weight");
}

#[test]
fn parameters_tied_writes_show_through() {
    let net = parameters::tied(&Tensor::rand([2, 4]));
    let all_true = format!("tensor([{}])", ["True"; 8].join(", "));
    assert_eq!(parameters::rows_equal(&net), all_true);
    net.0.2.weight().data_mut()[[0, 0]] = 100.0;
    assert_eq!(parameters::rows_equal(&net), all_true);
    assert_eq!(net.0.4.weight().data()[[0, 0]], 100.0);
    assert!(net.0.2.weight().same(net.0.4.weight()));
    let names: Vec<String> = parameters::shapes(&net).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias", "6.weight", "6.bias"]);
}

// ---- init ----

#[test]
fn init_normal_and_constant_on_every_linear() {
    manual_seed(0);
    let net = init::net();
    apply(&net, init::init_normal);
    for (name, p) in net.named_parameters() {
        let values = p.to_vec();
        if name.ends_with("bias") {
            assert!(values.iter().all(|v| *v == 0.0), "{name}");
        } else {
            assert!(values.iter().all(|v| v.abs() < 0.06) && values.iter().any(|v| *v != 0.0), "{name}");
        }
    }
    apply(&net, init::init_constant);
    assert_eq!(net.0.0.weight().to_vec(), vec![1.0; 32]);
    assert_eq!(net.0.2.weight().to_vec(), vec![1.0; 8]);
    assert_eq!(net.0.0.bias().unwrap().to_vec(), vec![0.0; 8]);
}

#[test]
fn init_xavier_on_one_layer_and_42_on_another() {
    let net = init::net();
    apply(&net.0.0, init::init_xavier);
    apply(&net.0.2, init::init_42);
    let bound = (6.0f32 / (4.0 + 8.0)).sqrt();
    assert!(net.0.0.weight().to_vec().iter().all(|w| w.abs() <= bound && *w != 42.0));
    assert_eq!(net.0.2.weight().detach().to_string(), "tensor([[42., 42., 42., 42., 42., 42., 42., 42.]])");
}

#[test]
fn init_my_init_prints_each_linear_and_zeroes_the_small_weights() {
    manual_seed(1);
    let net = init::net();
    let mut lines = Vec::new();
    apply(&net, |m| lines.extend(init::my_init(m)));
    assert_eq!(lines, ["Init weight torch.Size([8, 4])", "Init weight torch.Size([1, 8])"]);
    for linear in [
        net.0.0.as_dyn().downcast_ref::<DynLinear>().unwrap(),
        net.0.2.as_dyn().downcast_ref::<DynLinear>().unwrap(),
    ] {
        let weights = linear.weight().to_vec();
        assert!(weights.iter().all(|w| *w == 0.0 || (5.0..10.0).contains(&w.abs())), "{weights:?}");
    }
    let first = net.0.0.weight().to_vec();
    assert!(first.contains(&0.0) && first.iter().any(|w| *w != 0.0));
    // A zeroed negative weight keeps its sign, as PyTorch's multiply by the mask does.
    let w = Parameter::new(Tensor::from_vec(vec![-3.0, 3.0, 7.0, -8.0, -5.0, 4.99], [2, 3]));
    init::zero_small(&w);
    assert_eq!(w.to_vec(), vec![0.0, 0.0, 7.0, -8.0, -5.0, 0.0]);
    assert!(w.to_vec()[0].is_sign_negative() && w.to_vec()[1].is_sign_positive());
    assert_eq!(w.detach().to_string(), "tensor([[-0.,  0.,  7.],\n        [-8., -5.,  0.]])");
    assert_eq!(net.0.0.weight().slice(0, 0, 2, 1).grad_fn(), Some("SliceBackward0"));
}

#[test]
fn init_direct_writes() {
    let net = init::net();
    let before = net.0.0.weight().to_vec();
    init::write_directly(&net);
    let after = net.0.0.weight().to_vec();
    assert_eq!(after[0], 42.0);
    for (a, b) in after.iter().zip(&before).skip(1) {
        assert_eq!(*a, b + 1.0);
    }
}

// ---- lazy ----

#[test]
fn lazy_net_before_and_after_the_dry_run() {
    let net = lazy::net();
    assert_eq!(net.0.0.weight().to_string(), "<UninitializedParameter>");
    assert_eq!(
        net.to_string(),
        "Sequential(\n  (0): LazyLinear(in_features=0, out_features=256, bias=True)\n  (1): ReLU()\n  (2): \
         LazyLinear(in_features=0, out_features=10, bias=True)\n)"
    );
    assert_eq!(uninitialized_parameters(&net), ["0.weight", "0.bias", "2.weight", "2.bias"]);
    net.forward(&Tensor::rand([2, 20]));
    assert_eq!(net.0.0.weight().shape(), vec![256, 20]);
    assert_eq!(
        net.to_string(),
        "Sequential(\n  (0): Linear(in_features=20, out_features=256, bias=True)\n  (1): ReLU()\n  (2): \
         Linear(in_features=256, out_features=10, bias=True)\n)"
    );
    assert!(uninitialized_parameters(&net).is_empty());
}

#[test]
fn lazy_apply_init_runs_the_dry_run_then_the_init() {
    let net = lazy::net();
    lazy::apply_init(&net, &Tensor::rand([2, 20]), Some(lazy::init_xavier));
    assert_eq!(net.0.2.bias().unwrap().to_vec(), vec![0.0; 10]);
    let bound = (6.0f32 / (20.0 + 256.0)).sqrt();
    assert!(net.0.0.weight().to_vec().iter().all(|w| w.abs() <= bound));
    let plain = lazy::net();
    lazy::apply_init(&plain, &Tensor::rand([2, 20]), None);
    assert!(plain.0.2.bias().unwrap().to_vec().iter().any(|b| *b != 0.0), "PyTorch's default draw");
}

#[test]
fn lazy_apply_before_the_dry_run_passes_the_lazy_layers_over() {
    // As in PyTorch, where `type(m) == nn.Linear` is false for a LazyLinear
    // until its first forward.
    let net = lazy::net();
    apply(&net, lazy::init_xavier);
    assert_eq!(uninitialized_parameters(&net).len(), 4);
}

#[test]
#[should_panic(expected = "Attempted to use an uninitialized parameter in xavier_uniform_")]
fn lazy_init_of_a_parameter_before_the_dry_run_panics_as_pytorch_raises() {
    blocks::nn::init::xavier_uniform_(lazy::net().0.0.weight(), 1.0);
}

// ---- custom layers ----

#[test]
fn custom_layers_centered_layer() {
    assert_eq!(custom_layers::centered().to_string(), "tensor([-2., -1.,  0.,  1.,  2.])");
    let (net, y) = custom_layers::centered_net();
    assert_eq!(y.shape(), vec![4, 128]);
    assert!(y.mean().item().abs() < 1e-6);
    assert_eq!(
        net.to_string(),
        "Sequential(\n  (0): Linear(in_features=8, out_features=128, bias=True)\n  (1): CenteredLayer()\n)"
    );
}

#[test]
fn custom_layers_my_linear_trains_through_the_graph() {
    let (linear, y) = custom_layers::my_linear();
    assert!(linear.weight.to_string().starts_with("Parameter containing:\ntensor([["));
    assert_eq!(y.shape(), vec![2, 3]);
    assert_eq!(y.grad_fn(), Some("ReluBackward0"));
    y.sum().backward();
    assert_eq!(linear.weight.grad().unwrap().shape(), vec![5, 3]);
    assert_eq!(linear.bias.grad().unwrap().shape(), vec![3]);
    assert_eq!(custom_layers::my_linear_net().shape(), vec![2, 1]);
}

// ---- file I/O ----

#[test]
fn file_io_tensors_round_trip() {
    let dir = scratch("tensors");
    let (x, x2) = file_io::tensor(&dir).unwrap();
    assert_eq!(x2.to_string(), "tensor([0., 1., 2., 3.])");
    assert_eq!(x2.to_vec(), x.to_vec());
    let (x2, y2) = file_io::list(&dir, &x).unwrap();
    assert_eq!(format!("{:?}", (x2, y2)), "(tensor([0., 1., 2., 3.]), tensor([0., 0., 0., 0.]))");
    let mydict2 = file_io::dict(&dir, &x).unwrap();
    assert_eq!(format!("{mydict2:?}"), "{\"x\": tensor([0., 1., 2., 3.]), \"y\": tensor([0., 0., 0., 0.])}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn file_io_a_clone_loaded_from_the_file_computes_the_same() {
    let dir = scratch("model");
    let (y, y_clone) = file_io::model(&dir).unwrap();
    assert_eq!(y_clone.to_vec(), y.to_vec());
    let row = ["True"; 10].join(", ");
    assert_eq!(y_clone.eq(&*y).mask_repr(), format!("tensor([[{row}],\n        [{row}]])"));
    let saved = StateDict::read(dir.join("mlp.params")).unwrap();
    let mut keys = saved.keys();
    keys.sort_unstable();
    assert_eq!(keys, ["hidden.bias", "hidden.weight", "output.bias", "output.weight"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---- MySequential ----

/// d2l's `MySequential` derives with `#[module(flatten)]`: PyTorch's keys
/// and printout for the same three blocks, and with the weights of
/// PyTorch's `sequential_mlp` case (the same blocks in an `nn.Sequential`,
/// whose keys `add_module(str(idx), ...)` gives too) PyTorch's output.
#[test]
fn my_sequential_has_pytorchs_keys_printout_and_output() {
    let net = my_sequential::my_sequential();
    let keys: Vec<String> = net.state_dict().keys().into_iter().map(String::from).collect();
    assert_eq!(keys, ["0.weight", "0.bias", "2.weight", "2.bias"]);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance");
    let io = blocks::io::TensorFile::read(dir.join("sequential_mlp.io.safetensors")).unwrap();
    let pytorch = io.metadata()["module_repr"].replacen("Sequential", "MySequential", 1);
    assert_eq!(net.to_string(), pytorch);
    assert_eq!(
        net.to_string(),
        "MySequential(\n  (0): Linear(in_features=20, out_features=256, bias=True)\n  (1): ReLU()\n  (2): Linear(in_features=256, out_features=10, bias=True)\n)"
    );
    let report = net
        .load_state_dict(&StateDict::read(dir.join("sequential_mlp.weights.safetensors")).unwrap())
        .unwrap();
    assert!(report.missing_keys.is_empty() && report.unexpected_keys.is_empty());
    let output = net.forward(&io.tensor::<f32>("input").unwrap());
    let expected = io.tensor::<f32>("output").unwrap();
    assert_eq!(output.shape(), expected.shape());
    for (ours, theirs) in output.to_vec().into_iter().zip(expected.to_vec()) {
        assert!((ours - theirs).abs() <= 1e-5 + 1e-4 * theirs.abs(), "ours {ours}, PyTorch {theirs}");
    }
}

/// The blocks of a flattened array and a flattened `Vec` of typed blocks are
/// keyed by position at the parent's level, beside its named fields.
#[test]
fn flattened_lists_sit_beside_named_fields() {
    #[derive(Module)]
    struct Stack {
        #[module(flatten)]
        layers: [Linear<4, 4>; 2],
        head: Linear<4, 1>,
    }
    let net = Stack { layers: [Linear::new(), Linear::new()], head: Linear::new() };
    let keys: Vec<String> = net.state_dict().keys().into_iter().map(String::from).collect();
    assert_eq!(keys, ["0.weight", "0.bias", "1.weight", "1.bias", "head.weight", "head.bias"]);
    assert!(
        net.to_string()
            .starts_with("Stack(\n  (0): Linear(in_features=4, out_features=4, bias=True)\n  (1): Linear(")
    );

    #[derive(Module)]
    #[module(name = "Net")]
    struct Listed {
        #[module(flatten)]
        layers: Vec<Linear<4, 4>>,
    }
    let empty = Listed { layers: Vec::new() };
    assert_eq!(empty.to_string(), "Net()");
    assert!(empty.state_dict().keys().is_empty());
}

/// A tuple struct's flattened list beside its training flag (which has no
/// key): the list's blocks are `0`, `1`, and the flag is the block's mode.
#[test]
fn a_flattened_list_beside_a_training_flag() {
    #[derive(Module)]
    struct Blocks(#[module(flatten)] Vec<Box<dyn Block>>, TrainingFlag);
    let net =
        Blocks(vec![Box::new(Linear::<2, 2>::new()), Box::new(Dropout::new(0.5))], TrainingFlag::default());
    let keys: Vec<String> = net.state_dict().keys().into_iter().map(String::from).collect();
    assert_eq!(keys, ["0.weight", "0.bias"]);
    net.eval();
    assert!(!net.1.get());
    assert!(!net.is_training());
}

// ---- lstm_sine (d2l 9.1 with an LSTM) ----

#[allow(dead_code)]
#[path = "../../examples/lstm_sine.rs"]
mod lstm_sine;

#[test]
fn lstm_sine_learns_the_wave_and_drifts_when_fed_its_own_predictions() {
    let errors = lstm_sine::run(false);
    // The noise's variance is 0.04: a model that learned the wave comes close
    // to it one step ahead, on the training and the test part; fed its own
    // predictions it drifts, more the further it goes (d2l's figure).
    assert!(errors.train < 0.07, "training loss {}", errors.train);
    assert!(errors.test < 0.08, "test loss {}", errors.test);
    let k: Vec<f32> = errors.k_step.iter().map(|&(_, e)| e).collect();
    assert!((k[0] - errors.test).abs() < 1e-6, "1-step {} vs test {}", k[0], errors.test);
    assert!(k[0] < k[1] && k[1] < k[2] && k[2] < k[3], "{k:?}");
    assert!(k[3] > 0.2, "64 steps ahead should have drifted: {k:?}");
}
