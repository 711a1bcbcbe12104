//! Models in float64 (PyTorch's `net.double()`): `to_f64` converts values
//! exactly and keeps ties, the whole model gradchecks in float64 with
//! respect to its input and every parameter (an MLP, and a conv net with
//! BatchNorm in training mode), and the Module API (names, counts, state
//! dicts, files, casts on load) covers float64 parameters and buffers.

use blocks_core::io::TensorFile;
use blocks_core::nn::{
    BatchNorm2d, Conv2d, DeepCopy, DynLinear, Flatten, Linear, MaxPool2d, Member, Module, ModuleExt,
    ParamRef, ReLU, Sequential, StateDict, ToElement,
};
use blocks_core::{Tensor, Tensor64, gradcheck_module, manual_seed};

fn mlp() -> Sequential<(Linear<4, 5>, ReLU, Linear<5, 3>)> {
    Sequential::new((Linear::new(), ReLU, Linear::new()))
}

type ConvNet = Sequential<(Conv2d<1, 2, 3>, BatchNorm2d<2>, ReLU, MaxPool2d, Flatten, Linear<8, 3>)>;

fn conv_net() -> ConvNet {
    Sequential::new((
        Conv2d::new(),
        BatchNorm2d::new(),
        ReLU,
        MaxPool2d::new(2),
        Flatten::default(),
        Linear::new(),
    ))
}

fn folder(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("blocks-f64-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn to_f64_converts_every_value_exactly_and_keeps_names_and_printout() {
    manual_seed(1);
    let net = conv_net();
    let double = net.to_f64();
    let singles = net.state_dict();
    let doubles = double.state_dict();
    assert_eq!(singles.keys(), doubles.keys());
    for (key, single) in singles.iter() {
        let exact: Vec<f64> = single.to_vec().into_iter().map(f64::from).collect();
        let (value, dtype) = match doubles.entry(key).unwrap() {
            blocks_core::AnyTensor::F64(t) => (t.to_vec(), "float64"),
            // num_batches_tracked stays a whole number, as PyTorch's int64 does.
            blocks_core::AnyTensor::F32(t) => (t.to_vec().into_iter().map(f64::from).collect(), "float32"),
        };
        assert_eq!(value, exact, "{key}");
        assert_eq!(dtype == "float32", key.ends_with("num_batches_tracked"), "{key}");
    }
    assert_eq!(net.to_string(), double.to_string());
    assert_eq!(double.num_params(), net.num_params());
    assert!(double.named_parameters().is_empty());
    let names: Vec<String> = double.named_parameters_of::<f64>().into_iter().map(|(n, _)| n).collect();
    let expected: Vec<String> = net.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, expected);
    assert_eq!(double.named_buffers_of::<f64>().len(), 2);
    // Back to float32: the same values, bit for bit.
    let back = double.to_f32();
    for ((key, a), (_, b)) in net.state_dict().iter().zip(back.state_dict().iter()) {
        assert_eq!(a.to_vec(), b.to_vec(), "{key}");
        assert!(!a.same(b), "{key}: a conversion is a new model");
    }
}

#[test]
fn ties_stay_tied_and_nothing_is_shared_with_the_original() {
    let shared = Linear::<3, 3>::new();
    let net = Sequential::new((shared.clone(), ReLU, shared.clone()));
    let double = net.to_f64();
    assert!(double.0.0.weight().same(double.0.2.weight()), "a tied weight stays tied");
    assert_eq!(double.parameters_of::<f64>().len(), 2);
    assert_eq!(double.num_params(), 12);
    double.0.0.weight().data_mut().fill(0.0);
    assert!(net.0.0.weight().to_vec().iter().any(|&w| w != 0.0), "the original is untouched");
    // requires_grad is kept, and a frozen model stays frozen.
    net.requires_grad_(false);
    assert!(!net.to_f64().0.0.weight().requires_grad());
    // A deep copy of a float64 model copies its float64 parameters.
    let copy = double.deep_copy();
    assert!(!copy.0.0.weight().same(double.0.0.weight()));
    assert!(copy.0.0.weight().same(copy.0.2.weight()));
}

#[test]
fn an_mlp_gradchecks_in_float64_with_respect_to_input_and_every_parameter() {
    manual_seed(2);
    let net = mlp().to_f64();
    let x = Tensor64::randn([3, 4]).requires_grad_(true);
    let target = Tensor64::randn([3, 3]);
    gradcheck_module(&net, |xs| net.forward(&xs[0]).mse_loss(&target), std::slice::from_ref(&x)).unwrap();
    // Every output element, not just a scalar loss.
    gradcheck_module(&net, |xs| net.forward(&xs[0]).into_tensor(), &[x]).unwrap();
}

