//! Flat buckets: many tensors packed into one buffer so that one collective
//! call moves several of them (PyTorch's gradient buckets).

use std::collections::HashMap;
use std::ops::Range;

use mpi::collective::SystemOperation;
use mpi::traits::CommunicatorCollectives;

use ndarray::ArrayD;

use super::World;
use crate::Tensor;

/// Splits tensors of `sizes` elements, in order, into consecutive ranges of
/// at most `cap` elements each (a tensor larger than `cap` gets a bucket of
/// its own); returns the element ranges of the flat buffer.
pub(crate) fn plan(sizes: &[usize], cap: usize) -> Vec<Range<usize>> {
    let mut buckets = Vec::new();
    let (mut start, mut end) = (0, 0);
    for &size in sizes {
        if end > start && end - start + size > cap {
            buckets.push(start..end);
            start = end;
        }
        end += size;
    }
    if end > start {
        buckets.push(start..end);
    }
    buckets
}

/// The gradients of the trainable parameters, averaged over the ranks in
/// buckets, as PyTorch's DDP reducer does: each rank packs its gradients
/// into one flat buffer, each bucket is summed with one all-reduce, and the
/// sum divided by the divisor (see [`Divisor`]) goes back into every
/// gradient.
///
/// The buffer holds the parameters in reverse order (the last layer's
/// first), the order backward completes their gradients, so that the first
/// buckets are ready while the first layers still compute: with
/// [`backward_overlapped`](Self::backward_overlapped) each bucket's
/// all-reduce starts (non-blocking) as soon as its gradients are complete.
/// Buckets start strictly in order, so every rank starts the same
/// collectives in the same order, whatever order its gradients come in.
///
/// One extra value per parameter, after the gradients (in the last bucket,
/// which starts only once every gradient is packed), counts the ranks that
/// had a gradient for it: a parameter no rank used keeps `grad == None` (as
/// one process would, and as PyTorch leaves a globally unused parameter);
/// one that some ranks did not use gets zeros from them, as PyTorch's
/// `find_unused_parameters=True` reducer does.
pub(crate) struct GradientBuckets {
    /// The trainable parameters in bucket order (the model's reversed).
    parameters: Vec<Tensor>,
    /// Each parameter's position in `parameters`, by tensor identity.
    position: HashMap<usize, usize>,
    /// Where each parameter's gradient starts in the flat buffer.
    offsets: Vec<usize>,
    /// The bucket each parameter is in.
    bucket_of: Vec<usize>,
    /// How many parameters each bucket holds.
    members: Vec<usize>,
    /// Element ranges of the flat buffer, one collective call each; the last
    /// one also holds the presence counts.
    buckets: Vec<Range<usize>>,
    /// Where the presence counts start (after all gradients).
    flags: usize,
    send: Vec<f32>,
    receive: Vec<f32>,
}

/// What the summed gradients are divided by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Divisor {
    /// The world size, whoever contributed: PyTorch's default (and its
    /// `join(divide_by_initial_world_size=True)`), the mean of the global
    /// batch when every rank has a batch of the same size.
    WorldSize(f32),
    /// The number of ranks still training (not joined): PyTorch's
    /// `join(divide_by_initial_world_size=False)`.
    Training(f32),
}

impl Divisor {
    fn value(self) -> f32 {
        match self {
            Divisor::WorldSize(n) | Divisor::Training(n) => n,
        }
    }
}

