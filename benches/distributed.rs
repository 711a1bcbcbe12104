//! Data-parallel training steps over MPI (feature `mpi`): the
//! 784-512-512-10 MLP, batch 128 per process, SGD, at 1 and 2 processes;
//! blocks' `DistributedDataParallel` against a hand-written step (ndarray
//! forward and backward, one `MPI_Allreduce` of the flat gradient), and the
//! all-reduce alone at sizes around the model's gradient.
//!
//! ```text
//! cargo bench --features mpi --bench distributed
//! cargo bench --features mpi --bench distributed -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Run by cargo, the binary launches itself under `mpirun -np 1` and then
//! `mpirun -np 2` (with `--allow-run-as-root`, under `timeout`). Rank 0 runs
//! criterion; before every batch of iterations it tells the other ranks how
//! many steps to take, so every rank makes the same collective calls. After
//! criterion, every rank takes [`SUMMARY_STEPS`] more steps with the
//! all-reduce timed apart, and rank 0 prints steps per second and the
//! all-reduce time per step against the bytes it moves.
//!
//! The overlap of the all-reduce with backward is measured with 1 MiB
//! buckets (the 25 MiB default holds the whole 2.7 MB gradient in one
//! bucket, which can only start when backward ends): `separate` runs
//! `loss.backward()` then `sync_gradients()`, `overlapped` runs
//! `ddp.backward(&loss)`, whose buckets start their all-reduce from the
//! backward pass. A paired summary then alternates rounds of the two.
//! `BLOCKS_BENCH_NP=2` runs the 2-process launch alone:
//!
//! ```text
//! BLOCKS_BENCH_NP=2 cargo bench --features mpi --bench distributed -- 1MiB
//! ```

use std::process::Command;
use std::time::{Duration, Instant};

use blocks::distributed::mpi::collective::SystemOperation;
use blocks::distributed::mpi::traits::{Communicator, CommunicatorCollectives, Root};
use blocks::distributed::{DdpConfig, DistributedDataParallel, World};
use blocks::prelude::*;
use criterion::{BenchmarkId, Criterion, Throughput};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, Ix2, Zip};

const WIDTHS: [usize; 4] = [784, 512, 512, 10];
/// Samples per process and step (weak scaling: N processes train on N·128).
const BATCH: usize = 128;
const LR: f32 = 1e-3;
/// Steps of the closing measurement, with the all-reduce timed apart.
const SUMMARY_STEPS: u64 = 40;
/// All-reduce sizes in bytes: small messages, the model's gradient, larger.
const ALL_REDUCE_BYTES: [usize; 5] = [4 << 10, 64 << 10, 1 << 20, GRADIENT_BYTES, 16 << 20];
/// The gradient of 784-512-512-10: 669,706 parameters in float32.
const GRADIENT_BYTES: usize = 4 * (784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10);

/// What rank 0 asks the other ranks to do next: `[command, iterations, argument]`.
const STOP: u64 = 0;
const HAND_WRITTEN: u64 = 1;
const BLOCKS: u64 = 2;
const ALL_REDUCE: u64 = 3;
const SEPARATE: u64 = 4;
const OVERLAPPED: u64 = 5;
/// Rounds of the paired overlap summary, and steps of each side per round.
const PAIRED_ROUNDS: usize = 30;
const PAIRED_STEPS: u64 = 10;

fn main() {
    if std::env::var_os("OMPI_COMM_WORLD_SIZE").is_some() || std::env::var_os("PMI_SIZE").is_some() {
        rank_main();
    } else {
        let only: Option<usize> = std::env::var("BLOCKS_BENCH_NP").ok().and_then(|n| n.parse().ok());
        for np in [1, 2].into_iter().filter(|np| only.is_none_or(|only| only == *np)) {
            launch(np);
        }
    }
}

/// `timeout 1800 mpirun -np N <this binary> <criterion's arguments>`.
fn launch(np: usize) {
    let me = std::env::current_exe().expect("the bench binary's path");
    let status = Command::new("timeout")
        .args(["--kill-after=10", "1800", "mpirun", "--allow-run-as-root", "-np", &np.to_string()])
        .arg(&me)
        .args(std::env::args().skip(1))
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
        .status()
        .expect("mpirun runs (apt-get install openmpi-bin libopenmpi-dev)");
    assert!(status.success(), "the benchmark on {np} processes failed: {status}");
}

