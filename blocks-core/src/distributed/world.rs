//! `World`: this process's place among the processes an MPI launcher
//! started (`mpirun -np N`), and the few collective operations training
//! needs beyond gradients.

use std::fmt::Display;
use std::rc::Rc;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::request::{Request, Scope};
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator, CommunicatorCollectives, Root};

use super::DistributedError;

/// Whether MPI is up (between `World::init` and the last handle's drop):
/// the panic hook aborts the job only then.
static MPI_ALIVE: AtomicBool = AtomicBool::new(false);
/// This process's rank and the world size, for the panic hook's message.
static RANK: AtomicUsize = AtomicUsize::new(0);
static SIZE: AtomicUsize = AtomicUsize::new(1);
static HOOK: Once = Once::new();
/// How long a collective waits, in nanoseconds (see [`World::set_timeout`]):
/// one MPI session per process, so one setting.
static TIMEOUT_NANOS: AtomicU64 = AtomicU64::new(30 * 60 * 1_000_000_000);

/// How long a collective of training waits by default: PyTorch's default
/// process-group timeout (30 minutes).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// This process's place in the job (`torch.distributed` after
/// `init_process_group`): its rank, the world size, and collectives over
/// `MPI_COMM_WORLD`.
///
/// [`World::init`] reads the launcher's environment, so the same program
/// runs as one process (`cargo run`) or as N (`mpirun -np N`). A `World` is
/// a cheap handle (clones share the one MPI session, which ends when the
/// last handle drops). It is neither `Send` nor `Sync`: MPI is initialized
/// with `MPI_THREAD_FUNNELED`, so every MPI call stays on the thread that
/// initialized it, and the types make that so.
///
/// **Failure behaviour.** `init` installs a panic hook: a panic on any rank
/// prints its message, then `rank R of N panicked: aborting every rank
/// (MPI_Abort)`, and ends the whole job with `MPI_Abort`, so no rank waits
/// forever in a collective for a peer that is gone. An error a rank returns
/// should end the job the same way: [`abort_on_error`](Self::abort_on_error)
/// or [`abort_with`](Self::abort_with). A rank that dies (killed, crashed) is
/// noticed by the launcher, which ends the others (Open MPI's `mpirun` does).
///
/// ```no_run
/// use blocks_core::distributed::World;
/// let world = World::init().expect("MPI starts");
/// println!("rank {} of {}", world.rank(), world.size());
/// let mut seen = [1.0];
/// world.all_reduce_sum(&mut seen);
/// assert_eq!(seen[0], world.size() as f64);
/// ```
///
/// A `World` (and a model wrapped with it) cannot move to another thread:
///
/// ```compile_fail
/// let world = blocks_core::distributed::World::init().unwrap();
/// std::thread::spawn(move || world.barrier());
/// ```
#[derive(Clone)]
pub struct World {
    inner: Rc<Session>,
}

/// The MPI session: finalized when dropped.
struct Session {
    comm: SimpleCommunicator,
    rank: usize,
    size: usize,
    /// Dropped last: `MPI_Finalize`.
    _universe: Universe,
}

impl Drop for Session {
    fn drop(&mut self) {
        MPI_ALIVE.store(false, Ordering::SeqCst);
    }
}

impl World {
    /// Initializes MPI from the launcher's environment (`MPI_Init_thread`
    /// with `MPI_THREAD_FUNNELED`) and installs the abort-on-panic hook.
    /// Without a launcher, Open MPI and MPICH start a world of one process.
    ///
    /// # Errors
    ///
    /// [`DistributedError::Init`] if MPI was initialized before in this
    /// process (MPI allows it once), or does not give the thread support
    /// asked for.
    ///
    /// ```no_run
    /// let world = blocks_core::distributed::World::init().unwrap();
    /// assert!(world.rank() < world.size());
    /// assert!(blocks_core::distributed::World::init().is_err()); // once per process
    /// ```
    pub fn init() -> Result<World, DistributedError> {
        let (universe, provided) =
            mpi::initialize_with_threading(mpi::Threading::Funneled).ok_or_else(|| {
                DistributedError::Init(
                    "MPI was already initialized in this process (once per process)".into(),
                )
            })?;
        if provided < mpi::Threading::Funneled {
            return Err(DistributedError::Init(format!(
                "the MPI library gives thread support {provided:?}, MPI_THREAD_FUNNELED is needed"
            )));
        }
        let comm = universe.world();
        let (rank, size) = (comm.rank() as usize, comm.size() as usize);
        RANK.store(rank, Ordering::SeqCst);
        SIZE.store(size, Ordering::SeqCst);
        MPI_ALIVE.store(true, Ordering::SeqCst);
        install_abort_on_panic();
        TIMEOUT_NANOS.store(nanos(DEFAULT_TIMEOUT), Ordering::SeqCst);
        Ok(World { inner: Rc::new(Session { comm, rank, size, _universe: universe }) })
    }

