//! A sequence model in the main job's style: a small decoder-only
//! transformer (token and learned position embeddings, a causal
//! `TransformerEncoder`, a LayerNorm and a digit head) learns two-number
//! addition ("37+85=122") from generated data, and reports its exact match
//! on sums it never saw.
//!
//! ```text
//! cargo run --release --example train_addition
//! cargo run --release --example train_addition -- --epochs 30 --plot curves.svg --save adder.safetensors
//! ```
//!
//! Each problem is written with fixed widths, `37+85=122` as the tokens
//! `3 7 + 8 5 = 1 2 2` and `3+5=8` as `0 3 + 0 5 = 0 0 8`, so every answer
//! digit has a fixed place; the model reads the tokens left to right and
//! is trained to give each answer digit from the tokens before it (teacher
//! forcing; the loss is on the answer digits only). It is scored by greedy
//! decoding: after `=`, each digit it writes is fed back for the next, and a
//! problem counts only when all three are right.

#[allow(dead_code)] // `momentum` is train_digits's.
mod train_checks;

use std::error::Error;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use blocks::nn::{
    DynEmbedding, DynLinear, DynTransformerEncoder, DynTransformerEncoderLayer, EncoderMasks, LayerNorm,
    LearnedPositionalEncoding, TransformerActivation, TransformerOptions, generate_square_subsequent_mask,
};
use blocks::optim::{Adam, AdamConfig, CosineAnnealingLR, LrScheduler, Optimizer};
use blocks::prelude::*;
use blocks::{Indices, Mask};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Digits 0-9, then `+` and `=`.
const PLUS: usize = 10;
const EQUALS: usize = 11;
const VOCAB: usize = 12;
/// `a a + b b = s s s`.
const PROMPT: usize = 6;
const ANSWER: usize = 3;
const LENGTH: usize = PROMPT + ANSWER;

/// Train a small decoder-only transformer on two-number addition (0..=99 + 0..=99) and report
/// its exact match on held-out sums.
#[derive(Parser, Debug)]
#[command(name = "train_addition")]
struct Args {
    /// Passes over the training problems.
    #[arg(long, default_value_t = 8, value_parser = train_checks::epochs)]
    epochs: usize,
    /// Problems per step.
    #[arg(long, default_value_t = 64, value_parser = train_checks::width)]
    batch_size: usize,
    /// Adam's learning rate, annealed along a half cosine over the epochs.
    #[arg(long, default_value_t = 3e-3, value_parser = train_checks::non_negative)]
    lr: f64,
    /// The width of the model (d_model).
    #[arg(long, default_value_t = 64, value_parser = train_checks::width)]
    width: usize,
    /// Transformer layers.
    #[arg(long, default_value_t = 2, value_parser = train_checks::width)]
    layers: usize,
    /// Attention heads (must divide --width).
    #[arg(long, default_value_t = 4, value_parser = train_checks::width)]
    heads: usize,
    /// Seed of the initialization, the split and the shuffling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Fraction of the 10,000 problems held out for testing.
    #[arg(long, default_value_t = 0.1, value_parser = train_checks::fraction)]
    test_fraction: f64,
    /// Save the trained model's state dict here (safetensors, loadable by PyTorch).
    #[arg(long)]
    save: Option<PathBuf>,
    /// Draw the loss and exact match per epoch into this SVG file.
    #[arg(long)]
    plot: Option<PathBuf>,
}

/// The tokens of `a + b = a + b`, fixed widths.
fn tokens(a: usize, b: usize) -> [usize; LENGTH] {
    let s = a + b;
    [a / 10, a % 10, PLUS, b / 10, b % 10, EQUALS, s / 100, s / 10 % 10, s % 10]
}

/// The problem as a person writes it, `37+85=122`.
fn written(t: &[usize]) -> String {
    let number = |digits: &[usize]| digits.iter().fold(0, |n, d| n * 10 + d);
    format!("{}+{}={}", number(&t[0..2]), number(&t[3..5]), number(&t[6..9]))
}

/// The transformer: embeddings, a causal encoder stack, a final norm, and
/// a head giving a logit per digit.
#[derive(Module)]
struct Adder {
    embedding: DynEmbedding,
    position: LearnedPositionalEncoding,
    encoder: DynTransformerEncoder,
    norm: LayerNorm,
    head: DynLinear,
    /// `[L, L]`: position i sees positions 0..=i.
    #[module(skip)]
    causal: Mask,
}

