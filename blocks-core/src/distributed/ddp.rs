//! `DistributedDataParallel`: a model replicated on every rank, its
//! gradients averaged after each backward, like PyTorch's
//! `torch.nn.parallel.DistributedDataParallel`.

use std::cell::{Cell, RefCell};
use std::ops::Deref;
use std::path::Path;

use super::buckets::{Divisor, Exchange, GradientBuckets, exchange};
use super::settings::check_settings;
use super::structure::{Entry, check};
use super::{DistributedError, World};
use crate::Tensor;
use crate::nn::Module;
use crate::nn::ModuleExt;

/// What happens to the buffers (BatchNorm's running statistics, any
/// `#[module(buffer)]` tensor) during training. Parameters and buffers are
/// always broadcast from rank 0 at construction.
///
/// A BatchNorm in training mode normalizes each rank's batch by that
/// batch's own statistics (as under PyTorch's DDP without `SyncBatchNorm`),
/// so N ranks do not compute what one process does on the whole batch; in
/// eval mode (running statistics, as when fine-tuning) they do, exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BufferSync {
    /// Each rank keeps its own buffers, updated from its own shards: the
    /// running statistics of a BatchNorm describe that rank's data. Save or
    /// evaluate with rank 0's (what [`DistributedDataParallel::save`] writes).
    #[default]
    PerRank,
    /// After each step every rank takes rank 0's buffers (PyTorch's
    /// `broadcast_buffers=True`, which copies them at the next forward).
    Broadcast,
    /// After each step every rank takes the mean of the ranks' buffers.
    /// A running mean of equal-sized shards then equals one process's on
    /// the whole batch exactly (it is linear in the batch mean); a running
    /// variance becomes the mean of the shards' variances, which leaves out
    /// the spread between the shards' means.
    Average,
}

/// Options of [`DistributedDataParallel::with_config`].
///
/// ```
/// use blocks_core::distributed::{BufferSync, DdpConfig};
/// let config = DdpConfig { buffers: BufferSync::Average, ..Default::default() };
/// assert_eq!(config.bucket_cap_mb, 25.0);
/// assert!(config.divide_by_initial_world_size);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DdpConfig {
    /// The size of a gradient bucket in MiB (PyTorch's `bucket_cap_mb`,
    /// 25): gradients are packed into buckets of about this size, one
    /// all-reduce each.
    pub bucket_cap_mb: f64,
    /// What happens to the buffers; see [`BufferSync`].
    pub buffers: BufferSync,
    /// What the summed gradients are divided by, as the argument of
    /// PyTorch's `join()`: `true` (PyTorch's default) divides by the world
    /// size always, so a rank that has joined (out of batches) or that did
    /// not use a parameter counts as a zero gradient and every sample of
    /// the global batch weighs the same; `false` divides by the number of
    /// ranks still training (not joined), so the ranks left average among
    /// themselves. A parameter some ranks used and others did not is
    /// divided the same way (PyTorch's reducer with
    /// `find_unused_parameters=True` gives it zeros from the others and
    /// divides by the same factor as every other gradient).
    pub divide_by_initial_world_size: bool,
}

impl Default for DdpConfig {
    fn default() -> Self {
        DdpConfig { bucket_cap_mb: 25.0, buffers: BufferSync::PerRank, divide_by_initial_world_size: true }
    }
}

