//! Flat buckets: many tensors packed into one buffer so that one collective
//! call moves several of them (PyTorch's gradient buckets).

use std::ops::Range;

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
/// buckets: each rank packs its gradients into one flat buffer, each bucket
/// is summed with one `MPI_Allreduce`, and the mean goes back into every
/// gradient. One extra value per parameter, after the gradients, counts the
/// ranks that had a gradient for it, so a parameter no rank used keeps
/// `grad == None` (as one process would) and one that some ranks used gets
/// the mean with zeros for the others (the full batch's gradient).
pub(crate) struct GradientBuckets {
    parameters: Vec<Tensor>,
    /// Where each parameter's gradient starts in the flat buffer.
    offsets: Vec<usize>,
    /// Element ranges of the flat buffer, one collective call each; the last
    /// one also holds the presence counts.
    buckets: Vec<Range<usize>>,
    /// Where the presence counts start (after all gradients).
    flags: usize,
    send: Vec<f32>,
    receive: Vec<f32>,
}

impl GradientBuckets {
    /// Buckets of at most `cap_bytes` for `parameters` (the trainable ones,
    /// in the order every rank uses).
    pub(crate) fn new(parameters: Vec<Tensor>, cap_bytes: usize) -> Self {
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
        let len = flags.end;
        GradientBuckets {
            parameters,
            offsets,
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

    /// Averages each gradient over the ranks of `world` that have one (a
    /// rank that joined, out of batches, has none).
    pub(crate) fn all_reduce_mean(&mut self, world: &World) {
        let flags = self.flags;
        for (index, (parameter, &offset)) in self.parameters.iter().zip(&self.offsets).enumerate() {
            let slot = &mut self.send[offset..offset + parameter.numel()];
            let present = parameter.with_grad(|grad| match grad {
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
            });
            self.send[flags + index] = if present { 1.0 } else { 0.0 };
        }
        for bucket in &self.buckets {
            world.all_reduce_sum_f32(&self.send[bucket.clone()], &mut self.receive[bucket.clone()]);
        }
        for (index, (parameter, &offset)) in self.parameters.iter().zip(&self.offsets).enumerate() {
            // The mean over the ranks that contributed a gradient (a rank
            // that joined, out of batches, contributes none).
            let ranks = self.receive[flags + index];
            if ranks == 0.0 {
                continue; // no rank has a gradient for it
            }
            let mean = &self.receive[offset..offset + parameter.numel()];
            parameter.with_grad_mut(|slot| match slot {
                Some(grad) if grad.len() == mean.len() => {
                    grad.iter_mut().zip(mean).for_each(|(g, m)| *g = m / ranks);
                }
                _ => {
                    let values = mean.iter().map(|m| m / ranks).collect();
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
    use super::plan;
    use std::ops::Range;

    #[test]
    fn buckets_fill_up_to_the_cap_and_a_large_tensor_stands_alone() {
        assert_eq!(plan(&[3, 3, 3], 6), [0..6, 6..9]);
        assert_eq!(plan(&[3, 10, 2, 2], 6), [0..3, 3..13, 13..17]);
        assert_eq!(plan(&[1, 1, 1, 1], 100), vec![Range { start: 0, end: 4 }]);
        assert_eq!(plan(&[], 4), Vec::<Range<usize>>::new());
        assert_eq!(plan(&[0, 5], 4), vec![Range { start: 0, end: 5 }]); // one bucket
    }
}
