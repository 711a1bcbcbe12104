//! `LazyLinear`: PyTorch's printouts before and after the dry run, the same
//! draws as an eager `Linear`, clear errors for every use of an
//! uninitialized parameter, materialization from a checkpoint, and a first
//! forward raced by several threads.

use std::sync::{Arc, Barrier, Mutex, MutexGuard};

use blocks_core::io::FileError;
use blocks_core::nn::{
    DynLinear, LazyLinear, Linear, LoadError, Module, ModuleExt, ReLU, Sequential, StateDict, apply, init,
    uninitialized_parameters,
};
use blocks_core::{Tensor, manual_seed};

fn rng_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("blocks-lazy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn d2l_lazy_net() -> Sequential<(LazyLinear, ReLU, LazyLinear)> {
    Sequential::new((LazyLinear::new(256), ReLU, LazyLinear::new(10)))
}

#[test]
fn prints_as_pytorch_before_and_after_the_dry_run() {
    let _rng = rng_lock();
    let net = d2l_lazy_net();
    assert_eq!(
        net.to_string(),
        "Sequential(\n  (0): LazyLinear(in_features=0, out_features=256, bias=True)\n  (1): ReLU()\n  \
         (2): LazyLinear(in_features=0, out_features=10, bias=True)\n)"
    );
    assert_eq!(net.0.0.weight().to_string(), "<UninitializedParameter>");
    let y = net.forward(&Tensor::rand([2, 20]));
    assert_eq!(y.shape(), vec![2, 10]);
    assert_eq!(
        net.to_string(),
        "Sequential(\n  (0): Linear(in_features=20, out_features=256, bias=True)\n  (1): ReLU()\n  \
         (2): Linear(in_features=256, out_features=10, bias=True)\n)"
    );
    assert_eq!(net.0.0.weight().shape(), vec![256, 20]);
    assert_eq!(net.0.2.bias().unwrap().shape(), vec![10]);
    assert_eq!(net.num_params(), 20 * 256 + 256 + 256 * 10 + 10);
    assert!(net.0.0.weight().requires_grad() && net.0.0.weight().is_leaf());
}

#[test]
fn the_dry_run_draws_what_an_eager_linear_draws() {
    let _rng = rng_lock();
    let x = Tensor::rand([3, 20]);
    manual_seed(9);
    let lazy = LazyLinear::new(256);
    let y = lazy.forward(&x);
    manual_seed(9);
    let eager = DynLinear::new(20, 256);
    assert_eq!(lazy.weight().to_vec(), eager.weight().to_vec());
    assert_eq!(lazy.bias().unwrap().to_vec(), eager.bias().unwrap().to_vec());
    assert_eq!(y.to_vec(), eager.forward(&x).to_vec());
    // Gradients reach the materialized parameters.
    y.sum().backward();
    assert_eq!(lazy.weight().grad().unwrap().shape(), vec![256, 20]);
}

#[test]
fn handles_taken_before_the_dry_run_see_the_values() {
    let _rng = rng_lock();
    let layer = LazyLinear::new(4);
    let handles = layer.parameters(); // what an optimizer built early would hold
    assert!(handles.iter().all(|p| !p.is_initialized()));
    layer.forward(&Tensor::ones([1, 3]));
    assert!(handles.iter().all(|p| p.is_initialized()));
    assert!(handles[0].same(layer.weight()));
    assert_eq!(handles[0].shape(), vec![4, 3]);
}

#[test]
fn init_and_apply_run_after_the_dry_run() {
    let _rng = rng_lock();
    let net = d2l_lazy_net();
    net.forward(&Tensor::rand([2, 20]));
    apply(&net, |m| {
        if let Some(linear) = m.downcast_ref::<DynLinear>() {
            init::constant_(linear.weight(), 0.5);
            init::zeros_(linear.bias().unwrap());
        }
    });
    assert_eq!(net.0.0.weight().to_vec(), vec![0.5; 20 * 256]);
    assert_eq!(net.0.2.bias().unwrap().to_vec(), vec![0.0; 10]);
}

#[test]
#[should_panic(expected = "Attempted to use an uninitialized parameter in normal_")]
fn init_before_the_dry_run_is_refused() {
    let _rng = rng_lock();
    init::normal_(LazyLinear::new(3).weight(), 0.0, 1.0);
}