    /// This process's rank, `0..size()` (`dist.get_rank()`).
    ///
    /// ```no_run
    /// let world = blocks_core::distributed::World::init().unwrap();
    /// assert!(world.rank() < world.size());
    /// ```
    pub fn rank(&self) -> usize {
        self.inner.rank
    }

    /// The number of processes (`dist.get_world_size()`).
    ///
    /// ```no_run
    /// let world = blocks_core::distributed::World::init().unwrap();
    /// assert!(world.size() >= 1);
    /// ```
    pub fn size(&self) -> usize {
        self.inner.size
    }

    /// Whether this is rank 0, the process that does the side effects that
    /// must happen once: printing progress, saving checkpoints.
    ///
    /// ```no_run
    /// let world = blocks_core::distributed::World::init().unwrap();
    /// if world.is_main() {
    ///     println!("training on {} processes", world.size());
    /// }
    /// ```
    pub fn is_main(&self) -> bool {
        self.inner.rank == 0
    }

    /// Waits until every rank has called it (`dist.barrier()`), at most
    /// the [`timeout`](Self::timeout): a rank that never comes ends the job
    /// with a message, as every collective of this module does.
    ///
    /// ```no_run
    /// let world = blocks_core::distributed::World::init().unwrap();
    /// world.barrier();
    /// ```
    pub fn barrier(&self) {
        self.wait_for(self.inner.comm.immediate_barrier(), "a barrier");
    }

    /// Sums `values` element-wise over all ranks, in place on every rank
    /// (`dist.all_reduce(t, op=SUM)`), for metrics such as a loss summed
    /// over the shards. Every rank must pass the same number of values. It
    /// waits at most the [`timeout`](Self::timeout), then ends the job.
    ///
    /// ```no_run
    /// let world = blocks_core::distributed::World::init().unwrap();
    /// let mut counts = [world.rank() as f64, 1.0];
    /// world.all_reduce_sum(&mut counts);
    /// assert_eq!(counts[1], world.size() as f64);
    /// ```
    pub fn all_reduce_sum(&self, values: &mut [f64]) {
        let send = values.to_vec();
        let comm = &self.inner.comm;
        mpi::request::scope(|scope| {
            let request = comm.immediate_all_reduce_into(scope, &send[..], values, SystemOperation::sum());
            self.wait_for(request, "an all-reduce (World::all_reduce_sum)");
        });
    }

    /// Ends the whole job now, on every rank, with exit code `code`
    /// (`MPI_Abort`), after printing `message` with this rank's number.
    ///
    /// ```no_run
    /// let world = blocks_core::distributed::World::init().unwrap();
    /// if std::path::Path::new("missing.csv").exists() == false {
    ///     world.abort_with("missing.csv: no such file");
    /// }
    /// ```
    pub fn abort_with(&self, message: impl Display) -> ! {
        say_whole_line(&format!(
            "rank {} of {}: {message}: aborting every rank (MPI_Abort)",
            self.rank(),
            self.size()
        ));
        self.inner.comm.abort(1)
    }

    /// The value of `result`, or, for an error, [`abort_with`](Self::abort_with)
    /// that error: a rank that fails ends the job instead of leaving the
    /// others waiting.
    ///
    /// ```no_run
    /// let world = blocks_core::distributed::World::init().unwrap();
    /// let text = world.abort_on_error(std::fs::read_to_string("config.toml"));
    /// ```
    pub fn abort_on_error<T, E: Display>(&self, result: Result<T, E>) -> T {
        match result {
            Ok(value) => value,
            Err(error) => self.abort_with(format_args!("error: {error}")),
        }
    }

