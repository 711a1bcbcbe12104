//! The main job stays true: `examples/train_digits.rs` with its defaults (the
//! CNN) reaches at least 98.5% test accuracy, and with `--model mlp` at least
//! 97%; each saves a model that loads back, and draws its curves.

use std::path::{Path, PathBuf};
use std::process::Command;

use blocks::prelude::*;

use crate::support::convnets;

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

#[test]
fn piped_output_has_one_line_per_epoch_and_no_bar() {
    let output = Command::new(example_binary())
        .args(["--model", "mlp", "--epochs", "3", "--hidden", "32"])
        .output()
        .expect("the train_digits example runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "train_digits failed:\n{stdout}\n{stderr}");
    let epochs: Vec<&str> = stdout.lines().filter(|l| l.starts_with("epoch ")).collect();
    assert_eq!(epochs.len(), 3, "one line per epoch:\n{stdout}");
    for (i, line) in epochs.iter().enumerate() {
        // `epoch 1/3 loss 0.1234 train 95.0% test 94.4%`
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words.len(), 8, "{line}");
        assert_eq!(
            (words[0], words[1], words[2], words[4], words[6]),
            ("epoch", &*format!("{}/3", i + 1), "loss", "train", "test")
        );
        let loss: f64 = words[3].parse().unwrap();
        assert!(loss.is_finite() && loss > 0.0, "{line}");
        for percent in [words[5], words[7]] {
            let value: f64 = percent.strip_suffix('%').unwrap().parse().unwrap();
            assert!((0.0..=100.0).contains(&value), "{line}");
        }
    }
    assert!(
        !stdout.contains("steps,") && !stderr.contains("steps,"),
        "no progress bar when piped:\n{stdout}\n{stderr}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_the_bar_shows_and_no_epoch_lines() {
    // `script` runs the example on a pseudo-terminal (util-linux, on every Linux CI image).
    let command = format!("{} --model mlp --epochs 2 --hidden 32", example_binary().display());
    let output = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("`script` (util-linux) runs the example on a terminal");
    let all = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "train_digits on a terminal failed:\n{all}");
    assert!(
        all.contains("steps,") && all.contains("| epoch 2/2 loss"),
        "the bar with its epoch message:\n{all}"
    );
    assert!(!all.lines().any(|l| l.trim_start_matches('\r').starts_with("epoch ")), "no epoch lines:\n{all}");
    assert!(all.contains("test accuracy: "), "{all}");
}

#[test]
fn help_describes_the_example_not_the_crate() {
    let output =
        Command::new(example_binary()).arg("--help").output().expect("the train_digits example runs");
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{help}");
    assert!(
        help.starts_with(
            "Train a CNN (the default) or an MLP (64 → hidden → ReLU → 10) on the UCI handwritten"
        ),
        "{help}"
    );
    assert!(help.contains("one line per epoch"), "{help}");
    assert!(help.contains("Usage: train_digits [OPTIONS]"), "{help}");
    assert!(!help.contains("PyTorch's layers and blocks"), "the crate's description:\n{help}");
}

/// Runs `train_digits` with `args`; gives whether it succeeded, its stdout and its stderr.
fn run(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(example_binary()).args(args).output().expect("the train_digits example runs");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (output.status.success(), text(&output.stdout), text(&output.stderr))
}

#[test]
fn numbers_out_of_range_are_refused_with_a_message_naming_the_flag() {
    let cases: [(&[&str], &str); 8] = [
        (&["--epochs", "100000000000000000"], "invalid value '100000000000000000' for '--epochs <EPOCHS>'"),
        (&["--epochs", "1e17"], "invalid value '1e17' for '--epochs <EPOCHS>'"),
        (&["--epochs", "0"], "0 is not in 1..=100000"),
        (&["--batch-size", "0"], "'--batch-size <BATCH_SIZE>'"),
        (&["--hidden", "18446744073709551615"], "'--hidden <HIDDEN>'"),
        (&["--lr", "inf"], "inf is not a finite number in [0, 1000]"),
        (&["--momentum", "NaN"], "'--momentum <MOMENTUM>'"),
        (&["--test-fraction", "1"], "leaves no training or no test images"),
    ];
    for (args, expected) in cases {
        let (ok, stdout, stderr) = run(args);
        assert!(!ok && stdout.is_empty(), "{args:?} was accepted:\n{stdout}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn a_bad_save_or_plot_path_is_refused_before_training_in_words() {
    let dir = std::env::temp_dir().join(format!("blocks-train-digits-paths-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("no/such/folder/model.safetensors");
    let missing = missing.to_str().unwrap();
    let cases: [(&[&str], String); 3] = [
        (&["--save", missing], format!("error: --save {missing}: the folder")),
        (&["--save", "/dev/null"], "error: --save /dev/null: it is a device or other special file".into()),
        (&["--plot", dir.to_str().unwrap()], format!("error: --plot {}: it is a directory", dir.display())),
    ];
    for (args, expected) in cases {
        let (ok, stdout, stderr) =
            run(&[&["--model", "mlp", "--epochs", "1", "--hidden", "8"], args].concat());
        assert!(!ok, "{args:?} was accepted");
        assert!(!stdout.contains("epoch"), "it trained first:\n{stdout}");
        assert!(stderr.starts_with(&expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("Io {") && !stderr.contains("Os {"), "Debug form: {stderr}");
    }
    assert!(!std::fs::metadata("/dev/null").unwrap().file_type().is_file(), "/dev/null is untouched");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_plot_has_one_label_per_whole_epoch() {
    let dir = std::env::temp_dir().join(format!("blocks-train-digits-ticks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let svg = dir.join("curves.svg");
    let (ok, stdout, stderr) =
        run(&["--model", "mlp", "--epochs", "3", "--hidden", "8", "--plot", svg.to_str().unwrap()]);
    assert!(ok, "{stdout}\n{stderr}");
    let svg = std::fs::read_to_string(&svg).unwrap();
    // The texts of the SVG, in order: each chart's x labels follow its y labels.
    let texts: Vec<&str> = svg.split("<text").skip(1).map(|t| t.split('>').nth(1).unwrap_or("")).collect();
    let texts: Vec<&str> = texts.iter().map(|t| t.split('<').next().unwrap_or("").trim()).collect();
    let x_labels: Vec<&str> = texts.iter().copied().filter(|t| ["1", "2", "3"].contains(t)).collect();
    assert_eq!(x_labels, ["1", "2", "3", "1", "2", "3"], "{texts:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
