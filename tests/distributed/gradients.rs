//! The cases of how gradients are averaged:
//!
//! - `unused`: rank 1's loss does not use the last layer. Each gradient is
//!   the sum over the ranks divided by the world size, rank 1 counting as
//!   zeros for the last layer (PyTorch's `find_unused_parameters=True`
//!   reducer, and its default `divide_by_initial_world_size`); when no rank
//!   uses the last layer its gradients stay `None`. The overlapped
//!   `backward` and `loss.backward()` + `sync_gradients()` give the same
//!   bits.
//! - `overlap`: 6 steps of SGD with momentum, buckets of 256 bytes (four
//!   per step): a model trained with the overlapped `ddp.backward(&loss)`
//!   and one trained with `loss.backward(); ddp.sync_gradients()` have
//!   bitwise identical gradients and parameters after every step.

use blocks::distributed::{DdpConfig, DistributedDataParallel, World};
use blocks::prelude::*;

use super::uneven::batch;
use super::{Plain, close, grads, identical_to_rank_0, params, plain};

/// The same gradients, bit for bit.
fn bitwise(what: &str, got: &[(String, Tensor)], want: &[(String, Tensor)]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{what}: {} gradients against {}", got.len(), want.len()));
    }
    for ((name, a), (_, b)) in got.iter().zip(want) {
        let same = a.to_vec().iter().zip(b.to_vec()).all(|(x, y)| x.to_bits() == y.to_bits());
        if !same {
            return Err(format!("{what}: {name} differs"));
        }
    }
    Ok(())
}

/// Rank `rank`'s loss at `step`: the whole model, or (rank 1, `partial`)
/// the first layer alone, which leaves the last layer without a gradient.
fn loss(model: &Plain, step: usize, rank: usize, partial: bool) -> Tensor {
    let (x, y) = batch(step, rank);
    if partial {
        model.0.0.forward(&x).relu().sum() * 0.01
    } else {
        model.forward_tensor(&x).cross_entropy(&y)
    }
}

pub fn unused(world: &World) {
    let (rank, size) = (world.rank(), world.size());
    let outcome = (|| -> Result<String, String> {
        manual_seed(11);
        let config = DdpConfig { bucket_cap_mb: 0.0001, ..Default::default() }; // several buckets
        let overlapped =
            DistributedDataParallel::with_config(plain(8), world, config).map_err(|e| e.to_string())?;
        let separate =
            DistributedDataParallel::with_config(plain(8), world, config).map_err(|e| e.to_string())?;
        separate.load_state_dict(&overlapped.state_dict()).map_err(|e| e.to_string())?;
        // Rank 1 leaves the last layer out.
        overlapped.backward(&loss(&overlapped, 0, rank, rank == 1));
        loss(&separate, 0, rank, rank == 1).backward();
        separate.sync_gradients();
        // What PyTorch gives: every rank's gradient, a missing one as
        // zeros, summed and divided by the world size.
        let reference = plain(8);
        reference.load_state_dict(&overlapped.state_dict()).map_err(|e| e.to_string())?;
        let mut want: Vec<(String, Tensor)> = Vec::new();
        for r in 0..size {
            reference.zero_grad();
            loss(&reference, 0, r, r == 1).backward();
            for (name, p) in reference.named_parameters() {
                let grad = p.grad().unwrap_or_else(|| Tensor::zeros(p.shape()));
                match want.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, sum)) => *sum = &*sum + &grad,
                    None => want.push((name, grad)),
                }
            }
        }
        let want: Vec<(String, Tensor)> = want.into_iter().map(|(n, g)| (n, g / size as f32)).collect();
        let worst = close("unused on rank 1", &grads(&*overlapped), &want)?;
        bitwise("overlapped against separate", &grads(&*overlapped), &grads(&*separate))?;
        identical_to_rank_0(world, &grads(&*overlapped))?;
        // No rank uses the last layer: its gradients stay None everywhere.
        overlapped.zero_grad();
        overlapped.backward(&loss(&overlapped, 1, rank, true));
        let missing = overlapped.0.2.weight().grad().is_none()
            && overlapped.0.2.bias().is_some_and(|b| b.grad().is_none());
        if !missing || overlapped.0.0.weight().grad().is_none() {
            return Err("a parameter no rank used got a gradient (or a used one none)".into());
        }
        Ok(format!("{worst:.1e}"))
    })();
    match outcome {
        Ok(worst) => println!("rank {rank} of {size}: unused ok ({worst})"),
        Err(message) => world.abort_with(message),
    }
}

pub fn overlap(world: &World) {
    let (rank, size) = (world.rank(), world.size());
    let outcome = (|| -> Result<usize, String> {
        manual_seed(21 + rank as u64); // different weights: the broadcast makes them rank 0's
        let config = DdpConfig { bucket_cap_mb: 256.0 / (1024.0 * 1024.0), ..Default::default() };
        let overlapped =
            DistributedDataParallel::with_config(plain(16), world, config).map_err(|e| e.to_string())?;
        let separate =
            DistributedDataParallel::with_config(plain(16), world, config).map_err(|e| e.to_string())?;
        separate.load_state_dict(&overlapped.state_dict()).map_err(|e| e.to_string())?;
        let buckets = overlapped.gradient_buckets().0;
        if buckets < 3 {
            return Err(format!("{buckets} buckets: 256-byte buckets should give several"));
        }
        let sgd = SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() };
        let (mut a, mut b) = (Sgd::new(overlapped.parameters(), sgd), Sgd::new(separate.parameters(), sgd));
        for step in 0..6 {
            a.zero_grad();
            b.zero_grad();
            overlapped.backward(&loss(&overlapped, step, rank, false));
            loss(&separate, step, rank, false).backward();
            separate.sync_gradients();
            bitwise(&format!("step {step}: gradients"), &grads(&*overlapped), &grads(&*separate))?;
            a.step();
            b.step();
            bitwise(&format!("step {step}: parameters"), &params(&*overlapped), &params(&*separate))?;
        }
        identical_to_rank_0(world, &params(&*overlapped))?;
        Ok(buckets)
    })();
    match outcome {
        Ok(buckets) => println!("rank {rank} of {size}: overlap ok ({buckets} buckets)"),
        Err(message) => world.abort_with(message),
    }
}