impl Adder {
    fn new(args: &Args) -> Result<Self, String> {
        if !args.width.is_multiple_of(args.heads) {
            return Err(format!("--heads {} does not divide --width {}", args.heads, args.width));
        }
        let options = TransformerOptions {
            dim_feedforward: 4 * args.width,
            dropout: 0.0,
            activation: TransformerActivation::Gelu,
            batch_first: true,
            norm_first: true,
            ..Default::default()
        };
        let layer = DynTransformerEncoderLayer::with_options(args.width, args.heads, options);
        Ok(Adder {
            embedding: DynEmbedding::new(VOCAB, args.width),
            position: LearnedPositionalEncoding::new(args.width, 0.0, LENGTH),
            encoder: DynTransformerEncoder::new(&layer, args.layers, None),
            norm: LayerNorm::new([args.width]),
            head: DynLinear::new(args.width, 10),
            causal: generate_square_subsequent_mask::<f32>(LENGTH).into(),
        })
    }

    /// Digit logits `[N, L, 10]` for tokens `[N, L]`, each position seeing
    /// only those before it.
    fn logits(&self, tokens: &Indices) -> Tensor {
        let length = tokens.shape()[1];
        let causal: Mask = generate_square_subsequent_mask::<f32>(length).into();
        let causal = if length == LENGTH { &self.causal } else { &causal };
        let x = self.position.forward(&self.embedding.forward(tokens));
        let masks = EncoderMasks { src_mask: Some(causal), is_causal: true, ..Default::default() };
        self.head.forward(&self.norm.forward(&self.encoder.forward_with(&x, &masks)))
    }

    /// The answers greedy decoding writes for `problems` (`[N, LENGTH]`,
    /// only the prompt read): one digit at a time, each fed back.
    fn answer(&self, problems: &[[usize; LENGTH]]) -> Vec<[usize; ANSWER]> {
        let n = problems.len();
        let mut rows: Vec<Vec<usize>> = problems.iter().map(|p| p[..PROMPT].to_vec()).collect();
        for step in 0..ANSWER {
            let length = PROMPT + step;
            let flat: Vec<usize> = rows.iter().flatten().copied().collect();
            let logits = self.logits(&Indices::from_vec(flat, [n, length]));
            let last = logits.select(1, (length - 1) as isize).argmax(-1, false);
            for (row, &digit) in rows.iter_mut().zip(last.as_slice()) {
                row.push(digit);
            }
        }
        rows.iter().map(|r| [r[PROMPT], r[PROMPT + 1], r[PROMPT + 2]]).collect()
    }
}

impl Forward<Indices> for Adder {
    type Output = Tensor;

    fn forward(&self, tokens: &Indices) -> Tensor {
        self.logits(tokens)
    }
}

/// The fraction of `problems` whose whole answer greedy decoding gets right.
fn exact_match(model: &Adder, problems: &[[usize; LENGTH]]) -> f64 {
    model.eval();
    let right = no_grad(|| {
        problems
            .chunks(1000)
            .map(|chunk| {
                let answers = model.answer(chunk);
                chunk.iter().zip(&answers).filter(|(p, a)| p[PROMPT..] == a[..]).count()
            })
            .sum::<usize>()
    });
    model.train();
    right as f64 / problems.len().max(1) as f64
}