fn rank_main() {
    let world = World::init().expect("MPI starts");
    let mut bench = Bench::new(&world);
    if world.is_main() {
        let mut c = Criterion::default()
            .sample_size(20)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(4))
            .configure_from_args();
        let n = world.size();
        let mut group = c.benchmark_group(format!("ddp_784_512_512_10_batch128/{n}_processes"));
        group.throughput(Throughput::Elements((BATCH * n) as u64));
        group.bench_function("hand_written", |b| b.iter_custom(|iters| bench.run(HAND_WRITTEN, iters, 0)));
        group.bench_function("blocks", |b| b.iter_custom(|iters| bench.run(BLOCKS, iters, 0)));
        group.finish();
        let mut group = c.benchmark_group(format!("ddp_784_512_512_10_batch128_1MiB_buckets/{n}_processes"));
        group.throughput(Throughput::Elements((BATCH * n) as u64));
        group.bench_function("separate", |b| b.iter_custom(|iters| bench.run(SEPARATE, iters, 0)));
        group.bench_function("overlapped", |b| b.iter_custom(|iters| bench.run(OVERLAPPED, iters, 0)));
        group.finish();
        let mut group = c.benchmark_group(format!("all_reduce/{n}_processes"));
        for bytes in ALL_REDUCE_BYTES {
            group.throughput(Throughput::Bytes(bytes as u64));
            group.bench_with_input(BenchmarkId::from_parameter(bytes), &bytes, |b, &bytes| {
                b.iter_custom(|iters| bench.run(ALL_REDUCE, iters, bytes as u64))
            });
        }
        group.finish();
        bench.tell([STOP, 0, 0]);
    } else {
        loop {
            let [command, iters, argument] = bench.tell([0; 3]);
            if command == STOP {
                break;
            }
            bench.world.barrier();
            bench.work(command, iters, argument);
        }
    }
    bench.summary();
    bench.overlap_summary();
    if world.size() == 1 {
        larger_model();
    }
}

/// The compute side of the paper model for a 10x larger network:
/// 784-2240-2240-10 (6.8 million parameters, 10.2x), one process, batch 128.
fn larger_model() {
    manual_seed(0);
    let model = sequential![
        DynLinear::new(784, 2240),
        ReLU,
        DynLinear::new(2240, 2240),
        ReLU,
        DynLinear::new(2240, 10)
    ];
    let mut optimizer = Sgd::new(model.parameters(), SgdConfig { lr: LR as f64, ..Default::default() });
    let x = Tensor::randn([BATCH, 784]);
    let labels: Vec<usize> = (0..BATCH).map(|i| i % 10).collect();
    let mut step = || {
        optimizer.zero_grad();
        model.forward(&x).cross_entropy(&labels).backward();
        optimizer.step();
    };
    step();
    let start = Instant::now();
    for _ in 0..SUMMARY_STEPS / 4 {
        step();
    }
    let per_step = start.elapsed().as_secs_f64() / (SUMMARY_STEPS / 4) as f64;
    println!(
        "summary, 10x model 784-2240-2240-10 ({} parameters, {} gradient bytes), 1 process: step {:.2} ms at batch {BATCH}",
        model.num_params(),
        4 * model.num_params(),
        1e3 * per_step
    );
}

/// 784-512-512-10 with ReLUs.
type Mlp = Sequential<(DynLinear, ReLU, DynLinear, ReLU, DynLinear)>;

/// Both sides' state on this rank, built from the same seed on every rank
/// (the inputs differ per rank, as shards do).
struct Bench {
    world: World,
    hand: HandNet,
    model: DistributedDataParallel<Mlp>,
    optimizer: Sgd,
    /// The same model with 1 MiB buckets, for the overlap pair.
    bucketed: DistributedDataParallel<Mlp>,
    bucketed_optimizer: Sgd,
    x: Tensor,
    labels: Vec<usize>,
    send: Vec<f32>,
    receive: Vec<f32>,
}