#[test]
fn a_conv_net_with_batch_norm_in_training_mode_gradchecks_in_float64() {
    manual_seed(3);
    let net = conv_net().to_f64();
    assert!(net.is_training());
    let x = Tensor64::randn([2, 1, 6, 6]).requires_grad_(true);
    let labels = [0usize, 2];
    gradcheck_module(&net, |xs| net.forward(&xs[0]).cross_entropy(&labels), &[x]).unwrap();
    // The running statistics were updated in float64 along the way.
    let state = net.state_dict();
    assert!(state.get_f64("1.running_mean").unwrap().to_vec().iter().any(|&m| m != 0.0));
    assert!(state.get("1.num_batches_tracked").unwrap().item() > 0.0);
}

#[test]
fn a_wrong_gradient_is_caught_for_a_parameter() {
    // The check itself can fail: a forward that hides a parameter from the
    // graph (detach) gives a zero analytical gradient where the numerical
    // one is not.
    let net = Linear::<2, 1>::new().to_f64();
    let x = Tensor64::randn([3, 2]);
    let error = gradcheck_module(
        &net,
        |xs| xs[0].linear(&net.weight().detach(), net.bias().map(|b| &**b)).sum(),
        &[x],
    )
    .unwrap_err();
    assert!(error.mismatches.iter().all(|m| m.input == 1), "{error}");
    assert_eq!(error.mismatches.len(), 2, "{error}");
}

#[test]
fn a_float64_state_dict_saves_as_f64_and_loads_back_bit_for_bit() {
    manual_seed(4);
    let dir = folder("save");
    let net = conv_net().to_f64();
    net.forward(&Tensor64::randn([2, 1, 6, 6]));
    net.save(dir.join("net.safetensors")).unwrap();
    let file = TensorFile::read(dir.join("net.safetensors")).unwrap();
    assert_eq!(file.integers("1.num_batches_tracked").unwrap(), (vec![1], vec![]));
    let other = conv_net().to_f64();
    other.load(dir.join("net.safetensors")).unwrap();
    for (key, value) in net.state_dict().iter_f64() {
        assert_eq!(other.state_dict().get_f64(key).unwrap().to_vec(), value.to_vec(), "{key}");
    }
    let read = StateDict::read(dir.join("net.safetensors")).unwrap();
    assert_eq!(read.entry("0.weight").unwrap().dtype(), "float64");
}

#[test]
fn load_state_dict_casts_to_each_parameters_dtype() {
    let dir = folder("casts");
    // float32 file into a float64 model: exact.
    let single = Linear::<2, 2>::new();
    single.weight().set_data(&Tensor::from_vec(vec![0.1, -0.2, 0.3, 1e-40], [2, 2]));
    single.save(dir.join("single.safetensors")).unwrap();
    let double = Linear::<2, 2>::new().to_f64();
    double.load(dir.join("single.safetensors")).unwrap();
    let widened: Vec<f64> = single.weight().to_vec().into_iter().map(f64::from).collect();
    assert_eq!(double.weight().to_vec(), widened);
    // float64 file into a float32 model: round to nearest, ties to even.
    let u = 2f64.powi(-24);
    double.weight().set_data(&Tensor64::from_vec(vec![1.0 + u, 1.0 + 3.0 * u, 0.1, -1e-46], [2, 2]));
    double.save(dir.join("double.safetensors")).unwrap();
    single.load(dir.join("double.safetensors")).unwrap();
    let step = 2f32.powi(-23);
    let bits: Vec<u32> = single.weight().to_vec().iter().map(|v| v.to_bits()).collect();
    assert_eq!(bits, [1.0, 1.0 + 2.0 * step, 0.1f32, -0.0].map(f32::to_bits));
    // A state dict in memory casts the same way, either direction.
    single.load_state_dict(&double.state_dict()).unwrap();
    double.load_state_dict(&single.state_dict()).unwrap();
    assert_eq!(double.weight().to_vec()[1], f64::from(1.0 + 2.0 * step));
    // Shapes are still checked strictly.
    let wide = Linear::<3, 2>::new().to_f64();
    let error = wide.load(dir.join("double.safetensors")).unwrap_err();
    assert!(error.to_string().contains("size mismatch for weight"), "{error}");
}