/// One epoch's numbers, for the progress bar and the plot.
struct EpochStats {
    train_loss: f64,
    test_exact: f64,
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

fn run(args: Args) -> Result<(), Box<dyn Error>> {
    for (path, flag) in [(&args.save, "--save"), (&args.plot, "--plot")] {
        if let Some(path) = path {
            train_checks::writable(path, flag)?;
        }
    }
    manual_seed(args.seed);
    let mut problems: Vec<[usize; LENGTH]> =
        (0..100).flat_map(|a| (0..100).map(move |b| tokens(a, b))).collect();
    let mut rng = StdRng::seed_from_u64(args.seed);
    problems.shuffle(&mut rng);
    let held_out = ((problems.len() as f64) * args.test_fraction).round() as usize;
    let (test, train) = problems.split_at(held_out.clamp(1, problems.len() - 1));
    let mut train = train.to_vec();
    println!(
        "addition: {} training and {} held-out problems, e.g. {}",
        train.len(),
        test.len(),
        written(&test[0])
    );
    let model = Adder::new(&args)?;
    println!("{model}");
    let mut optimizer = Adam::new(model.parameters(), AdamConfig { lr: args.lr, ..Default::default() });
    let mut schedule = CosineAnnealingLR::new(&optimizer, args.epochs, 0.0);

    let steps_per_epoch = train.len().div_ceil(args.batch_size);
    let style = ProgressStyle::with_template("{bar:24} {pos}/{len} steps, {speed} {msg}")?
        .with_key("speed", |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", state.per_sec());
        })
        .progress_chars("=> ");
    let on_terminal = std::io::stdout().is_terminal();
    let steps = (args.epochs * steps_per_epoch) as u64;
    let bar = if on_terminal { ProgressBar::new(steps).with_style(style) } else { ProgressBar::hidden() };
    let started = Instant::now();
    let mut history = Vec::with_capacity(args.epochs);
    for epoch in 0..args.epochs {
        train.shuffle(&mut rng);
        let mut loss_sum = 0.0;
        for batch in train.chunks(args.batch_size) {
            let n = batch.len();
            // Inputs: all but the last token; targets: the answer digits, read at
            // the positions before them.
            let inputs: Vec<usize> = batch.iter().flat_map(|p| p[..LENGTH - 1].iter().copied()).collect();
            let logits = model.logits(&Indices::from_vec(inputs, [n, LENGTH - 1]));
            let answer_logits = logits.narrow(1, (PROMPT - 1) as isize, ANSWER).reshape(&[-1, 10]);
            let targets: Vec<usize> = batch.iter().flat_map(|p| p[PROMPT..].iter().copied()).collect();
            let loss = answer_logits.cross_entropy(&targets);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            loss_sum += loss.item() as f64 * n as f64;
            bar.inc(1);
        }
        schedule.step(&mut optimizer);
        let stats =
            EpochStats { train_loss: loss_sum / train.len() as f64, test_exact: exact_match(&model, test) };
        let line = format!(
            "epoch {}/{} loss {:.4} held-out exact {:.2}%",
            epoch + 1,
            args.epochs,
            stats.train_loss,
            100.0 * stats.test_exact
        );
        if on_terminal {
            bar.set_message(format!("| {line}"));
        } else {
            println!("{line}");
        }
        history.push(stats);
    }
    bar.finish();

    let exact = exact_match(&model, test);
    model.eval();
    let shown = &test[..3.min(test.len())];
    let answers = no_grad(|| model.answer(shown));
    for (problem, answer) in shown.iter().zip(&answers) {
        let mut written_answer = problem.to_vec();
        written_answer[PROMPT..].copy_from_slice(answer);
        println!("{} -> {}", written(problem), written(&written_answer));
    }
    println!(
        "exact match: {:.2}% ({} of {} held-out sums) after {} epochs in {:.1} s",
        100.0 * exact,
        (exact * test.len() as f64).round(),
        test.len(),
        args.epochs,
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.save {
        model.save(path)?;
        println!("saved the model to {}", path.display());
    }
    if let Some(path) = &args.plot {
        plot(&history, path)?;
        println!("drew the curves in {}", path.display());
    }
    Ok(())
}

/// Training loss and held-out exact match per epoch, side by side.
fn plot(history: &[EpochStats], path: &Path) -> Result<(), Box<dyn Error>> {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (960, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(480);
    let epochs = u32::try_from(history.len()).unwrap_or(u32::MAX).max(2);
    let ticks = (epochs as usize).min(10);
    type Area<'a, 'b> = &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>;
    let curves: [(Area, &str, &str, Vec<f64>); 2] = [
        (&left, "training loss (cross-entropy)", "loss", history.iter().map(|s| s.train_loss).collect()),
        (&right, "held-out exact match", "%", history.iter().map(|s| 100.0 * s.test_exact).collect()),
    ];
    for (area, caption, unit, values) in curves {
        let top = values.iter().copied().fold(1e-3, f64::max) * 1.05;
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(1..epochs, 0.0..top)?;
        chart.configure_mesh().x_desc("epoch").y_desc(unit).x_labels(ticks).draw()?;
        chart.draw_series(LineSeries::new(
            values.iter().zip(1..).map(|(&v, e)| (e, v)),
            RED.stroke_width(2),
        ))?;
    }
    root.present()?;
    Ok(())
}
