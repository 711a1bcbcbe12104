//! `DistributedSampler`: each of several processes its own share of a data
//! set, in an order that all of them agree on, like
//! `torch.utils.data.distributed.DistributedSampler`.

use super::shuffle::{epoch_seed, permutation};

/// The sample indices one process (a *replica*, of rank `rank` among
/// `num_replicas`) reads in an epoch of data-parallel training, with the
/// semantics of PyTorch's `DistributedSampler(dataset, num_replicas, rank,
/// shuffle, seed, drop_last)`:
///
/// - every replica draws the same order of the whole data set: dataset order,
///   or with [`shuffle`](Self::shuffle) a permutation fixed by the seed and
///   the epoch (so it changes every epoch and is the same on every rank);
/// - when the length does not divide by `num_replicas`, the order is padded
///   by repeating its first indices until it does (the default), or with
///   [`drop_last`](Self::drop_last) its tail is dropped;
/// - replica `rank` takes every `num_replicas`-th index starting at `rank`,
///   so the shards are disjoint (apart from the padding) and the same size.
///
/// Hand it to [`DataLoader::sampler`](super::DataLoader::sampler); the
/// loader passes its epoch number in, so PyTorch's `sampler.set_epoch(epoch)`
/// is the loader's [`set_epoch`](super::DataLoader::set_epoch) (and iterating
/// the loader again moves to the next epoch by itself). With one replica and
/// a seed, the order is exactly that of `DataLoader::shuffle(seed)`.
///
/// ```
/// use blocks_core::data::DistributedSampler;
/// // 10 samples over 3 replicas: 4 each, padded with samples 0 and 1.
/// let shards: Vec<Vec<usize>> = (0..3).map(|rank| DistributedSampler::new(10, 3, rank).indices(0)).collect();
/// assert_eq!(shards, [vec![0, 3, 6, 9], vec![1, 4, 7, 0], vec![2, 5, 8, 1]]);
/// // With drop_last the tail goes instead: 3 each.
/// assert_eq!(DistributedSampler::new(10, 3, 1).drop_last(true).indices(0), [1, 4, 7]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistributedSampler {
    dataset_len: usize,
    num_replicas: usize,
    rank: usize,
    seed: Option<u64>,
    drop_last: bool,
}

impl DistributedSampler {
    /// Replica `rank` of `num_replicas`, over a data set of `dataset_len`
    /// samples, in dataset order and padded (`shuffle=False`,
    /// `drop_last=False`).
    ///
    /// # Panics
    ///
    /// If `num_replicas` is 0 or `rank` is not below it (PyTorch's
    /// `ValueError`).
    ///
    /// ```
    /// use blocks_core::data::DistributedSampler;
    /// assert_eq!(DistributedSampler::new(4, 2, 1).indices(0), [1, 3]);
    /// ```
    #[track_caller]
    pub fn new(dataset_len: usize, num_replicas: usize, rank: usize) -> Self {
        assert!(num_replicas > 0, "DistributedSampler: num_replicas must be at least 1");
        assert!(
            rank < num_replicas,
            "DistributedSampler: invalid rank {rank}, rank should be in the interval [0, {}]",
            num_replicas - 1
        );
        DistributedSampler { dataset_len, num_replicas, rank, seed: None, drop_last: false }
    }

    /// Shuffles every epoch, in an order fixed by `seed` and the epoch
    /// (`shuffle=True, seed=seed`); every rank must pass the same seed.
    ///
    /// ```
    /// use blocks_core::data::DistributedSampler;
    /// let (a, b) = (DistributedSampler::new(8, 2, 0).shuffle(5), DistributedSampler::new(8, 2, 1).shuffle(5));
    /// let mut both: Vec<usize> = a.indices(3).into_iter().chain(b.indices(3)).collect();
    /// both.sort();
    /// assert_eq!(both, (0..8).collect::<Vec<_>>()); // disjoint shards covering the data
    /// assert_ne!(a.indices(3), a.indices(4)); // a new order every epoch
    /// ```
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Drops the tail that does not divide by `num_replicas` instead of
    /// padding (`drop_last=True`).
    ///
    /// ```
    /// use blocks_core::data::DistributedSampler;
    /// assert_eq!(DistributedSampler::new(5, 2, 0).drop_last(true).len(), 2);
    /// ```
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// The number of samples of this replica per epoch, like `len(sampler)`
    /// (PyTorch's `num_samples`): the same on every rank.
    ///
    /// ```
    /// use blocks_core::data::DistributedSampler;
    /// assert_eq!(DistributedSampler::new(1437, 2, 0).len(), 719);
    /// assert_eq!(DistributedSampler::new(1437, 2, 0).drop_last(true).len(), 718);
    /// ```
    pub fn len(&self) -> usize {
        if self.drop_last {
            self.dataset_len / self.num_replicas
        } else {
            self.dataset_len.div_ceil(self.num_replicas)
        }
    }

