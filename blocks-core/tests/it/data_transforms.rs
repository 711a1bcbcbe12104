//! Image transforms (`RandomCrop` with padding, `RandomHorizontalFlip`,
//! `Normalize`, `Compose`), a `Transformed` data set through a `DataLoader`,
//! and `Subset` / `ConcatDataset`: known answers (torchvision's numbers and
//! printouts), PyTorch's semantics, seeded determinism.

use std::collections::BTreeSet;
use std::sync::Arc;

use blocks_core::Tensor;
use blocks_core::data::{
    Compose, ConcatDataset, DataLoader, Dataset, Normalize, RandomCrop, RandomHorizontalFlip, Subset,
    TensorDataset, Transform, TransformRng, Transformed,
};

use crate::watchdog::within_watchdog;

/// 1..=9 as a one-channel 3x3 image.
fn nine() -> Tensor {
    Tensor::from_vec((1..=9).map(|v| v as f32).collect(), [1, 3, 3])
}

/// `image` (one channel, `h` x `w`) padded as `F.pad(img, [left, top, right, bottom], fill)`.
fn padded(image: &[f32], (h, w): (usize, usize), [l, t, r, b]: [usize; 4], fill: f32) -> Vec<Vec<f32>> {
    let mut rows = vec![vec![fill; l + w + r]; t + h + b];
    for y in 0..h {
        for x in 0..w {
            rows[t + y][l + x] = image[y * w + x];
        }
    }
    rows
}

fn window(rows: &[Vec<f32>], top: usize, left: usize, (th, tw): (usize, usize)) -> Vec<f32> {
    rows[top..top + th].iter().flat_map(|row| row[left..left + tw].iter().copied()).collect()
}

#[test]
fn normalize_gives_torchvisions_numbers() {
    // torchvision: T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])(arange(12).reshape(3, 2, 2) / 11)
    let x = Tensor::from_vec((0..12).map(|v| v as f32 / 11.0).collect(), [3, 2, 2]);
    let normalize = Normalize::new(vec![0.485, 0.456, 0.406], vec![0.229, 0.224, 0.225]);
    let y = normalize.apply(&x, &mut TransformRng::new(0));
    // Python's float() of each float32 value: exact as f64.
    let torchvision: [f64; 12] = [
        -2.1179039478302,
        -1.7209210395812988,
        -1.3239381313323975,
        -0.9269551634788513,
        -0.41233760118484497,
        -0.006493446882814169,
        0.39935070276260376,
        0.8051947355270386,
        1.427878975868225,
        1.8319193124771118,
        2.235960006713867,
        2.640000104904175,
    ];
    let widened = |t: &Tensor| t.to_vec().into_iter().map(f64::from).collect::<Vec<f64>>();
    assert_eq!(widened(&y), torchvision, "the same float32 steps: (x - mean) / std");
    assert_eq!(y.shape(), vec![3, 2, 2]);
    // A batch [N, C, H, W] normalizes each image's channels.
    let batch = Tensor::stack(&[&x, &x], 0);
    let yb = normalize.apply(&batch, &mut TransformRng::new(0));
    assert_eq!(widened(&yb)[12..], torchvision);
}

#[test]
fn normalize_refuses_what_pytorch_refuses() {
    let error = Normalize::try_new(vec![0.5, 0.5], vec![0.5, 0.0]).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("std evaluated to zero after conversion to float32, leading to division by zero")
    );
    assert!(Normalize::try_new(vec![0.5], vec![0.5, 0.5]).is_err());
    let three = Normalize::new(vec![0.0; 3], vec![1.0; 3]);
    let error = three.try_apply(&Tensor::ones([2, 4, 4]), &mut TransformRng::new(0)).unwrap_err();
    assert!(error.to_string().contains("3 means and stds for an image of 2 channels"), "{error}");
    assert!(three.try_apply(&Tensor::ones([4, 4]), &mut TransformRng::new(0)).is_err());
}

