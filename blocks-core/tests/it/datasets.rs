//! `Dataset` (a user's own data), `Tensors` (PyTorch's `TensorDataset(*tensors)`,
//! float targets for regression), the default collate and a custom one, and
//! the existing `TensorDataset` loader unchanged.

use blocks_core::Tensor;
use blocks_core::data::{Collate, DataLoader, Dataset, DistributedSampler, TensorDataset, Tensors};
use blocks_core::nn::{DynLinear, ModuleExt};
use blocks_core::optim::{Optimizer, Sgd, SgdConfig};

/// Squares of 0..n as (x, x²) with an f32 target, computed on demand.
struct Squares(usize);

impl Dataset for Squares {
    type Sample = (Tensor, f32);

    fn len(&self) -> usize {
        self.0
    }

    fn get(&self, index: usize) -> (Tensor, f32) {
        let x = index as f32;
        (Tensor::from_vec(vec![x, -x], [2]), x * x)
    }
}

#[test]
fn a_users_dataset_batches_with_float_targets() {
    let loader = DataLoader::new(Squares(5), 2);
    assert_eq!(loader.len(), 3);
    let batches: Vec<(Tensor, Tensor)> = loader.iter().collect();
    assert_eq!(batches[0].0.to_vec(), vec![0.0, -0.0, 1.0, -1.0]);
    assert_eq!(batches[0].0.shape(), vec![2, 2]);
    assert_eq!(batches[1].1.to_vec(), vec![4.0, 9.0]);
    assert_eq!(batches[2].1.shape(), vec![1]);
    // Shuffled, every sample once per epoch.
    let shuffled = DataLoader::new(Squares(7), 3).shuffle(5);
    let mut seen: Vec<f32> = shuffled.iter().flat_map(|(_, y)| y.to_vec()).collect();
    seen.sort_by(f32::total_cmp);
    assert_eq!(seen, vec![0.0, 1.0, 4.0, 9.0, 16.0, 25.0, 36.0]);
}

#[test]
fn tensors_is_pytorchs_tensor_dataset_over_any_tensors() {
    let x = Tensor::from_vec((0..12).map(|v| v as f32).collect(), [6, 2]);
    let y = Tensor::from_vec(vec![0.5, 1.5, 2.5, 3.5, 4.5, 5.5], [6, 1]);
    let w = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [6]);
    let data = Tensors::new(vec![x, y, w]);
    assert_eq!(data.len(), 6);
    let sample = data.get(4);
    assert_eq!(sample.len(), 3);
    assert_eq!(
        (sample[0].to_vec(), sample[1].to_vec(), sample[2].to_vec()),
        (vec![8.0, 9.0], vec![4.5], vec![5.0])
    );
    assert_eq!(sample[2].shape(), Vec::<usize>::new()); // a row of a 1-d tensor is a scalar, as in PyTorch
    let loader = DataLoader::new(data, 4).drop_last(true);
    let batches: Vec<Vec<Tensor>> = loader.iter().collect();
    assert_eq!(batches.len(), 1);
    let shapes: Vec<Vec<usize>> = batches[0].iter().map(Tensor::shape).collect();
    assert_eq!(shapes, vec![vec![4, 2], vec![4, 1], vec![4]]);
    assert_eq!(batches[0][2].to_vec(), vec![1.0, 2.0, 3.0, 4.0]);

    let error = Tensors::try_new(vec![Tensor::zeros([3, 1]), Tensor::zeros([4, 1])]).unwrap_err();
    assert_eq!(error.to_string(), "Tensors: size mismatch between tensors: [3, 1] and [4, 1]");
    assert!(Tensors::try_new(vec![]).is_err());
    assert!(Tensors::try_new(vec![Tensor::scalar(1.0)]).is_err());
}

#[test]
fn a_regression_trains_from_a_loader_of_float_targets() {
    // y = 3x - 1 on 32 points; SGD on a Linear(1, 1) finds it.
    let x = Tensor::from_vec((0..32).map(|i| i as f32 / 32.0).collect(), [32, 1]);
    let y = &(&x * 3.0) - 1.0;
    let loader = DataLoader::new(Tensors::new(vec![x, y]), 8).shuffle(0);
    let net = DynLinear::new(1, 1);
    let mut opt = Sgd::new(net.parameters(), SgdConfig { lr: 0.5, ..Default::default() });
    for _ in 0..300 {
        for batch in &loader {
            let error = &net.forward(&batch[0]) - &batch[1];
            let loss = (&error * &error).mean();
            opt.zero_grad();
            loss.backward();
            opt.step();
        }
    }
    let (w, b) = (net.weight().to_vec()[0], net.bias().unwrap().to_vec()[0]);
    assert!((w - 3.0).abs() < 1e-3 && (b + 1.0).abs() < 1e-3, "w {w}, b {b}");
}

#[test]
fn a_custom_collate_makes_the_batches() {
    let data = TensorDataset::new(
        Tensor::from_vec((0..10).map(|v| v as f32).collect(), [5, 2]),
        vec![4, 3, 2, 1, 0],
    );
    // Pairs sorted by label, inputs summed per sample.
    let loader = DataLoader::with_collate(data, 3, |mut samples: Vec<(Tensor, usize)>| {
        samples.sort_by_key(|(_, label)| *label);
        samples.into_iter().map(|(x, label)| (x.sum().item(), label)).collect::<Vec<_>>()
    });
    let batches: Vec<Vec<(f32, usize)>> = loader.iter().collect();
    assert_eq!(batches, vec![vec![(9.0, 2), (5.0, 3), (1.0, 4)], vec![(17.0, 0), (13.0, 1)]]);
}

#[test]
fn the_default_collate_stacks_tensors_and_gathers_labels() {
    let (x, y) = Collate::collate(vec![(Tensor::ones([2, 2]), 7usize), (Tensor::zeros([2, 2]), 8)]);
    assert_eq!((x.shape(), y), (vec![2, 2, 2], vec![7, 8]));
    let targets = <f32 as Collate>::collate(vec![0.25, 0.5]);
    assert_eq!((targets.shape(), targets.to_vec()), (vec![2], vec![0.25, 0.5]));
}

#[test]
fn tensor_dataset_loaders_give_what_they_gave_before() {
    let inputs = Tensor::from_vec((0..20).map(|v| v as f32).collect(), [10, 2]);
    let data = TensorDataset::new(inputs.clone(), (0..10).collect());
    let loader = DataLoader::new(data.clone(), 4).shuffle(3);
    for epoch in 0..3 {
        for (x, labels) in loader.epoch(epoch) {
            // Each row is the input row of its label, in the batch's order.
            let expected: Vec<f32> =
                labels.iter().flat_map(|&i| [2.0 * i as f32, 2.0 * i as f32 + 1.0]).collect();
            assert_eq!(x.to_vec(), expected);
            assert!(!x.requires_grad());
        }
    }
    let sharded = DataLoader::new(data, 2).sampler(DistributedSampler::new(10, 2, 1));
    let labels: Vec<usize> = sharded.iter().flat_map(|(_, y)| y).collect();
    assert_eq!(labels.len(), 5);
}