impl Bench {
    fn new(world: &World) -> Self {
        manual_seed(0);
        let model = sequential![
            DynLinear::new(WIDTHS[0], WIDTHS[1]),
            ReLU,
            DynLinear::new(WIDTHS[1], WIDTHS[2]),
            ReLU,
            DynLinear::new(WIDTHS[2], WIDTHS[3])
        ];
        let model = world.abort_on_error(DistributedDataParallel::new(model, world));
        let copy = sequential![
            DynLinear::new(WIDTHS[0], WIDTHS[1]),
            ReLU,
            DynLinear::new(WIDTHS[1], WIDTHS[2]),
            ReLU,
            DynLinear::new(WIDTHS[2], WIDTHS[3])
        ];
        let config = DdpConfig { bucket_cap_mb: 1.0, ..Default::default() };
        let bucketed = world.abort_on_error(DistributedDataParallel::with_config(copy, world, config));
        world.abort_on_error(bucketed.load_state_dict(&model.state_dict()));
        let sgd = SgdConfig { lr: LR as f64, ..Default::default() };
        let bucketed_optimizer = Sgd::new(bucketed.parameters(), sgd);
        manual_seed(1 + world.rank() as u64);
        let x = Tensor::randn([BATCH, WIDTHS[0]]);
        let labels: Vec<usize> = (0..BATCH).map(|i| (i * 7 + 3 * world.rank()) % WIDTHS[3]).collect();
        let hand = HandNet::new(model.module(), &x, &labels);
        let optimizer = Sgd::new(model.parameters(), SgdConfig { lr: LR as f64, ..Default::default() });
        let n = GRADIENT_BYTES.max(16 << 20) / 4;
        Bench {
            world: world.clone(),
            hand,
            model,
            optimizer,
            bucketed,
            bucketed_optimizer,
            x,
            labels,
            send: vec![1.0; n],
            receive: vec![0.0; n],
        }
    }

    /// Rank 0's `[command, iterations, argument]`, on every rank.
    fn tell(&self, mut message: [u64; 3]) -> [u64; 3] {
        self.world.communicator().process_at_rank(0).broadcast_into(&mut message[..]);
        message
    }

    /// On rank 0: asks every rank to do `iters` of `command`, starts with
    /// them (a barrier), does them, and gives the time they took here.
    fn run(&mut self, command: u64, iters: u64, argument: u64) -> Duration {
        self.tell([command, iters, argument]);
        self.world.barrier();
        let start = Instant::now();
        self.work(command, iters, argument);
        start.elapsed()
    }

    fn work(&mut self, command: u64, iters: u64, argument: u64) {
        if !(HAND_WRITTEN..=OVERLAPPED).contains(&command) {
            self.world.abort_with(format!("unknown command {command}"));
        }
        for _ in 0..iters {
            match command {
                HAND_WRITTEN => {
                    self.hand.step(&self.world, &mut self.send, &mut self.receive);
                }
                BLOCKS => {
                    self.blocks_step();
                }
                SEPARATE | OVERLAPPED => {
                    self.bucketed_step(command == OVERLAPPED);
                }
                _ => {
                    let n = argument as usize / 4;
                    let comm = self.world.communicator();
                    comm.all_reduce_into(&self.send[..n], &mut self.receive[..n], SystemOperation::sum());
                }
            }
        }
    }

    /// One DDP step; returns the time spent averaging the gradients.
    fn blocks_step(&mut self) -> Duration {
        self.optimizer.zero_grad();
        let loss = self.model.forward(&self.x).cross_entropy(&self.labels);
        loss.backward();
        let start = Instant::now();
        self.model.sync_gradients();
        let all_reduce = start.elapsed();
        self.optimizer.step();
        all_reduce
    }

    /// One step of the 1 MiB-bucket model, the all-reduce overlapped with
    /// backward or after it; returns the time of backward and averaging.
    fn bucketed_step(&mut self, overlapped: bool) -> Duration {
        self.bucketed_optimizer.zero_grad();
        let loss = self.bucketed.forward(&self.x).cross_entropy(&self.labels);
        let start = Instant::now();
        if overlapped {
            self.bucketed.backward(&loss);
        } else {
            loss.backward();
            self.bucketed.sync_gradients();
        }
        let backward = start.elapsed();
        self.bucketed_optimizer.step();
        backward
    }