#[test]
fn saving_before_the_dry_run_is_an_error_naming_the_parameters() {
    let _rng = rng_lock();
    let net = d2l_lazy_net();
    assert_eq!(uninitialized_parameters(&net), ["0.weight", "0.bias", "2.weight", "2.bias"]);
    let state = net.state_dict();
    assert_eq!(state.uninitialized_keys(), vec!["0.weight", "0.bias", "2.weight", "2.bias"]);
    let path = temp("unsaved.safetensors");
    let error = net.save(&path).unwrap_err();
    assert!(matches!(&error, FileError::Uninitialized { keys } if keys.len() == 4));
    assert!(error.to_string().starts_with("cannot save uninitialized parameter(s) \"0.weight\", \"0.bias\""));
    assert!(!path.exists());

    net.forward(&Tensor::rand([1, 20]));
    assert!(uninitialized_parameters(&net).is_empty());
    net.save(&path).unwrap();
    // A partly run model: the second layer is still lazy.
    let half = Sequential::new((DynLinear::new(3, 4), LazyLinear::new(2)));
    assert!(
        matches!(half.save(&path), Err(FileError::Uninitialized { keys }) if keys == ["1.weight", "1.bias"])
    );
}

#[test]
fn loading_materializes_from_the_checkpoint() {
    let _rng = rng_lock();
    let trained = Sequential::new((Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()));
    let path = temp("trained.safetensors");
    trained.save(&path).unwrap();

    let net = d2l_lazy_net();
    net.load(&path).unwrap();
    assert!(uninitialized_parameters(&net).is_empty());
    assert_eq!(net.0.0.weight().to_vec(), trained.0.0.weight().to_vec());
    assert_eq!(net.0.2.bias().unwrap().to_vec(), trained.0.2.bias().unwrap().to_vec());
    // Materialized by the load: a Linear, with widths from the checkpoint, before any forward.
    assert_eq!(net.0.0.to_string(), "Linear(in_features=20, out_features=256, bias=True)");
    let x = Tensor::rand([2, 20]);
    assert_eq!(net.forward(&x).to_vec(), trained.forward(&x).to_vec());
}

#[test]
fn a_checkpoint_that_contradicts_out_features_is_refused_and_nothing_changes() {
    let _rng = rng_lock();
    let other = Sequential::new((Linear::<20, 128>::new(), ReLU, Linear::<128, 10>::new()));
    let net = d2l_lazy_net();
    let error = net.load_state_dict(&other.state_dict()).unwrap_err();
    let keys: Vec<_> = error.mismatched.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["0.weight", "0.bias"], "2.weight [10, 128] fits LazyLinear(10)");
    assert_eq!(error.mismatched[0].model, vec![256, 0]);
    assert_eq!(error.mismatched[0].checkpoint, vec![128, 20]);
    assert!(error.to_string().contains(
        "size mismatch for 0.weight: copying a param with shape [128, 20] from checkpoint, the shape in \
         current model is [256, 0]."
    ));
    assert_eq!(uninitialized_parameters(&net).len(), 4, "nothing was materialized");
}

#[test]
fn loading_an_uninitialized_state_dict_into_a_real_model_is_refused() {
    let _rng = rng_lock();
    let lazy = LazyLinear::new(3);
    let eager = DynLinear::new(2, 3);
    let error = eager.load_state_dict(&lazy.state_dict()).unwrap_err();
    assert_eq!(error.uninitialized, ["weight", "bias"]);
    assert!(error.to_string().contains("Uninitialized parameter(s) in state_dict: \"weight\", \"bias\""));
    // Lazy into lazy: nothing to copy, both stay lazy (as in PyTorch).
    let other = LazyLinear::new(3);
    other.load_state_dict(&lazy.state_dict()).unwrap();
    assert!(other.has_uninitialized_params());
}