#[test]
fn zero_grad_and_requires_grad_reach_float64_parameters() {
    let net = mlp().to_f64();
    net.forward(&Tensor64::randn([2, 4])).sum().backward();
    assert!(net.0.0.weight().grad().is_some());
    net.zero_grad();
    assert!(net.parameters_of::<f64>().iter().all(|p| p.grad().is_none()));
    net.requires_grad_(false);
    assert!(net.parameters_of::<f64>().iter().all(|p| !p.requires_grad()));
    assert!(matches!(net.0.0.members()[0].1, Member::Parameter(ParamRef::F64(_))));
}

/// Trains `net` (float32) and its float64 copy `steps` steps side by side
/// with the optimizers `make32` and `make64` make, on the same data; returns
/// the largest difference between their parameters afterwards, and the
/// largest change of a float32 parameter (so the comparison says something).
fn train_side_by_side<O32, O64>(
    steps: usize,
    make32: impl Fn(Vec<blocks_core::nn::Parameter>) -> O32,
    make64: impl Fn(Vec<blocks_core::nn::Parameter<f64>>) -> O64,
) -> (f64, f64)
where
    O32: blocks_core::optim::Optimizer,
    O64: blocks_core::optim::Optimizer<f64>,
{
    manual_seed(5);
    let net = mlp();
    let double = net.to_f64();
    let (mut opt32, mut opt64) = (make32(net.parameters()), make64(double.parameters_of::<f64>()));
    let before: Vec<f32> = net.parameters().into_iter().flat_map(|p| p.to_vec()).collect();
    let x = Tensor::randn([8, 4]);
    let target = Tensor::randn([8, 3]);
    let (x64, target64): (Tensor64, Tensor64) = (x.cast(), target.cast());
    for _ in 0..steps {
        opt32.zero_grad();
        net.forward(&x).mse_loss(&target).backward();
        opt32.step();
        opt64.zero_grad();
        double.forward(&x64).mse_loss(&target64).backward();
        opt64.step();
    }
    let singles: Vec<f32> = net.parameters().into_iter().flat_map(|p| p.to_vec()).collect();
    let doubles = double.parameters_of::<f64>().into_iter().flat_map(|p| p.to_vec());
    let gap = singles.iter().zip(doubles).map(|(&a, b)| (f64::from(a) - b).abs()).fold(0.0, f64::max);
    let moved = singles.iter().zip(before).map(|(&a, b)| f64::from((a - b).abs())).fold(0.0, f64::max);
    (gap, moved)
}

#[test]
fn sgd_and_adam_train_a_float64_model_as_they_train_the_float32_one() {
    use blocks_core::optim::{Adam, AdamConfig, Sgd, SgdConfig};
    let sgd = SgdConfig { lr: 0.05, momentum: 0.9, weight_decay: 1e-3, ..Default::default() };
    let (gap, moved) = train_side_by_side(10, |p| Sgd::new(p, sgd), |p| Sgd::new(p, sgd));
    assert!(gap < 1e-5, "SGD: float64 and float32 parameters differ by {gap}");
    assert!(moved > 1e-2, "SGD moved the parameters by {moved} only");
    let adam = AdamConfig { lr: 0.01, ..Default::default() };
    let (gap, moved) = train_side_by_side(10, |p| Adam::new(p, adam), |p| Adam::new(p, adam));
    assert!(gap < 1e-5, "Adam: float64 and float32 parameters differ by {gap}");
    assert!(moved > 1e-2, "Adam moved the parameters by {moved} only");
}

#[test]
fn a_float64_optimizer_state_saves_as_f64_and_resumes_exactly() {
    use blocks_core::optim::{Adam, AdamConfig, Optimizer, OptimizerState};
    manual_seed(6);
    let dir = folder("optim");
    let config = AdamConfig { lr: 0.01, amsgrad: true, ..Default::default() };
    let x = Tensor64::randn([4, 4]);
    let step = |net: &Sequential<(Linear<4, 5, f64>, ReLU, Linear<5, 3, f64>)>, opt: &mut Adam<f64>| {
        opt.zero_grad();
        net.forward(&x).powf(2.0).sum().backward();
        opt.step();
    };
    let straight = mlp().to_f64();
    let resumed = straight.deep_copy();
    let mut opt = Adam::new(straight.parameters_of::<f64>(), config);
    step(&straight, &mut opt);
    opt.save(dir.join("adam.safetensors")).unwrap();
    let file = TensorFile::read(dir.join("adam.safetensors")).unwrap();
    assert_eq!(file.dtype("state.0.exp_avg").unwrap(), "F64");
    assert_eq!(file.dtype("state.0.step").unwrap(), "F32", "the step count stays float32, as PyTorch's");
    step(&straight, &mut opt);

    let mut again = Adam::new(resumed.parameters_of::<f64>(), config);
    step(&resumed, &mut again);
    again.load(dir.join("adam.safetensors")).unwrap();
    step(&resumed, &mut again);
    for (a, b) in straight.parameters_of::<f64>().iter().zip(resumed.parameters_of::<f64>()) {
        assert_eq!(a.to_vec(), b.to_vec());
    }
    // A float64 state loads into a float32 optimizer (cast, as PyTorch does).
    let single = mlp();
    let mut single_opt = Adam::new(single.parameters(), config);
    single_opt.load_state_dict(&OptimizerState::read(dir.join("adam.safetensors")).unwrap()).unwrap();
    assert_eq!(single_opt.step_count(0), 1);
}

