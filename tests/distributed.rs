//! Data-parallel training under `mpirun` (feature `mpi`): one binary that is
//! both the driver and the ranks.
//!
//! Run by `cargo test --features mpi --test distributed`, it is the driver:
//! it launches itself under `mpirun` (under `timeout`, the watchdog: a case
//! that hangs fails after [`WATCHDOG_SECONDS`]) for each case below and checks
//! what the ranks report. Launched by `mpirun`, it is a rank and runs the case
//! named in `BLOCKS_DISTRIBUTED_CASE`:
//!
//! - `exactness` (`-np 2`, and `-np 3 --oversubscribe`): 8 steps of SGD with
//!   momentum and of Adam, each rank on its shard through a
//!   `DistributedSampler`, give the parameters one process gets on the full
//!   batch, within 1e-6 relative; the replicas are bitwise identical; a frozen
//!   parameter is skipped; a model with a buffer agrees as [`BufferSync`]
//!   documents (averaged: equal to one process; broadcast: equal to rank 0's;
//!   per rank: its own); a BatchNorm model trains exactly in eval mode, and in
//!   training mode with averaged buffers its running mean is one process's.
//! - `mismatch`: rank 1 builds a wider layer; construction fails on every
//!   rank, rank 1 naming the first difference.
//! - `panic`, `error`, `dies`: rank 1 panics, returns an error through
//!   `abort_on_error`, or crashes (`abort()`), in the middle of training
//!   while rank 0 waits in an all-reduce; the job must end (not hang) with
//!   the rank's message (for the crash, the launcher's).
//! - `unused` and `overlap`: a gradient missing on a rank is divided as
//!   PyTorch divides it, and the overlapped backward gives the separate
//!   path's bits: see `distributed/gradients.rs`.
//! - `sync_batch_norm`: 2 ranks on halves of a batch give one BatchNorm's
//!   results on the whole: see `distributed/sync_batch_norm.rs`.
//! - uneven and mismatched ranks (`uneven_join`, `early_stop`, `hang`, `absent`,
//!   `settings`, and `train_digits` with different flags per rank): see
//!   `distributed/uneven.rs`.

#[path = "distributed/gradients.rs"]
mod gradients;
#[path = "distributed/sync_batch_norm.rs"]
mod sync_batch_norm;
#[path = "distributed/uneven.rs"]
mod uneven;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use blocks::data::{DataLoader, DistributedSampler, TensorDataset};
use blocks::distributed::mpi::traits::{Communicator, Root};
use blocks::distributed::{BufferSync, DdpConfig, DistributedDataParallel, World};
use blocks::prelude::*;

/// The watchdog: a launch that has not ended by then is killed and fails.
const WATCHDOG_SECONDS: u32 = 300;

/// The global batch of every step; it divides by 2 and by 3.
const BATCH: usize = 12;
/// Samples in the data set: 4 steps per epoch.
const SAMPLES: usize = 48;
const EPOCHS: u64 = 2;

fn main() {
    match std::env::var("BLOCKS_DISTRIBUTED_CASE") {
        Ok(case) => rank_main(&case),
        Err(_) => driver(),
    }
}

// ---------------------------------------------------------------- driver

/// One launch: `np` ranks running `case`; the job's output.
fn launch(case: &str, np: usize, oversubscribe: bool) -> Output {
    let me = std::env::current_exe().expect("the test binary's path");
    run_under_mpirun(&me, &[], np, oversubscribe, case)
}

/// `timeout ... mpirun [--oversubscribe] -np N program args...`, with
/// `BLOCKS_DISTRIBUTED_CASE=case` for the ranks.
fn run_under_mpirun(program: &Path, args: &[&str], np: usize, oversubscribe: bool, case: &str) -> Output {
    let mut command = Command::new("timeout");
    command.args(["--kill-after=10", &WATCHDOG_SECONDS.to_string(), "mpirun", "--allow-run-as-root"]);
    if oversubscribe {
        command.arg("--oversubscribe");
    }
    command
        .args(["-np", &np.to_string()])
        .arg(program)
        .args(args)
        .env("BLOCKS_DISTRIBUTED_CASE", case)
        // Open MPI in containers: run as root, no shared-memory single-copy
        // mechanism that needs ptrace rights.
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
        // Waiting ranks yield the core instead of spinning (CI's 2 cores are shared).
        .env("OMPI_MCA_mpi_yield_when_idle", "1")
        .env("OMPI_MCA_rmaps_base_oversubscribe", if oversubscribe { "1" } else { "0" });
    command.output().expect("mpirun runs (Open MPI installed: apt-get install openmpi-bin libopenmpi-dev)")
}

