//! embedding (rows picked by int64 indices of any shape, gradients summed per
//! row, out-of-range errors) and dropout (statistics of the mask, exact
//! scaling, the gradient through the mask, seeding, the identity cases).

use crate::support;

use blocks_core::{Indices, Tensor, Tensor64, manual_seed};
use proptest::prelude::*;
use support::check;

#[test]
fn embedding_picks_rows_for_any_index_shape() {
    let weight = Tensor::from_vec((0..8).map(|v| v as f32).collect(), [4, 2]).requires_grad_(true);
    let indices = Indices::from_vec(vec![3, 0, 3, 1, 3, 2], [2, 3]);
    let y = Tensor::embedding(&indices, &weight);
    assert_eq!(y.shape(), vec![2, 3, 2]);
    assert_eq!(y.to_vec(), vec![6.0, 7.0, 0.0, 1.0, 6.0, 7.0, 2.0, 3.0, 6.0, 7.0, 4.0, 5.0]);
    assert_eq!(y.grad_fn(), Some("EmbeddingBackward0"));
    // Row 3 was picked three times: its gradient is the sum of the three.
    (&y * &y).sum().backward();
    assert_eq!(weight.grad().unwrap().to_vec(), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 36.0, 42.0]);
    let scalar = Tensor::embedding(&Indices::from_vec(vec![2], []), &weight);
    assert_eq!((scalar.shape(), scalar.to_vec()), (vec![2], vec![4.0, 5.0]));
}

#[test]
fn embedding_reads_pytorchs_int64_indices() {
    let indices = Indices::try_from_i64(&[1, 0, 1], [3]).unwrap();
    let y = Tensor::embedding(&indices, &Tensor::from_vec(vec![1.0, 2.0], [2, 1]));
    assert_eq!(y.to_vec(), vec![2.0, 1.0, 2.0]);
    assert_eq!(
        Indices::try_from_i64(&[1, -2], [2]).unwrap_err().to_string(),
        "indices: negative index -2 at position 1"
    );
    assert!(Indices::try_from_vec(vec![1, 2], [3]).is_err());
}

#[test]
fn embedding_out_of_range_names_index_and_table() {
    let err =
        Tensor::try_embedding(&Indices::from_vec(vec![0, 50], [2]), &Tensor::zeros([50, 16])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "embedding: index 50 (at position 1) is out of range for a table of 50 embeddings (weight [50, 16])"
    );
    assert!(Tensor::try_embedding(&Indices::from_vec(vec![0], [1]), &Tensor::zeros([5])).is_err());
}

#[test]
#[should_panic(expected = "embedding: index 9 (at position 0) is out of range for a table of 3 embeddings")]
fn embedding_panics_on_out_of_range() {
    Tensor::embedding(&Indices::from_vec(vec![9], [1]), &Tensor::zeros([3, 2]));
}

#[test]
fn dropout_statistics_scaling_and_gradient() {
    let p = 0.3;
    let n = 100_000;
    manual_seed(7);
    let x = (Tensor::rand([n]) + 0.5).requires_grad_(true);
    let y = x.dropout(p, true);
    assert_eq!(y.grad_fn(), Some("MulBackward0"));
    let scale = 1.0f32 / (1.0 - p) as f32;
    let (xs, ys) = (x.to_vec(), y.to_vec());
    let zeros = ys.iter().filter(|&&v| v == 0.0).count() as f64;
    // Binomial(n, p): within 6 standard deviations.
    let sigma = (n as f64 * p * (1.0 - p)).sqrt();
    assert!((zeros - n as f64 * p).abs() < 6.0 * sigma, "{zeros} zeros, expected about {}", n as f64 * p);
    for (&xv, &yv) in xs.iter().zip(&ys) {
        assert!(yv == 0.0 || yv == xv * scale, "kept values are exactly x·(1/(1−p)): {xv} -> {yv}");
    }
    // The mean is preserved: E[y] = E[x]; the mean of y has standard deviation about
    // scale·sqrt(p(1−p))·|x| / sqrt(n) ≤ 2.2e-3 here.
    let (mean_x, mean_y) = (x.mean().item() as f64, y.mean().item() as f64);
    assert!((mean_y - mean_x).abs() < 6.0 * 2.2e-3, "{mean_y} vs {mean_x}");
    y.sum().backward();
    for (g, &yv) in x.grad().unwrap().to_vec().into_iter().zip(&ys) {
        assert_eq!(g, if yv == 0.0 { 0.0 } else { scale });
    }
}

