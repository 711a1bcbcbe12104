//! GPT-2 rebuilt from Hugging Face's files: reads the `config.json` and the
//! `model.safetensors` that `GPT2LMHeadModel(config).save_pretrained()`
//! writes, runs the model on the int64 `input_ids` `[B, T]` of an IO file,
//! compares its logits with the IO file's `logits` when it holds them, and
//! generates greedily after its `prompt` when it holds one.
//!
//! ```text
//! cargo run --release --example gpt2 -- CONFIG.json WEIGHTS.safetensors IO.safetensors
//! cargo run --release --example gpt2 -- tests/data/conformance/gpt2/tiny/config.json \
//!     tests/data/conformance/gpt2/tiny/model.safetensors tests/data/conformance/gpt2/tiny/io.safetensors
//! ```
//!
//! It prints `logits max abs diff: X` and `generated: id id ...` (the prompt
//! and 12 new tokens, as `model.generate(prompt, max_new_tokens=12,
//! do_sample=False)` returns them), and exits 0 only when every comparison
//! it could make holds: logits within 1e-4, and the generated ids equal to
//! the IO file's `generated` when it has them. Any error (a missing file,
//! a config the weights do not fit, ids outside the vocabulary) is a
//! message and exit code 2, never a panic.

pub mod config;
pub mod model;

use std::path::Path;
use std::process::ExitCode;

use blocks::io::TensorFile;
use blocks::nn::{ModuleExt, StateDict};
use blocks::{Indices, Tensor, no_grad};

use config::Gpt2Config;
use model::Gpt2LMHeadModel;

/// The largest difference from the reference logits that passes.
pub const TOLERANCE: f32 = 1e-4;

/// How many tokens are generated after the prompt.
pub const NEW_TOKENS: usize = 12;

/// What one run found.
#[derive(Debug)]
pub struct Report {
    /// The logits' shape `[B, T, vocab]`.
    pub logits_shape: Vec<usize>,
    /// The largest difference from the IO file's `logits`, when it has them.
    pub logits_diff: Option<f32>,
    /// The prompt and the generated tokens, when the IO file has a prompt.
    pub generated: Option<Vec<usize>>,
    /// Whether they equal the IO file's `generated`, when it has them.
    pub generated_matches: Option<bool>,
}

impl Report {
    /// Every comparison made holds.
    pub fn passed(&self) -> bool {
        self.logits_diff.is_none_or(|d| d <= TOLERANCE) && self.generated_matches != Some(false)
    }
}

/// The state dict key of a tensor of the weights file, `None` for what
/// `GPT2LMHeadModel` does not load: the causal-mask buffers of older files
/// (`h.0.attn.bias`, `h.0.attn.masked_bias`) and a stored `lm_head.weight`
/// when the embeddings are tied. Older files also lack the `transformer.` prefix.
fn state_key(name: &str, config: &Gpt2Config) -> Option<String> {
    if name == "lm_head.weight" {
        return (!config.tie_word_embeddings).then(|| name.to_string());
    }
    let key = if name.starts_with("transformer.") { name.to_string() } else { format!("transformer.{name}") };
    let buffer = key.starts_with("transformer.h.")
        && (key.ends_with(".attn.bias") || key.ends_with(".attn.masked_bias"));
    (!buffer).then_some(key)
}

