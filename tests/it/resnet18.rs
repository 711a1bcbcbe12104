//! torchvision's ResNet-18 rebuilt (`examples/resnet18/`), against
//! `tests/data/conformance/resnet18/resnet18.io.safetensors` written by
//! `tests/data/generate_resnet18.py`: its state dict has torchvision's keys,
//! order, shapes and dtypes; weights given by the generator's formula (45 MB,
//! so written here to a temporary file rather than committed) give PyTorch's
//! output within 1e-3, from float32 and from float64 files; and the example
//! binary passes on that case and fails with a message, not a panic, on a
//! missing file, a wrong key, a wrong dtype, a wrong head or a small image.
//! (Building the model initializes 11.7 M parameters, seconds in a debug
//! build: each test builds as few as it can.)

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use blocks::io::TensorFile;
use blocks::prelude::*;
use safetensors::Dtype;
use safetensors::tensor::TensorView;

use crate::support::conformance_dir;
use crate::support::resnet18::{self as rn, TOLERANCE};

/// The committed case: `input`, `output` and the metadata.
fn case_path() -> PathBuf {
    conformance_dir().join("resnet18").join("resnet18.io.safetensors")
}

/// The state dict's `[key, shape, dtype]` list torchvision gave, in order.
fn torchvision_keys() -> Vec<(String, Vec<usize>, String)> {
    let file = TensorFile::read(case_path()).expect("the committed ResNet-18 case");
    let list: Vec<(String, Vec<usize>, String)> =
        serde_json::from_str(&file.metadata()["keys"]).expect("keys: a JSON list of [key, shape, dtype]");
    assert_eq!(list.len(), 122, "resnet18's state dict has 122 entries");
    list
}

// The generator's formula (see its docstring), in the same integer and float64 steps.

fn fnv1a(key: &str) -> u32 {
    key.bytes().fold(2_166_136_261u32, |h, b| (h ^ u32::from(b)).wrapping_mul(16_777_619))
}

fn fmix32(mut x: u32) -> u32 {
    x ^= x >> 16;
    x = x.wrapping_mul(0x85EB_CA6B);
    x ^= x >> 13;
    x = x.wrapping_mul(0xC2B2_AE35);
    x ^ (x >> 16)
}

fn bits(key: &str, i: usize) -> u32 {
    fmix32(fnv1a(key).wrapping_add((i as u32).wrapping_mul(0x9E37_79B9)))
}

/// `center + half (2u - 1)` for each element, in float64 (before the one rounding to float32).
fn formula(key: &str, numel: usize, (center, half): (f64, f64)) -> Vec<f64> {
    (0..numel)
        .map(|i| {
            let u = f64::from(bits(key, i) >> 8) / f64::from(1u32 << 24);
            center + half * (2.0 * u - 1.0)
        })
        .collect()
}

fn center_half(key: &str, shape: &[usize]) -> (f64, f64) {
    let last = key.rsplit('.').next().unwrap_or(key);
    if let [_, i, kh, kw] = shape {
        return (0.0, (6.0 / (i * kh * kw) as f64).sqrt());
    }
    if key.starts_with("fc.") {
        let fan_in = if shape.len() == 2 { shape[1] } else { 512 };
        return (0.0, 4.0 / (fan_in as f64).sqrt());
    }
    match last {
        "weight" if key.ends_with("bn2.weight") || key.ends_with("downsample.1.weight") => (0.5, 0.25),
        "weight" => (1.0, 0.25),
        "running_var" => (1.0, 0.5),
        "bias" | "running_mean" => (0.0, 0.1),
        _ => panic!("no formula for {key}"),
    }
}

/// One tensor of a file to write: its name, dtype, shape and bytes.
type Entry = (String, Dtype, Vec<usize>, Vec<u8>);

/// The formula's state dict for `keys`, floats as `float` (F32 or F64),
/// `num_batches_tracked` as int64.
fn formula_entries(keys: &[(String, Vec<usize>, String)], float: Dtype) -> Vec<Entry> {
    keys.iter()
        .map(|(key, shape, dtype)| {
            if dtype == "int64" {
                let value = i64::from(bits(key, 0) % 1000);
                return (key.clone(), Dtype::I64, shape.clone(), value.to_le_bytes().to_vec());
            }
            let values = formula(key, shape.iter().product(), center_half(key, shape));
            let bytes = match float {
                Dtype::F64 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                _ => values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect(),
            };
            (key.clone(), float, shape.clone(), bytes)
        })
        .collect()
}

fn write(path: &Path, entries: &[Entry]) {
    let views: Vec<(String, TensorView<'_>)> = entries
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            (name.clone(), TensorView::new(*dtype, shape.clone(), bytes).expect("a consistent tensor"))
        })
        .collect();
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize_to_file(views, Some(metadata), path).expect("the temporary file is written");
}

