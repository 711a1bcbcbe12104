//! `sync_batch_norm` (2 ranks): each rank normalizes its half of a batch
//! with a `SyncBatchNorm`; one `DynBatchNorm2d` normalizes the whole batch
//! in the same process. The halves' outputs and input gradients are the
//! whole batch's rows, the running statistics (and `num_batches_tracked`)
//! are equal, and the ranks' weight and bias gradients sum to the whole
//! batch's, over three training steps; in eval it is the plain layer; under
//! `DistributedDataParallel` (which averages the parameters' gradients) two
//! SGD steps with the mean loss give one process's parameters.

use blocks::distributed::{DistributedDataParallel, World};
use blocks::nn::{BatchNormOptions, DynBatchNorm2d, SyncBatchNorm};
use blocks::prelude::*;

use super::close;

/// The whole batch (the same on every rank): 8 images of 3 channels, 2x2.
fn whole(step: u64) -> (Tensor, Tensor) {
    manual_seed(500 + step);
    (Tensor::randn([8, 3, 2, 2]) * 2.0 + 0.5, Tensor::randn([8, 3, 2, 2]))
}

/// Rank `rank`'s half of `t` (rows 4·rank..4·rank + 4).
fn half(t: &Tensor, rank: usize) -> Tensor {
    t.narrow(0, 4 * rank as isize, 4).detach()
}

fn named(name: &str, t: Tensor) -> Vec<(String, Tensor)> {
    vec![(name.to_string(), t)]
}

/// Sums `t` over the ranks.
fn summed(world: &World, t: &Tensor) -> Tensor {
    let mut values: Vec<f64> = t.to_vec().into_iter().map(f64::from).collect();
    world.all_reduce_sum(&mut values);
    Tensor::from_vec(values.into_iter().map(|v| v as f32).collect(), t.shape())
}

pub fn sync_batch_norm(world: &World) {
    let (rank, size) = (world.rank(), world.size());
    let outcome = (|| -> Result<f64, String> {
        let options = BatchNormOptions::default();
        let (sync, plain) = (SyncBatchNorm::new(3, options), DynBatchNorm2d::new(3, options));
        manual_seed(9);
        let (weight, bias) = (Tensor::rand([3]) + 0.5, Tensor::randn([3]));
        for (w, b) in [(sync.weight(), sync.bias()), (plain.weight(), plain.bias())] {
            w.unwrap().set_data(&weight);
            b.unwrap().set_data(&bias);
        }
        let expected =
            "SyncBatchNorm(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)";
        if sync.to_string() != expected {
            return Err(format!("printout {sync}"));
        }
        let mut worst: f64 = 0.0;
        for step in 0..3 {
            let (x, c) = whole(step);
            sync.zero_grad();
            plain.zero_grad();
            let x_half = half(&x, rank).requires_grad_(true);
            let y_half = sync.forward(&x_half);
            (&y_half * &half(&c, rank)).sum().backward();
            let x_whole = x.detach().requires_grad_(true);
            let y = plain.forward(&x_whole);
            (&y * &c).sum().backward();
            let what = |name: &str| format!("step {step}: {name}");
            worst = worst.max(close(&what("output"), &named("y", y_half), &named("y", half(&y, rank)))?);
            let dx = (x_half.grad().unwrap(), half(&x_whole.grad().unwrap(), rank));
            worst = worst.max(close(&what("input gradient"), &named("x", dx.0), &named("x", dx.1))?);
            for (name, mine, theirs) in [
                (
                    "weight gradient",
                    sync.weight().unwrap().grad().unwrap(),
                    plain.weight().unwrap().grad().unwrap(),
                ),
                (
                    "bias gradient",
                    sync.bias().unwrap().grad().unwrap(),
                    plain.bias().unwrap().grad().unwrap(),
                ),
            ] {
                worst =
                    worst.max(close(&what(name), &named(name, summed(world, &mine)), &named(name, theirs))?);
            }
            worst =
                worst.max(close(&what("running statistics"), &sync.named_buffers(), &plain.named_buffers())?);
        }
        sync.eval();
        plain.eval();
        let (x, _) = whole(9);
        let eval = close(
            "eval",
            &named("y", sync.forward(&half(&x, rank))),
            &named("y", half(&plain.forward(&x), rank)),
        )?;
        // Under DDP with the mean loss: one process's SGD steps.
        sync.train();
        plain.train();
        let ddp = DistributedDataParallel::new(sequential![SyncBatchNorm::new(3, options)], world)
            .map_err(|e| e.to_string())?;
        let reference = sequential![DynBatchNorm2d::new(3, options)];
        reference.load_state_dict(&ddp.state_dict()).map_err(|e| e.to_string())?;
        let sgd = SgdConfig { lr: 0.5, ..Default::default() };
        let (mut a, mut b) = (Sgd::new(ddp.parameters(), sgd), Sgd::new(reference.parameters(), sgd));
        for step in 0..2 {
            let (x, c) = whole(20 + step);
            a.zero_grad();
            b.zero_grad();
            ddp.backward(&(&ddp.forward_tensor(&half(&x, rank)) * &half(&c, rank)).mean());
            (&reference.forward_tensor(&x) * &c).mean().backward();
            a.step();
            b.step();
        }
        let params = |m: &dyn Module| -> Vec<(String, Tensor)> {
            m.named_parameters().into_iter().map(|(n, p)| (n, p.tensor().clone())).collect()
        };
        worst = worst.max(close("under DDP", &params(&*ddp), &params(&reference))?);
        worst = worst.max(close("under DDP: buffers", &ddp.named_buffers(), &reference.named_buffers())?);
        Ok(worst.max(eval))
    })();
    match outcome {
        Ok(worst) => println!("rank {rank} of {size}: sync_batch_norm ok ({worst:.1e})"),
        Err(message) => world.abort_with(message),
    }
}