#[test]
fn a_weight_loaded_without_its_bias_gets_the_bias_at_the_first_forward() {
    let _rng = rng_lock();
    let mut state = StateDict::new();
    state.insert("weight", Tensor::ones([3, 5]));
    let layer = LazyLinear::new(3);
    let report = layer.load_state_dict_with(&state, false).unwrap();
    assert_eq!(report.missing_keys, ["bias"]);
    assert_eq!(layer.in_features(), 5);
    assert!(layer.has_uninitialized_params() && layer.as_dyn().downcast_ref::<DynLinear>().is_none());
    layer.forward(&Tensor::ones([1, 5]));
    let bound = 1.0 / 5f32.sqrt();
    assert!(layer.bias().unwrap().to_vec().iter().all(|b| b.abs() <= bound));
    assert_eq!(layer.weight().to_vec(), vec![1.0; 15]);
}

#[test]
#[should_panic(
    expected = "Linear(in_features=20, out_features=256, bias=True) takes 20 input features, but got a tensor of shape [2, 30]"
)]
fn another_width_after_the_dry_run_panics_naming_both() {
    let _rng = rng_lock();
    let layer = LazyLinear::new(256);
    layer.forward(&Tensor::rand([2, 20]));
    layer.forward(&Tensor::rand([2, 30]));
}

#[test]
fn without_bias() {
    let _rng = rng_lock();
    let layer = LazyLinear::with_bias(4, false);
    assert_eq!(layer.to_string(), "LazyLinear(in_features=0, out_features=4, bias=False)");
    layer.forward(&Tensor::ones([2, 6]));
    assert_eq!(layer.state_dict().keys(), vec!["weight"]);
    assert_eq!(layer.to_string(), "Linear(in_features=6, out_features=4, bias=False)");
}

#[test]
fn the_first_forward_from_many_threads_materializes_once() {
    let _rng = rng_lock();
    let layer = Arc::new(LazyLinear::new(64));
    let x = Tensor::rand([2, 16]);
    let barrier = Arc::new(Barrier::new(8));
    let outputs: Vec<Vec<f32>> = (0..8)
        .map(|_| {
            let (layer, x, barrier) = (Arc::clone(&layer), x.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                layer.forward(&x).to_vec()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|handle| handle.join().unwrap())
        .collect();
    assert!(outputs.windows(2).all(|pair| pair[0] == pair[1]), "every thread saw the same parameters");
    assert_eq!(outputs[0], layer.forward(&x).to_vec());
    assert_eq!(layer.in_features(), 16);
}

#[test]
fn a_lazy_layer_before_a_typed_one() {
    let _rng = rng_lock();
    let net = Sequential::new((LazyLinear::new(8), ReLU, Linear::<8, 2>::new()));
    assert_eq!(net.forward(&Tensor::rand([4, 3])).shape(), vec![4, 2]);
    assert_eq!(net.0.0.in_features(), 3);
}

#[test]
fn load_error_from_a_file_names_the_mismatch() {
    let _rng = rng_lock();
    let path = temp("small.safetensors");
    Linear::<3, 5>::new().save(&path).unwrap();
    let error = LazyLinear::new(4).load(&path).unwrap_err();
    assert!(matches!(error, LoadError::StateDict(ref e) if e.mismatched.len() == 2));
}

#[test]
#[should_panic(expected = "SGD.step(): parameter 0 is uninitialized")]
fn an_optimizer_step_before_the_dry_run_is_a_clear_error() {
    use blocks_core::nn::ModuleExt;
    use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
    let layer = blocks_core::nn::LazyLinear::new(4);
    let mut optimizer = Sgd::new(layer.parameters(), SgdConfig::default());
    optimizer.step();
}

#[test]
fn an_optimizer_made_before_the_dry_run_trains_after_it() {
    use blocks_core::nn::ModuleExt;
    use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
    let layer = blocks_core::nn::LazyLinear::new(2);
    let mut optimizer = Sgd::new(layer.parameters(), SgdConfig { lr: 0.5, ..Default::default() });
    let x = blocks_core::Tensor::ones([1, 3]);
    let before = {
        layer.forward(&x).sum().backward();
        layer.parameters()[1].to_vec()
    };
    optimizer.step();
    let after = layer.parameters()[1].to_vec();
    // d sum / d bias = 1, so each bias entry moves by -lr.
    for (b, a) in before.iter().zip(&after) {
        assert!((b - 0.5 - a).abs() < 1e-6, "{b} -> {a}");
    }
}