/// A model replicated on every rank of a [`World`], trained on each rank's
/// shard of the data with the same updates everywhere: PyTorch's
/// `DistributedDataParallel(model)`.
///
/// - **Construction** compares the model's structure across the ranks
///   (parameter and buffer count, every shape, which parameters train) and
///   fails on every rank, naming the first difference, if they differ; then
///   it broadcasts rank 0's parameters and buffers, so every replica starts
///   from the same weights.
/// - **[`backward`](Self::backward)** runs the loss's backward and averages
///   the gradients over the ranks in buckets of about 25 MiB (several
///   parameters per call), overlapped with the backward as PyTorch's reducer
///   does: the buckets hold the parameters from the last layer back, and
///   each starts its all-reduce (`MPI_Iallreduce`) as soon as its gradients
///   are complete, while the layers before it still compute. Frozen parameters
///   (`requires_grad == false` at construction) are skipped. Each rank then
///   steps its own optimizer with the same gradient, so the replicas stay
///   identical. With the loss a mean over each rank's batch, the mean of the
///   ranks' gradients is the gradient of the whole (global) batch: N ranks
///   with batches of B train as one process with batches of N·B.
/// - **Buffers** stay per rank by default; see [`BufferSync`].
///
/// The wrapper dereferences to the model, so `ddp.forward(&x)`,
/// `ddp.parameters()` and `ddp.state_dict()` are the model's (keys without
/// PyTorch's `module.` prefix).
///
/// ```no_run
/// use blocks_core::data::{DataLoader, DistributedSampler, TensorDataset};
/// use blocks_core::distributed::{DistributedDataParallel, World};
/// use blocks_core::nn::{Forward, Linear, Module, ModuleExt};
/// use blocks_core::optim::{Optimizer, Sgd, SgdConfig};
/// use blocks_core::Tensor;
///
/// let world = World::init().unwrap();
/// let model = world.abort_on_error(DistributedDataParallel::new(Linear::<8, 3>::new(), &world));
/// let data = TensorDataset::new(Tensor::rand([96, 8]), (0..96).map(|i| i % 3).collect());
/// let sampler = DistributedSampler::new(data.len(), world.size(), world.rank()).shuffle(0);
/// let loader = DataLoader::new(data, 32 / world.size()).sampler(sampler);
/// let mut optimizer = Sgd::new(model.parameters(), SgdConfig { lr: 0.1, ..Default::default() });
/// for epoch in 0..3 {
///     loader.set_epoch(epoch);
///     for (x, y) in &loader {
///         optimizer.zero_grad();
///         model.backward(&model.forward(&x).cross_entropy(&y));
///         optimizer.step();
///     }
/// }
/// world.abort_on_error(model.save("model.safetensors")); // written by rank 0
/// ```
///
/// It stays on the thread that initialized MPI (it is neither `Send` nor
/// `Sync`):
///
/// ```compile_fail
/// use blocks_core::distributed::{DistributedDataParallel, World};
/// let world = World::init().unwrap();
/// let model = DistributedDataParallel::new(blocks_core::nn::Linear::<2, 1>::new(), &world).unwrap();
/// std::thread::scope(|s| {
///     s.spawn(|| model.sync_gradients());
/// });
/// ```
pub struct DistributedDataParallel<M: Module> {
    /// `None` only once [`into_inner`](Self::into_inner) has taken it.
    module: Option<M>,
    world: World,
    config: DdpConfig,
    gradients: RefCell<GradientBuckets>,
    buffers: Vec<Tensor>,
    /// Whether this rank trains, has joined, or has left.
    state: Cell<Membership>,
}

/// Where a rank stands in the training of a [`DistributedDataParallel`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Membership {
    /// Still stepping: its gradients go into every exchange.
    Training,
    /// Out of batches: it answered the exchanges until every rank was done.
    Joined,
    /// Dropped (or unwrapped): it takes part in nothing more.
    Left,
}

/// The control exchange that opens every step (see [`DistributedDataParallel::join`]):
/// how many ranks still train, how many left without joining, and whether
/// the step's buffers are exchanged after its gradients.
#[derive(Clone, Copy, Debug)]
struct Control {
    training: f32,
    left: f32,
    buffers: f32,
}

impl<M: Module> DistributedDataParallel<M> {
    /// Wraps `module` with the default [`DdpConfig`] (25 MiB buckets,
    /// buffers per rank). Every rank must call it (it is collective).
    ///
    /// # Errors
    ///
    /// [`DistributedError::Structure`] on every rank when the models differ
    /// between ranks (each rank's error names the first difference it
    /// sees, or the ranks that differ), or when a parameter has no shape
    /// yet (a lazy layer before its first forward).
    ///
    /// ```no_run
    /// use blocks_core::distributed::{DistributedDataParallel, World};
    /// use blocks_core::nn::{DynLinear, Module, ModuleExt};
    /// let world = World::init().unwrap();
    /// // A different width on rank 1 is caught before any training.
    /// let width = if world.rank() == 1 { 128 } else { 256 };
    /// let error = DistributedDataParallel::new(DynLinear::new(64, width), &world).err();
    /// assert_eq!(error.is_some(), world.size() > 1);
    /// ```
    pub fn new(module: M, world: &World) -> Result<Self, DistributedError> {
        Self::with_config(module, world, DdpConfig::default())
    }