#[test]
fn printouts_are_torchvisions() {
    assert_eq!(RandomCrop::new([32, 32]).padding(4).to_string(), "RandomCrop(size=(32, 32), padding=4)");
    assert_eq!(
        RandomCrop::new([2, 2]).padding_sides([1, 0, 0, 2]).to_string(),
        "RandomCrop(size=(2, 2), padding=[1, 0, 0, 2])"
    );
    assert_eq!(RandomHorizontalFlip::default().to_string(), "RandomHorizontalFlip(p=0.5)");
    assert_eq!(Normalize::new(vec![0.5], vec![0.25]).to_string(), "Normalize(mean=[0.5], std=[0.25])");
}

#[test]
fn random_crop_is_a_window_of_the_padded_image_and_reaches_every_position() {
    // torchvision: F.pad(img, [1, 0, 0, 2]) then a 2x2 window at (i, j), i in 0..=3, j in 0..=2.
    let rows = padded(&(1..=9).map(|v| v as f32).collect::<Vec<_>>(), (3, 3), [1, 0, 0, 2], 0.0);
    let crop = RandomCrop::new([2, 2]).padding_sides([1, 0, 0, 2]);
    let mut seen = BTreeSet::new();
    for seed in 0..400 {
        let y = crop.apply(&nine(), &mut TransformRng::new(seed)).to_vec();
        let at = (0..=3)
            .flat_map(|top| (0..=2).map(move |left| (top, left)))
            .filter(|&(top, left)| window(&rows, top, left, (2, 2)) == y)
            .collect::<Vec<_>>();
        assert!(!at.is_empty(), "seed {seed}: {y:?} is no window of the padded image");
        seen.extend(at);
    }
    assert_eq!(seen.len(), 12, "every one of the 4 x 3 positions is drawn: {seen:?}");
}

#[test]
fn random_crop_draws_top_then_left_and_none_when_only_one_window_fits() {
    // The whole image (size equal to the padded size): no draw, as torchvision's get_params.
    let crop = RandomCrop::new([5, 5]).padding(1).fill(-1.0);
    let mut rng = TransformRng::new(11);
    let y = crop.apply(&nine(), &mut rng);
    let rows = padded(&nine().to_vec(), (3, 3), [1; 4], -1.0);
    assert_eq!(y.to_vec(), window(&rows, 0, 0, (5, 5)));
    assert_eq!(rng.below(1000), TransformRng::new(11).below(1000), "no number was drawn");
    // Otherwise top = randint(0, H - th + 1), then left = randint(0, W - tw + 1).
    let crop = RandomCrop::new([3, 3]).padding(2);
    let mut draws = TransformRng::new(5);
    let (top, left) = (draws.below(5) as usize, draws.below(5) as usize);
    let y = crop.apply(&nine(), &mut TransformRng::new(5)).to_vec();
    assert_eq!(y, window(&padded(&nine().to_vec(), (3, 3), [2; 4], 0.0), top, left, (3, 3)));
    // Every channel gets the same window.
    let values: Vec<f32> = (1..=9).chain((1..=9).map(|v| v * 10)).map(|v| v as f32).collect();
    let two = Tensor::from_vec(values, [2, 3, 3]);
    let y = crop.apply(&two, &mut TransformRng::new(5)).to_vec();
    let tens: Vec<f32> = y[..9].iter().map(|v| v * 10.0).collect();
    assert_eq!(tens, y[9..]);
}

#[test]
fn random_crop_refuses_a_crop_larger_than_the_padded_image() {
    let error = RandomCrop::new([6, 4]).padding(1).try_apply(&nine(), &mut TransformRng::new(0)).unwrap_err();
    assert_eq!(error.to_string(), "Required crop size (6, 4) is larger than input image size (5, 5)");
    assert!(RandomCrop::new([1, 1]).try_apply(&Tensor::ones([3]), &mut TransformRng::new(0)).is_err());
    let huge = RandomCrop::new([1, 1]).padding(usize::MAX);
    assert!(huge.try_apply(&nine(), &mut TransformRng::new(0)).is_err(), "overflow is an error");
}