#[test]
fn dropout_same_seed_same_mask() {
    let x = Tensor::ones([64]);
    manual_seed(123);
    let a = x.dropout(0.5, true).to_vec();
    manual_seed(123);
    let b = x.dropout(0.5, true).to_vec();
    assert_eq!(a, b);
    manual_seed(124);
    assert_ne!(a, x.dropout(0.5, true).to_vec(), "another seed draws another mask");
}

#[test]
fn dropout_identity_cases_and_p_one() {
    let x = Tensor::from_vec(vec![1.0, -2.0, 3.0], [3]).requires_grad_(true);
    assert!(x.dropout(0.5, false).same(&x), "eval returns the input itself");
    assert!(x.dropout(0.0, true).same(&x), "p = 0 returns the input itself");
    let y = x.dropout(1.0, true);
    assert_eq!(y.to_vec(), vec![0.0; 3]);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0; 3]);
}

#[test]
#[should_panic(expected = "dropout probability has to be between 0 and 1, but got 1.5")]
fn dropout_refuses_a_bad_probability() {
    Tensor::ones([2]).dropout(1.5, true);
}

#[test]
fn embedding_padding_row_gets_no_gradient() {
    let weight = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [3, 2]).requires_grad_(true);
    let indices = Indices::from_vec(vec![2, 1, 2, 0, 1], [5]);
    let y = Tensor::embedding_padded(&indices, &weight, Some(2));
    assert_eq!(y.grad_fn(), Some("EmbeddingBackward0"));
    // The forward reads the padding row as it is.
    assert_eq!(y.to_vec(), vec![5.0, 6.0, 3.0, 4.0, 5.0, 6.0, 1.0, 2.0, 3.0, 4.0]);
    (&y * &y).sum().backward();
    assert_eq!(weight.grad().unwrap().to_vec(), vec![2.0, 4.0, 12.0, 16.0, 0.0, 0.0]);
    let err = Tensor::try_embedding_padded(&indices, &Tensor::zeros([3, 2]), Some(3)).unwrap_err();
    assert_eq!(err.to_string(), "embedding: padding_idx 3 is out of range for a table of 3 embeddings");
}

#[test]
fn dropout2d_zeroes_whole_channels_about_p_and_scales_the_rest() {
    let p = 0.3;
    let (n, c, h, w) = (50, 200, 3, 2);
    manual_seed(11);
    let x = (Tensor::rand([n, c, h, w]) + 0.5).requires_grad_(true);
    let y = x.dropout2d(p, true);
    assert_eq!(y.grad_fn(), Some("MulBackward0"));
    let scale = 1.0f32 / (1.0 - p) as f32;
    let (xs, ys) = (x.to_vec(), y.to_vec());
    let mut dropped = 0usize;
    for (xc, yc) in xs.chunks(h * w).zip(ys.chunks(h * w)) {
        if yc.iter().all(|&v| v == 0.0) {
            dropped += 1;
        } else {
            for (&a, &b) in xc.iter().zip(yc) {
                assert_eq!(b, a * scale, "a kept channel is scaled by 1/(1-p) everywhere");
            }
        }
    }
    // Binomial(n·c, p) channels: within 6 standard deviations.
    let channels = (n * c) as f64;
    let sigma = (channels * p * (1.0 - p)).sqrt();
    assert!((dropped as f64 - channels * p).abs() < 6.0 * sigma, "{dropped} of {channels} channels zeroed");
    y.sum().backward();
    for (g, &yv) in x.grad().unwrap().to_vec().into_iter().zip(&ys) {
        assert_eq!(g, if yv == 0.0 { 0.0 } else { scale }, "the gradient is zero exactly where zeroed");
    }
}