    /// Wraps `module` with `config`; see [`new`](Self::new).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// ```no_run
    /// use blocks_core::distributed::{BufferSync, DdpConfig, DistributedDataParallel, World};
    /// use blocks_core::nn::Linear;
    /// let world = World::init().unwrap();
    /// let config = DdpConfig { buffers: BufferSync::Broadcast, bucket_cap_mb: 1.0, ..Default::default() };
    /// let model = DistributedDataParallel::with_config(Linear::<4, 2>::new(), &world, config).unwrap();
    /// ```
    pub fn with_config(module: M, world: &World, config: DdpConfig) -> Result<Self, DistributedError> {
        Self::with_settings(module, world, config, &[])
    }

    /// Wraps `module` with `config`, after checking that the run's
    /// `settings` (name, value) agree on every rank, with the bucket size,
    /// the buffer policy and the dtype added to them: a data sampler's
    /// [`settings`](crate::data::DistributedSampler::settings), the batch
    /// size, the number of epochs, anything that must be the same
    /// everywhere. A difference is an error on every rank, naming the first
    /// one ("batch size is 16 on rank 1, but 32 on rank 0"), before any
    /// training, instead of mismatched shards or a crash inside MPI.
    ///
    /// # Errors
    ///
    /// [`DistributedError::Settings`] on every rank when a setting differs;
    /// otherwise as [`new`](Self::new).
    ///
    /// ```no_run
    /// use blocks_core::data::DistributedSampler;
    /// use blocks_core::distributed::{DdpConfig, DistributedDataParallel, World};
    /// use blocks_core::nn::Linear;
    /// let world = World::init().unwrap();
    /// let sampler = DistributedSampler::new(1000, world.size(), world.rank()).shuffle(7);
    /// let mut settings = sampler.settings();
    /// settings.push(("batch size".into(), 32.to_string()));
    /// let model = DistributedDataParallel::with_settings(Linear::<4, 2>::new(), &world, DdpConfig::default(), &settings);
    /// ```
    pub fn with_settings(
        module: M,
        world: &World,
        config: DdpConfig,
        settings: &[(String, String)],
    ) -> Result<Self, DistributedError> {
        let parameters = module.named_parameters();
        let buffers = module.named_buffers();
        let float64 = module.named_parameters_of::<f64>().first().map(|(key, _)| {
            format!("parameter `{key}` is float64 (a model after `to_f64`): DistributedDataParallel runs float32 models")
        });
        let uninitialized = module
            .state_dict()
            .uninitialized_keys()
            .first()
            .map(|key| {
                format!(
                    "parameter `{key}` has no shape yet (a lazy layer): run one forward before wrapping the model"
                )
            })
            .or(float64);
        let entries: Vec<Entry> = parameters
            .iter()
            .map(|(name, p)| Entry::parameter(name, p))
            .chain(buffers.iter().map(|(name, b)| Entry::buffer(name, b)))
            .collect();
        check(world, &entries, uninitialized)?;
        let own = [
            ("bucket_cap_mb", config.bucket_cap_mb.to_string()),
            ("buffers", format!("{:?}", config.buffers)),
            ("divide_by_initial_world_size", config.divide_by_initial_world_size.to_string()),
            ("dtype", "float32".to_string()),
        ];
        let all: Vec<(String, String)> = own
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .chain(settings.iter().cloned())
            .collect();
        check_settings(world, &all)?;

        let cap_bytes = (config.bucket_cap_mb * 1024.0 * 1024.0) as usize;
        let state: Vec<Tensor> = parameters
            .iter()
            .map(|(_, p)| p.tensor().clone())
            .chain(buffers.iter().map(|(_, b)| b.clone()))
            .collect();
        exchange(world, &state, cap_bytes, Exchange::Broadcast);
        let trainable = parameters.iter().filter(|(_, p)| p.requires_grad()).map(|(_, p)| p.tensor().clone());
        let gradients = RefCell::new(GradientBuckets::new(trainable.collect(), cap_bytes));
        let buffers = buffers.into_iter().map(|(_, b)| b).collect();
        let state = Cell::new(Membership::Training);
        Ok(DistributedDataParallel {
            module: Some(module),
            world: world.clone(),
            config,
            gradients,
            buffers,
            state,
        })
    }