    /// The MPI communicator (`MPI_COMM_WORLD`) for what this module does
    /// not wrap; see the [`mpi`](crate::distributed::mpi) crate.
    ///
    /// ```no_run
    /// use blocks_core::distributed::mpi::traits::Communicator;
    /// let world = blocks_core::distributed::World::init().unwrap();
    /// assert_eq!(world.communicator().size() as usize, world.size());
    /// ```
    pub fn communicator(&self) -> &SimpleCommunicator {
        &self.inner.comm
    }

    /// Sets how long the collectives of training (the all-reduces and
    /// broadcasts of [`DistributedDataParallel`](super::DistributedDataParallel))
    /// wait for the other ranks before aborting the job with a message, like
    /// the `timeout` of PyTorch's `init_process_group`; the default is
    /// [`DEFAULT_TIMEOUT`] (30 minutes). A rank that hangs, or stops taking
    /// part without [`join`](super::DistributedDataParallel::join), then ends
    /// the job instead of leaving the others waiting forever.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let world = blocks_core::distributed::World::init().unwrap();
    /// world.set_timeout(Duration::from_secs(60));
    /// assert_eq!(world.timeout(), Duration::from_secs(60));
    /// ```
    pub fn set_timeout(&self, timeout: Duration) {
        TIMEOUT_NANOS.store(nanos(timeout), Ordering::SeqCst);
    }

    /// How long the collectives of training wait; see [`set_timeout`](Self::set_timeout).
    ///
    /// ```no_run
    /// let world = blocks_core::distributed::World::init().unwrap();
    /// assert_eq!(world.timeout(), blocks_core::distributed::DEFAULT_TIMEOUT);
    /// ```
    pub fn timeout(&self) -> Duration {
        Duration::from_nanos(TIMEOUT_NANOS.load(Ordering::SeqCst))
    }

    /// Waits for `request` (a collective named `what`), polling, and aborts
    /// the job with a message when it has not completed within the timeout.
    pub(crate) fn wait_for<'a, R: ?Sized, S: Scope<'a>>(&self, request: Request<'a, R, S>, what: &str) {
        self.wait_all(&mut [Some(request)], what);
    }

    /// Drives the requests still in `requests` (MPI progresses a
    /// non-blocking collective only inside MPI calls): each completed one
    /// is taken out. Returns at once.
    pub(crate) fn progress<'a, R: ?Sized, S: Scope<'a>>(requests: &mut [Option<Request<'a, R, S>>]) {
        for slot in requests.iter_mut() {
            if let Some(request) = slot.take() {
                *slot = request.test().err();
            }
        }
    }

    /// Waits for every request of `requests` (collectives named `what`), as
    /// [`wait_for`](Self::wait_for) does for one.
    pub(crate) fn wait_all<'a, R: ?Sized, S: Scope<'a>>(
        &self,
        requests: &mut [Option<Request<'a, R, S>>],
        what: &str,
    ) {
        wait_within_timeout(&self.inner.comm, requests, what);
    }

    /// Sends rank `root`'s `values` to every rank, in place.
    pub(crate) fn broadcast_f32_from(&self, root: usize, values: &mut [f32]) {
        let root = self.inner.comm.process_at_rank(root as i32);
        mpi::request::scope(|scope| {
            self.wait_for(root.immediate_broadcast_into(scope, values), "a broadcast of the model")
        });
    }

    /// Sends rank 0's bytes to every rank: the other ranks' `bytes` are replaced.
    pub(crate) fn broadcast_bytes(&self, bytes: &mut Vec<u8>) {
        self.broadcast_bytes_from(0, bytes);
    }

    /// Every rank's `value`, in rank order.
    pub(crate) fn all_gather_i32(&self, value: i32) -> Vec<i32> {
        let mut all = vec![0; self.size()];
        let comm = &self.inner.comm;
        mpi::request::scope(|scope| {
            let request = comm.immediate_all_gather_into(scope, &value, &mut all[..]);
            self.wait_for(request, "an all-gather of the ranks' verdicts");
        });
        all
    }

    /// Sums `send` over all ranks into `receive` (same length).
    pub(crate) fn all_reduce_sum_f32(&self, send: &[f32], receive: &mut [f32]) {
        let comm = &self.inner.comm;
        mpi::request::scope(|scope| {
            let request = comm.immediate_all_reduce_into(scope, send, receive, SystemOperation::sum());
            self.wait_for(request, "an all-reduce of training");
        });
    }

    /// Sends rank `root`'s bytes to every rank: the other ranks' `bytes` are replaced.
    pub(crate) fn broadcast_bytes_from(&self, root: usize, bytes: &mut Vec<u8>) {
        let root = self.inner.comm.process_at_rank(root as i32);
        let mut len = bytes.len() as u64;
        mpi::request::scope(|scope| {
            self.wait_for(root.immediate_broadcast_into(scope, &mut len), "a broadcast of a length")
        });
        bytes.resize(usize::try_from(len).expect("a length another rank allocated"), 0);
        if len > 0 {
            mpi::request::scope(|scope| {
                self.wait_for(root.immediate_broadcast_into(scope, &mut bytes[..]), "a broadcast of bytes")
            });
        }
    }
}

impl std::fmt::Debug for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("World").field("rank", &self.rank()).field("size", &self.size()).finish()
    }
}