#[test]
fn dropout2d_reads_3d_input_as_n_c_l_and_keeps_identity_cases() {
    // PyTorch 2.15 reads [A, B, L] as [N, C, L]: one draw per (a, b), the whole row of L.
    manual_seed(3);
    let y = Tensor::ones([6, 40, 5]).dropout2d(0.5, true).to_vec();
    let rows: Vec<&[f32]> = y.chunks(5).collect();
    assert!(rows.iter().all(|r| r.iter().all(|&v| v == 0.0) || r.iter().all(|&v| v == 2.0)));
    let first_dropped: Vec<bool> = rows.iter().map(|r| r[0] == 0.0).collect();
    assert!(first_dropped.contains(&true) && first_dropped.contains(&false), "draws differ across (a, b)");
    let x = Tensor::ones([2, 3, 4]).requires_grad_(true);
    assert!(x.dropout2d(0.5, false).same(&x), "eval returns the input itself");
    assert!(x.dropout2d(0.0, true).same(&x), "p = 0 returns the input itself");
    let y = x.dropout2d(1.0, true);
    assert_eq!(y.to_vec(), vec![0.0; 24]);
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![0.0; 24]);
}

#[test]
#[should_panic(expected = "dropout probability has to be between 0 and 1, but got -0.5")]
fn dropout2d_refuses_a_bad_probability() {
    Tensor::ones([2, 2]).dropout2d(-0.5, false);
}

#[test]
#[should_panic(
    expected = "dropout2d: expected an input [N, C, H, W] of at least 2 dims, but got input of size [4]"
)]
fn dropout2d_refuses_a_1d_input_in_training() {
    Tensor::ones([4]).dropout2d(0.5, true);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn embedding_passes_gradcheck(
        (num, dim) in (1usize..=5, 1usize..=3),
        index_shape in prop::collection::vec(1usize..=3, 0..=2),
        seed in any::<u64>(),
    ) {
        let count: usize = index_shape.iter().product();
        let values = (0..count).map(|i| (seed as usize).wrapping_add(i * 7) % num).collect();
        let indices = Indices::from_vec(values, &index_shape);
        let weight = Tensor64::randn([num, dim]).requires_grad_(true);
        check(|t| Tensor64::embedding(&indices, &t[0]), &[weight])?;
    }

    #[test]
    fn dropout_passes_gradcheck_for_a_fixed_mask(shape in prop::collection::vec(1usize..=4, 1..=3), seed in any::<u64>()) {
        // The same seed before every call draws the same mask, so dropout is a fixed linear map.
        let x = Tensor64::randn(&shape).requires_grad_(true);
        check(|t| { manual_seed(seed); t[0].dropout(0.4, true) }, &[x])?;
    }

    #[test]
    fn embedding_with_padding_passes_gradcheck(num in 2usize..=5, count in 1usize..=6, seed in any::<u64>()) {
        // The padding row's gradient is zero by design, not the true derivative, so gradcheck
        // runs where no index picks it (the rows around it must still be right);
        // `embedding_padding_row_gets_no_gradient` pins the padding row itself.
        let padding = num - 1;
        let values: Vec<usize> = (0..count).map(|i| (seed as usize).wrapping_add(i * 3) % padding).collect();
        let indices = Indices::from_vec(values, [count]);
        let weight = Tensor64::randn([num, 2]).requires_grad_(true);
        check(|t| Tensor64::embedding_padded(&indices, &t[0], Some(padding)), &[weight])?;
    }

    #[test]
    fn dropout2d_passes_gradcheck_for_a_fixed_mask(shape in prop::collection::vec(1usize..=3, 2..=4), seed in any::<u64>()) {
        let x = Tensor64::randn(&shape).requires_grad_(true);
        check(|t| { manual_seed(seed); t[0].dropout2d(0.4, true) }, &[x])?;
    }
}