    /// `loss.backward()` with the gradients averaged over the ranks, then
    /// [`sync_buffers`](Self::sync_buffers): what `loss.backward()` does
    /// under PyTorch's DDP. Each bucket's all-reduce starts as soon as its
    /// gradients are complete, overlapping the rest of the backward; the
    /// gradients are those of `loss.backward()` and
    /// [`sync_gradients`](Self::sync_gradients) (the same buckets and
    /// sums), bit for bit. Every rank must call it (it is collective).
    ///
    /// ```no_run
    /// use blocks_core::distributed::{DistributedDataParallel, World};
    /// use blocks_core::nn::{Forward, Linear};
    /// use blocks_core::Tensor;
    /// let world = World::init().unwrap();
    /// let model = DistributedDataParallel::new(Linear::<2, 1>::new(), &world).unwrap();
    /// model.backward(&model.forward(&Tensor::ones([4, 2])).sum());
    /// assert!(model.weight().grad().is_some());
    /// ```
    pub fn backward(&self, loss: &Tensor) {
        if self.world.size() == 1 {
            loss.backward();
            return;
        }
        let divisor = self.open_step(true);
        self.gradients.borrow_mut().backward_overlapped(&self.world, loss, divisor);
        self.sync_buffers();
    }

    /// Averages the accumulated gradients over the ranks, in buckets (in a
    /// world of one process it has nothing to do and returns at once). For
    /// gradient accumulation (PyTorch's `no_sync()`), run several plain
    /// `loss.backward()` calls and this once. Collective.
    ///
    /// ```no_run
    /// use blocks_core::distributed::{DistributedDataParallel, World};
    /// use blocks_core::nn::{Forward, Linear};
    /// use blocks_core::Tensor;
    /// let world = World::init().unwrap();
    /// let model = DistributedDataParallel::new(Linear::<2, 1>::new(), &world).unwrap();
    /// for _ in 0..4 {
    ///     model.forward(&Tensor::rand([8, 2])).sum().backward(); // accumulates locally
    /// }
    /// model.sync_gradients(); // one exchange for the four
    /// ```
    pub fn sync_gradients(&self) {
        self.sync(false);
    }

    /// One step's exchange: the control (who still trains), the gradients,
    /// and with `buffers` the buffers.
    fn sync(&self, buffers: bool) {
        if self.world.size() == 1 {
            return; // the mean over one rank is its own gradient
        }
        let divisor = self.open_step(buffers);
        self.gradients.borrow_mut().all_reduce_mean(&self.world, divisor);
        if buffers {
            self.sync_buffers();
        }
    }

    /// The control exchange that opens a step (who still trains, whether
    /// buffers follow); what the step's gradient sums are divided by.
    fn open_step(&self, buffers: bool) -> Divisor {
        assert_eq!(
            self.state.get(),
            Membership::Training,
            "DistributedDataParallel: a step after join() on rank {}",
            self.world.rank()
        );
        let control =
            self.control(Control { training: 1.0, left: 0.0, buffers: f32::from(u8::from(buffers)) });
        if control.left > 0.0 {
            self.world.abort_with(format_args!(
                "DistributedDataParallel: {} rank(s) stopped training (returned or dropped the model) while this \
                 rank still trains; a rank that runs out of batches must call join()",
                control.left
            ));
        }
        if self.config.divide_by_initial_world_size {
            Divisor::WorldSize(self.world.size() as f32)
        } else {
            Divisor::Training(control.training)
        }
    }

    /// Sums this rank's `mine` over the ranks: the exchange that opens each step.
    fn control(&self, mine: Control) -> Control {
        let send = [mine.training, mine.left, mine.buffers];
        let mut sum = [0.0f32; 3];
        self.world.all_reduce_sum_f32(&send, &mut sum);
        Control { training: sum[0], left: sum[1], buffers: sum[2] }
    }