impl GradientBuckets {
    /// Buckets of at most `cap_bytes` for `parameters` (the trainable ones,
    /// in the model's order, the same on every rank).
    pub(crate) fn new(mut parameters: Vec<Tensor>, cap_bytes: usize) -> Self {
        parameters.reverse();
        let sizes: Vec<usize> = parameters.iter().map(Tensor::numel).collect();
        let mut offsets = Vec::with_capacity(sizes.len());
        let mut total = 0;
        for size in &sizes {
            offsets.push(total);
            total += size;
        }
        let mut buckets = plan(&sizes, (cap_bytes / size_of::<f32>()).max(1));
        let flags = total..total + parameters.len();
        match buckets.last_mut() {
            Some(last) => last.end = flags.end,
            None if !parameters.is_empty() => buckets.push(flags.clone()),
            None => {}
        }
        let bucket_of: Vec<usize> = offsets
            .iter()
            .map(|&offset| buckets.iter().position(|b| b.contains(&offset)).unwrap_or(buckets.len() - 1))
            .collect();
        let mut members = vec![0; buckets.len()];
        bucket_of.iter().for_each(|&b| members[b] += 1);
        let position = parameters.iter().enumerate().map(|(i, p)| (p.identity(), i)).collect();
        let len = flags.end;
        GradientBuckets {
            parameters,
            position,
            offsets,
            bucket_of,
            members,
            buckets,
            flags: total,
            send: vec![0.0; len],
            receive: vec![0.0; len],
        }
    }

    /// The number of collective calls per step.
    pub(crate) fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// The bytes each rank contributes per step (gradients and counts).
    pub(crate) fn bytes(&self) -> usize {
        self.send.len() * size_of::<f32>()
    }

    /// Averages each gradient over the ranks of `world` after the backward
    /// pass (the gradients as they are now), bucket after bucket.
    pub(crate) fn all_reduce_mean(&mut self, world: &World, divisor: Divisor) {
        let parts = split(&mut self.send, &self.buckets);
        let mut parts: Vec<Option<&mut [f32]>> = parts.into_iter().map(Some).collect();
        let (last, flags) = (self.buckets.len().saturating_sub(1), self.flags);
        for (index, parameter) in self.parameters.iter().enumerate() {
            let (bucket, offset) = (self.bucket_of[index], self.offsets[index]);
            let start = self.buckets[bucket].start;
            let present = pack(parameter, &mut parts[bucket], offset - start);
            parts[last].as_mut().expect("the last bucket")[flags + index - self.buckets[last].start] =
                f32::from(u8::from(present));
        }
        for bucket in &self.buckets {
            world.all_reduce_sum_f32(&self.send[bucket.clone()], &mut self.receive[bucket.clone()]);
        }
        self.unpack(divisor);
    }

    /// `loss.backward()` with the all-reduce overlapped: as each bucket's
    /// gradients are complete (reported by the backward pass while earlier
    /// layers still compute), its all-reduce starts (`MPI_Iallreduce`), in
    /// bucket order; parameters the pass does not reach are packed at its
    /// end; then it waits for all (at most the world's timeout) and writes
    /// the averages back. The sums are those of
    /// [`all_reduce_mean`](Self::all_reduce_mean) (same buckets, same
    /// calls), so the results are identical.
    pub(crate) fn backward_overlapped(&mut self, world: &World, loss: &Tensor, divisor: Divisor) {
        let GradientBuckets { parameters, position, offsets, bucket_of, members, buckets, flags, .. } = self;
        let (flags, last) = (*flags, buckets.len().saturating_sub(1));
        let mut sends: Vec<Option<&mut [f32]>> =
            split(&mut self.send, buckets).into_iter().map(Some).collect();
        let mut receives: Vec<Option<&mut [f32]>> =
            split(&mut self.receive, buckets).into_iter().map(Some).collect();
        let mut waiting = members.clone(); // parameters not yet packed, per bucket
        let mut packed = vec![false; parameters.len()];
        let comm = world.communicator();
        mpi::request::scope(|scope| {
            let mut requests = Vec::with_capacity(buckets.len());
            let mut next = 0; // the next bucket to start
            let mut pack_one = |index: usize, requests: &mut Vec<Option<_>>| {
                if std::mem::replace(&mut packed[index], true) {
                    return;
                }
                let bucket = bucket_of[index];
                let present =
                    pack(&parameters[index], &mut sends[bucket], offsets[index] - buckets[bucket].start);
                sends[last].as_mut().expect("the last bucket starts last")
                    [flags + index - buckets[last].start] = f32::from(u8::from(present));
                waiting[bucket] -= 1;
                while next < buckets.len() && waiting[next] == 0 {
                    let send: &[f32] = sends[next].take().expect("a bucket starts once");
                    let receive = receives[next].take().expect("a bucket starts once");
                    requests.push(Some(comm.immediate_all_reduce_into(
                        scope,
                        send,
                        receive,
                        SystemOperation::sum(),
                    )));
                    next += 1;
                }
                World::progress(requests);
            };
            loss.backward_reporting(&mut |leaf| {
                if let Some(&index) = position.get(&leaf.identity()) {
                    pack_one(index, &mut requests);
                }
            });
            for index in 0..parameters.len() {
                pack_one(index, &mut requests); // those the pass did not reach
            }
            world.wait_all(&mut requests, "an all-reduce of gradients");
        });
        self.unpack(divisor);
    }

