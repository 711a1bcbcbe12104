//! `DistributedDataParallel`: a model replicated on every rank, its
//! gradients averaged after each backward, like PyTorch's
//! `torch.nn.parallel.DistributedDataParallel`.

use std::cell::RefCell;
use std::ops::Deref;
use std::path::Path;

use super::buckets::{Exchange, GradientBuckets, exchange};
use super::structure::{Entry, check};
use super::{DistributedError, World};
use crate::Tensor;
use crate::nn::Module;

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
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DdpConfig {
    /// The size of a gradient bucket in MiB (PyTorch's `bucket_cap_mb`,
    /// 25): gradients are packed into buckets of about this size, one
    /// all-reduce each.
    pub bucket_cap_mb: f64,
    /// What happens to the buffers; see [`BufferSync`].
    pub buffers: BufferSync,
}

impl Default for DdpConfig {
    fn default() -> Self {
        DdpConfig { bucket_cap_mb: 25.0, buffers: BufferSync::PerRank }
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
/// - **[`backward`](Self::backward)** runs the loss's backward, then averages
///   the gradients over the ranks with `MPI_Allreduce` in buckets of about
///   25 MiB (several parameters per call). Frozen parameters
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
/// use blocks_core::nn::{Forward, Linear, Module};
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
    module: M,
    world: World,
    config: DdpConfig,
    gradients: RefCell<GradientBuckets>,
    buffers: Vec<Tensor>,
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
    /// use blocks_core::nn::{DynLinear, Module};
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
    /// let config = DdpConfig { buffers: BufferSync::Broadcast, bucket_cap_mb: 1.0 };
    /// let model = DistributedDataParallel::with_config(Linear::<4, 2>::new(), &world, config).unwrap();
    /// ```
    pub fn with_config(module: M, world: &World, config: DdpConfig) -> Result<Self, DistributedError> {
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
        Ok(DistributedDataParallel { module, world: world.clone(), config, gradients, buffers })
    }

    /// `loss.backward()`, then [`sync_gradients`](Self::sync_gradients) and
    /// [`sync_buffers`](Self::sync_buffers): what `loss.backward()` does
    /// under PyTorch's DDP. Every rank must call it (it is collective).
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
        loss.backward();
        self.sync_gradients();
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
        if self.world.size() == 1 {
            return; // the mean over one rank is its own gradient
        }
        self.gradients.borrow_mut().all_reduce_mean(&self.world);
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

    /// Saves rank 0's model (its state dict, as [`Module::save`]) to `path`;
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
            if self.world.is_main() { self.module.state_dict().save(path.as_ref()).err() } else { None };
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
    /// use blocks_core::nn::{Linear, Module};
    /// let world = World::init().unwrap();
    /// let model = DistributedDataParallel::new(Linear::<2, 1>::new(), &world).unwrap();
    /// assert_eq!(model.module().type_name(), "Linear");
    /// ```
    pub fn module(&self) -> &M {
        &self.module
    }

    /// The model back, unwrapped.
    ///
    /// ```no_run
    /// use blocks_core::distributed::{DistributedDataParallel, World};
    /// let world = World::init().unwrap();
    /// let model = DistributedDataParallel::new(blocks_core::nn::Linear::<2, 1>::new(), &world).unwrap();
    /// let layer = model.into_inner();
    /// ```
    pub fn into_inner(self) -> M {
        self.module
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
        &self.module
    }
}

impl<M: Module> std::fmt::Debug for DistributedDataParallel<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistributedDataParallel")
            .field("module", &self.module.type_name())
            .field("world", &self.world)
            .field("config", &self.config)
            .finish()
    }
}