    /// Called by a rank that has run out of batches, like PyTorch's
    /// `with model.join():` around uneven inputs: until every rank has
    /// joined, it answers the other ranks' exchanges with zero gradients, so
    /// they go on (their sums divided by the world size, PyTorch's default,
    /// or by the ranks still training: see
    /// [`DdpConfig::divide_by_initial_world_size`]), and their buffer
    /// exchanges take its buffers as they are. Every rank calls it
    /// after its last step; once all have, every rank takes the parameters
    /// and buffers of the last rank to join (which took every step), as
    /// PyTorch's join syncs the final model, and it returns. The rank must
    /// take no step after it. Collective.
    ///
    /// Without `join`, a rank that stops early makes the job end with a
    /// message when its model is dropped (or when the other ranks' wait
    /// reaches the [`World::set_timeout`]), not hang.
    ///
    /// ```no_run
    /// use blocks_core::distributed::{DistributedDataParallel, World};
    /// use blocks_core::nn::{Forward, Linear};
    /// use blocks_core::Tensor;
    /// let world = World::init().unwrap();
    /// let model = DistributedDataParallel::new(Linear::<2, 1>::new(), &world).unwrap();
    /// // Rank 0 has 3 batches, rank 1 has 5.
    /// for _ in 0..3 + 2 * world.rank().min(1) {
    ///     model.backward(&model.forward(&Tensor::rand([4, 2])).sum());
    /// }
    /// model.join();
    /// ```
    pub fn join(&self) {
        if self.world.size() == 1 || self.state.get() != Membership::Training {
            return;
        }
        self.state.set(Membership::Joined);
        let mut last_to_join = true;
        loop {
            let control = self.control(Control { training: 0.0, left: 0.0, buffers: 0.0 });
            if control.training == 0.0 {
                // Every rank has joined: all take the model of the lowest
                // rank among the last to join (it took every step), as
                // PyTorch's join syncs the final model.
                let last = self.world.all_gather_i32(i32::from(last_to_join));
                let root = last.iter().position(|&l| l != 0).unwrap_or(0);
                let cap_bytes = (self.config.bucket_cap_mb * 1024.0 * 1024.0) as usize;
                let state: Vec<Tensor> = self
                    .module()
                    .parameters()
                    .iter()
                    .map(|p| p.tensor().clone())
                    .chain(self.buffers.iter().cloned())
                    .collect();
                exchange(&self.world, &state, cap_bytes, Exchange::BroadcastFrom(root));
                return;
            }
            last_to_join = false;
            if control.left > 0.0 {
                self.world.abort_with(format_args!(
                    "DistributedDataParallel: {} rank(s) stopped training without join() while others still train",
                    control.left
                ));
            }
            self.gradients.borrow_mut().shadow(&self.world);
            if control.buffers > 0.0 {
                self.sync_buffers();
            }
        }
    }

    /// Leaves the training when the model is dropped or unwrapped: one last
    /// control exchange. If another rank still trains, this rank stopped
    /// early without [`join`](Self::join): the job ends with a message.
    fn leave(&self) {
        let state = self.state.replace(Membership::Left);
        if self.world.size() == 1 || state == Membership::Left || std::thread::panicking() {
            return;
        }
        let control = self.control(Control { training: 0.0, left: 1.0, buffers: 0.0 });
        if control.training > 0.0 {
            self.world.abort_with(format_args!(
                "DistributedDataParallel: this rank stopped training (its model was dropped) while {} rank(s) \
                 still train; a rank that runs out of batches must call join()",
                control.training
            ));
        }
    }

    /// Applies the [`BufferSync`] policy to the buffers now (nothing for
    /// [`BufferSync::PerRank`]). [`backward`](Self::backward) calls it.
    /// Collective.
    ///
    /// ```no_run
    /// use blocks_core::distributed::{DistributedDataParallel, World};
    /// use blocks_core::nn::Linear;
    /// let world = World::init().unwrap();
    /// let model = DistributedDataParallel::new(Linear::<2, 1>::new(), &world).unwrap();
    /// model.sync_buffers();
    /// ```
    pub fn sync_buffers(&self) {
        if self.world.size() == 1 {
            return;
        }
        let cap_bytes = (self.config.bucket_cap_mb * 1024.0 * 1024.0) as usize;
        match self.config.buffers {
            BufferSync::PerRank => {}
            BufferSync::Broadcast => exchange(&self.world, &self.buffers, cap_bytes, Exchange::Broadcast),
            BufferSync::Average => exchange(&self.world, &self.buffers, cap_bytes, Exchange::Average),
        }
    }