/// A fresh temporary folder for `name`.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("blocks-resnet18-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The formula's weights as `float`, written into `dir`.
fn formula_weights(dir: &Path, float: Dtype) -> PathBuf {
    let path = dir.join(format!("resnet18.{float:?}.safetensors"));
    write(&path, &formula_entries(&torchvision_keys(), float));
    path
}

/// The top-5 classes of image 0 that PyTorch gave.
fn torch_top5() -> Vec<usize> {
    let file = TensorFile::read(case_path()).unwrap();
    serde_json::from_str(&file.metadata()["top5"]).unwrap()
}

#[test]
fn the_state_dict_has_torchvisions_keys_order_shapes_and_dtypes() {
    let model = rn::resnet18(1000);
    let state = model.state_dict();
    let ours: Vec<(String, Vec<usize>)> = state.iter().map(|(k, t)| (k.to_string(), t.shape())).collect();
    let theirs: Vec<(String, Vec<usize>)> = torchvision_keys().into_iter().map(|(k, s, _)| (k, s)).collect();
    assert_eq!(ours, theirs);
    // The dtypes as a saved file holds them: float32, and int64 for num_batches_tracked.
    let file = TensorFile::from_bytes(&state.serialize().unwrap()).unwrap();
    for (key, _, dtype) in torchvision_keys() {
        let expected = if dtype == "int64" { "I64" } else { "F32" };
        assert_eq!(file.dtype(&key).unwrap(), expected, "{key}");
    }
    for key in ["layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_mean", "fc.weight"] {
        assert!(state.get(key).is_some(), "{key}");
    }
    assert!(state.get("layer1.0.downsample.0.weight").is_none(), "layer1 keeps its shape: no downsample");
    assert_eq!(rn::resnet18(10).state_dict().get("fc.weight").unwrap().shape(), vec![10, 512]);
    // The printout is torchvision's, but for `ReLU(inplace=True)`: blocks has no in-place ReLU.
    let file = TensorFile::read(case_path()).unwrap();
    let theirs = file.metadata()["module_repr"].replace("ReLU(inplace=True)", "ReLU()");
    assert_eq!(model.to_string(), theirs);
}

#[test]
fn formula_weights_give_pytorchs_output_from_float32_and_float64_files() {
    let dir = temp_dir("formula");
    let case = rn::read_io(&case_path(), 1000).expect("the committed case reads");
    assert_eq!(case.input.shape(), vec![2, 3, 40, 48]);
    let mut outputs = Vec::new();
    let model = rn::resnet18(1000);
    model.eval();
    for float in [Dtype::F32, Dtype::F64] {
        rn::load_into(&model, &formula_weights(&dir, float)).expect("torchvision's keys load strictly");
        let checked = rn::run(&model, &case);
        let diff = checked.max_abs_diff.expect("the case has an output");
        assert!(diff <= TOLERANCE, "{float:?} weights: max abs diff {diff} > {TOLERANCE}");
        let classes: Vec<usize> = checked.top5.iter().map(|&(class, _)| class).collect();
        assert_eq!(classes, torch_top5(), "{float:?} weights: image 0's top-5 classes");
        outputs.push(checked.output.to_vec());
    }
    // float64 rounds to the same float32 weights (to nearest, as PyTorch's copy_).
    assert_eq!(outputs[0], outputs[1], "float64 weights are cast to the float32 ones");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The example binary that `cargo test` builds next to the test binaries.
fn example_binary() -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test's own path");
    let profile_dir = test_binary.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    profile_dir.join("examples").join(format!("resnet18{}", std::env::consts::EXE_SUFFIX))
}

/// How long one run of the example may take (a debug build on a loaded machine
/// takes about 20 s) before the watchdog kills it and fails the test.
const WATCHDOG: Duration = Duration::from_secs(300);

/// Runs the example with `args` and `extra`, under the watchdog: its exit
/// status, stdout and stderr (a few lines each, so the pipes never fill).
fn run_example(args: &[&Path], extra: &[&str]) -> (ExitStatus, String, String) {
    let mut child = Command::new(example_binary())
        .args(args)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the resnet18 example runs (cargo test builds it)");
    let deadline = Instant::now() + WATCHDOG;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the example's status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("resnet18 {args:?} {extra:?} did not end in {WATCHDOG:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child.stdout.take().expect("piped").read_to_string(&mut stdout).expect("the example's stdout");
    child.stderr.take().expect("piped").read_to_string(&mut stderr).expect("the example's stderr");
    (status, stdout, stderr)
}

