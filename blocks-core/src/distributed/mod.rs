//! Data-parallel training over MPI (cargo feature `mpi`): PyTorch's
//! `torch.distributed` with `DistributedDataParallel`, on Open MPI or MPICH
//! through the `mpi` crate (rsmpi).
//!
//! Every process (rank) holds a replica of the model and reads its own
//! shard of the data ([`DistributedSampler`](crate::data::DistributedSampler));
//! after each backward the gradients are averaged over the ranks
//! ([`DistributedDataParallel::backward`]), so every replica takes the same
//! step and N processes with batches of B train as one with batches of N·B.
//!
//! | PyTorch | blocks |
//! | --- | --- |
//! | `dist.init_process_group("mpi")` | [`World::init()`] |
//! | `dist.get_rank()`, `dist.get_world_size()` | [`World::rank`], [`World::size`] |
//! | `DDP(model)` | [`DistributedDataParallel::new(model, &world)`](DistributedDataParallel::new) |
//! | `loss.backward()` (with DDP's hooks) | [`ddp.backward(&loss)`](DistributedDataParallel::backward) |
//! | `DistributedSampler(ds)` + `sampler.set_epoch(e)` | [`DistributedSampler::new(n, size, rank)`](crate::data::DistributedSampler) + `loader.set_epoch(e)` |
//! | `if rank == 0: torch.save(...)` | [`ddp.save(path)`](DistributedDataParallel::save) |
//! | `dist.all_reduce(t)` | [`World::all_reduce_sum`] |
//! | `with model.join():` (uneven inputs) | [`ddp.join()`](DistributedDataParallel::join) after the last step |
//! | `model.join(divide_by_initial_world_size=False)` | [`DdpConfig::divide_by_initial_world_size`]` = false` |
//! | `nn.SyncBatchNorm(C)` | [`SyncBatchNorm::new(C, options)`](crate::nn::SyncBatchNorm) |
//! | `init_process_group(timeout=...)` | [`World::set_timeout`] |
//!
//! Launch with the MPI launcher, on one machine or several:
//!
//! ```text
//! cargo build --release --features mpi --example train_digits
//! mpirun -np 2 target/release/examples/train_digits --distributed
//! mpirun -np 8 --hostfile hosts target/release/examples/train_digits --distributed
//! ```
//!
//! Without a launcher the same program runs as a world of one process.
//!
//! **Buffers** (BatchNorm's running statistics) are broadcast from rank 0
//! at construction and then kept per rank by default, as PyTorch keeps
//! them between its broadcasts; [`BufferSync`] chooses to copy rank 0's or
//! to average them after every step instead.
//!
//! **Failures** end the whole job instead of leaving ranks waiting: a panic
//! on any rank aborts every rank (`MPI_Abort`, see [`World`]), an error
//! returned on a rank should go through [`World::abort_on_error`], a model
//! that differs between ranks is an error on every rank at construction,
//! and a rank that dies is noticed by the launcher.
//!
//! **Settings** that must agree (the data sampler's length, seed and
//! shuffling, the batch size, the bucket size, ...) are compared at
//! construction by [`DistributedDataParallel::with_settings`]: a difference
//! is an error on every rank, naming it. **Uneven inputs**: a rank out of
//! batches calls [`DistributedDataParallel::join`] (PyTorch's `join()`) and
//! answers the others' exchanges until all are done; a rank that drops its
//! model while others still train ends the job with a message, and every
//! collective of this module (the construction's checks, each step's
//! exchanges, `join`, `save`, [`World::barrier`], [`World::all_reduce_sum`])
//! waits at most [`World::set_timeout`] (PyTorch's 30 minutes by default)
//! before ending the job, saying why.
//!
//! **Averaging** divides the summed gradients by the world size, as
//! PyTorch's reducer does: a rank that did not use a parameter in its
//! forward (or has joined, out of batches) counts as a zero gradient, and a
//! parameter no rank used keeps no gradient. PyTorch's
//! `join(divide_by_initial_world_size=False)` divides by the ranks still
//! training instead: [`DdpConfig::divide_by_initial_world_size`].
//!
//! **Overlap**: [`DistributedDataParallel::backward`] starts each bucket's
//! all-reduce (non-blocking, `MPI_Iallreduce`) as soon as the backward pass
//! has completed its gradients, while the layers before it still compute,
//! as PyTorch's reducer does; the result is that of a plain backward
//! followed by [`DistributedDataParallel::sync_gradients`], bit for bit.

mod buckets;
mod ddp;
mod error;
mod settings;
mod structure;
mod world;

pub use ddp::{BufferSync, DdpConfig, DistributedDataParallel};
pub use error::DistributedError;
pub use world::{DEFAULT_TIMEOUT, World};
pub(crate) use world::{all_reduce_sum_world, running_world_size};

/// The `mpi` crate (rsmpi) this module runs on, for collectives it does not
/// wrap (see [`World::communicator`]).
#[doc(no_inline)]
pub use mpi;
