//! `#[module(chain)]`: a struct whose forward is its block fields in
//! declaration order, like `nn.Sequential(OrderedDict(...))` with the field
//! names as keys. Checked against PyTorch's `mlp` and `sequential_mlp`
//! conformance cases (the same weights, the same output), and against the
//! same layers run by hand.

use std::path::Path;

use blocks::io::TensorFile;
use blocks::nn::{DynLinear, Flatten, Images, StateDict, TrainingFlag};
use blocks::prelude::*;

use crate::support;

/// d2l's `MLP` (`self.out(F.relu(self.hidden(X)))`), its ReLU a field.
#[derive(Module)]
#[module(chain, name = "MLP")]
struct Mlp {
    hidden: Linear<20, 256>,
    act: ReLU,
    out: Linear<256, 10>,
}

impl Mlp {
    fn new() -> Self {
        Mlp { hidden: Linear::new(), act: ReLU, out: Linear::new() }
    }
}

/// A tuple struct chains its fields as `nn.Sequential` does, keys `0`, `1`, ...
#[derive(Module)]
#[module(chain)]
struct Seq(Linear<20, 256>, ReLU, Linear<256, 10>);

fn case(name: &str) -> (StateDict, TensorFile) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance");
    let weights = StateDict::read(dir.join(format!("{name}.weights.safetensors"))).unwrap();
    let io = TensorFile::read(dir.join(format!("{name}.io.safetensors"))).unwrap();
    (weights, io)
}

fn assert_close(ours: &Tensor, theirs: &Tensor) {
    support::assert_close("output", ours, theirs, 1e-5, 1e-4);
}

fn keys(module: &dyn Module) -> Vec<String> {
    module.state_dict().keys().into_iter().map(String::from).collect()
}

#[test]
fn named_chain_has_pytorchs_keys_printout_and_output() {
    let net = Mlp::new();
    assert_eq!(keys(&net), ["hidden.weight", "hidden.bias", "out.weight", "out.bias"]);
    assert_eq!(
        net.to_string(),
        "MLP(\n  (hidden): Linear(in_features=20, out_features=256, bias=True)\n  (act): ReLU()\n  (out): Linear(in_features=256, out_features=10, bias=True)\n)"
    );
    let (weights, io) = case("mlp");
    let report = net.load_state_dict(&weights).unwrap();
    assert!(report.missing_keys.is_empty() && report.unexpected_keys.is_empty());
    let input = io.tensor::<f32>("input").unwrap().requires_grad_(true);
    let output = net.forward(&input);
    assert_close(&output, &io.tensor("output").unwrap());
    output.sum().backward();
    assert_close(&input.grad().unwrap(), &io.tensor("input_grad").unwrap());
    assert_close(&net.hidden.weight().grad().unwrap(), &io.tensor("grad.hidden.weight").unwrap());
}

#[test]
fn tuple_chain_is_pytorchs_sequential() {
    let net = Seq(Linear::new(), ReLU, Linear::new());
    let (weights, io) = case("sequential_mlp");
    assert_eq!(keys(&net), ["0.weight", "0.bias", "2.weight", "2.bias"]);
    let mut ours = keys(&net);
    ours.sort();
    assert_eq!(ours, weights.keys(), "the file's keys, which safetensors sorts");
    let pytorch = &io.metadata()["module_repr"];
    assert_eq!(net.to_string(), pytorch.replacen("Sequential", "Seq", 1));
    net.load_state_dict(&weights).unwrap();
    let output = net.forward(&io.tensor::<f32>("input").unwrap());
    assert_close(&output, &io.tensor("output").unwrap());
}

#[test]
fn chain_equals_its_layers_run_by_hand() {
    let net = Mlp::new();
    let x = Batch::<20>::rand(3);
    let y: Batch<10> = net.forward(&x);
    let by_hand = net.out.forward(&net.hidden.forward(&x).relu());
    assert_eq!(y.to_vec(), by_hand.to_vec());
    // A plain tensor is checked at run time and gives the same kind as a batch.
    let z: Batch<10> = net.forward(&Tensor::clone(&x));
    assert_eq!(z.to_vec(), by_hand.to_vec());
}

/// Buffers, plain data and the training flag are not steps of the chain.
#[derive(Module)]
#[module(chain)]
struct WithExtras {
    training: TrainingFlag,
    #[module(buffer)]
    scale: Tensor,
    #[module(skip)]
    note: &'static str,
    first: Linear<4, 3>,
    second: Linear<3, 2>,
}

#[test]
fn only_block_fields_are_steps() {
    let net = WithExtras {
        training: TrainingFlag::default(),
        scale: Tensor::ones([1]),
        note: "",
        first: Linear::new(),
        second: Linear::new(),
    };
    assert_eq!(keys(&net), ["scale", "first.weight", "first.bias", "second.weight", "second.bias"]);
    let x = Batch::<4>::rand(2);
    assert_eq!(net.forward(&x).to_vec(), net.second.forward(&net.first.forward(&x)).to_vec());
    net.eval();
    assert!(!net.training.get());
    assert_eq!(net.note, "");
}

/// d2l's `NestMLP` as a chain: a `sequential!` first (the chain then takes a
/// plain tensor, as a Sequential does), then a layer.
#[derive(Module)]
#[module(chain, name = "NestMLP")]
struct NestMlp {
    net: Sequential<(Linear<20, 64>, ReLU, Linear<64, 32>, ReLU)>,
    linear: Linear<32, 16>,
}

