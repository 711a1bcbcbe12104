//! `DynSequential`: d2l's `rgnet`, blocks added in a loop under names chosen
//! in code; its keys, printout, nested access (`rgnet[0][1][0].bias`),
//! run-time width errors naming the path, and how it nests with `sequential!`.

use blocks::nn::{apply, init};
use blocks::prelude::*;

/// `def block1(): return nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(4), nn.ReLU())`
type Block1 = Sequential<(LazyLinear, ReLU, LazyLinear, ReLU)>;

fn block1() -> Block1 {
    sequential![LazyLinear::new(8), ReLU, LazyLinear::new(4), ReLU]
}

/// `def block2(): net = nn.Sequential(); for i in range(4): net.add_module(f'block {i}', block1())`
fn block2() -> DynSequential {
    let mut net = DynSequential::new();
    for i in 0..4 {
        net.add_module(format!("block {i}"), block1());
    }
    net
}

/// `rgnet = nn.Sequential(block2(), nn.LazyLinear(1))`, after its dry run on `(2, 4)`.
fn rgnet() -> Sequential<(DynSequential, LazyLinear)> {
    let rgnet = sequential![block2(), LazyLinear::new(1)];
    rgnet.forward(&Tensor::rand([2, 4]));
    rgnet
}

const BLOCK1: &str = "Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=4, bias=True)
      (3): ReLU()
    )";

#[test]
fn rgnet_prints_its_chosen_names_as_pytorch() {
    let expected = format!(
        "Sequential(\n  (0): Sequential(\n    (block 0): {BLOCK1}\n    (block 1): {BLOCK1}\n    (block 2): {BLOCK1}\n    \
         (block 3): {BLOCK1}\n  )\n  (1): Linear(in_features=4, out_features=1, bias=True)\n)"
    );
    assert_eq!(rgnet().to_string(), expected);
}

#[test]
fn rgnet_keys_carry_the_names() {
    let keys: Vec<String> = rgnet().named_parameters().into_iter().map(|(k, _)| k).collect();
    let mut expected = Vec::new();
    for i in 0..4 {
        for key in ["0.weight", "0.bias", "2.weight", "2.bias"] {
            expected.push(format!("0.block {i}.{key}"));
        }
    }
    expected.extend(["1.weight".to_string(), "1.bias".to_string()]);
    assert_eq!(keys, expected);
    assert_eq!(rgnet().state_dict().keys()[4], "0.block 1.0.weight");
}

#[test]
fn nested_access_reaches_the_same_parameter_every_way() {
    let rgnet = rgnet();
    // rgnet[0][1][0].bias: by position, then back to the layer's own type.
    let by_position = rgnet.0.0[1][0].downcast_ref::<LazyLinear>().unwrap().bias().unwrap();
    assert_eq!(by_position.shape(), vec![8]);
    // By name, and typed all the way down.
    let by_name = rgnet.0.0["block 1"].downcast_ref::<Block1>().unwrap().0.0.bias().unwrap();
    let by_child = rgnet.0.0.child(1).unwrap().downcast_ref::<Block1>().unwrap().0.0.bias().unwrap();
    let by_get = rgnet.0.0.get("block 1").unwrap()[0].downcast_ref::<LazyLinear>().unwrap().bias().unwrap();
    // By dotted path, like `get_submodule` and `state_dict()[key]`.
    let by_path =
        rgnet.submodule("0.block 1.0").unwrap().downcast_ref::<LazyLinear>().unwrap().bias().unwrap();
    let by_key = rgnet.parameter("0.block 1.0.bias").unwrap();
    for other in [by_name, by_child, by_get, by_path] {
        assert!(by_position.same(other));
    }
    assert!(by_position.same(&by_key));
    // And not block 0's.
    assert!(!by_position.same(rgnet.0.0[0][0].downcast_ref::<LazyLinear>().unwrap().bias().unwrap()));
}

#[test]
fn a_wrong_type_downcasts_to_none() {
    let rgnet = rgnet();
    assert!(rgnet.0.0[1].downcast_ref::<LazyLinear>().is_none());
    assert!(rgnet.0.0[1][1].downcast_ref::<LazyLinear>().is_none());
    assert!(rgnet.0.0[1][1].downcast_ref::<ReLU>().is_some());
}

#[test]
#[should_panic(expected = "index 4 is out of range: this Sequential has 4 blocks")]
fn indexing_past_the_end_panics_like_pytorch() {
    let _ = &rgnet().0.0[4];
}

#[test]
#[should_panic(
    expected = "this Sequential has no block named \"block 9\"; its blocks are [\"block 0\", \"block 1\", \
                           \"block 2\", \"block 3\"]"
)]
fn indexing_an_unknown_name_lists_the_names() {
    let _ = &rgnet().0.0["block 9"];
}

#[test]
#[should_panic(expected = "index 7 is out of range: this Sequential has 4 children")]
fn indexing_a_block_past_its_children_panics() {
    let _ = &rgnet().0.0[0][7];
}

