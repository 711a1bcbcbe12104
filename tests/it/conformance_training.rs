//! Training conformance: every `digits_mlp` case in the conformance folder
//! (`BLOCKS_CONFORMANCE_DIR`, by default `tests/data/conformance`) is trained here as PyTorch trained it: the model
//! `Sequential(Linear(IN, H), ReLU, Linear(H, C))` with widths read from the
//! case's weights, full-batch cross-entropy, and the optimizer its metadata
//! names. Every step's loss must agree within 1e-4 relative, and the final
//! parameters within 1e-4 (relative above 1).

use std::path::PathBuf;

use blocks::io::TensorFile;
use blocks::nn::{DynLinear, ModuleExt, ReLU, Sequential, StateDict};

use optim_metadata::{Metadata, optimizer, same_repr};

use crate::support::{conformance_dir, optim_metadata};

const LOSS_RTOL: f32 = 1e-4;
const PARAM_TOL: f32 = 1e-4;

struct Outcome {
    case: String,
    max_loss_rel: f32,
    max_param_err: f32,
}

fn run_case(case: &str, io: &TensorFile, weights: PathBuf) -> Outcome {
    let meta = Metadata { case, values: io.metadata() };
    let state = StateDict::read(&weights).unwrap_or_else(|e| panic!("{case}: {e}"));
    let first = state.get("0.weight").unwrap_or_else(|| panic!("{case}: no 0.weight")).shape();
    let last = state.get("2.weight").unwrap_or_else(|| panic!("{case}: no 2.weight")).shape();
    let (inputs, hidden, classes) = (first[1], first[0], last[0]);
    if let Some(h) = meta.text("hidden") {
        assert_eq!(h.parse::<usize>().ok(), Some(hidden), "{case}: metadata hidden vs 0.weight");
    }
    let net = Sequential::new((DynLinear::new(inputs, hidden), ReLU, DynLinear::new(hidden, classes)));
    net.load_state_dict(&state).unwrap_or_else(|e| panic!("{case}: {e}"));

    let input = io.tensor::<f32>("input").unwrap_or_else(|e| panic!("{case}: {e}"));
    let (target, _) = io.integers("target").unwrap_or_else(|e| panic!("{case}: {e}"));
    let target: Vec<usize> =
        target.iter().map(|&t| usize::try_from(t).unwrap_or_else(|_| panic!("{case}: label {t}"))).collect();
    let expected_loss = io.tensor::<f32>("loss").unwrap_or_else(|e| panic!("{case}: {e}")).to_vec();
    let steps = meta.number("steps", expected_loss.len() as f64) as usize;
    assert_eq!(steps, expected_loss.len(), "{case}: steps vs the recorded losses");

    let (mut opt, repr) = optimizer(&meta, net.parameters());
    if let Some(theirs) = meta.text("optimizer_repr") {
        assert!(same_repr(&repr, theirs), "{case}: optimizer printout\nours:\n{repr}\nPyTorch:\n{theirs}");
    }

    let mut max_loss_rel = 0.0f32;
    for (step, &theirs) in expected_loss.iter().enumerate() {
        opt.zero_grad();
        let loss = net.forward(&input).cross_entropy(&target);
        let ours = loss.item();
        let rel = (ours - theirs).abs() / theirs.abs();
        assert!(rel <= LOSS_RTOL, "{case}: step {step}: loss {ours} vs PyTorch {theirs} (relative {rel:e})");
        max_loss_rel = max_loss_rel.max(rel);
        loss.backward();
        opt.step();
    }

    let mut max_param_err = 0.0f32;
    let ours = net.state_dict();
    let finals: Vec<&str> = io.names().into_iter().filter_map(|n| n.strip_prefix("final.")).collect();
    assert_eq!(
        finals,
        {
            let mut k = ours.keys();
            k.sort();
            k
        },
        "{case}: final.* keys vs the model's"
    );
    for key in finals {
        let theirs = io.tensor::<f32>(&format!("final.{key}")).unwrap_or_else(|e| panic!("{case}: {e}"));
        let mine = ours.get(key).expect("key checked above");
        assert_eq!(mine.shape(), theirs.shape(), "{case}: {key} shape");
        for (i, (a, b)) in mine.to_vec().iter().zip(theirs.to_vec()).enumerate() {
            let err = (a - b).abs() / b.abs().max(1.0);
            assert!(err <= PARAM_TOL, "{case}: final {key}[{i}]: {a} vs PyTorch {b}");
            max_param_err = max_param_err.max(err);
        }
    }
    Outcome { case: case.to_string(), max_loss_rel, max_param_err }
}

#[test]
fn digits_mlp_training_matches_pytorch() {
    let dir = conformance_dir();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("conformance folder {}: {e}", dir.display()));
    let mut cases: Vec<(String, PathBuf)> = entries
        .map(|entry| entry.expect("folder entry").path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.strip_suffix(".io.safetensors")?.to_string();
            Some((name, path))
        })
        .collect();
    cases.sort();
    let mut outcomes = Vec::new();
    for (case, path) in cases {
        let io = TensorFile::read(&path).unwrap_or_else(|e| panic!("{case}: {e}"));
        if io.metadata().get("arch").map(String::as_str) != Some("digits_mlp") {
            continue;
        }
        outcomes.push(run_case(&case, &io, dir.join(format!("{case}.weights.safetensors"))));
    }
    assert!(!outcomes.is_empty(), "no digits_mlp case in {}", dir.display());
    println!("{} digits_mlp cases ran in {}:", outcomes.len(), dir.display());
    for o in &outcomes {
        println!(
            "  {}: max relative loss error {:.2e}, max parameter error {:.2e}",
            o.case, o.max_loss_rel, o.max_param_err
        );
    }
}

#[test]
fn printouts_compare_as_python_values() {
    assert!(same_repr("SGD (\n    momentum: 0\n)", "SGD (\n    momentum: 0.0\n)"));
    assert!(!same_repr("SGD (\n    momentum: 0\n)", "SGD (\n    momentum: 0.9\n)"));
    assert!(!same_repr("SGD (\n    momentum: 0\n)", "SGD (\n    dampening: 0\n)"));
    assert!(!same_repr("SGD (\n    nesterov: False\n)", "SGD (\n    nesterov: True\n)"));
    assert!(!same_repr("SGD (\n)", "SGD (\n    lr: 0.1\n)"));
}
