//! `train_digits --distributed`: the same training, data-parallel over the
//! processes `mpirun` started (cargo feature `mpi`).
//!
//! ```text
//! cargo build --release --features mpi --example train_digits
//! mpirun -np 2 target/release/examples/train_digits --distributed
//! ```
//!
//! Every rank holds the model (rank 0's weights, broadcast) and reads its
//! shard of each epoch through a `DistributedSampler`; `--batch-size` stays
//! the global batch (each rank takes its share), so the run takes the same
//! steps as one process. Rank 0 alone prints, draws the progress bar, saves
//! and plots; an error on any rank ends the job.

use std::error::Error;
use std::time::Instant;

use blocks::data::{DataLoader, DistributedSampler, correct};
use blocks::distributed::{DdpConfig, DistributedDataParallel, World};
use blocks::optim::CosineAnnealingLR;
use blocks::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use super::{Args, EpochStats, Schedule, evaluate, load_digits, make_optimizer, model, plot};

/// Initializes MPI, trains, and ends the job on every rank if any rank fails.
pub fn main(args: &Args) -> Result<(), Box<dyn Error>> {
    let world = World::init()?;
    let outcome = train(args, &world);
    world.abort_on_error(outcome);
    Ok(())
}

fn train(args: &Args, world: &World) -> Result<(), Box<dyn Error>> {
    let (rank, size) = (world.rank(), world.size());
    manual_seed(args.seed);
    let (data, module) = model(args, load_digits()?)?;
    let (train, test) = data.split(args.test_fraction, args.seed);
    let per_rank = (args.batch_size / size).max(1);
    if world.is_main() {
        println!(
            "digits: {} training and {} test images on {size} processes, {per_rank} per process and step",
            train.len(),
            test.len()
        );
    }

    // Settings that differ between ranks would split the data differently
    // or end in mismatched exchanges: checked on every rank before training.
    let sampler = DistributedSampler::new(train.len(), size, rank).shuffle(args.seed);
    let mut settings = sampler.settings();
    let flags = [
        ("--batch-size", args.batch_size.to_string()),
        ("--epochs", args.epochs.to_string()),
        ("--model", format!("{:?}", args.model)),
        ("--hidden", args.hidden.to_string()),
        ("--optimizer", format!("{:?}", args.optimizer)),
        ("--lr", args.lr.to_string()),
        ("--schedule", format!("{:?}", args.schedule)),
        ("--momentum", args.momentum.to_string()),
        ("--weight-decay", args.weight_decay.to_string()),
        ("--seed", args.seed.to_string()),
        ("--test-fraction", args.test_fraction.to_string()),
    ];
    settings.extend(flags.into_iter().map(|(flag, value)| (flag.to_string(), value)));
    let net = DistributedDataParallel::with_settings(module, world, DdpConfig::default(), &settings)?;
    if world.is_main() {
        println!("{}", blocks::nn::module_repr(&**net.module()));
    }
    let mut optimizer = make_optimizer(args, net.module());
    let mut schedule = CosineAnnealingLR::new(&*optimizer, args.epochs.max(1), 0.0);
    let loader = DataLoader::new(train, per_rank).sampler(sampler);

    let bar = if world.is_main() {
        let style = ProgressStyle::with_template("{bar:24} {pos}/{len} steps, {speed} {msg}")?
            .with_key("speed", |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}/s", state.per_sec());
            })
            .progress_chars("=> ");
        ProgressBar::new((args.epochs * loader.len()) as u64).with_style(style)
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let mut history = Vec::with_capacity(args.epochs);
    for epoch in 0..args.epochs {
        net.train();
        loader.set_epoch(epoch as u64); // the same shuffle on every rank
        let mut sums = [0.0; 3]; // loss × samples, hits, samples
        for (inputs, labels) in &loader {
            let logits = net.forward_tensor(&inputs);
            let loss = logits.cross_entropy(&labels);
            optimizer.zero_grad();
            net.backward(&loss); // gradients averaged over the ranks
            optimizer.step();
            sums[0] += loss.item() as f64 * labels.len() as f64;
            sums[1] += correct(&logits, &labels) as f64;
            sums[2] += labels.len() as f64;
            bar.inc(1);
        }
        if args.schedule == Schedule::Cosine {
            schedule.step(&mut *optimizer);
        }
        world.all_reduce_sum(&mut sums); // over every rank's shard
        let test_accuracy = if world.is_main() { evaluate(net.module(), &test) } else { 0.0 };
        let stats =
            EpochStats { train_loss: sums[0] / sums[2], train_accuracy: sums[1] / sums[2], test_accuracy };
        bar.set_message(format!(
            "| epoch {}/{} loss {:.4} train {:.1}% test {:.1}%",
            epoch + 1,
            args.epochs,
            stats.train_loss,
            100.0 * stats.train_accuracy,
            100.0 * stats.test_accuracy
        ));
        history.push(stats);
    }
    bar.finish();

    if world.is_main() {
        let accuracy = evaluate(net.module(), &test);
        println!(
            "test accuracy: {:.2}% ({} of {} images) after {} epochs in {:.1} s on {size} processes",
            100.0 * accuracy,
            (accuracy * test.len() as f64).round(),
            test.len(),
            args.epochs,
            started.elapsed().as_secs_f64()
        );
    }
    if let Some(path) = &args.save {
        net.save(path)?; // rank 0 writes, every rank learns the outcome
        if world.is_main() {
            println!("saved the model to {}", path.display());
        }
    }
    if let (Some(path), true) = (&args.plot, world.is_main()) {
        plot(&history, path)?;
        println!("drew the curves in {}", path.display());
    }
    Ok(())
}