    /// Saves rank 0's model (its state dict, as [`ModuleExt::save`](crate::nn::ModuleExt::save)) to `path`;
    /// the other ranks write nothing and learn whether rank 0 succeeded.
    /// Collective: every rank calls it and gets the same kind of outcome.
    ///
    /// # Errors
    ///
    /// On rank 0 [`DistributedError::File`] if the file cannot be written;
    /// on the others [`DistributedError::MainFailed`] with its message.
    ///
    /// ```no_run
    /// use blocks_core::distributed::{DistributedDataParallel, World};
    /// use blocks_core::nn::Linear;
    /// let world = World::init().unwrap();
    /// let model = DistributedDataParallel::new(Linear::<2, 1>::new(), &world).unwrap();
    /// world.abort_on_error(model.save("checkpoint.safetensors"));
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), DistributedError> {
        let outcome =
            if self.world.is_main() { self.module().state_dict().save(path.as_ref()).err() } else { None };
        let mut message = outcome.as_ref().map(|e| e.to_string().into_bytes()).unwrap_or_default();
        self.world.broadcast_bytes(&mut message);
        match outcome {
            Some(error) => Err(DistributedError::File(error)),
            None if message.is_empty() => Ok(()),
            None => Err(DistributedError::MainFailed(String::from_utf8_lossy(&message).into_owned())),
        }
    }

    /// The world this model trains in.
    ///
    /// ```no_run
    /// use blocks_core::distributed::{DistributedDataParallel, World};
    /// let world = World::init().unwrap();
    /// let model = DistributedDataParallel::new(blocks_core::nn::Linear::<2, 1>::new(), &world).unwrap();
    /// assert_eq!(model.world().size(), world.size());
    /// ```
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The wrapped model (`ddp.module`).
    ///
    /// ```no_run
    /// use blocks_core::distributed::{DistributedDataParallel, World};
    /// use blocks_core::nn::{Linear, Module, ModuleExt};
    /// let world = World::init().unwrap();
    /// let model = DistributedDataParallel::new(Linear::<2, 1>::new(), &world).unwrap();
    /// assert_eq!(model.module().type_name(), "Linear");
    /// ```
    pub fn module(&self) -> &M {
        self.module.as_ref().expect("the model, until into_inner takes it")
    }

    /// The model back, unwrapped.
    ///
    /// ```no_run
    /// use blocks_core::distributed::{DistributedDataParallel, World};
    /// let world = World::init().unwrap();
    /// let model = DistributedDataParallel::new(blocks_core::nn::Linear::<2, 1>::new(), &world).unwrap();
    /// let layer = model.into_inner();
    /// ```
    pub fn into_inner(mut self) -> M {
        self.leave();
        self.module.take().expect("the model, until into_inner takes it")
    }

    /// How many all-reduce calls one [`sync_gradients`](Self::sync_gradients)
    /// makes, and how many bytes each rank contributes to them (the
    /// gradients of the trainable parameters and one count per parameter).
    ///
    /// ```no_run
    /// use blocks_core::distributed::{DistributedDataParallel, World};
    /// let world = World::init().unwrap();
    /// let model = DistributedDataParallel::new(blocks_core::nn::Linear::<2, 1>::new(), &world).unwrap();
    /// assert_eq!(model.gradient_buckets(), (1, (3 + 2) * 4));
    /// ```
    pub fn gradient_buckets(&self) -> (usize, usize) {
        let gradients = self.gradients.borrow();
        (gradients.bucket_count(), gradients.bytes())
    }
}

impl<M: Module> Deref for DistributedDataParallel<M> {
    type Target = M;

    fn deref(&self) -> &M {
        self.module()
    }
}

impl<M: Module> Drop for DistributedDataParallel<M> {
    fn drop(&mut self) {
        self.leave();
    }
}

impl<M: Module> std::fmt::Debug for DistributedDataParallel<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistributedDataParallel")
            .field("module", &self.module().type_name())
            .field("world", &self.world)
            .field("config", &self.config)
            .finish()
    }
}
