//! DataLoader, TensorDataset, train_test_split, predict and accuracy.

use std::collections::BTreeSet;

use blocks_core::Tensor;
use blocks_core::data::{DataLoader, TensorDataset, accuracy, correct, predict, train_test_split};

/// Row i is [i, -i], label i: a batch's inputs must match its labels.
fn numbered(n: usize) -> TensorDataset {
    let values = (0..n).flat_map(|i| [i as f32, -(i as f32)]).collect();
    TensorDataset::new(Tensor::from_vec(values, [n, 2]), (0..n).collect())
}

fn epoch_labels(loader: &DataLoader, epoch: u64) -> Vec<Vec<usize>> {
    loader.epoch(epoch).map(|(_, y)| y).collect()
}

#[test]
fn batches_pair_each_row_with_its_label() {
    let loader = DataLoader::new(numbered(23), 5).shuffle(11);
    for (x, y) in &loader {
        assert_eq!(x.shape(), vec![y.len(), 2]);
        assert!(!x.requires_grad());
        let expected: Vec<f32> = y.iter().flat_map(|&i| [i as f32, -(i as f32)]).collect();
        assert_eq!(x.to_vec(), expected);
    }
}

#[test]
fn a_shuffled_epoch_visits_every_sample_once() {
    let loader = DataLoader::new(numbered(23), 5).shuffle(11);
    for epoch in 0..4 {
        let batches = epoch_labels(&loader, epoch);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), vec![5, 5, 5, 5, 3]);
        let mut seen: Vec<usize> = batches.concat();
        assert_ne!(seen, (0..23).collect::<Vec<_>>(), "epoch {epoch} is not shuffled");
        seen.sort();
        assert_eq!(seen, (0..23).collect::<Vec<_>>());
    }
}

#[test]
fn drop_last_leaves_out_the_short_batch() {
    let loader = DataLoader::new(numbered(23), 5).shuffle(11).drop_last(true);
    assert_eq!(loader.len(), 4);
    let batches = epoch_labels(&loader, 0);
    assert_eq!(batches.len(), 4);
    assert!(batches.iter().all(|b| b.len() == 5));
    // The same order as without drop_last, minus the tail.
    let full = DataLoader::new(numbered(23), 5).shuffle(11);
    assert_eq!(batches, epoch_labels(&full, 0)[..4]);
    // When the size divides, nothing is dropped.
    assert_eq!(DataLoader::new(numbered(20), 5).drop_last(true).iter().count(), 4);
}

#[test]
fn without_shuffle_the_order_is_the_datasets() {
    let loader = DataLoader::new(numbered(7), 3);
    for _ in 0..2 {
        assert_eq!(
            loader.iter().map(|(_, y)| y).collect::<Vec<_>>(),
            vec![vec![0, 1, 2], vec![3, 4, 5], vec![6]]
        );
    }
}

#[test]
fn shuffling_is_reproducible_from_the_seed() {
    let a = DataLoader::new(numbered(50), 8).shuffle(5);
    let b = DataLoader::new(numbered(50), 8).shuffle(5);
    let other = DataLoader::new(numbered(50), 8).shuffle(6);
    let run = |loader: &DataLoader| {
        (0..3).map(|_| loader.iter().map(|(_, y)| y).collect::<Vec<_>>()).collect::<Vec<_>>()
    };
    let (run_a, run_b, run_other) = (run(&a), run(&b), run(&other));
    assert_eq!(run_a, run_b);
    assert_ne!(run_a, run_other);
    assert_ne!(run_a[0], run_a[1], "each epoch has its own order");
    // Resuming at epoch 2 gives what the third iteration gave.
    let resumed = DataLoader::new(numbered(50), 8).shuffle(5);
    resumed.set_epoch(2);
    assert_eq!(resumed.iter().map(|(_, y)| y).collect::<Vec<_>>(), run_a[2]);
}

#[test]
fn shuffled_orders_are_pinned() {
    // These orders must never change: a seed names the same run in every version.
    let loader = DataLoader::new(numbered(10), 10).shuffle(0);
    assert_eq!(epoch_labels(&loader, 0), vec![PINNED_EPOCH_0.to_vec()]);
    assert_eq!(epoch_labels(&loader, 1), vec![PINNED_EPOCH_1.to_vec()]);
    let (train, test) = train_test_split(10, 0.3, 0);
    assert_eq!((train.as_slice(), test.as_slice()), (&PINNED_SPLIT_TRAIN[..], &PINNED_SPLIT_TEST[..]));
}