fn text(output: &Output) -> String {
    format!(
        "exit status {:?}\n--- stdout\n{}--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn check_exactness(np: usize, oversubscribe: bool) -> Result<(), String> {
    let output = launch("exactness", np, oversubscribe);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let passed = (0..np).filter(|r| stdout.contains(&format!("rank {r} of {np}: exactness ok"))).count();
    if output.status.success() && passed == np {
        Ok(())
    } else {
        Err(format!("{passed} of {np} ranks passed\n{}", text(&output)))
    }
}

/// A case every rank of 2 must pass, printing `rank R of 2: <passed>`.
fn check_ok(case: &str, passed: &str) -> Result<(), String> {
    let output = launch(case, 2, false);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let ranks = (0..2).filter(|r| stdout.contains(&format!("rank {r} of 2: {passed}"))).count();
    if output.status.success() && ranks == 2 { Ok(()) } else { Err(text(&output)) }
}

fn check_mismatch() -> Result<(), String> {
    let output = launch("mismatch", 2, false);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let named = "rank 1: DistributedDataParallel: the model differs between ranks (rank 1): entry 0: parameter \
                 `0.weight` of shape [17, 6] on rank 1, but parameter `0.weight` of shape [16, 6] on rank 0";
    let told =
        "rank 0: DistributedDataParallel: the model differs between ranks (rank 0): rank(s) [1] differ";
    if output.status.success() && stdout.contains(named) && stdout.contains(told) {
        Ok(())
    } else {
        Err(text(&output))
    }
}

/// A failing rank ends the job: a non-zero status that is not the watchdog's
/// (124, 137), and the rank's message.
fn check_failure(case: &str, message: &str) -> Result<(), String> {
    let output = launch(case, 2, false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    if code.is_some_and(|c| c != 0 && c != 124 && c != 137) && stderr.contains(message) {
        Ok(())
    } else {
        Err(text(&output))
    }
}

/// The example binary, built next to this test's directory by
/// `cargo build --features mpi --example train_digits` (CI does it first).
fn train_digits_binary() -> PathBuf {
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let profile_dir = test_binary.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    profile_dir.join("examples").join(format!("train_digits{}", std::env::consts::EXE_SUFFIX))
}

/// `train_digits --distributed` on 2 processes reaches the accuracy one
/// process reaches (tests/it/train_digits_example.rs: at least 97%).
fn check_train_digits() -> Result<(), String> {
    let binary = train_digits_binary();
    if !binary.exists() {
        return Err(format!(
            "{} is missing: run `cargo build --features mpi --example train_digits` first",
            binary.display()
        ));
    }
    let output = run_under_mpirun(&binary, &["--distributed"], 2, false, "train_digits");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().find(|l| l.starts_with("test accuracy: ")).unwrap_or_default();
    let percent: f64 =
        line.trim_start_matches("test accuracy: ").split('%').next().unwrap().parse().unwrap_or(0.0);
    let once = stdout.matches("test accuracy: ").count() == 1; // printed by rank 0 alone
    if output.status.success() && percent >= 97.0 && once && line.ends_with("on 2 processes") {
        println!("    train_digits --distributed on 2 processes: {line}");
        Ok(())
    } else {
        Err(text(&output))
    }
}

/// One check of the driver: `Err` carries the job's output.
type Case = Box<dyn Fn() -> Result<(), String>>;

fn driver() {
    let cases: Vec<(&str, Case)> = vec![
        ("exactness_2_ranks", Box::new(|| check_exactness(2, false))),
        ("exactness_3_ranks_oversubscribed", Box::new(|| check_exactness(3, true))),
        ("structure_mismatch_fails_on_every_rank", Box::new(check_mismatch)),
        ("train_digits_distributed_reaches_97_percent", Box::new(check_train_digits)),
        (
            "a_panicking_rank_aborts_the_job",
            Box::new(|| check_failure("panic", "rank 1 of 2 panicked: aborting every rank (MPI_Abort)")),
        ),
        ("a_rank_that_dies_ends_the_job", Box::new(|| check_failure("dies", "exited on signal 6 (Aborted)"))),
        ("uneven_inputs_complete_with_join", Box::new(uneven::check_uneven_join)),
        ("a_missing_gradient_divides_as_pytorch", Box::new(|| check_ok("unused", "unused ok"))),
        ("overlapped_backward_gives_the_separate_paths_bits", Box::new(|| check_ok("overlap", "overlap ok"))),
        (
            "sync_batch_norm_on_halves_is_batch_norm_on_the_whole",
            Box::new(|| check_ok("sync_batch_norm", "sync_batch_norm ok")),
        ),
        ("a_rank_that_returns_early_ends_the_job", Box::new(uneven::check_early_stop)),
        ("a_hanging_rank_ends_the_job_at_the_timeout", Box::new(uneven::check_hang)),
        ("an_absent_rank_ends_the_construction_at_the_timeout", Box::new(uneven::check_absent)),
        ("settings_that_differ_fail_on_every_rank", Box::new(uneven::check_settings)),
        (
            "train_digits_with_different_flags_per_rank_refuses",
            Box::new(uneven::check_train_digits_mismatches),
        ),
        (
            "an_erring_rank_aborts_the_job",
            Box::new(|| {
                check_failure(
                    "error",
                    "rank 1 of 2: error: shard 1 is unreadable: aborting every rank (MPI_Abort)",
                )
            }),
        ),
    ];
    // `cargo test --test distributed -- NAME...` runs the cases whose names contain a NAME.
    let filters: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let cases: Vec<(&str, Case)> = cases
        .into_iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str())))
        .collect();
    println!("\nrunning {} tests under mpirun", cases.len());
    let mut failed = Vec::new();
    for (name, case) in &cases {
        match case() {
            Ok(()) => println!("test {name} ... ok"),
            Err(report) => {
                println!("test {name} ... FAILED\n{report}");
                failed.push(*name);
            }
        }
    }
    println!("\n{} passed, {} failed", cases.len() - failed.len(), failed.len());
    if !failed.is_empty() {
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------- ranks

fn rank_main(case: &str) {
    let world = World::init().expect("MPI starts");
    match case {
        "exactness" => exactness(&world),
        "mismatch" => mismatch(&world),
        "panic" | "error" | "dies" => failing(&world, case),
        "uneven_join" => uneven::uneven_join(&world),
        "unused" => gradients::unused(&world),
        "overlap" => gradients::overlap(&world),
        "sync_batch_norm" => sync_batch_norm::sync_batch_norm(&world),
        "early_stop" => uneven::early_stop(&world),
        "hang" => uneven::hang(&world),
        "absent" => uneven::absent(&world),
        "settings" => uneven::settings(&world),
        other => world.abort_with(format!("unknown case {other}")),
    }
}

/// A custom block with a buffer: subtracts the running mean of its inputs
/// (the value before this batch), then updates it with the batch's mean,
/// as a BatchNorm's running mean is updated.
#[derive(Module)]
#[module(keeps_width)]
struct RunningCentering {
    #[module(buffer)]
    running_mean: Tensor,
}

impl Forward<Tensor> for RunningCentering {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        let out = x - &self.running_mean.detach();
        let batch_mean = no_grad(|| x.mean_dim(&[0], false));
        let updated = no_grad(|| &(&self.running_mean * 0.9) + &(&batch_mean * 0.1));
        self.running_mean.set_data(&updated);
        out
    }
}

