//! The cases of uneven and mismatched ranks, each ending within
//! [`BOUND_SECONDS`] with a message naming the cause, or completing with
//! `join()`:
//!
//! - `uneven_join`: rank 0 has 2 batches, rank 1 has 4; rank 0 joins after
//!   its last step and answers rank 1's exchanges; every rank ends with the
//!   parameters one process gets taking steps 1-2 on both ranks' batches
//!   and steps 3-4 on rank 1's alone (with half the loss under PyTorch's
//!   default `divide_by_initial_world_size`, the full loss without it),
//!   identical on both ranks.
//! - `early_stop`: rank 1 drops its model after 1 of 3 steps, without
//!   `join()`: the job ends, naming the rank that stopped.
//! - `hang`: rank 1 stops taking part (sleeps); rank 0's exchange reaches
//!   its timeout (5 s) and ends the job, saying why.
//! - `absent`: rank 1 never comes to the construction (sleeps); rank 0's
//!   structure check reaches its timeout (5 s) and ends the job, saying
//!   why: the collectives of construction wait no longer than a step's.
//! - `settings`: the ranks pass different batch sizes: construction fails
//!   on every rank, each naming the difference.
//! - `train_digits` launched with different `--epochs` or `--batch-size`
//!   per rank (MPMD): both ranks refuse, naming the flag, before training.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use blocks::distributed::{DdpConfig, DistributedDataParallel, World};
use blocks::prelude::*;

use super::{WATCHDOG_SECONDS, close, identical_to_rank_0, launch, params, plain, text, train_digits_binary};

/// Each case must end within this (the bound).
const BOUND_SECONDS: u64 = 60;

/// Runs `check` and fails it if it took longer than [`BOUND_SECONDS`].
fn within_bound(check: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    let started = Instant::now();
    let outcome = check();
    let took = started.elapsed();
    match outcome {
        Ok(()) if took > Duration::from_secs(BOUND_SECONDS) => Err(format!("took {took:?}")),
        other => other,
    }
}

pub fn check_uneven_join() -> Result<(), String> {
    within_bound(|| {
        let output = launch("uneven_join", 2, false);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let passed =
            (0..2).filter(|r| stdout.matches(&format!("rank {r} of 2: join ok")).count() == 2).count();
        if output.status.success() && passed == 2 { Ok(()) } else { Err(text(&output)) }
    })
}

/// A job that must end with a failure status (not the watchdog's) and `message`.
fn check_ends_with(case: &str, message: &str) -> Result<(), String> {
    within_bound(|| {
        let output = launch(case, 2, false);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let code = output.status.code();
        if code.is_some_and(|c| c != 0 && c != 124 && c != 137) && stderr.contains(message) {
            Ok(())
        } else {
            Err(text(&output))
        }
    })
}

pub fn check_early_stop() -> Result<(), String> {
    check_ends_with("early_stop", "stopped training")
}

pub fn check_hang() -> Result<(), String> {
    check_ends_with("hang", "no answer from the other ranks within 5s")
}

pub fn check_absent() -> Result<(), String> {
    check_ends_with(
        "absent",
        "rank 0 of 2: an all-gather of the ranks' verdicts: no answer from the other ranks within 5s",
    )
}

pub fn check_settings() -> Result<(), String> {
    within_bound(|| {
        let output = launch("settings", 2, false);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let named = "the settings differ between ranks";
        let difference = "batch size is 16 on rank 1, but 32 on rank 0";
        let told = (0..2)
            .filter(|r| {
                stdout.lines().any(|l| l.starts_with(&format!("rank {r}:")) && l.contains(difference))
            })
            .count();
        if output.status.success() && stdout.contains(named) && told == 2 {
            Ok(())
        } else {
            Err(text(&output))
        }
    })
}

/// `mpirun -np 1 train_digits first... : -np 1 train_digits second...` under the watchdog.
fn mpmd(program: &Path, first: &[&str], second: &[&str]) -> Output {
    let mut command = Command::new("timeout");
    command.args(["--kill-after=10", &WATCHDOG_SECONDS.to_string(), "mpirun", "--allow-run-as-root"]);
    command
        .arg("-np")
        .arg("1")
        .arg(program)
        .args(first)
        .arg(":")
        .arg("-np")
        .arg("1")
        .arg(program)
        .args(second);
    command
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
        .env("OMPI_MCA_mpi_yield_when_idle", "1");
    command.output().expect("mpirun runs")
}