// Computed by an independent Python transcription of SplitMix64 (Vigna's
// splitmix64.c), Lemire's unbiased bounded integers and Fisher-Yates from the
// last index down, with epoch e seeded by splitmix(seed ^ splitmix(e)).
const PINNED_EPOCH_0: [usize; 10] = [4, 7, 0, 5, 9, 3, 6, 2, 8, 1];
const PINNED_EPOCH_1: [usize; 10] = [1, 9, 0, 7, 4, 2, 5, 3, 8, 6];
const PINNED_SPLIT_TRAIN: [usize; 7] = [5, 1, 7, 6, 0, 3, 8];
const PINNED_SPLIT_TEST: [usize; 3] = [4, 9, 2];

#[test]
fn train_test_split_sizes_disjoint_and_complete() {
    for (n, fraction, expected_test) in [(1797, 0.2, 360), (10, 0.25, 3), (100, 0.5, 50), (3, 0.01, 1)] {
        let (train, test) = train_test_split(n, fraction, 9);
        assert_eq!(test.len(), expected_test, "ceil({fraction} * {n})");
        assert_eq!(train.len() + test.len(), n);
        let all: BTreeSet<usize> = train.iter().chain(&test).copied().collect();
        assert_eq!(all.len(), n);
        assert_eq!(all.last(), Some(&(n - 1)));
        assert_eq!(train_test_split(n, fraction, 9), (train.clone(), test.clone()));
        assert_ne!(train_test_split(n, fraction, 10), (train, test));
    }
}

#[test]
#[should_panic(expected = "test_fraction must be between 0 and 1")]
fn train_test_split_refuses_a_fraction_of_one() {
    train_test_split(10, 1.0, 0);
}

#[test]
#[should_panic(expected = "both need at least one")]
fn train_test_split_refuses_an_empty_training_set() {
    train_test_split(1, 0.5, 0);
}

#[test]
fn dataset_split_keeps_rows_with_their_labels() {
    let data = numbered(40);
    let (train, test) = data.split(0.25, 3);
    assert_eq!((train.len(), test.len()), (30, 10));
    for part in [&train, &test] {
        let expected: Vec<f32> = part.labels().iter().flat_map(|&i| [i as f32, -(i as f32)]).collect();
        assert_eq!(part.inputs().to_vec(), expected);
    }
    let (train_idx, test_idx) = train_test_split(40, 0.25, 3);
    assert_eq!((train.labels(), test.labels()), (&train_idx[..], &test_idx[..]));
}

#[test]
#[should_panic(expected = "TensorDataset: 3 input rows (shape [3, 2]) but 2 labels")]
fn dataset_refuses_mismatched_counts() {
    TensorDataset::new(Tensor::zeros([3, 2]), vec![0, 1]);
}

#[test]
fn predict_takes_the_first_of_equal_maxima() {
    let logits = Tensor::from_vec(vec![1.0, 3.0, 3.0, -2.0, -2.0, -5.0, 0.0, 0.0, 0.0], [3, 3]);
    assert_eq!(predict(&logits), vec![1, 0, 0]);
}

#[test]
fn accuracy_and_correct_count_rows_that_predict_their_label() {
    let logits = Tensor::from_vec(vec![0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7, 0.5, 0.1], [5, 2]);
    let labels = [0, 1, 1, 1, 0];
    assert_eq!(correct(&logits, &labels), 4);
    assert_eq!(accuracy(&logits, &labels), 0.8);
    assert!(accuracy(&Tensor::zeros([0, 3]), &[]).is_nan());
}

#[test]
#[should_panic(expected = "accuracy: 2 rows of logits but 3 labels")]
fn accuracy_refuses_mismatched_counts() {
    accuracy(&Tensor::zeros([2, 3]), &[0, 1, 2]);
}

#[test]
#[should_panic(expected = "predict: logits must be [N, C]")]
fn predict_refuses_a_vector() {
    predict(&Tensor::zeros([3]));
}

#[test]
fn minibatch_training_learns_a_separable_problem() {
    use blocks_core::nn::{DynLinear, ModuleExt};
    use blocks_core::optim::{Adam, AdamConfig, Optimizer};
    // Class = which of the 3 inputs is largest.
    blocks_core::manual_seed(0);
    let inputs = Tensor::rand([300, 3]);
    let labels = predict(&inputs);
    let (train, test) = TensorDataset::new(inputs, labels).split(0.2, 1);
    let loader = DataLoader::new(train, 16).shuffle(2);
    let net = DynLinear::new(3, 3);
    let mut opt = Adam::new(net.parameters(), AdamConfig { lr: 0.05, ..Default::default() });
    let before = accuracy(&net.forward(test.inputs()), test.labels());
    for _ in 0..30 {
        for (x, y) in &loader {
            opt.zero_grad();
            net.forward(&x).cross_entropy(&y).backward();
            opt.step();
        }
    }
    let after = accuracy(&net.forward(test.inputs()), test.labels());
    assert!(after > 0.9 && after > before, "test accuracy {before} -> {after}");
}
