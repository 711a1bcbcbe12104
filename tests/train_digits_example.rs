//! The main job stays true: `examples/train_digits.rs` with its defaults (the
//! CNN) reaches at least 98.5% test accuracy, and with `--model mlp` at least
//! 97%; each saves a model that loads back, and draws its curves.

mod convnets;

use std::path::{Path, PathBuf};
use std::process::Command;

use blocks::prelude::*;

/// The example binary that `cargo test` builds next to the test binaries.
fn example_binary() -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test's own path");
    let profile_dir = test_binary.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    profile_dir.join("examples").join(format!("train_digits{}", std::env::consts::EXE_SUFFIX))
}

/// Runs `train_digits` with `args`, saving the model and the curves into a
/// fresh folder; gives the folder and the test accuracy in percent.
fn train(name: &str, args: &[&str]) -> (PathBuf, f64) {
    let dir = std::env::temp_dir().join(format!("blocks-train-digits-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (model, curves) = (dir.join("model.safetensors"), dir.join("curves.svg"));
    let output = Command::new(example_binary())
        .args(args)
        .arg("--save")
        .arg(&model)
        .arg("--plot")
        .arg(&curves)
        .output()
        .expect("the train_digits example runs (cargo test builds it)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "train_digits failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let line = stdout.lines().find(|l| l.starts_with("test accuracy: ")).expect("a test accuracy line");
    let percent: f64 = line["test accuracy: ".len()..].split('%').next().unwrap().parse().unwrap();
    let svg = std::fs::read_to_string(&curves).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("accuracy"), "an SVG with the curves");
    (dir, percent)
}

fn model_file(dir: &Path) -> PathBuf {
    dir.join("model.safetensors")
}

#[test]
fn the_default_run_trains_the_cnn_to_98_5_percent_and_saves_and_plots() {
    let (dir, percent) = train("cnn", &[]);
    assert!(percent >= 98.5, "the CNN's test accuracy {percent}% is below 98.5%");
    let net = convnets::digits_cnn();
    net.load(model_file(&dir)).expect("the saved CNN loads back with PyTorch's keys");
    let running_var = net.state_dict().get("1.running_var").expect("BatchNorm's buffer").to_vec();
    assert!(running_var.iter().any(|&v| v != 1.0), "the trained running statistics were saved and loaded");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_mlp_reaches_97_percent_and_saves_and_plots() {
    let (dir, percent) = train("mlp", &["--model", "mlp"]);
    assert!(percent >= 97.0, "the MLP's test accuracy {percent}% is below 97%");
    let net = sequential![DynLinear::new(64, 256), ReLU, DynLinear::new(256, 10)];
    net.load(model_file(&dir)).expect("the saved model loads back with PyTorch's keys");
    std::fs::remove_dir_all(&dir).unwrap();
}