pub fn check_train_digits_mismatches() -> Result<(), String> {
    let binary = train_digits_binary();
    let cases: [(&[&str], &[&str], &str); 2] = [
        (&["--epochs", "3"], &["--epochs", "2"], "--epochs is 2 on rank 1, but 3 on rank 0"),
        (&["--batch-size", "32"], &["--batch-size", "16"], "--batch-size is 16 on rank 1, but 32 on rank 0"),
    ];
    for (first, second, difference) in cases {
        within_bound(|| {
            let common = ["--distributed", "--model", "mlp", "--hidden", "16"];
            let output = mpmd(&binary, &[&common[..], first].concat(), &[&common[..], second].concat());
            let (stdout, stderr) =
                (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
            let told = (0..2)
                .filter(|r| {
                    stderr.contains(&format!(
                        "rank {r} of 2: error: DistributedDataParallel: the settings differ"
                    ))
                })
                .count();
            let trained = stdout.contains("test accuracy");
            if !output.status.success() && told >= 1 && stderr.contains(difference) && !trained {
                Ok(())
            } else {
                Err(format!("{first:?} against {second:?}:\n{}", text(&output)))
            }
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------- ranks

/// The batch rank `rank` takes at `step`: 6 samples, the same on every rank that asks.
pub fn batch(step: usize, rank: usize) -> (Tensor, Vec<usize>) {
    manual_seed(1_000 + 10 * step as u64 + rank as u64);
    (Tensor::randn([6, 6]), (0..6).map(|i| (i + step + rank) % 4).collect())
}

pub fn uneven_join(world: &World) {
    for divide_by_initial_world_size in [true, false] {
        uneven_join_dividing(world, divide_by_initial_world_size);
    }
}

/// Rank 0 has 2 batches, rank 1 has 4. With `divide_by_initial_world_size`
/// (PyTorch's default) steps 3-4 divide rank 1's gradient by the world
/// size (rank 0 counts as zeros: one process on rank 1's batch with half
/// the loss); without it, by the one rank still training.
fn uneven_join_dividing(world: &World, divide_by_initial_world_size: bool) {
    let rank = world.rank();
    manual_seed(5);
    let config = DdpConfig { divide_by_initial_world_size, ..Default::default() };
    let ddp = world.abort_on_error(DistributedDataParallel::with_config(plain(8), world, config));
    manual_seed(5);
    let reference = plain(8);
    let sgd = SgdConfig { lr: 0.1, ..Default::default() };
    let mut opt = Sgd::new(ddp.parameters(), sgd);
    for step in 0..if rank == 0 { 2 } else { 4 } {
        let (x, y) = batch(step, rank);
        opt.zero_grad();
        ddp.backward(&ddp.forward_tensor(&x).cross_entropy(&y));
        opt.step();
    }
    ddp.join();
    // One process: steps 1-2 on both ranks' batches (equal halves: the mean
    // of the two means), steps 3-4 on rank 1's alone (halved when dividing
    // by the world size).
    let mut reference_opt = Sgd::new(reference.parameters(), sgd);
    for step in 0..4 {
        let (x, y) = if step < 2 {
            let ((x0, y0), (x1, y1)) = (batch(step, 0), batch(step, 1));
            (Tensor::cat(&[&x0, &x1], 0), [y0, y1].concat())
        } else {
            batch(step, 1)
        };
        reference_opt.zero_grad();
        let loss = reference.forward_tensor(&x).cross_entropy(&y);
        if step >= 2 && divide_by_initial_world_size {
            (loss * 0.5).backward()
        } else {
            loss.backward()
        }
        reference_opt.step();
    }
    let outcome = identical_to_rank_0(world, &params(&*ddp))
        .and_then(|()| close("after join", &params(&*ddp), &params(&reference)));
    match outcome {
        Ok(worst) => println!(
            "rank {rank} of 2: join ok (divide_by_initial_world_size {divide_by_initial_world_size}: {worst:.1e})"
        ),
        Err(message) => world.abort_with(message),
    }
}

pub fn early_stop(world: &World) {
    let ddp = world.abort_on_error(DistributedDataParallel::new(plain(8), world));
    let mut opt = Sgd::new(ddp.parameters(), SgdConfig { lr: 0.1, ..Default::default() });
    for step in 0..3 {
        if world.rank() == 1 && step == 1 {
            drop(ddp); // returns early, without join()
            std::thread::sleep(Duration::from_secs(BOUND_SECONDS * 2));
            return;
        }
        let (x, y) = batch(step, world.rank());
        opt.zero_grad();
        ddp.backward(&ddp.forward_tensor(&x).cross_entropy(&y));
        opt.step();
    }
    world.abort_with("rank 0 should not have finished: rank 1 stopped");
}

pub fn hang(world: &World) {
    world.set_timeout(Duration::from_secs(5));
    let ddp = world.abort_on_error(DistributedDataParallel::new(plain(8), world));
    if world.rank() == 1 {
        std::thread::sleep(Duration::from_secs(BOUND_SECONDS * 2)); // stops taking part
    }
    let (x, y) = batch(0, world.rank());
    ddp.backward(&ddp.forward_tensor(&x).cross_entropy(&y));
    world.abort_with("the step should not have completed: rank 1 hangs");
}

pub fn absent(world: &World) {
    world.set_timeout(Duration::from_secs(5));
    if world.rank() == 1 {
        std::thread::sleep(Duration::from_secs(BOUND_SECONDS * 2)); // never constructs
    }
    let _ddp = DistributedDataParallel::new(plain(8), world);
    world.abort_with("the construction should not have completed: rank 1 is absent");
}

pub fn settings(world: &World) {
    let batch = if world.rank() == 1 { "16" } else { "32" };
    let settings = [("batch size".to_string(), batch.to_string())];
    match DistributedDataParallel::with_settings(plain(8), world, DdpConfig::default(), &settings) {
        Ok(_) => world.abort_with("settings that differ between ranks were accepted"),
        Err(error) => println!("rank {}: {error}", world.rank()),
    }
}