/// BatchNorm1d from the functional ops (PyTorch's momentum 0.1, eps 1e-5):
/// with `frozen` it normalizes with its running statistics (a BatchNorm in
/// eval mode, as when fine-tuning), else with the batch's and updates them.
#[derive(Module)]
#[module(keeps_width)]
struct BatchNorm {
    weight: Parameter,
    bias: Parameter,
    #[module(buffer)]
    running_mean: Tensor,
    #[module(buffer)]
    running_var: Tensor,
    #[module(skip)]
    frozen: bool,
}

impl BatchNorm {
    fn new(features: usize, frozen: bool) -> Self {
        BatchNorm {
            weight: Parameter::new(Tensor::rand([features]) + 0.5),
            bias: Parameter::new(Tensor::randn([features])),
            running_mean: Tensor::randn([features]),
            running_var: Tensor::rand([features]) + 0.5,
            frozen,
        }
    }
}

impl Forward<Tensor> for BatchNorm {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        let (weight, bias) = (Some(self.weight.tensor()), Some(self.bias.tensor()));
        if self.frozen {
            return x.batch_norm_eval(&self.running_mean, &self.running_var, weight, bias, 1e-5);
        }
        let (y, stats) = x.batch_norm_train(weight, bias, 1e-5);
        stats.update_running(&self.running_mean, &self.running_var, Some(0.1), 1);
        y
    }
}

