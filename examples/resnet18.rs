//! torchvision's ResNet-18 rebuilt from blocks' layers, loaded from the
//! safetensors file torchvision's `state_dict()` gives, run in eval mode on
//! an input file and checked against PyTorch's output:
//!
//! ```text
//! cargo run --release --example resnet18 -- WEIGHTS.safetensors IO.safetensors [--num-classes N]
//! ```
//!
//! WEIGHTS: `save_file(torchvision.models.resnet18().state_dict(), path)`
//! (any float dtype; loaded strictly). IO: float32 `input` `[N, 3, H, W]`
//! (H, W >= 32) and, optionally, float32 `output` `[N, num_classes]`. Prints
//! `output max abs diff: X` when there is an output, and image 0's top-5
//! classes; exits 0 only when the difference is within 1e-3 (or there is
//! none to check), 1 with a message on any error.
//!
//! The repository's case (`tests/data/generate_resnet18.py`) has weights
//! given by a formula rather than a 45 MB file; `tests/it/resnet18.rs`
//! writes them and runs this example on them.

#[path = "resnet18/mod.rs"]
mod resnet18;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

/// Run torchvision's ResNet-18 on IO's `input` with the weights of WEIGHTS
/// and compare with IO's `output`.
#[derive(Parser, Debug)]
#[command(name = "resnet18")]
struct Args {
    /// The state dict, as `safetensors.torch.save_file(model.state_dict(), path)` writes it.
    weights: PathBuf,
    /// float32 `input` [N, 3, H, W] (H, W >= 32) and optionally `output` [N, num_classes].
    io: PathBuf,
    /// The classifier's width (`resnet18(num_classes=N)`).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    num_classes: u32,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let num_classes = args.num_classes as usize;
    // The small file first: a wrong input is reported before the weights are read.
    let outcome = resnet18::read_io(&args.io, num_classes).and_then(|case| {
        let model = resnet18::load_weights(&args.weights, num_classes)?;
        let start = Instant::now();
        let checked = resnet18::run(&model, &case);
        Ok((checked, case.input.shape(), start.elapsed()))
    });
    let (checked, shape, took) = match outcome {
        Ok(done) => done,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    println!("input {shape:?} -> output {:?} in {:.1} ms", checked.output.shape(), took.as_secs_f64() * 1e3);
    let classes: Vec<String> =
        checked.top5.iter().map(|(class, logit)| format!("{class} ({logit:.4})")).collect();
    println!("top-5 classes of image 0: {}", classes.join(", "));
    match checked.max_abs_diff {
        Some(diff) => {
            println!("output max abs diff: {diff:e}");
            if diff <= resnet18::TOLERANCE {
                ExitCode::SUCCESS
            } else {
                eprintln!(
                    "error: the output differs from IO's by {diff:e}, more than {:e}",
                    resnet18::TOLERANCE
                );
                ExitCode::FAILURE
            }
        }
        None => {
            println!("(no `output` in IO to compare with)");
            ExitCode::SUCCESS
        }
    }
}
