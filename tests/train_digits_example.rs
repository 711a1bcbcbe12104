//! The main job stays true: `examples/train_digits.rs` with its defaults
//! reaches at least 97% test accuracy, saves a model that loads back, and
//! draws its curves.

use std::path::PathBuf;
use std::process::Command;

use blocks::prelude::*;

/// The example binary that `cargo test` builds next to the test binaries.
fn example_binary() -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test's own path");
    let profile_dir = test_binary.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    profile_dir.join("examples").join(format!("train_digits{}", std::env::consts::EXE_SUFFIX))
}

#[test]
fn the_default_run_reaches_97_percent_and_saves_and_plots() {
    let dir = std::env::temp_dir().join(format!("blocks-train-digits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (model, curves) = (dir.join("model.safetensors"), dir.join("curves.svg"));
    let output = Command::new(example_binary())
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
    assert!(percent >= 97.0, "test accuracy {percent}% is below 97%: {line}");

    let net = sequential![DynLinear::new(64, 256), ReLU, DynLinear::new(256, 10)];
    net.load(&model).expect("the saved model loads back with PyTorch's keys");
    let svg = std::fs::read_to_string(&curves).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("accuracy"), "an SVG with the curves");
    std::fs::remove_dir_all(&dir).unwrap();
}