/// Fails unless the run exited non-zero with `message` on stderr and no panic.
#[track_caller]
fn assert_fails_with(run: (ExitStatus, String, String), message: &str) {
    let (status, stdout, stderr) = run;
    assert!(!status.success(), "expected a failure:\n{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "a panic instead of an error:\n{stderr}");
    assert!(stderr.contains(message), "expected {message:?} in:\n{stderr}");
}

/// An IO file with `input` of `shape` and `dtype` (zeros) and no output.
fn io_file(dir: &Path, name: &str, shape: &[usize], dtype: Dtype) -> PathBuf {
    let numel: usize = shape.iter().product();
    let path = dir.join(name);
    write(&path, &[("input".into(), dtype, shape.to_vec(), vec![0; numel * dtype.bitsize() / 8])]);
    path
}

#[test]
fn the_example_passes_on_the_repos_case_and_fails_with_messages() {
    let dir = temp_dir("example");
    let weights = formula_weights(&dir, Dtype::F32);
    let (status, stdout, stderr) = run_example(&[&weights, &case_path()], &[]);
    assert!(status.success(), "resnet18 failed:\n{stdout}\n{stderr}");
    let diff_line = stdout.lines().find(|l| l.starts_with("output max abs diff: ")).expect("the diff line");
    let diff: f32 = diff_line["output max abs diff: ".len()..].parse().unwrap();
    assert!(diff <= TOLERANCE, "{diff_line}");
    let top5 = torch_top5().iter().map(usize::to_string).collect::<Vec<_>>();
    let top_line =
        stdout.lines().find(|l| l.starts_with("top-5 classes of image 0: ")).expect("the top-5 line");
    assert!(top_line.contains(&format!("{} (", top5[0])), "{top_line} vs PyTorch's {top5:?}");

    let missing = dir.join("no-such.safetensors");
    assert_fails_with(run_example(&[&missing, &case_path()], &[]), "cannot read");
    assert_fails_with(run_example(&[&weights, &missing], &[]), "cannot read");
    let ten_classes = ["--num-classes", "10"];
    assert_fails_with(
        run_example(&[&weights, &case_path()], &ten_classes),
        "must be [N, num_classes] = [2, 10]",
    );
    assert_fails_with(
        run_example(&[&weights, &gray_to_rgb(&dir)], &ten_classes),
        "size mismatch for fc.weight",
    );
    let small = io_file(&dir, "small.safetensors", &[1, 3, 31, 40], Dtype::F32);
    assert_fails_with(run_example(&[&weights, &small], &[]), "H and W must be at least 32");
    let wide = io_file(&dir, "f64.safetensors", &[1, 3, 32, 32], Dtype::F64);
    assert_fails_with(run_example(&[&weights, &wide], &[]), "\"input\" must be float32, found F64");
    let gray = io_file(&dir, "gray.safetensors", &[1, 1, 32, 32], Dtype::F32);
    assert_fails_with(run_example(&[&weights, &gray], &[]), "must be [N, 3, H, W]");
    let mut renamed = formula_entries(&torchvision_keys(), Dtype::F32);
    renamed.iter_mut().find(|e| e.0 == "layer3.1.bn2.running_var").unwrap().0 =
        "layer3.1.bn2.running_variance".into();
    let wrong_key = dir.join("wrong-key.safetensors");
    write(&wrong_key, &renamed);
    let run = run_example(&[&wrong_key, &case_path()], &[]);
    assert!(
        run.2.contains("Unexpected key(s) in state_dict: \"layer3.1.bn2.running_variance\""),
        "{}",
        run.2
    );
    assert_fails_with(run, "Missing key(s) in state_dict: \"layer3.1.bn2.running_var\"");

    // Another head: 10 classes, and an input without an expected output.
    let mut ten = formula_entries(&torchvision_keys(), Dtype::F32);
    ten.truncate(ten.len() - 2);
    let ten_keys = [
        ("fc.weight".to_string(), vec![10, 512], "float32".to_string()),
        ("fc.bias".into(), vec![10], "float32".into()),
    ];
    ten.extend(formula_entries(&ten_keys, Dtype::F32));
    let ten_path = dir.join("ten.safetensors");
    write(&ten_path, &ten);
    let (status, stdout, stderr) = run_example(&[&ten_path, &gray_to_rgb(&dir)], &["--num-classes", "10"]);
    assert!(status.success(), "10 classes:\n{stdout}\n{stderr}");
    assert!(stdout.contains("output [1, 10]") && stdout.contains("no `output` in IO"), "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An IO file of one 32x36 image, no expected output.
fn gray_to_rgb(dir: &Path) -> PathBuf {
    io_file(dir, "rgb.safetensors", &[1, 3, 32, 36], Dtype::F32)
}