/// `timeout` in nanoseconds, saturating.
fn nanos(timeout: Duration) -> u64 {
    u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX)
}

/// Waits for every request of `requests` on `comm` (collectives named
/// `what`), polling, and aborts the job with a message when they have not
/// completed within the timeout.
fn wait_within_timeout<'a, R: ?Sized, S: Scope<'a>>(
    comm: &SimpleCommunicator,
    requests: &mut [Option<Request<'a, R, S>>],
    what: &str,
) {
    let started = Instant::now();
    let timeout = Duration::from_nanos(TIMEOUT_NANOS.load(Ordering::SeqCst));
    let deadline = started.checked_add(timeout);
    loop {
        World::progress(requests);
        if requests.iter().all(Option::is_none) {
            return;
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            let (rank, size) = (RANK.load(Ordering::SeqCst), SIZE.load(Ordering::SeqCst));
            say_whole_line(&format!(
                "rank {rank} of {size}: {what}: no answer from the other ranks within {timeout:?} (a rank \
                 stopped taking part: it hangs, died, or ran out of batches without \
                 DistributedDataParallel::join): aborting every rank (MPI_Abort)"
            ));
            comm.abort(1);
        }
        // For the first 2 ms (a step's exchange is quick) poll, giving
        // the core away between polls; then sleep 100 µs between them.
        if started.elapsed() < Duration::from_millis(2) {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
}

/// The world size while MPI is up (between [`World::init`] and the last
/// handle's drop), else `None`: whether a layer such as
/// [`SyncBatchNorm`](crate::nn::SyncBatchNorm) has other ranks to sync with.
pub(crate) fn running_world_size() -> Option<usize> {
    MPI_ALIVE.load(Ordering::SeqCst).then(|| SIZE.load(Ordering::SeqCst))
}

/// Sums `values` over every rank of `MPI_COMM_WORLD`, in place, waiting at
/// most the timeout: for the layers that sync inside forward and backward
/// (which hold no [`World`]). Call it only while MPI is up, on the thread
/// that initialized it (the autograd pass runs on the caller's thread).
pub(crate) fn all_reduce_sum_world(values: &mut [f64], what: &str) {
    let comm = SimpleCommunicator::world();
    let send = values.to_vec();
    mpi::request::scope(|scope| {
        let request = comm.immediate_all_reduce_into(scope, &send[..], values, SystemOperation::sum());
        wait_within_timeout(&comm, &mut [Some(request)], what);
    });
}

/// Writes `line` and a newline to stderr in one `write` call. `eprintln!`
/// writes a formatted line piece by piece, and the launcher forwards every
/// rank's stderr into one stream, so two ranks aborting at once printed
/// "rank 1 of 2rank 0 of : error: 2: ...". One write of a line this short
/// (under `PIPE_BUF`) reaches the pipe whole.
fn say_whole_line(line: &str) {
    use std::io::Write;
    let mut whole = String::with_capacity(line.len() + 1);
    whole.push_str(line);
    whole.push('\n');
    // Nothing is left to do if stderr is gone: the job is ending anyway.
    let _ = std::io::stderr().lock().write_all(whole.as_bytes());
}

/// After the usual panic message, a panic on any rank ends the job with
/// `MPI_Abort` while MPI is up, so no other rank waits forever for it.
fn install_abort_on_panic() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            previous(info);
            if MPI_ALIVE.swap(false, Ordering::SeqCst) {
                let (rank, size) = (RANK.load(Ordering::SeqCst), SIZE.load(Ordering::SeqCst));
                say_whole_line(&format!("rank {rank} of {size} panicked: aborting every rank (MPI_Abort)"));
                SimpleCommunicator::world().abort(101);
            }
        }));
    });
}
