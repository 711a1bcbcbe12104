//! Transfer learning as torchvision users do it: torchvision's ResNet-18
//! (`examples/resnet18/model.rs`) with its early stages frozen, its last
//! stage and a new 10-class head fine-tuned on the UCI digits (embedded),
//! upscaled to 32x32 and made 3-channel, with augmentation (random crops
//! with padding), parameter groups (no weight decay on biases and norms, a
//! 10x learning rate on the new head) and a linear warmup followed by a
//! cosine decay (`SequentialLR`).
//!
//! ```text
//! cargo run --release --example finetune_resnet18
//! cargo run --release --example finetune_resnet18 -- --weights resnet18.safetensors --epochs 8
//! ```
//!
//! `--weights` starts from a torchvision state_dict saved with safetensors
//! (`save_file(torchvision.models.resnet18(weights="DEFAULT").state_dict(),
//! path)`: any float dtype; its 1000-class `fc` is replaced). Without it the
//! frozen stages keep their random initialization: the recipe still runs and
//! learns, as a head over random features does, but pretrained weights are
//! what make the frozen stages worth keeping.

mod digits;
#[path = "resnet18/mod.rs"]
mod resnet18;
#[allow(dead_code)] // The checks of train_digits' other flags.
mod train_checks;

use std::error::Error;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use blocks::data::{DataLoader, RandomCrop, Transformed, correct};
use blocks::nn::{DynLinear, Images, ModuleExt};
use blocks::optim::{
    CosineAnnealingLR, LinearLR, LinearLRConfig, LrScheduler, Optimizer, ParamGroup, SequentialLR, Sgd,
    SgdConfig,
};
use blocks::prelude::*;
use blocks::{InterpolateMode, InterpolateSize};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

/// Fine-tune ResNet-18's last stage and a new head on the digits, upscaled to 32x32.
#[derive(Parser, Debug)]
#[command(name = "finetune_resnet18")]
struct Args {
    /// A torchvision ResNet-18 state_dict (safetensors) to start from; random weights without it.
    #[arg(long)]
    weights: Option<PathBuf>,
    /// Passes over the training images (the first is the warmup).
    #[arg(long, default_value_t = 6, value_parser = train_checks::epochs)]
    epochs: usize,
    /// Images per step.
    #[arg(long, default_value_t = 64, value_parser = train_checks::width)]
    batch_size: usize,
    /// The last stage's learning rate after warmup (the head's is 10 times it).
    #[arg(long, default_value_t = 0.01, value_parser = train_checks::non_negative)]
    lr: f64,
    /// Weight decay on the weights of convolutions and the head (none on biases and norms).
    #[arg(long, default_value_t = 5e-4, value_parser = train_checks::non_negative)]
    weight_decay: f64,
    /// Seed of the head, the split, the shuffling and the crops.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The digits as torchvision-style images: `[N, 3, 32, 32]`, bilinear
/// upscaling of the 8x8 pixels, the gray channel repeated, normalized to
/// mean 0 and standard deviation 1 over the set.
fn upscaled(pixels: &Tensor) -> Tensor {
    let n = pixels.shape()[0] as isize;
    let gray = pixels
        .reshape(&[n, 1, 8, 8])
        .interpolate(&InterpolateSize::size([32, 32]), InterpolateMode::Bilinear { align_corners: false });
    let values = gray.to_vec();
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32).sqrt();
    let gray = gray.sub_scalar(mean).div_scalar(std);
    Tensor::cat(&[&gray, &gray, &gray], 1)
}