fn data() -> TensorDataset {
    manual_seed(7);
    TensorDataset::new(Tensor::randn([SAMPLES, 6]), (0..SAMPLES).map(|i| (i * 5 + 1) % 4).collect())
}

type Plain = Sequential<(DynLinear, ReLU, DynLinear)>;
type Centered = Sequential<(DynLinear, RunningCentering, ReLU, DynLinear)>;
type Normed = Sequential<(DynLinear, BatchNorm, ReLU, DynLinear)>;

fn normed(frozen: bool) -> Normed {
    sequential![DynLinear::new(6, 16), BatchNorm::new(16, frozen), ReLU, DynLinear::new(16, 4)]
}

fn plain(hidden: usize) -> Plain {
    sequential![DynLinear::new(6, hidden), ReLU, DynLinear::new(hidden, 4)]
}

fn centered() -> Centered {
    sequential![
        DynLinear::new(6, 16),
        RunningCentering { running_mean: Tensor::randn([16]) },
        ReLU,
        DynLinear::new(16, 4)
    ]
}

#[derive(Clone, Copy, Debug)]
enum Opt {
    SgdMomentum,
    Adam,
}

fn optimizer(kind: Opt, params: Vec<Parameter>) -> Box<dyn Optimizer> {
    match kind {
        Opt::SgdMomentum => Box::new(Sgd::new(
            params,
            SgdConfig { lr: 0.1, momentum: 0.9, weight_decay: 1e-3, ..Default::default() },
        )),
        Opt::Adam => Box::new(Adam::new(params, AdamConfig { lr: 1e-2, ..Default::default() })),
    }
}

/// Trains `model` for [`EPOCHS`] over `loader`, each step through `backward`.
fn train<M: Module + Block>(model: &M, loader: &DataLoader, kind: Opt, backward: impl Fn(&Tensor)) {
    let mut opt = optimizer(kind, model.parameters());
    for epoch in 0..EPOCHS {
        loader.set_epoch(epoch);
        for (x, y) in loader {
            opt.zero_grad();
            backward(&model.forward_tensor(&x).cross_entropy(&y));
            opt.step();
        }
    }
}

/// The parameters as plain tensors, with their names.
fn params(model: &impl Module) -> Vec<(String, Tensor)> {
    model.named_parameters().into_iter().map(|(name, p)| (name, p.tensor().clone())).collect()
}

/// The gradients of the last step, with the parameters' names (frozen ones left out).
fn grads(model: &impl Module) -> Vec<(String, Tensor)> {
    model.named_parameters().into_iter().filter_map(|(name, p)| p.grad().map(|g| (name, g))).collect()
}

/// Rank 0's copy of every value of `tensors`, compared bitwise with this rank's.
fn identical_to_rank_0(world: &World, tensors: &[(String, Tensor)]) -> Result<(), String> {
    for (name, tensor) in tensors {
        let mine = tensor.to_vec();
        let mut main = mine.clone();
        world.communicator().process_at_rank(0).broadcast_into(&mut main[..]);
        if mine.iter().zip(&main).any(|(a, b)| a.to_bits() != b.to_bits()) {
            return Err(format!("{name} differs from rank 0's"));
        }
    }
    Ok(())
}

