//! PyTorch conformance: every `*.io.safetensors` case in the conformance
//! folder (`tests/data/conformance`, or `BLOCKS_CONFORMANCE_DIR`) is
//! built from its `arch`, loaded with `NAME.weights.safetensors`, run forward
//! and backward, and compared with PyTorch's output, input gradient, every
//! parameter gradient and FixedHiddenMLP's halving count.
//!
//! Training cases (`arch = digits_mlp`) are checked by
//! `tests/it/conformance_training.rs`; any other arch this suite does not know
//! fails it by name.

use std::path::Path;
use std::sync::Arc;

use blocks::io::TensorFile;
use blocks::nn::{StateDict, Takes};
use blocks::prelude::*;

use crate::support::{self, conformance_dir, seed};

/// Archs checked by the training suite rather than here.
const TRAINING_ARCHS: &[&str] = &["digits_mlp"];

/// Every case name (`NAME` of `NAME.io.safetensors`) in the folder, sorted.
fn case_names(dir: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".io.safetensors").map(String::from))
        .collect();
    names.sort();
    names
}

/// A model under test: the module, and forward on a plain input tensor.
struct Built {
    module: Arc<dyn Module>,
    forward: Box<dyn Fn(&Tensor) -> Tensor>,
}

/// A model run as its `forward` method runs it (a plain tensor fed to its
/// input, whichever kind that is): `I` is what it takes.
fn built<M, I>(model: M) -> Built
where
    M: Module + Takes + Call<Tensor, I, <M as Takes>::Inputs> + 'static,
    M::Out: Into<Tensor>,
{
    let model = Arc::new(model);
    let runner = Arc::clone(&model);
    Built {
        module: model,
        forward: Box::new(move |x| Call::<Tensor, I, <M as Takes>::Inputs>::call(&*runner, x).into()),
    }
}

/// The model for `arch`, or `None` when this suite does not know it.
fn build(arch: &str) -> Option<Built> {
    Some(match arch {
        "sequential_mlp" => built(seed::sequential_mlp()),
        "mlp" => built(seed::Mlp::new()),
        "fixed_hidden_mlp" => built(seed::FixedHiddenMlp::new()),
        "nest_mlp" => built(seed::NestMlp::new()),
        "chimera" => built(seed::chimera()),
        "tied" => built(seed::tied()),
        _ => return None,
    })
}

/// |ours - PyTorch| <= 1e-5 + 1e-4 |PyTorch| per element (NaN where PyTorch has NaN).
fn assert_close(what: &str, ours: &Tensor, theirs: &Tensor) -> Result<(), String> {
    support::check_close(what, ours, theirs, 1e-5, 1e-4)
}

/// A printout with every number replaced by `#` and signs and padding
/// dropped, to compare layouts (rows, brackets, line breaks, grad_fn) without
/// depending on the last digit or on a value within 1e-5 of zero.
fn skeleton(text: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in text.chars() {
        let numeric = c.is_ascii_digit() || c == '.' || (c == 'e' || c == '+') && in_number;
        if numeric && !in_number {
            out.push('#');
        } else if !numeric && c != ' ' && c != '-' {
            out.push(c);
        }
        in_number = numeric || (c == '-' && in_number);
    }
    out
}

fn check_case(dir: &Path, name: &str, io: &TensorFile, model: Built) -> Result<(), String> {
    let meta = io.metadata();
    let state =
        StateDict::read(dir.join(format!("{name}.weights.safetensors"))).map_err(|e| e.to_string())?;
    model.module.load_state_dict(&state).map_err(|e| e.to_string())?;
    if let Some(expected) = meta.get("module_repr") {
        let ours = blocks::nn::module_repr(model.module.as_ref());
        if &ours != expected {
            return Err(format!("module printout differs:\nours:\n{ours}\nPyTorch:\n{expected}"));
        }
    }
    let input = io.tensor::<f32>("input").map_err(|e| e.to_string())?.requires_grad_(true);
    let output = (model.forward)(&input);
    assert_close("output", &output, &io.tensor("output").map_err(|e| e.to_string())?)?;
    if let Some(expected) = meta.get("output_repr")
        && skeleton(&output.to_string()) != skeleton(expected)
    {
        return Err(format!("output printout differs in layout: ours {output}, PyTorch {expected}"));
    }
    if let Some(expected) = meta.get("halvings") {
        let ours = format!("{:?}", seed::halvings(model.module.as_ref())).replace(' ', "");
        if ours != expected.replace(' ', "") {
            return Err(format!("halvings: ours {ours}, PyTorch {expected}"));
        }
    }
    let loss = if output.numel() == 1 && output.ndim() == 0 { output.clone() } else { output.sum() };
    loss.backward();
    let input_grad = input.grad().ok_or("the input got no gradient")?;
    assert_close("input_grad", &input_grad, &io.tensor("input_grad").map_err(|e| e.to_string())?)?;
    let mut checked = 0;
    for key in io.names().into_iter().filter_map(|n| n.strip_prefix("grad.")) {
        let parameter =
            model.module.parameter(key).ok_or_else(|| format!("the model has no parameter {key}"))?;
        let grad = parameter.grad().ok_or_else(|| format!("{key} got no gradient"))?;
        assert_close(
            &format!("grad.{key}"),
            &grad,
            &io.tensor(&format!("grad.{key}")).map_err(|e| e.to_string())?,
        )?;
        checked += 1;
    }
    let trainable = model.module.named_parameters().len();
    if checked < trainable {
        return Err(format!("the file has gradients for {checked} parameters, the model has {trainable}"));
    }
    Ok(())
}

#[test]
fn skeletons_keep_layout_and_drop_digits_signs_and_padding() {
    assert_eq!(
        skeleton("tensor([[ 0.1234, -0.5000]], grad_fn=<AddmmBackward0>)"),
        "tensor([[#,#]],grad_fn=<AddmmBackward#>)"
    );
    assert_eq!(skeleton("tensor(1.0000e-05)"), skeleton("tensor(-2.5000e+03)"));
    assert_ne!(skeleton("tensor([[#]])"), skeleton("tensor([#])"));
    assert_ne!(
        skeleton("tensor(0.1, grad_fn=<SumBackward0>)"),
        skeleton("tensor(0.1, grad_fn=<MeanBackward0>)")
    );
}

#[test]
fn every_forward_case_matches_pytorch() {
    let dir = conformance_dir();
    let names = case_names(&dir);
    assert!(!names.is_empty(), "no *.io.safetensors cases in {}", dir.display());
    let mut failures = Vec::new();
    let mut passed = Vec::new();
    for name in &names {
        let io = TensorFile::read(dir.join(format!("{name}.io.safetensors"))).expect("readable case file");
        let arch = io.metadata().get("arch").cloned().unwrap_or_default();
        if TRAINING_ARCHS.contains(&arch.as_str()) {
            continue;
        }
        let Some(model) = build(&arch) else {
            failures.push(format!("{name}: arch {arch:?} is not handled"));
            continue;
        };
        match check_case(&dir, name, &io, model) {
            Ok(()) => passed.push(name.clone()),
            Err(why) => failures.push(format!("{name} ({arch}): {why}")),
        }
    }
    println!("conformance: {} forward cases match PyTorch: {}", passed.len(), passed.join(", "));
    assert!(failures.is_empty(), "conformance failures:\n{}", failures.join("\n"));
    assert!(!passed.is_empty(), "no forward case ran");
}