fn run(args: Args) -> Result<(), Box<dyn Error>> {
    manual_seed(args.seed);
    let mut model = match &args.weights {
        Some(path) => resnet18::load_weights(path, 1000)?,
        None => resnet18::resnet18(1000),
    };
    // A new 10-class head, as `model.fc = nn.Linear(512, 10)`.
    model.fc = DynLinear::new(512, 10);
    let digits = digits::load_digits()?;
    let data = blocks::data::TensorDataset::try_new(upscaled(digits.inputs()), digits.labels().to_vec())?;
    let (train, test) = data.split(0.2, args.seed);
    println!(
        "digits: {} training and {} test images, upscaled to 3x32x32; starting from {}",
        train.len(),
        test.len(),
        args.weights.as_ref().map_or("random weights".to_string(), |p| p.display().to_string())
    );

    // Frozen: the stem and stages 1-3, parameters and BatchNorm statistics.
    for frozen in [&model.conv1 as &dyn Module, &model.bn1, &model.layer1, &model.layer2, &model.layer3] {
        frozen.requires_grad_(false);
    }
    // Three groups, as a PyTorch recipe writes them: the last stage's weights
    // with decay, its biases and norms without, and the new head at 10x.
    // (Biases and the BatchNorms' weights are the 1-d parameters.)
    let (no_decay, decay): (Vec<_>, Vec<_>) =
        model.layer4.parameters().into_iter().partition(|p| p.shape().len() == 1);
    let config =
        |lr: f64, weight_decay: f64| SgdConfig { lr, momentum: 0.9, weight_decay, ..Default::default() };
    let head: Vec<_> = model.fc.parameters();
    let mut optimizer = Sgd::with_groups(vec![
        ParamGroup::new(&decay, config(args.lr, args.weight_decay)),
        ParamGroup::new(&no_decay, config(args.lr, 0.0)),
        ParamGroup::new(&head, config(10.0 * args.lr, args.weight_decay)),
    ]);
    println!("{optimizer}");
    // One epoch of linear warmup from a tenth of each rate, then a half cosine to 0.
    let warmup =
        LinearLR::new(&mut optimizer, LinearLRConfig { start_factor: 0.1, end_factor: 1.0, total_iters: 1 });
    let cosine = CosineAnnealingLR::new(&optimizer, args.epochs.saturating_sub(1).max(1), 0.0);
    let mut schedule = SequentialLR::new(&mut optimizer, vec![Box::new(warmup), Box::new(cosine)], vec![1]);

    let augmented = Transformed::new(train, RandomCrop::new([32, 32]).padding(2), args.seed);
    let loader = DataLoader::new(augmented, args.batch_size).shuffle(args.seed);
    let on_terminal = std::io::stdout().is_terminal();
    let style = ProgressStyle::with_template("{bar:24} {pos}/{len} steps {msg}")?.progress_chars("=> ");
    let steps = (args.epochs * loader.len()) as u64;
    let bar = if on_terminal { ProgressBar::new(steps).with_style(style) } else { ProgressBar::hidden() };
    let started = Instant::now();
    for epoch in 0..args.epochs {
        loader.dataset().set_epoch(epoch as u64);
        model.train_last_stage();
        let (mut loss_sum, mut hits, mut seen) = (0.0, 0, 0);
        let lr = schedule.last_lrs().to_vec();
        for (images, labels) in loader.epoch(epoch as u64) {
            let logits = model.forward(&Images::<3>::new(images));
            let loss = logits.cross_entropy(&labels);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            loss_sum += loss.item() as f64 * labels.len() as f64;
            hits += correct(&logits, &labels);
            seen += labels.len();
            bar.inc(1);
        }
        schedule.step(&mut optimizer);
        let line = format!(
            "epoch {}/{} lr {:.4}/{:.4} loss {:.4} train {:.1}% test {:.1}%",
            epoch + 1,
            args.epochs,
            lr[0],
            lr[2],
            loss_sum / seen as f64,
            100.0 * hits as f64 / seen as f64,
            100.0 * model.accuracy(&test)
        );
        if on_terminal {
            bar.set_message(format!("| {line}"));
        } else {
            println!("{line}");
        }
    }
    bar.finish();
    let accuracy = model.accuracy(&test);
    println!(
        "test accuracy: {:.2}% ({} of {} images) after {} epochs in {:.1} s",
        100.0 * accuracy,
        (accuracy * test.len() as f64).round(),
        test.len(),
        args.epochs,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What the recipe does with the model beside its forward.
trait FineTune {
    /// Training mode for the last stage and the head only: the frozen
    /// stages' BatchNorms keep their running statistics.
    fn train_last_stage(&self);
    /// Accuracy on `data`, in eval mode and without recording a graph.
    fn accuracy(&self, data: &blocks::data::TensorDataset) -> f64;
}

impl FineTune for resnet18::ResNet {
    fn train_last_stage(&self) {
        self.eval();
        self.layer4.train();
        self.fc.train();
    }

    fn accuracy(&self, data: &blocks::data::TensorDataset) -> f64 {
        self.eval();
        let hits: usize = no_grad(|| {
            (0..data.len())
                .step_by(256)
                .map(|start| {
                    let end = (start + 256).min(data.len());
                    let images = data.inputs().narrow(0, start as isize, end - start);
                    correct(&self.forward(&Images::<3>::new(images)), &data.labels()[start..end])
                })
                .sum()
        });
        hits as f64 / data.len() as f64
    }
}