/// `|a - b| <= 1e-6 * max|b|` for every element of every tensor: float32
/// results that differ only in the order of their sums.
fn close(what: &str, got: &[(String, Tensor)], want: &[(String, Tensor)]) -> Result<f64, String> {
    let mut worst: f64 = 0.0;
    for ((name, a), (_, b)) in got.iter().zip(want) {
        let scale = b.to_vec().iter().fold(0.0f64, |m, v| m.max(v.abs() as f64)).max(f64::MIN_POSITIVE);
        for (x, y) in a.to_vec().iter().zip(b.to_vec()) {
            let relative = (*x as f64 - y as f64).abs() / scale;
            worst = worst.max(relative);
            if relative > 1e-6 {
                return Err(format!(
                    "{what}: {name} differs from one process: {x} vs {y} ({relative:e} relative)"
                ));
            }
        }
    }
    Ok(worst)
}

fn exactness(world: &World) {
    let (rank, size) = (world.rank(), world.size());
    let data = data();
    let shard_loader = || {
        DataLoader::new(data.clone(), BATCH / size)
            .sampler(DistributedSampler::new(SAMPLES, size, rank).shuffle(3))
    };
    let full_loader = DataLoader::new(data.clone(), BATCH).shuffle(3);
    let mut report = Vec::new();
    let outcome = (|| -> Result<(), String> {
        for kind in [Opt::SgdMomentum, Opt::Adam] {
            // Different weights on every rank: the broadcast makes them rank 0's.
            manual_seed(100 + rank as u64);
            let model = plain(16);
            model.0.0.bias().unwrap().set_requires_grad(false); // a frozen parameter
            let ddp = DistributedDataParallel::new(model, world).map_err(|e| e.to_string())?;
            let (_, bytes) = ddp.gradient_buckets();
            let trainable = 16 * 6 + 4 * 16 + 4;
            if bytes != (trainable + 3) * 4 {
                return Err(format!(
                    "{bytes} bytes per step, want the {trainable} trainable values and 3 counts"
                ));
            }
            let reference = plain(16);
            reference.0.0.bias().unwrap().set_requires_grad(false);
            reference.load_state_dict(&ddp.state_dict()).map_err(|e| e.to_string())?;

            train(&*ddp, &shard_loader(), kind, |loss| ddp.backward(loss));
            train(&reference, &full_loader, kind, |loss| loss.backward());
            identical_to_rank_0(world, &params(&*ddp))?;
            let worst = close(&format!("{kind:?}"), &params(&*ddp), &params(&reference))?;
            let (got, want) = (grads(&*ddp), grads(&reference));
            if got.len() != 3 || want.len() != 3 {
                return Err(format!("{} and {} gradients, want the 3 trainable ones", got.len(), want.len()));
            }
            let worst_grad = close(&format!("{kind:?} gradients"), &got, &want)?;
            if ddp.0.0.bias().unwrap().grad().is_some() {
                return Err("the frozen bias got a gradient".into());
            }
            report.push(format!("{kind:?}: parameters {worst:.1e}, gradients {worst_grad:.1e}"));
        }
        for buffers in [BufferSync::Average, BufferSync::Broadcast, BufferSync::PerRank] {
            manual_seed(200 + rank as u64);
            let config = DdpConfig { buffers, bucket_cap_mb: 0.0002, ..Default::default() }; // 209 bytes: several buckets
            let ddp =
                DistributedDataParallel::with_config(centered(), world, config).map_err(|e| e.to_string())?;
            if ddp.gradient_buckets().0 < 2 {
                return Err("a 209-byte cap should give several buckets".into());
            }
            identical_to_rank_0(world, &ddp.named_buffers())?; // broadcast at construction
            let reference = centered();
            reference.load_state_dict(&ddp.state_dict()).map_err(|e| e.to_string())?;
            train(&*ddp, &shard_loader(), Opt::SgdMomentum, |loss| ddp.backward(loss));
            train(&reference, &full_loader, Opt::SgdMomentum, |loss| loss.backward());
            identical_to_rank_0(world, &params(&*ddp))?;
            match buffers {
                BufferSync::Average => {
                    close("averaged buffers", &ddp.named_buffers(), &reference.named_buffers())?;
                    close("averaged buffers: parameters", &params(&*ddp), &params(&reference))?;
                    close("averaged buffers: gradients", &grads(&*ddp), &grads(&reference))?;
                }
                BufferSync::Broadcast => identical_to_rank_0(world, &ddp.named_buffers())?,
                BufferSync::PerRank => {
                    let same = identical_to_rank_0(world, &ddp.named_buffers()).is_ok();
                    if size > 1 && rank > 0 && same {
                        return Err("per-rank buffers should follow each rank's own shards".into());
                    }
                }
            }
        }
        // BatchNorm in eval mode (running statistics, as when fine-tuning):
        // the forward does not depend on the shard, so training is exact.
        manual_seed(300 + rank as u64);
        let ddp = DistributedDataParallel::new(normed(true), world).map_err(|e| e.to_string())?;
        let reference = normed(true);
        reference.load_state_dict(&ddp.state_dict()).map_err(|e| e.to_string())?;
        train(&*ddp, &shard_loader(), Opt::SgdMomentum, |loss| ddp.backward(loss));
        train(&reference, &full_loader, Opt::SgdMomentum, |loss| loss.backward());
        close("frozen BatchNorm", &params(&*ddp), &params(&reference))?;
        close("frozen BatchNorm: buffers", &ddp.named_buffers(), &reference.named_buffers())?;
        // BatchNorm in training mode normalizes each shard by its own batch
        // statistics (PyTorch's too, without SyncBatchNorm): after one step
        // with averaged buffers, the running mean is one process's exactly.
        manual_seed(400 + rank as u64);
        let config = DdpConfig { buffers: BufferSync::Average, ..Default::default() };
        let ddp =
            DistributedDataParallel::with_config(normed(false), world, config).map_err(|e| e.to_string())?;
        let reference = normed(false);
        reference.load_state_dict(&ddp.state_dict()).map_err(|e| e.to_string())?;
        let (x, y) = shard_loader().iter().next().expect("a batch");
        ddp.backward(&ddp.forward_tensor(&x).cross_entropy(&y));
        let (x, y) = full_loader.epoch(0).next().expect("a batch");
        reference.forward_tensor(&x).cross_entropy(&y).backward();
        let running_mean = |m: &Normed| vec![("1.running_mean".to_string(), m.0.1.running_mean.clone())];
        close("BatchNorm running mean, averaged", &running_mean(&ddp), &running_mean(&reference))?;
        Ok(())
    })();
    match outcome {
        Ok(()) => println!("rank {rank} of {size}: exactness ok ({})", report.join(", ")),
        Err(message) => world.abort_with(message),
    }
}

fn mismatch(world: &World) {
    let hidden = if world.rank() == 1 { 17 } else { 16 };
    match DistributedDataParallel::new(plain(hidden), world) {
        Ok(_) => world.abort_with("a model that differs between ranks was accepted"),
        Err(error) => println!("rank {}: {error}", world.rank()),
    }
}

fn failing(world: &World, case: &str) {
    let data = data();
    let ddp = world.abort_on_error(DistributedDataParallel::new(plain(16), world));
    let loader = DataLoader::new(data, BATCH / world.size()).sampler(DistributedSampler::new(
        SAMPLES,
        world.size(),
        world.rank(),
    ));
    let mut opt = optimizer(Opt::SgdMomentum, ddp.parameters());
    for (step, (x, y)) in loader.iter().enumerate() {
        if world.rank() == 1 && step == 2 {
            match case {
                "panic" => panic!("deliberate failure in step {step}"),
                "dies" => std::process::abort(), // a crash: no hook, no MPI call
                _ => world.abort_on_error(Err::<(), _>("shard 1 is unreadable")),
            }
        }
        opt.zero_grad();
        ddp.backward(&ddp.forward_tensor(&x).cross_entropy(&y));
        opt.step();
    }
    world.abort_with("rank 1 should have failed");
}