#[test]
fn embedding_and_layer_norm_convert_and_gradcheck_in_float64() {
    use blocks_core::Indices;
    use blocks_core::nn::{Embedding, LayerNorm};
    manual_seed(9);
    let net =
        Sequential::new((Embedding::<6, 4>::new(), LayerNorm::new([4]), Linear::<4, 2>::new())).to_f64();
    assert_eq!(net.parameters_of::<f64>().len(), 5);
    let ids = Indices::from_vec(vec![0, 3, 5, 3], [2, 2]);
    gradcheck_module(&net, |_| net.forward(&ids).into_tensor().tanh().sum(), &[]).unwrap();
    // (A float64 LayerNorm given a float32 tensor is a compile error: its
    // `Forward` takes tensors of its own element type.)
}

#[test]
fn initializers_fill_float64_parameters() {
    use blocks_core::nn::init;
    manual_seed(10);
    let layer = Linear::<64, 32>::new().to_f64();
    init::xavier_uniform_(layer.weight(), 1.0);
    let bound = (6.0f64 / 96.0).sqrt();
    let values = layer.weight().to_vec();
    assert!(values.iter().all(|w| w.abs() <= bound) && values.iter().any(|w| w.abs() > bound / 2.0));
    init::constant_(layer.bias().unwrap(), 0.1);
    assert_eq!(layer.bias().unwrap().to_vec(), vec![0.1f64; 32], "0.1 in float64, not float32's 0.1");
}

#[test]
fn a_float32_hook_runs_on_float64_values_too() {
    use blocks_core::nn::ForwardHooks;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let layer = Linear::<2, 2>::new();
    let double = layer.to_f64();
    let calls = Arc::new(AtomicUsize::new(0));
    let (seen, seen64) = (Arc::clone(&calls), Arc::clone(&calls));
    let _h = layer.register_forward_hook(move |_, _| {
        seen.fetch_add(1, Ordering::SeqCst);
        None
    });
    let _h64 = double.register_forward_hook(move |_, _| {
        seen64.fetch_add(100, Ordering::SeqCst);
        None
    });
    layer.forward(&Tensor::ones([1, 2]));
    let y = double.forward(&Tensor64::ones([1, 2]));
    assert_eq!(y.shape(), vec![1, 2]);
    assert_eq!(calls.load(Ordering::SeqCst), 101, "each block's hook ran once, the float64 one too");
}

#[test]
fn a_lazy_layer_converts_before_or_after_its_first_forward() {
    use blocks_core::nn::{LazyLinear, uninitialized_parameters};
    manual_seed(11);
    // Before: still uninitialized, and the first float64 forward draws it in float64.
    let lazy = LazyLinear::new(3).to_f64();
    assert_eq!(uninitialized_parameters(&lazy), ["weight", "bias"]);
    assert_eq!(lazy.forward(&Tensor64::ones([2, 5])).shape(), vec![2, 3]);
    assert_eq!(lazy.weight().shape(), vec![3, 5]);
    assert!(lazy.weight().to_vec().iter().all(|w| w.abs() <= 1.0 / 5f64.sqrt()));
    assert_eq!(lazy.to_string(), "Linear(in_features=5, out_features=3, bias=True)");
    // After: the values, converted.
    let single = LazyLinear::new(2);
    single.forward(&Tensor::ones([1, 4]));
    let double = single.to_f64();
    let widened: Vec<f64> = single.weight().to_vec().into_iter().map(f64::from).collect();
    assert_eq!(double.weight().to_vec(), widened);
    assert_eq!(
        double.as_dyn().downcast_ref::<DynLinear>().map(|l| l.in_features()),
        None,
        "DynLinear is float32's"
    );
    assert_eq!(double.as_dyn().downcast_ref::<DynLinear<f64>>().map(|l| l.in_features()), Some(4));
    assert_eq!(double.linear().unwrap().in_features(), 4);
}