#[test]
fn horizontal_flip_mirrors_with_probability_p() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1, 2, 3]);
    let flipped = RandomHorizontalFlip::new(1.0).apply(&x, &mut TransformRng::new(0));
    assert_eq!(flipped.to_vec(), vec![3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
    // One draw per call: flipped when the uniform number is below p.
    let flip = RandomHorizontalFlip::new(0.5);
    let mut flips = 0;
    for seed in 0..1000 {
        let expected = TransformRng::new(seed).uniform() < 0.5;
        let y = flip.apply(&x, &mut TransformRng::new(seed));
        assert_eq!(y.to_vec() == flipped.to_vec(), expected, "seed {seed}");
        flips += usize::from(expected);
    }
    assert!((430..570).contains(&flips), "about half flip: {flips}");
}

#[test]
fn compose_chains_the_transforms_on_one_stream() {
    let augment = Compose::new()
        .then(RandomCrop::new([3, 3]).padding(1))
        .then(RandomHorizontalFlip::new(0.5))
        .then(Normalize::new(vec![1.0], vec![2.0]));
    // By hand, with the same stream: crop, flip, normalize.
    let mut rng = TransformRng::new(21);
    let x = RandomCrop::new([3, 3]).padding(1).apply(&nine(), &mut rng);
    let x = RandomHorizontalFlip::new(0.5).apply(&x, &mut rng);
    let expected = Normalize::new(vec![1.0], vec![2.0]).apply(&x, &mut rng);
    assert_eq!(augment.apply(&nine(), &mut TransformRng::new(21)).to_vec(), expected.to_vec());
}

/// 8 one-channel 4x4 images, image `i` filled with `i`, labels `i % 3`.
fn images() -> TensorDataset {
    let values = (0..8).flat_map(|i| (0..16).map(move |p| (i * 16 + p) as f32)).collect();
    TensorDataset::new(Tensor::from_vec(values, [8, 1, 4, 4]), (0..8).map(|i| i % 3).collect())
}

fn augment() -> Compose {
    Compose::new().then(RandomCrop::new([4, 4]).padding(1)).then(RandomHorizontalFlip::new(0.5))
}

#[test]
fn a_transformed_dataset_is_the_same_in_every_run_order_and_thread() {
    let data = Transformed::new(images(), augment(), 7);
    let first: Vec<Vec<f32>> = (0..8).map(|i| data.get(i).0.to_vec()).collect();
    let again = Transformed::new(images(), augment(), 7);
    let backwards: Vec<Vec<f32>> = (0..8).rev().map(|i| again.get(i).0.to_vec()).rev().collect();
    assert_eq!(first, backwards, "a sample's draws depend on its index, not on the order read");
    // Read on eight threads at once, under the watchdog (a hang fails the test).
    let shared = Arc::new(again);
    let threaded: Vec<Vec<f32>> = within_watchdog("Transformed on threads", move || {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let d = Arc::clone(&shared);
                std::thread::spawn(move || d.get(i).0.to_vec())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(first, threaded);
    assert_eq!(data.get(3).1, 0, "labels pass through");
    // Another seed or another epoch draws differently; going back gives the same again.
    let other: Vec<Vec<f32>> = {
        let d = Transformed::new(images(), augment(), 8);
        (0..8).map(|i| d.get(i).0.to_vec()).collect()
    };
    assert_ne!(first, other);
    data.set_epoch(1);
    let epoch1: Vec<Vec<f32>> = (0..8).map(|i| data.get(i).0.to_vec()).collect();
    assert_ne!(first, epoch1);
    data.set_epoch(0);
    assert_eq!(first, (0..8).map(|i| data.get(i).0.to_vec()).collect::<Vec<_>>());
}

#[test]
fn a_transformed_dataset_feeds_a_data_loader() {
    let loader = DataLoader::new(Transformed::new(images(), augment(), 3), 4).shuffle(1);
    let batches: Vec<(Tensor, Vec<usize>)> = loader.epoch(0).collect();
    assert_eq!(batches.len(), 2);
    assert_eq!(batches[0].0.shape(), vec![4, 1, 4, 4]);
    let again: Vec<(Tensor, Vec<usize>)> = loader.epoch(0).collect();
    for ((x, y), (x2, y2)) in batches.iter().zip(&again) {
        assert_eq!(
            (x.to_vec(), y),
            (x2.to_vec(), y2),
            "the same loader epoch and data set epoch: the same batches"
        );
    }
    // Each image keeps its own values (plus zero padding): image i holds only i*16.. and 0.
    for (x, labels) in &batches {
        for (k, &label) in labels.iter().enumerate() {
            let values = &x.to_vec()[k * 16..(k + 1) * 16];
            let image = values.iter().copied().find(|&v| v > 0.0).map(|v| (v / 16.0) as usize);
            if let Some(i) = image {
                assert_eq!(i % 3, label);
                assert!(values.iter().all(|&v| v == 0.0 || (v / 16.0) as usize == i));
            }
        }
    }
}

#[test]
fn subset_reads_the_indices_in_order() {
    let data = Arc::new(images());
    let picked = Subset::new(Arc::clone(&data), vec![5, 0, 5]);
    assert_eq!(picked.len(), 3);
    assert_eq!(picked.get(0).0.to_vec(), data.get(5).0.to_vec());
    assert_eq!([picked.get(0).1, picked.get(1).1, picked.get(2).1], [2, 0, 2]);
    assert_eq!(picked.indices(), &[5, 0, 5]);
    let error = Subset::try_new(Arc::clone(&data), vec![8]).err().unwrap();
    assert_eq!(error.to_string(), "Subset: index 8 is out of range for a data set of 8 samples");
    // A train/validation split of one shared data set, batched.
    let (train, val) = (Subset::new(Arc::clone(&data), (0..6).collect()), Subset::new(data, vec![6, 7]));
    let (_, labels) = DataLoader::new(val, 4).iter().next().unwrap();
    assert_eq!(labels, vec![0, 1]);
    assert_eq!(DataLoader::new(train, 4).len(), 2);
    let caught = std::panic::catch_unwind(|| Subset::new(images(), vec![1]).get(1));
    assert!(caught.is_err(), "reading past the subset panics");
}

#[test]
fn concat_dataset_follows_the_cumulative_sizes() {
    let empty = TensorDataset::new(Tensor::zeros([0, 1, 4, 4]), vec![]);
    let two = Subset::new(Arc::new(images()), vec![6, 7]);
    let parts: Vec<Box<dyn Dataset<Sample = (Tensor, usize)>>> =
        vec![Box::new(images()), Box::new(empty), Box::new(two)];
    let all = ConcatDataset::new(parts);
    assert_eq!(all.len(), 10);
    assert_eq!(all.cumulative_sizes(), &[8, 8, 10]);
    let labels: Vec<usize> = (0..10).map(|i| all.get(i).1).collect();
    assert_eq!(labels, vec![0, 1, 2, 0, 1, 2, 0, 1, 0, 1], "the empty part is passed over (bisect_right)");
    assert_eq!(all.get(9).0.to_vec(), images().get(7).0.to_vec());
    let error = ConcatDataset::<TensorDataset>::try_new(vec![]).err().unwrap();
    assert_eq!(error.to_string(), "datasets should not be an empty iterable");
    let caught = std::panic::catch_unwind(|| ConcatDataset::new(vec![images()]).get(8));
    assert!(caught.is_err(), "reading past the end panics");
}