    /// Whether this replica gets no samples.
    ///
    /// ```
    /// use blocks_core::data::DistributedSampler;
    /// assert!(DistributedSampler::new(1, 2, 0).drop_last(true).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The length of the data set this sampler was made for.
    ///
    /// ```
    /// use blocks_core::data::DistributedSampler;
    /// assert_eq!(DistributedSampler::new(7, 2, 0).dataset_len(), 7);
    /// ```
    pub fn dataset_len(&self) -> usize {
        self.dataset_len
    }

    /// The number of replicas (the world size).
    ///
    /// ```
    /// use blocks_core::data::DistributedSampler;
    /// assert_eq!(DistributedSampler::new(7, 2, 0).num_replicas(), 2);
    /// ```
    pub fn num_replicas(&self) -> usize {
        self.num_replicas
    }

    /// This replica's rank.
    ///
    /// ```
    /// use blocks_core::data::DistributedSampler;
    /// assert_eq!(DistributedSampler::new(7, 2, 1).rank(), 1);
    /// ```
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The settings that must be the same on every rank, as (name, value)
    /// pairs for [`DistributedDataParallel::with_settings`](crate::distributed::DistributedDataParallel::with_settings):
    /// the data set's length, the number of replicas, the shuffling seed and
    /// `drop_last`. A different seed on one rank would give it a different
    /// split of the shards (samples read twice, others never).
    ///
    /// ```
    /// use blocks_core::data::DistributedSampler;
    /// let settings = DistributedSampler::new(7, 2, 1).shuffle(3).settings();
    /// assert_eq!(settings[0], ("sampler dataset length".to_string(), "7".to_string()));
    /// assert_eq!(settings[2], ("sampler shuffle seed".to_string(), "3".to_string()));
    /// ```
    pub fn settings(&self) -> Vec<(String, String)> {
        let seed = self.seed.map_or_else(|| "none (no shuffling)".to_string(), |seed| seed.to_string());
        [
            ("sampler dataset length", self.dataset_len.to_string()),
            ("sampler replicas", self.num_replicas.to_string()),
            ("sampler shuffle seed", seed),
            ("sampler drop_last", self.drop_last.to_string()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect()
    }

    /// This replica's sample indices in epoch `epoch`, in the order it
    /// reads them.
    ///
    /// ```
    /// use blocks_core::data::DistributedSampler;
    /// // 2 samples over 5 replicas: the order repeats until it fills 5 places.
    /// let firsts: Vec<usize> = (0..5).map(|r| DistributedSampler::new(2, 5, r).indices(0)[0]).collect();
    /// assert_eq!(firsts, [0, 1, 0, 1, 0]);
    /// ```
    pub fn indices(&self, epoch: u64) -> Vec<usize> {
        let mut order = match self.seed {
            Some(seed) => permutation(self.dataset_len, epoch_seed(seed, epoch)),
            None => (0..self.dataset_len).collect(),
        };
        let total = self.len() * self.num_replicas;
        if order.len() < total {
            // Padding by repeating the order from its start (as often as a
            // data set smaller than the number of replicas needs).
            let head = order.clone();
            order.extend(head.iter().cycle().take(total - head.len()));
        } else {
            order.truncate(total);
        }
        order.into_iter().skip(self.rank).step_by(self.num_replicas).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PyTorch's `DistributedSampler(range(n), num_replicas, rank, shuffle=False)`
    /// for the cases below, written out by hand from its source.
    #[test]
    fn unshuffled_shards_match_pytorch() {
        let shard = |n, r, rank| DistributedSampler::new(n, r, rank).indices(0);
        assert_eq!(shard(10, 4, 0), [0, 4, 8]);
        assert_eq!(shard(10, 4, 1), [1, 5, 9]);
        assert_eq!(shard(10, 4, 2), [2, 6, 0]);
        assert_eq!(shard(10, 4, 3), [3, 7, 1]);
        let dropped = |n, r, rank| DistributedSampler::new(n, r, rank).drop_last(true).indices(0);
        assert_eq!(dropped(10, 4, 0), [0, 4]);
        assert_eq!(dropped(10, 4, 3), [3, 7]);
        // padding longer than the data set: indices * ceil(padding / len)
        assert_eq!(shard(3, 8, 7), [1]);
        assert_eq!(shard(3, 8, 5), [2]);
        assert!(DistributedSampler::new(0, 3, 1).indices(0).is_empty());
    }

    #[test]
    fn shuffled_shards_partition_the_epoch_order_on_every_rank() {
        for (n, replicas) in [(1437, 2), (1437, 3), (10, 4), (7, 7), (5, 8)] {
            for drop_last in [false, true] {
                for epoch in 0..3 {
                    let samplers: Vec<_> = (0..replicas)
                        .map(|rank| {
                            DistributedSampler::new(n, replicas, rank).shuffle(9).drop_last(drop_last)
                        })
                        .collect();
                    let shards: Vec<Vec<usize>> = samplers.iter().map(|s| s.indices(epoch)).collect();
                    let len = samplers[0].len();
                    assert!(shards.iter().all(|s| s.len() == len), "equal shard sizes");
                    // Interleaving the shards gives back one common order: the
                    // epoch's permutation, padded from its start or cut.
                    let order = permutation(n, epoch_seed(9, epoch));
                    for (position, expected) in order.iter().cycle().take(len * replicas).enumerate() {
                        assert_eq!(shards[position % replicas][position / replicas], *expected);
                    }
                    let mut seen: Vec<usize> = shards.concat();
                    seen.sort();
                    seen.dedup();
                    let distinct = if drop_last { len * replicas } else { n };
                    assert_eq!(seen.len(), distinct, "n={n} replicas={replicas} drop_last={drop_last}");
                }
            }
        }
    }

    #[test]
    fn one_replica_gives_the_loader_order() {
        let sampler = DistributedSampler::new(50, 1, 0).shuffle(4);
        for epoch in 0..3 {
            assert_eq!(sampler.indices(epoch), permutation(50, epoch_seed(4, epoch)));
        }
    }

    #[test]
    fn a_loader_with_one_replica_reads_what_a_shuffled_loader_reads() {
        use crate::Tensor;
        use crate::data::{DataLoader, TensorDataset};
        let data = TensorDataset::new(Tensor::rand([23, 2]), (0..23).collect());
        let plain = DataLoader::new(data.clone(), 5).shuffle(8);
        let sampled = DataLoader::new(data, 5).sampler(DistributedSampler::new(23, 1, 0).shuffle(8));
        assert_eq!(plain.len(), sampled.len());
        for epoch in 0..3 {
            let a: Vec<Vec<usize>> = plain.epoch(epoch).map(|(_, y)| y).collect();
            let b: Vec<Vec<usize>> = sampled.epoch(epoch).map(|(_, y)| y).collect();
            assert_eq!(a, b);
        }
        sampled.set_epoch(2);
        assert_eq!(sampled.iter().next().unwrap().1, plain.epoch(2).next().unwrap().1);
    }

    #[test]
    #[should_panic(expected = "DataLoader: sampler option is mutually exclusive with shuffle")]
    fn a_loader_cannot_shuffle_and_sample() {
        let data = crate::data::TensorDataset::new(crate::Tensor::zeros([4, 1]), vec![0; 4]);
        let _ = crate::data::DataLoader::new(data, 2).shuffle(1).sampler(DistributedSampler::new(4, 2, 0));
    }

    #[test]
    #[should_panic(expected = "DistributedSampler: invalid rank 2, rank should be in the interval [0, 1]")]
    fn a_rank_beyond_the_world_panics() {
        let _ = DistributedSampler::new(10, 2, 2);
    }
}