/// The model `config` describes with the weights of `path` (any float
/// dtype, cast to float32 as `load_state_dict` does), loaded strictly. The
/// file's tensors and shapes are compared with the config's before the
/// model is built, so nothing is sized by a config the file does not match.
///
/// # Errors
///
/// The file cannot be read, or a tensor is missing, unexpected or of
/// another shape (every one listed).
pub fn load(config: &Gpt2Config, path: &Path) -> Result<Gpt2LMHeadModel, String> {
    let file = TensorFile::read(path).map_err(|e| e.to_string())?;
    let expected = config.expected_tensors()?;
    let mut state = StateDict::new();
    let mut problems = Vec::new();
    for name in file.names() {
        let Some(key) = state_key(name, config) else { continue };
        match expected.iter().find(|(k, _)| *k == key) {
            None => problems.push(format!("unexpected tensor {name:?}")),
            Some((_, shape)) => {
                let found = file.shape(name).map_err(|e| e.to_string())?;
                if &found != shape {
                    problems.push(format!("{name:?} is {found:?}, the config gives {shape:?}"));
                } else {
                    state.insert(key, file.tensor::<f32>(name).map_err(|e| e.to_string())?);
                }
            }
        }
    }
    for (key, _) in &expected {
        if state.get(key).is_none() && !problems.iter().any(|p| p.contains(&format!("{key:?}"))) {
            problems.push(format!("missing tensor {key:?}"));
        }
    }
    if !problems.is_empty() {
        return Err(format!("{} does not fit the config: {}", path.display(), problems.join("; ")));
    }
    let model = Gpt2LMHeadModel::new(config);
    model.load_state_dict(&state).map_err(|e| e.to_string())?;
    model.eval();
    Ok(model)
}

/// Integer tensor `name` of `io` as token ids of shape `[B, T]`.
fn ids(io: &TensorFile, name: &str) -> Result<Indices, String> {
    let (values, shape) = io.integers(name).map_err(|e| e.to_string())?;
    if shape.len() != 2 {
        return Err(format!("{name} must be [batch, tokens], not {shape:?}"));
    }
    Indices::try_from_i64(&values, &shape).map_err(|e| format!("{name}: {e}"))
}

/// Runs the three files as the command line does.
///
/// # Errors
///
/// Any file that cannot be read or does not fit the others.
pub fn run(config: &Path, weights: &Path, io: &Path) -> Result<Report, String> {
    let config = Gpt2Config::read(config)?;
    let model = load(&config, weights)?;
    let io = TensorFile::read(io).map_err(|e| e.to_string())?;
    let input_ids = ids(&io, "input_ids")?;
    let (logits, _) = no_grad(|| model.forward_cached(&input_ids, None))?;
    let logits_diff = if io.contains("logits") {
        let theirs: Tensor = io.tensor("logits").map_err(|e| e.to_string())?;
        if theirs.shape() != logits.shape() {
            return Err(format!(
                "IO's logits are {:?}, the model gives {:?}",
                theirs.shape(),
                logits.shape()
            ));
        }
        let diff =
            logits.to_vec().iter().zip(theirs.to_vec()).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        // A NaN on either side fails.
        let nan = logits.to_vec().iter().chain(theirs.to_vec().iter()).any(|v| v.is_nan());
        Some(if nan { f32::NAN } else { diff })
    } else {
        None
    };
    let (generated, generated_matches) = if io.contains("prompt") {
        let prompt = ids(&io, "prompt")?;
        if prompt.shape()[0] != 1 {
            return Err(format!("the prompt must be [1, tokens], not {:?}", prompt.shape()));
        }
        let tokens = no_grad(|| model.generate(prompt.as_slice(), NEW_TOKENS))?;
        let matches = if io.contains("generated") {
            let (theirs, _) = io.integers("generated").map_err(|e| e.to_string())?;
            Some(theirs.iter().map(|&t| usize::try_from(t).ok()).eq(tokens.iter().map(|&t| Some(t))))
        } else {
            None
        };
        (Some(tokens), matches)
    } else {
        (None, None)
    };
    Ok(Report { logits_shape: logits.shape(), logits_diff, generated, generated_matches })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [config, weights, io] = args.as_slice() else {
        eprintln!("usage: gpt2 CONFIG.json WEIGHTS.safetensors IO.safetensors");
        return ExitCode::from(2);
    };
    let report = match run(Path::new(config), Path::new(weights), Path::new(io)) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    println!("logits: {:?}", report.logits_shape);
    if let Some(diff) = report.logits_diff {
        println!("logits max abs diff: {diff:e}");
    }
    if let Some(tokens) = &report.generated {
        let ids: Vec<String> = tokens.iter().map(usize::to_string).collect();
        println!("generated: {}", ids.join(" "));
    }
    match report.generated_matches {
        Some(true) => println!("generated ids equal IO's"),
        Some(false) => println!("generated ids differ from IO's"),
        None => {}
    }
    if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
