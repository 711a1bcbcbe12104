//! d2l's convolutional networks as the examples write them: LeNet's
//! printout and numbers, the `Residual` block's shapes and numbers (against
//! PyTorch's cases in `tests/data/conformance/layers`), and the digits CNN's
//! shape, keys and modes.

use std::path::{Path, PathBuf};
use std::process::Command;

use blocks::io::TensorFile;
use blocks::nn::{Images, StateDict, module_repr};
use blocks::prelude::*;
use convnets::{Residual, digits_cnn, lenet, output_shapes, shape_line};

use crate::support::{self, convnets};

/// PyTorch's layer cases shipped with the repository.
fn layer_case(name: &str) -> (StateDict, TensorFile) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance/layers");
    let weights =
        StateDict::read(dir.join(format!("{name}.weights.safetensors"))).expect("the case's weights");
    let io =
        TensorFile::read(dir.join(format!("{name}.io.safetensors"))).expect("the case's inputs and outputs");
    (weights, io)
}

fn assert_close(what: &str, ours: &Tensor, theirs: &Tensor) {
    support::assert_close(what, ours, theirs, 1e-4, 1e-4);
}

/// An example binary that `cargo test` builds next to the test binaries.
fn example_binary(name: &str) -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test's own path");
    let profile_dir = test_binary.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    profile_dir.join("examples").join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn run_example(name: &str) -> String {
    let output =
        Command::new(example_binary(name)).output().expect("the example runs (cargo test builds it)");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert!(output.status.success(), "{name} failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// d2l 7.6's printout for `X = torch.rand(size=(1, 1, 28, 28))`, with Rust's shapes.
const LENET_SHAPES: &str = "Conv2d output shape: \t [1, 6, 28, 28]
Sigmoid output shape: \t [1, 6, 28, 28]
AvgPool2d output shape: \t [1, 6, 14, 14]
Conv2d output shape: \t [1, 16, 10, 10]
Sigmoid output shape: \t [1, 16, 10, 10]
AvgPool2d output shape: \t [1, 16, 5, 5]
Flatten output shape: \t [1, 400]
Linear output shape: \t [1, 120]
Sigmoid output shape: \t [1, 120]
Linear output shape: \t [1, 84]
Sigmoid output shape: \t [1, 84]
Linear output shape: \t [1, 10]
";

// ---- LeNet ----

#[test]
fn lenet_shapes_are_the_books() {
    let shapes = output_shapes(&lenet(), &Tensor::rand([1, 1, 28, 28]));
    let printed: String = shapes.iter().map(|(name, shape)| shape_line(name, shape) + "\n").collect();
    assert_eq!(printed, LENET_SHAPES);
    // Other batch sizes keep the batch dim through every layer.
    let shapes = output_shapes(&lenet(), &Tensor::rand([3, 1, 28, 28]));
    assert!(shapes.iter().all(|(_, shape)| shape[0] == 3));
    assert_eq!(shapes[11].1, vec![3, 10]);
}

#[test]
fn lenet_example_prints_the_books_lines_and_the_net() {
    let stdout = run_example("lenet");
    assert!(stdout.starts_with(LENET_SHAPES), "the shape lines first:\n{stdout}");
    assert_eq!(&stdout[LENET_SHAPES.len()..], format!("{}\n", lenet()));
}

#[test]
fn lenet_matches_pytorch() {
    let (weights, io) = layer_case("lenet");
    let net = lenet();
    net.load_state_dict(&weights).expect("PyTorch's LeNet keys and shapes");
    assert_eq!(&module_repr(&net), io.metadata().get("module_repr").expect("the case's printout"));
    net.eval();
    let x = io.tensor::<f32>("input").unwrap().requires_grad_(true);
    let y = net.forward(&x);
    assert_close("output", &y, &io.tensor("output").unwrap());
    y.sum().backward();
    assert_close("input_grad", &x.grad().expect("a gradient"), &io.tensor("input_grad").unwrap());
    assert_close("grad.0.weight", &net.0.0.weight().grad().unwrap(), &io.tensor("grad.0.weight").unwrap());
}

#[test]
#[should_panic(expected = "Linear<400, 120>")]
fn lenet_on_the_wrong_image_size_names_the_linear() {
    // 32x32 images give 16 * 6 * 6 = 576 features after the Flatten.
    lenet().forward(&Tensor::rand([1, 1, 32, 32]));
}

// ---- Residual ----

#[test]
fn residual_shapes_are_the_books() {
    let x = Images::<3>::new(Tensor::rand([4, 3, 6, 6]));
    assert_eq!(Residual::<3, 3>::new().forward(&x).shape(), vec![4, 3, 6, 6]);
    assert_eq!(Residual::<3, 6>::with_1x1conv(2).forward(&x).shape(), vec![4, 6, 3, 3]);
    // Odd sizes: a stride-2 3x3 with padding 1 and a stride-2 1x1 both give ceil(7 / 2).
    let odd = Images::<3>::new(Tensor::rand([2, 3, 7, 5]));
    assert_eq!(Residual::<3, 8>::with_1x1conv(2).forward(&odd).shape(), vec![2, 8, 4, 3]);
    assert_eq!(Residual::<3, 8>::with_1x1conv(1).forward(&odd).shape(), vec![2, 8, 7, 5]);
}

#[test]
fn resnet_block_example_prints_the_books_shapes() {
    let stdout = run_example("resnet_block");
    let mut lines = stdout.lines();
    assert_eq!(lines.next(), Some("Residual(3, 3): [4, 3, 6, 6]"));
    assert_eq!(lines.next(), Some("Residual(3, 6, use_1x1conv=True, strides=2): [4, 6, 3, 3]"));
    let rest: Vec<&str> = lines.collect();
    assert_eq!(rest.join("\n"), module_repr(&Residual::<3, 6>::with_1x1conv(2)));
}

#[test]
fn residual_keys_are_pytorchs() {
    let keys: Vec<String> =
        Residual::<3, 6>::with_1x1conv(2).state_dict().keys().into_iter().map(String::from).collect();
    let expected = [
        "conv1.weight",
        "conv1.bias",
        "conv2.weight",
        "conv2.bias",
        "conv3.weight",
        "conv3.bias",
        "bn1.weight",
        "bn1.bias",
        "bn1.running_mean",
        "bn1.running_var",
        "bn1.num_batches_tracked",
        "bn2.weight",
        "bn2.bias",
        "bn2.running_mean",
        "bn2.running_var",
        "bn2.num_batches_tracked",
    ];
    assert_eq!(keys, expected);
    let without: Vec<String> =
        Residual::<3, 3>::new().state_dict().keys().into_iter().map(String::from).collect();
    assert!(!without.iter().any(|k| k.starts_with("conv3")));
    assert_eq!(without.len(), expected.len() - 2);
}

/// Loads the case, runs it in its mode, and checks the output, the input's
/// gradient and the running statistics after the forward.
fn check_residual<const I: usize, const O: usize>(case: &str, block: Residual<I, O>) {
    let (weights, io) = layer_case(case);
    let meta = io.metadata();
    let setting =
        |key: &str| meta.get(key).unwrap_or_else(|| panic!("{case}: no {key} in the metadata")).clone();
    assert_eq!(setting("input_channels"), I.to_string(), "{case}: the block built for it");
    assert_eq!(setting("num_channels"), O.to_string(), "{case}: the block built for it");
    assert_eq!(setting("use_1x1conv") == "true", block.conv3.is_some(), "{case}: the block built for it");
    block.load_state_dict(&weights).expect("PyTorch's Residual keys and shapes");
    assert_eq!(&module_repr(&block), meta.get("module_repr").unwrap());
    match setting("mode").as_str() {
        "train" => block.train(),
        _ => block.eval(),
    }
    let x = io.tensor::<f32>("input").unwrap().requires_grad_(true);
    let y = block.forward(&x);
    assert_close(&format!("{case} output"), &y, &io.tensor("output").unwrap());
    y.sum().backward();
    assert_close(&format!("{case} input_grad"), &x.grad().unwrap(), &io.tensor("input_grad").unwrap());
    for (key, buffer) in block.named_buffers() {
        if !key.ends_with("num_batches_tracked") {
            assert_close(
                &format!("{case} after.{key}"),
                &buffer,
                &io.tensor(&format!("after.{key}")).unwrap(),
            );
        }
    }
}

#[test]
fn residual_matches_pytorch_in_training() {
    check_residual("residual", Residual::<3, 3>::new());
}

#[test]
fn residual_with_1x1conv_matches_pytorch_in_eval() {
    check_residual("residual_1x1", Residual::<3, 6>::with_1x1conv(2));
}

#[test]
#[should_panic(expected = "use Residual::with_1x1conv to change the channel count")]
fn residual_without_1x1conv_needs_the_same_channels() {
    let _ = Residual::<3, 6>::new();
}

// ---- the digits CNN ----

#[test]
fn digits_cnn_gives_logits_and_follows_the_mode() {
    manual_seed(0);
    let net = digits_cnn();
    let x = Tensor::rand([5, 1, 8, 8]);
    assert_eq!(net.forward(&x).shape(), vec![5, 10]);
    assert_eq!(net.num_params(), 32 * 9 + 2 * 32 + 64 * 32 * 9 + 2 * 64 + 256 * 10 + 10);
    // Eval: no dropout, running statistics: the same answer twice, and per image.
    net.eval();
    let (a, b) = (net.forward(&x), net.forward(&x));
    assert_eq!(a.to_vec(), b.to_vec());
    let first = net.forward(&x.narrow(0, 0, 1));
    assert_close("one image alone", &first, &a.narrow(0, 0, 1));
    // Training draws a dropout mask and uses batch statistics.
    net.train();
    assert_ne!(net.forward(&x).to_vec(), a.to_vec());
    assert_eq!(
        net.state_dict()
            .keys()
            .into_iter()
            .filter(|k| k.ends_with("num_batches_tracked"))
            .collect::<Vec<_>>(),
        ["1.num_batches_tracked", "5.num_batches_tracked"]
    );
}