    /// Writes the sums in `receive`, divided by `divisor`, into the
    /// gradients of the parameters some rank had a gradient for.
    fn unpack(&mut self, divisor: Divisor) {
        let flags = self.flags;
        let divisor = divisor.value();
        for (index, (parameter, &offset)) in self.parameters.iter().zip(&self.offsets).enumerate() {
            if self.receive[flags + index] == 0.0 {
                continue; // no rank has a gradient for it: it stays as it is
            }
            let mean = &self.receive[offset..offset + parameter.numel()];
            parameter.with_grad_mut(|slot| match slot {
                Some(grad) if grad.len() == mean.len() => {
                    grad.iter_mut().zip(mean).for_each(|(g, m)| *g = m / divisor);
                }
                _ => {
                    let values = mean.iter().map(|m| m / divisor).collect();
                    let grad =
                        ArrayD::from_shape_vec(parameter.shape(), values).expect("the parameter's size");
                    *slot = Some(grad);
                }
            });
        }
    }

    /// Takes part in the all-reduces of [`all_reduce_mean`](Self::all_reduce_mean)
    /// without a gradient (zeros, and no count): what a rank that joined
    /// (out of batches) answers while the others still train.
    pub(crate) fn shadow(&mut self, world: &World) {
        self.send.fill(0.0);
        for bucket in &self.buckets {
            world.all_reduce_sum_f32(&self.send[bucket.clone()], &mut self.receive[bucket.clone()]);
        }
    }
}

/// Copies `parameter`'s gradient into `bucket` (a bucket's part of the flat
/// buffer) at `at`, or zeros if it has none; whether it had one.
fn pack(parameter: &Tensor, bucket: &mut Option<&mut [f32]>, at: usize) -> bool {
    let bucket = bucket.as_mut().expect("a bucket is packed before it starts");
    let slot = &mut bucket[at..at + parameter.numel()];
    parameter.with_grad(|grad| match grad {
        Some(grad) => {
            match grad.as_slice() {
                Some(values) => slot.copy_from_slice(values),
                None => slot.iter_mut().zip(grad.iter()).for_each(|(s, g)| *s = *g),
            }
            true
        }
        None => {
            slot.fill(0.0);
            false
        }
    })
}

/// `buffer` cut into the consecutive `ranges` (which cover it from 0).
fn split<'b>(mut buffer: &'b mut [f32], ranges: &[Range<usize>]) -> Vec<&'b mut [f32]> {
    let mut parts = Vec::with_capacity(ranges.len());
    for range in ranges {
        let (part, rest) = std::mem::take(&mut buffer).split_at_mut(range.len());
        parts.push(part);
        buffer = rest;
    }
    parts
}