    /// [`PAIRED_ROUNDS`] rounds of [`PAIRED_STEPS`] separate steps then as
    /// many overlapped ones (every rank the same), each round timed; rank 0
    /// prints the mean step of each side and the median of the per-round
    /// ratios (pairs taken close in time share the machine's load).
    fn overlap_summary(&mut self) {
        if self.world.size() == 1 {
            return; // nothing to overlap
        }
        let mut rounds = Vec::with_capacity(PAIRED_ROUNDS);
        let mut backward = [0.0; 2];
        for round in 0..PAIRED_ROUNDS {
            // [separate step, overlapped step, separate backward, overlapped backward]
            let mut times = [0.0; 4];
            // Alternate which side goes first, so neither always follows the other.
            for side in [round % 2 == 1, round % 2 == 0] {
                self.world.barrier();
                let start = Instant::now();
                let mut in_backward = Duration::ZERO;
                for _ in 0..PAIRED_STEPS {
                    in_backward += self.bucketed_step(side);
                }
                times[usize::from(side)] = start.elapsed().as_secs_f64() / PAIRED_STEPS as f64;
                times[2 + usize::from(side)] = in_backward.as_secs_f64() / PAIRED_STEPS as f64;
            }
            self.world.all_reduce_sum(&mut times); // both ranks' view, summed
            let n = self.world.size() as f64;
            rounds.push([times[0] / n, times[1] / n]);
            backward[0] += times[2] / n / PAIRED_ROUNDS as f64;
            backward[1] += times[3] / n / PAIRED_ROUNDS as f64;
        }
        if self.world.is_main() {
            let mean = |side: usize| rounds.iter().map(|r| r[side]).sum::<f64>() / rounds.len() as f64;
            let mut ratios: Vec<f64> = rounds.iter().map(|r| r[1] / r[0]).collect();
            ratios.sort_by(f64::total_cmp);
            println!(
                "overlap summary: backward with gradient averaging {:.2} ms separate, {:.2} ms overlapped",
                1e3 * backward[0],
                1e3 * backward[1]
            );
            let (buckets, bytes) = self.bucketed.gradient_buckets();
            println!(
                "overlap summary, {} processes, 1 MiB buckets ({buckets} buckets, {bytes} bytes), {PAIRED_ROUNDS} \
                 rounds of {PAIRED_STEPS} steps each side: separate (backward, then sync_gradients) {:.2} ms/step, \
                 overlapped (ddp.backward) {:.2} ms/step, overlapped/separate median {:.3} (range {:.3}-{:.3})",
                self.world.size(),
                1e3 * mean(0),
                1e3 * mean(1),
                ratios[ratios.len() / 2],
                ratios[0],
                ratios[ratios.len() - 1],
            );
        }
    }

    /// [`SUMMARY_STEPS`] steps of blocks with the all-reduce timed apart;
    /// rank 0 prints steps per second and all-reduce time against bytes.
    fn summary(&mut self) {
        self.world.barrier();
        let start = Instant::now();
        let mut all_reduce = Duration::ZERO;
        for _ in 0..SUMMARY_STEPS {
            all_reduce += self.blocks_step();
        }
        let elapsed = start.elapsed().as_secs_f64();
        let mut times = [elapsed, all_reduce.as_secs_f64()];
        self.world.all_reduce_sum(&mut times);
        if self.world.is_main() {
            let n = self.world.size();
            let (step, reduce) =
                (times[0] / (n as f64 * SUMMARY_STEPS as f64), times[1] / (n as f64 * SUMMARY_STEPS as f64));
            let (buckets, bytes) = self.model.gradient_buckets();
            let moved = 2.0 * (n as f64 - 1.0) / n as f64 * bytes as f64;
            println!(
                "summary, {n} process(es), {SUMMARY_STEPS} steps of batch {BATCH} each: {:.1} steps/s ({:.0} samples/s), \
                 step {:.2} ms of which all-reduce {:.3} ms ({buckets} bucket(s), {bytes} bytes per rank, \
                 ring traffic 2(N-1)/N x bytes = {moved:.0} bytes, {:.2} GB/s)",
                1.0 / step,
                (BATCH * n) as f64 / step,
                1e3 * step,
                1e3 * reduce,
                if reduce > 0.0 { moved / reduce / 1e9 } else { 0.0 },
            );
        }
    }
}

/// The hand-written side: every buffer allocated once, matrix products by
/// `general_mat_mul`, the gradient packed into one flat buffer and summed
/// with one `MPI_Allreduce`, the SGD update in place.
struct HandNet {
    weights: Vec<Array2<f32>>,
    biases: Vec<Array1<f32>>,
    x: Array2<f32>,
    labels: Vec<usize>,
    acts: Vec<Array2<f32>>,
    deltas: Vec<Array2<f32>>,
    grad_w: Vec<Array2<f32>>,
    grad_b: Vec<Array1<f32>>,
}