#[test]
fn nested_chains_in_both_directions() {
    let nest = NestMlp { net: sequential![Linear::new(), ReLU, Linear::new(), ReLU], linear: Linear::new() };
    let (weights, io) = case("nest_mlp");
    nest.load_state_dict(&weights).unwrap();
    assert_eq!(nest.to_string(), io.metadata()["module_repr"]);
    let input = io.tensor::<f32>("input").unwrap();
    let y: Batch<16> = nest.forward(&input);
    assert_close(&y, &io.tensor("output").unwrap());
    // A chained block is a block like any other: inside a sequential!.
    let outer = sequential![nest, Linear::<16, 2>::new()];
    assert_eq!(outer.forward(&input).shape(), vec![2, 2]);
    assert_eq!(keys(&outer)[..2], ["0.net.0.weight", "0.net.0.bias"]);
}

/// Const parameters keep the widths checked.
#[derive(Module)]
#[module(chain)]
struct Hidden<const H: usize> {
    hidden: Linear<20, H>,
    act: ReLU,
    out: Linear<H, 10>,
}

/// Images through a convolution, flattened, into a layer that checks its
/// width at run time: a mismatch there names the field's path.
#[derive(Module)]
#[module(chain)]
struct Convnet {
    conv: blocks::nn::Conv2d<1, 2, 3>,
    flatten: Flatten,
    out: DynLinear,
}

#[test]
fn const_generic_chain() {
    let net = Hidden::<7> { hidden: Linear::new(), act: ReLU, out: Linear::new() };
    let y: Batch<10> = net.forward(&Batch::<20>::rand(2));
    assert_eq!(y.shape(), vec![2, 10]);
}

#[test]
fn run_time_mismatch_names_the_field() {
    let good = Convnet {
        conv: blocks::nn::Conv2d::new(),
        flatten: Flatten::default(),
        out: DynLinear::new(2 * 4 * 4, 3),
    };
    let x = Images::<1>::new(Tensor::rand([2, 1, 6, 6]));
    assert_eq!(good.forward(&x).shape(), vec![2, 3]);
    let bad =
        Convnet { conv: blocks::nn::Conv2d::new(), flatten: Flatten::default(), out: DynLinear::new(20, 3) };
    let panic = std::panic::catch_unwind(|| bad.forward(&x)).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.ends_with("takes 20 input features, but got a tensor of shape [2, 32] (at block out)"),
        "{message}"
    );
}

#[test]
fn plain_tensor_of_the_wrong_width_names_the_block() {
    // A chained block takes what its first field takes, which checks it.
    let panic = std::panic::catch_unwind(|| Mlp::new().forward(&Tensor::rand([2, 19]))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert_eq!(
        message,
        "Linear<20, 256> takes 20 input features, but got a tensor of shape [2, 19] (at block hidden)"
    );
}

/// A width panic points at the caller's line (`#[track_caller]` through the
/// derived `forward`), for a chained block and for a layer alike.
#[test]
fn a_width_panic_points_at_the_callers_line() {
    let net = Mlp::new();
    let wrong = Tensor::rand([2, 19]);
    let chained_line = line!() + 1;
    let (_, chained) = crate::support::panic_site(|| net.forward(&wrong));
    let layer_line = line!() + 1;
    let (_, layer) = crate::support::panic_site(|| Linear::<20, 2>::new().forward(&wrong));
    assert_eq!(
        [chained, layer],
        [format!("{}:{chained_line}", file!()), format!("{}:{layer_line}", file!())]
    );
}

/// Global hooks are told each step's path: the field's key, under the
/// position of the chained block in a `sequential!`.
#[test]
fn hooks_see_each_step_under_its_key() {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let record = Arc::clone(&seen);
    let this_thread = std::thread::current().id();
    let handle = blocks::nn::register_module_forward_hook(move |block, _, _| {
        if std::thread::current().id() == this_thread {
            record.lock().unwrap().push(format!("{} {}", block.path(), block.name()));
        }
        None
    });
    let net = sequential![Linear::<4, 20>::new(), Mlp::new()];
    net.forward(&Tensor::rand([2, 4]));
    handle.remove();
    assert_eq!(
        *seen.lock().unwrap(),
        ["0 Linear", "1.hidden Linear", "1.act ReLU", "1.out Linear", "1 Mlp", " Sequential"]
    );
}

/// Run-time blocks chain too: a `Box<dyn Block>` first (the chain then
/// takes a plain tensor), a `DynSequential`, then a typed layer whose width
/// is checked when it runs.
#[derive(Module)]
#[module(chain)]
struct Mixed {
    first: Box<dyn Block>,
    body: blocks::nn::DynSequential,
    head: Linear<3, 1>,
}

#[test]
fn run_time_blocks_in_a_chain() {
    let mut body = blocks::nn::DynSequential::new();
    body.push(ReLU);
    let net = Mixed { first: Box::new(DynLinear::new(4, 3)), body, head: Linear::new() };
    let x = Tensor::rand([2, 4]);
    let y: Batch<1> = net.forward(&x);
    let by_hand = net.head.forward(&net.first.forward_tensor(&x).relu());
    assert_eq!(y.to_vec(), by_hand.to_vec());
    assert_eq!(keys(&net), ["first.weight", "first.bias", "head.weight", "head.bias"]);
}
