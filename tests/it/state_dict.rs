//! State dicts against PyTorch's files: keys and order, strict and
//! non-strict loading, and both ways PyTorch saves tied weights.

use blocks::nn::{StateDict, StateDictError};
use blocks::prelude::*;

use crate::support::{conformance_dir, seed};

#[test]
fn keys_follow_pytorchs_names_and_order() {
    let chimera = seed::chimera();
    let keys = chimera.state_dict().keys().into_iter().map(String::from).collect::<Vec<_>>();
    assert_eq!(
        keys,
        [
            "0.net.0.weight",
            "0.net.0.bias",
            "0.net.2.weight",
            "0.net.2.bias",
            "0.linear.weight",
            "0.linear.bias",
            "1.weight",
            "1.bias",
            "2.rand_weight",
            "2.linear.weight",
            "2.linear.bias",
        ]
    );
    // rand_weight is a buffer: saved, never trained.
    assert_eq!(chimera.named_parameters().len(), 10);
    assert_eq!(chimera.named_buffers()[0].0, "2.rand_weight");
}

#[test]
fn pytorchs_weights_file_has_exactly_the_models_keys() {
    let state = StateDict::read(conformance_dir().join("chimera.weights.safetensors")).unwrap();
    let mut theirs: Vec<&str> = state.keys();
    let model = seed::chimera().state_dict();
    let mut ours: Vec<&str> = model.keys();
    theirs.sort_unstable();
    ours.sort_unstable();
    assert_eq!(ours, theirs);
}

#[test]
fn a_strict_load_lists_every_problem_and_changes_nothing() {
    let net = seed::sequential_mlp();
    let before = net.0.0.weight().to_vec();
    let mut state = StateDict::new();
    state.insert("0.weight", Tensor::zeros([256, 21]));
    state.insert("2.bias", Tensor::zeros([10]));
    state.insert("3.weight", Tensor::zeros([1]));
    let error: StateDictError = net.load_state_dict(&state).unwrap_err();
    assert_eq!(error.missing, ["0.bias", "2.weight"]);
    assert_eq!(error.unexpected, ["3.weight"]);
    assert_eq!(error.mismatched.len(), 1);
    assert_eq!(error.mismatched[0].key, "0.weight");
    assert_eq!(
        error.to_string(),
        "Error(s) in loading state_dict for Sequential:\n\
         \tMissing key(s) in state_dict: \"0.bias\", \"2.weight\". \n\
         \tUnexpected key(s) in state_dict: \"3.weight\". \n\
         \tsize mismatch for 0.weight: copying a param with shape [256, 21] from checkpoint, \
         the shape in current model is [256, 20]."
    );
    assert_eq!(net.0.0.weight().to_vec(), before, "a failed load must change nothing");
    assert!(net.0.2.bias().unwrap().to_vec().iter().any(|&b| b != 0.0), "nor load the good keys");
}

#[test]
fn a_non_strict_load_returns_the_lists_and_loads_the_rest() {
    let net = seed::sequential_mlp();
    let mut state = StateDict::new();
    state.insert("2.bias", Tensor::full([10], 0.5));
    state.insert("extra", Tensor::zeros([1]));
    let report = net.load_state_dict_with(&state, false).unwrap();
    assert_eq!(report.missing_keys, ["0.weight", "0.bias", "2.weight"]);
    assert_eq!(report.unexpected_keys, ["extra"]);
    assert_eq!(net.0.2.bias().unwrap().to_vec(), vec![0.5; 10]);
}

#[test]
fn tied_weights_load_from_both_kinds_of_pytorch_file() {
    let dir = conformance_dir();
    for file in ["tied.weights.safetensors", "tied.model.safetensors"] {
        let net = seed::tied();
        net.load(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let reference = StateDict::read(dir.join("tied.weights.safetensors")).unwrap();
        for (key, tensor) in reference.iter() {
            assert_eq!(net.parameter(key).unwrap().to_vec(), tensor.to_vec(), "{file}: {key}");
        }
        // One set of parameters at positions 2 and 4.
        assert!(net.0.2.weight().same(net.0.4.weight()));
        assert_eq!(net.named_parameters().len(), 6);
        assert_eq!(net.state_dict().len(), 8);
    }
}

#[test]
fn writing_through_one_tied_position_is_seen_through_the_other() {
    let net = seed::tied();
    net.0.2.weight().data_mut()[[0, 0]] = 42.0;
    assert_eq!(net.0.4.weight().data()[[0, 0]], 42.0);
    assert_eq!(net.parameter("4.weight").unwrap().data()[[0, 0]], 42.0);
}

#[test]
fn save_then_load_round_trips_bit_exactly() {
    let dir = std::env::temp_dir().join(format!("blocks-state-dict-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("chimera.safetensors");
    let original = seed::chimera();
    original.save(&path).unwrap();
    let copy = seed::chimera();
    copy.load(&path).unwrap();
    for ((key, a), (_, b)) in original.state_dict().iter().zip(copy.state_dict().iter()) {
        assert_eq!(a.to_vec(), b.to_vec(), "{key}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[should_panic(expected = "Linear(in_features=256, out_features=10, bias=True) takes 256 input features, \
                           but got a tensor of shape [2, 128] (at block 2)")]
fn a_runtime_width_names_the_layer_its_path_and_both_widths() {
    let net = sequential![DynLinear::new(20, 128), ReLU, DynLinear::new(256, 10)];
    net.forward(&Tensor::rand([2, 20]));
}

#[test]
fn a_state_dict_prints_as_d2l_shows_it() {
    // d2l: `net[2].state_dict()` of `nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))`.
    let net = sequential![Linear::<4, 8>::new(), ReLU, Linear::<8, 1>::new()];
    let layer = &net.0.2;
    layer.weight().set_data(&Tensor::from_vec(
        vec![-0.0428, 0.3168, -0.1707, 0.0653, -0.1745, 0.2683, -0.2779, 0.1883],
        [1, 8],
    ));
    layer.bias().unwrap().set_data(&Tensor::from_vec(vec![0.0709], [1]));
    assert_eq!(
        layer.state_dict().to_string(),
        "OrderedDict([('weight', tensor([[-0.0428,  0.3168, -0.1707,  0.0653, -0.1745,  0.2683, -0.2779,  \
         0.1883]])), ('bias', tensor([0.0709]))])"
    );
    assert_eq!(StateDict::new().to_string(), "OrderedDict()");
}

#[test]
fn a_lazy_state_dict_prints_its_uninitialized_parameters() {
    let layer = blocks::nn::LazyLinear::new(2);
    assert_eq!(
        layer.state_dict().to_string(),
        "OrderedDict([('weight', <UninitializedParameter>), ('bias', <UninitializedParameter>)])"
    );
}