/// What [`exchange`] does with the values of the tensors.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Exchange {
    /// Every rank gets rank 0's values.
    Broadcast,
    /// Every rank gets this rank's values (the last rank to join, after
    /// uneven inputs).
    BroadcastFrom(usize),
    /// Every rank gets the mean over the ranks.
    Average,
}

/// Broadcasts or averages the values (not gradients) of `tensors` over the
/// ranks, in buckets of at most `cap_bytes`.
pub(crate) fn exchange(world: &World, tensors: &[Tensor], cap_bytes: usize, how: Exchange) {
    let sizes: Vec<usize> = tensors.iter().map(Tensor::numel).collect();
    let mut flat: Vec<f32> = Vec::with_capacity(sizes.iter().sum());
    for tensor in tensors {
        flat.extend(tensor.data().iter().copied());
    }
    for bucket in plan(&sizes, (cap_bytes / size_of::<f32>()).max(1)) {
        match how {
            Exchange::Broadcast => world.broadcast_f32_from(0, &mut flat[bucket]),
            Exchange::BroadcastFrom(root) => world.broadcast_f32_from(root, &mut flat[bucket]),
            Exchange::Average => {
                let send = flat[bucket.clone()].to_vec();
                world.all_reduce_sum_f32(&send, &mut flat[bucket]);
            }
        }
    }
    let root = match how {
        Exchange::Broadcast => Some(0),
        Exchange::BroadcastFrom(root) => Some(root),
        Exchange::Average => None,
    };
    if root == Some(world.rank()) {
        return;
    }
    let ranks = world.size() as f32;
    let mut offset = 0;
    for tensor in tensors {
        let values = &flat[offset..offset + tensor.numel()];
        offset += tensor.numel();
        let mut data = tensor.data_mut();
        match how {
            Exchange::Broadcast | Exchange::BroadcastFrom(_) => {
                data.iter_mut().zip(values).for_each(|(d, v)| *d = *v)
            }
            Exchange::Average => data.iter_mut().zip(values).for_each(|(d, v)| *d = v / ranks),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{GradientBuckets, plan};
    use crate::Tensor;
    use std::ops::Range;

    #[test]
    fn gradients_are_bucketed_from_the_last_parameter_back() {
        // A 6-16-4 MLP's parameters in the model's order: the last layer's
        // bias and weight fill the first buckets (they are ready first).
        let sizes = [[16, 6], [16, 1], [4, 16], [4, 1]];
        let parameters: Vec<Tensor> = sizes.iter().map(|&shape| Tensor::zeros(shape)).collect();
        let buckets = GradientBuckets::new(parameters, 64 * 4);
        assert_eq!(buckets.buckets, [0..4, 4..68, 68..84, 84..184]); // the last holds 4 counts
        assert_eq!(buckets.offsets, [0, 4, 68, 84]);
        assert_eq!(buckets.bucket_of, [0, 1, 2, 3]);
        assert_eq!(buckets.members, [1, 1, 1, 1]);
        assert_eq!((buckets.flags, buckets.bucket_count(), buckets.bytes()), (180, 4, 184 * 4));
        let one = GradientBuckets::new(sizes.iter().map(|&shape| Tensor::zeros(shape)).collect(), 1 << 20);
        assert_eq!((one.buckets.clone(), one.members.clone()), (vec![Range { start: 0, end: 184 }], vec![4]));
    }

    #[test]
    fn buckets_fill_up_to_the_cap_and_a_large_tensor_stands_alone() {
        assert_eq!(plan(&[3, 3, 3], 6), [0..6, 6..9]);
        assert_eq!(plan(&[3, 10, 2, 2], 6), [0..3, 3..13, 13..17]);
        assert_eq!(plan(&[1, 1, 1, 1], 100), vec![Range { start: 0, end: 4 }]);
        assert_eq!(plan(&[], 4), Vec::<Range<usize>>::new());
        assert_eq!(plan(&[0, 5], 4), vec![Range { start: 0, end: 5 }]); // one bucket
    }
}
