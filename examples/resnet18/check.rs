//! The example's work, as functions returning errors instead of exiting: read
//! the weights strictly, read the input (and the expected output), run the
//! model in eval mode, compare and rank.

use std::path::Path;

use blocks::io::TensorFile;
use blocks::nn::{Images, StateDict};
use blocks::prelude::*;

use super::model::{ResNet, resnet18};

/// The largest difference from the expected output that passes.
pub const TOLERANCE: f32 = 1e-3;

/// The smallest image side the example takes, 32 = 2^5: ResNet-18 halves
/// each side five times (the stride-2 stem, the max pool and three stride-2
/// stages), so its last stage sees each 32x32 block of the image as one pixel.
pub const MIN_SIDE: usize = 32;

/// An input file's contents: `input` `[N, 3, H, W]` and, when present,
/// `output` `[N, num_classes]`.
pub struct IoCase {
    /// The images.
    pub input: Images<3>,
    /// What PyTorch gave on them, if the file has it.
    pub output: Option<Tensor>,
}

/// What a run gives: the logits, their largest difference from the expected
/// output (when there is one) and image 0's five best classes.
pub struct Checked {
    /// The model's output `[N, num_classes]`.
    pub output: Tensor,
    /// `max |output - expected|`, when the file holds an expected output.
    pub max_abs_diff: Option<f32>,
    /// Image 0's top-5 classes with their logits, best first.
    pub top5: Vec<(usize, f32)>,
}

/// A ResNet-18 with `num_classes` outputs holding the weights of `path`,
/// loaded strictly (see [`load_into`]), in eval mode. The file is read
/// before the model is built, so a missing or damaged file fails at once.
///
/// # Errors
///
/// The file cannot be read or is not safetensors, or its keys or shapes are
/// not ResNet-18's (PyTorch's message, every problem listed).
pub fn load_weights(path: &Path, num_classes: usize) -> Result<ResNet, String> {
    let state = StateDict::read(path).map_err(|e| format!("weights: {e}"))?;
    let model = resnet18(num_classes);
    load_state(&model, &state, path)?;
    model.eval();
    Ok(model)
}

/// Loads the weights of `path` into `model` strictly: every key, no other,
/// every shape; any float dtype cast to float32 as PyTorch's
/// `load_state_dict` does. Nothing changes when it fails.
///
/// # Errors
///
/// As [`load_weights`].
pub fn load_into(model: &ResNet, path: &Path) -> Result<(), String> {
    let state = StateDict::read(path).map_err(|e| format!("weights: {e}"))?;
    load_state(model, &state, path)
}

fn load_state(model: &ResNet, state: &StateDict, path: &Path) -> Result<(), String> {
    model.load_state_dict(state).map(|_| ()).map_err(|e| format!("weights {}: {e}", path.display()))
}

/// Reads `input` (float32 `[N, 3, H, W]`, H and W at least [`MIN_SIDE`]) and,
/// when present, `output` (float32 `[N, num_classes]`) from `path`.
///
/// # Errors
///
/// The file cannot be read, has no `input`, or a tensor has another dtype or
/// shape than the above.
pub fn read_io(path: &Path, num_classes: usize) -> Result<IoCase, String> {
    let file = TensorFile::read(path).map_err(|e| format!("input: {e}"))?;
    let where_ = path.display();
    let float32 = |name: &str| -> Result<Tensor, String> {
        let dtype = file.dtype(name).map_err(|e| format!("{where_}: {e}"))?;
        if dtype != "F32" {
            return Err(format!("{where_}: tensor {name:?} must be float32, found {dtype}"));
        }
        file.tensor::<f32>(name).map_err(|e| format!("{where_}: {e}"))
    };
    if !file.contains("input") {
        return Err(format!(
            "{where_}: no tensor \"input\" (float32 [N, 3, H, W]); it holds {:?}",
            file.names()
        ));
    }
    let input = float32("input")?;
    let shape = input.shape();
    if shape.len() != 4 || shape[1] != 3 || shape[0] == 0 {
        return Err(format!("{where_}: \"input\" must be [N, 3, H, W] with N >= 1, got {shape:?}"));
    }
    if shape[2] < MIN_SIDE || shape[3] < MIN_SIDE {
        return Err(format!(
            "{where_}: images of {}x{} are too small for ResNet-18: H and W must be at least {MIN_SIDE}",
            shape[2], shape[3]
        ));
    }
    let output = if file.contains("output") {
        let output = float32("output")?;
        let expected = vec![shape[0], num_classes];
        if output.shape() != expected {
            return Err(format!(
                "{where_}: \"output\" must be [N, num_classes] = {expected:?}, got {:?}",
                output.shape()
            ));
        }
        Some(output)
    } else {
        None
    };
    Ok(IoCase { input: Images::new(input), output })
}

/// The `k` largest values of `row` with their indices, best first (ties:
/// the lower index first).
pub fn top5(row: &[f32]) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = row.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(5);
    ranked
}

/// Runs `model` (in eval mode, without recording gradients) on `case` and
/// compares with its expected output.
pub fn run(model: &ResNet, case: &IoCase) -> Checked {
    let output = no_grad(|| model.forward(&case.input));
    let values = output.to_vec();
    let max_abs_diff = case.output.as_ref().map(|expected| {
        values
            .iter()
            .zip(expected.to_vec())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, |m, d| if d.is_nan() || m.is_nan() { f32::NAN } else { m.max(d) })
    });
    let classes = output.shape()[1];
    let top5 = top5(&values[..classes]);
    Checked { output, max_abs_diff, top5 }
}