impl HandNet {
    /// The same weights as `model` (after its broadcast) and the same batch.
    fn new(model: &impl Module, x: &Tensor, labels: &[usize]) -> Self {
        let params = model.parameters();
        let matrix = |t: &Tensor| t.to_array().into_dimensionality::<Ix2>().expect("2-D");
        let weights: Vec<Array2<f32>> = params.iter().step_by(2).map(|w| matrix(w)).collect();
        let biases: Vec<Array1<f32>> = params
            .iter()
            .skip(1)
            .step_by(2)
            .map(|b| b.to_array().into_dimensionality().expect("1-D"))
            .collect();
        let acts: Vec<Array2<f32>> = weights.iter().map(|w| Array2::zeros((BATCH, w.nrows()))).collect();
        HandNet {
            deltas: acts.clone(),
            acts,
            grad_w: weights.iter().map(|w| Array2::zeros(w.raw_dim())).collect(),
            grad_b: biases.iter().map(|b| Array1::zeros(b.raw_dim())).collect(),
            weights,
            biases,
            x: matrix(x),
            labels: labels.to_vec(),
        }
    }

    fn step(&mut self, world: &World, send: &mut [f32], receive: &mut [f32]) {
        let layers = self.weights.len();
        for l in 0..layers {
            let (done, rest) = self.acts.split_at_mut(l);
            let input = if l == 0 { &self.x } else { &done[l - 1] };
            let out = &mut rest[0];
            out.assign(&self.biases[l]);
            general_mat_mul(1.0, input, &self.weights[l].t(), 1.0, out);
            if l + 1 < layers {
                out.mapv_inplace(|v| v.max(0.0));
            }
        }
        cross_entropy_grad(&self.acts[layers - 1], &self.labels, &mut self.deltas[layers - 1]);
        for l in (0..layers).rev() {
            let input = if l == 0 { &self.x } else { &self.acts[l - 1] };
            let (before, from) = self.deltas.split_at_mut(l);
            let delta = &from[0];
            general_mat_mul(1.0, &delta.t(), input, 0.0, &mut self.grad_w[l]);
            self.grad_b[l].assign(&delta.sum_axis(ndarray::Axis(0)));
            if l > 0 {
                let prev = &mut before[l - 1];
                general_mat_mul(1.0, delta, &self.weights[l], 0.0, prev);
                Zip::from(prev).and(&self.acts[l - 1]).for_each(|d, &a| *d = if a > 0.0 { *d } else { 0.0 });
            }
        }
        // Pack, one all-reduce, unpack the mean into the SGD update.
        let mut offset = 0;
        for l in 0..layers {
            for grad in [
                self.grad_w[l].as_slice().expect("contiguous"),
                self.grad_b[l].as_slice().expect("contiguous"),
            ] {
                send[offset..offset + grad.len()].copy_from_slice(grad);
                offset += grad.len();
            }
        }
        let comm = world.communicator();
        comm.all_reduce_into(&send[..offset], &mut receive[..offset], SystemOperation::sum());
        let scale = -LR / world.size() as f32;
        let mut offset = 0;
        for l in 0..layers {
            for param in [
                self.weights[l].as_slice_mut().expect("contiguous"),
                self.biases[l].as_slice_mut().expect("contiguous"),
            ] {
                let len = param.len();
                param.iter_mut().zip(&receive[offset..offset + len]).for_each(|(p, g)| *p += scale * g);
                offset += len;
            }
        }
    }
}

/// `(softmax(y) - onehot(label)) / rows`, the gradient of the mean cross-entropy.
fn cross_entropy_grad(y: &Array2<f32>, labels: &[usize], delta: &mut Array2<f32>) {
    let scale = 1.0 / y.nrows() as f32;
    for ((row, mut d), &label) in y.rows().into_iter().zip(delta.rows_mut()).zip(labels) {
        let m = row.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
        let log_sum = row.fold(0.0, |s, &v| s + (v - m).exp()).ln();
        Zip::from(&mut d).and(&row).for_each(|d, &v| *d = scale * (v - m - log_sum).exp());
        d[label] -= scale;
    }
}
