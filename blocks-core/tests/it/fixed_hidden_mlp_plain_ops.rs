//! The seed's FixedHiddenMLP written with plain tensor ops (no blocks),
//! loaded with PyTorch's weights and input for every `fixed_hidden_mlp` case
//! in the conformance folder: output, halving count and every gradient match.

use crate::support;
use crate::support::conformance_dir;
use blocks_core::Tensor;
use blocks_core::io::TensorFile;

fn assert_close(what: &str, ours: &Tensor, theirs: &Tensor) {
    support::assert_close(what, ours, theirs, 1e-5, 1e-4);
}

/// d2l's forward: linear, `relu(X @ rand_weight + 1)`, the same linear again,
/// then `while X.abs().sum() > 1: X /= 2`, and `X.sum()`.
fn fixed_hidden_mlp(x: &Tensor, weight: &Tensor, bias: &Tensor, rand_weight: &Tensor) -> (Tensor, usize) {
    let x = x.linear(weight, Some(bias));
    let x = (x.matmul(rand_weight) + 1.0).relu();
    let mut x = x.linear(weight, Some(bias));
    let mut halvings = 0;
    while x.abs().sum().item() > 1.0 {
        x /= 2.0;
        halvings += 1;
    }
    (x.sum(), halvings)
}

#[test]
fn plain_ops_reproduce_pytorchs_fixed_hidden_mlp() {
    let dir = conformance_dir();
    let mut cases = 0;
    for entry in std::fs::read_dir(&dir).expect("conformance folder") {
        let path = entry.expect("entry").path();
        let Some(name) =
            path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".io.safetensors"))
        else {
            continue;
        };
        let io = TensorFile::read(&path).expect("case file");
        if io.metadata().get("arch").map(String::as_str) != Some("fixed_hidden_mlp") {
            continue;
        }
        let weights = TensorFile::read(dir.join(format!("{name}.weights.safetensors"))).expect("weights");
        let weight = weights.tensor::<f32>("linear.weight").unwrap().requires_grad_(true);
        let bias = weights.tensor::<f32>("linear.bias").unwrap().requires_grad_(true);
        let rand_weight = weights.tensor::<f32>("rand_weight").unwrap();
        let input = io.tensor::<f32>("input").unwrap().requires_grad_(true);

        let (output, halvings) = fixed_hidden_mlp(&input, &weight, &bias, &rand_weight);
        output.backward();

        assert_eq!(output.grad_fn(), Some("SumBackward0"));
        assert_close("output", &output, &io.tensor("output").unwrap());
        let expected_halvings: Vec<usize> = io.metadata()["halvings"]
            .trim_matches(['[', ']'])
            .split(',')
            .map(|h| h.trim().parse().unwrap())
            .collect();
        assert_eq!(vec![halvings], expected_halvings, "{name}: halvings");
        assert_close("input_grad", &input.grad().unwrap(), &io.tensor("input_grad").unwrap());
        assert_close(
            "grad.linear.weight",
            &weight.grad().unwrap(),
            &io.tensor("grad.linear.weight").unwrap(),
        );
        assert_close("grad.linear.bias", &bias.grad().unwrap(), &io.tensor("grad.linear.bias").unwrap());
        assert!(rand_weight.grad().is_none(), "the constant weight must get no gradient");
        cases += 1;
    }
    assert!(cases > 0, "no fixed_hidden_mlp case in {}", dir.display());
}