#[test]
fn push_names_by_position_and_add_module_replaces_in_place() {
    let mut net = DynSequential::new();
    net.push(DynLinear::new(3, 4)).add_module("act", ReLU).push(DynLinear::new(4, 2));
    let names: Vec<&str> = net.iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["0", "act", "2"]);
    // PyTorch's add_module under an existing name replaces the module, keeping its place.
    net.add_module("act", DynLinear::new(4, 4));
    let names: Vec<&str> = net.iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["0", "act", "2"]);
    assert_eq!(net["act"].type_name(), "Linear");
    assert_eq!(net.len(), 3);
    assert_eq!(net.forward(&Tensor::rand([5, 3])).shape(), vec![5, 2]);
}

#[test]
#[should_panic(expected = "module name can't contain \".\", got: a.b")]
fn a_dotted_name_is_refused() {
    DynSequential::new().add_module("a.b", ReLU);
}

#[test]
#[should_panic(expected = "module name can't be empty string \"\"")]
fn an_empty_name_is_refused() {
    DynSequential::new().add_module("", ReLU);
}

#[test]
fn an_empty_container_gives_back_its_input() {
    let net = DynSequential::new();
    let x = Tensor::rand([2, 3]);
    assert!(net.forward(&x).same(&x));
    assert_eq!(net.to_string(), "Sequential()");
}

#[test]
#[should_panic(
    expected = "Linear(in_features=5, out_features=1, bias=True) takes 5 input features, but got a \
                           tensor of shape [2, 8] (at block 0.block 1.0)"
)]
fn a_runtime_width_error_names_the_path_with_its_names() {
    let mut inner = DynSequential::new();
    inner.add_module("block 0", DynLinear::new(4, 8));
    inner.add_module("block 1", sequential![DynLinear::new(5, 1)]);
    let net = sequential![inner, ReLU];
    net.forward(&Tensor::rand([2, 4]));
}

#[test]
fn it_nests_in_a_typed_chain_and_a_typed_chain_nests_in_it() {
    let mut middle = DynSequential::new();
    middle.push(sequential![Linear::<8, 16>::new(), ReLU]).push(DynLinear::new(16, 4));
    let net = sequential![Linear::<3, 8>::new(), middle, Linear::<4, 2>::new()];
    let y: Batch<2> = net.forward(&Batch::<3>::rand(5));
    assert_eq!(y.shape(), vec![5, 2]);
    let boxed: Box<dyn Block> = Box::new(net);
    assert_eq!(boxed.forward_tensor(&Tensor::rand([1, 3])).shape(), vec![1, 2]);
}

#[test]
fn a_block_added_twice_is_one_set_of_parameters() {
    let shared = LazyLinear::new(4);
    let mut net = DynSequential::new();
    net.push(shared.clone()).push(ReLU).push(shared);
    net.forward(&Tensor::rand([2, 4]));
    assert_eq!(net.named_parameters().len(), 2);
    assert_eq!(net.state_dict().len(), 4);
    let mut inits = 0;
    apply(&net, |m| inits += usize::from(m.downcast_ref::<DynLinear>().is_some()));
    assert_eq!(inits, 2, "two registrations of one layer; apply visits each");
}

#[test]
fn apply_init_and_modes_reach_every_block() {
    let rgnet = rgnet();
    apply(&rgnet, |m| {
        if let Some(linear) = m.downcast_ref::<DynLinear>() {
            init::constant_(linear.weight(), 1.0);
            init::zeros_(linear.bias().unwrap());
        }
    });
    for (name, p) in rgnet.named_parameters() {
        let expected = if name.ends_with("weight") { 1.0 } else { 0.0 };
        assert!(p.to_vec().iter().all(|v| *v == expected), "{name}");
    }
    rgnet.eval();
    let linears: Vec<_> =
        rgnet.named_modules().into_iter().filter(|(_, m)| m.downcast_ref::<DynLinear>().is_some()).collect();
    assert_eq!(linears.len(), 9);
    assert!(linears.iter().all(|(_, m)| !m.is_training()));
    assert!(!rgnet.0.0.is_training());
    rgnet.train();
    assert!(rgnet.0.0[3][2].is_training());
}

#[test]
fn save_and_load_round_trip_under_the_chosen_names() {
    let dir = std::env::temp_dir().join(format!("blocks-dyn-sequential-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rgnet.safetensors");
    let original = rgnet();
    original.save(&path).unwrap();
    let copy = sequential![block2(), LazyLinear::new(1)];
    copy.load(&path).unwrap();
    let x = Tensor::rand([3, 4]);
    assert_eq!(copy.forward(&x).to_vec(), original.forward(&x).to_vec());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn built_from_boxed_blocks_like_sequential_star_layers() {
    let layers: Vec<Box<dyn Block>> = vec![Box::new(DynLinear::new(2, 3)), Box::new(ReLU)];
    let net: DynSequential = layers.into_iter().collect();
    assert_eq!(
        net.to_string(),
        "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): ReLU()\n)"
    );
}
