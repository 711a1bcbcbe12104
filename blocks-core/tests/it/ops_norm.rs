//! batch_norm (training with batch statistics, eval with running ones, the
//! running-statistics update), layer_norm and group_norm: hand-computed
//! answers, grad_fn names, errors, and gradcheck on random shapes (exact
//! through the batch statistics).

use crate::support;

use crate::support::close;
use blocks_core::{Tensor, Tensor64};
use proptest::prelude::*;
use support::check;

#[test]
fn batch_norm_train_normalizes_each_channel_with_the_biased_variance() {
    // Channel 0: [1, 3, 5, 7] (mean 4, biased var 5, unbiased 20/3);
    // channel 1: [0, 2, 0, 2] (mean 1, biased var 1, unbiased 4/3).
    let x = Tensor64::from_vec(vec![1.0, 3.0, 0.0, 2.0, 5.0, 7.0, 0.0, 2.0], [2, 2, 2]);
    let w = Tensor64::from_vec(vec![2.0, 1.0], [2]);
    let b = Tensor64::from_vec(vec![0.5, -1.0], [2]);
    let (y, stats) = x.batch_norm_train(Some(&w), Some(&b), 0.0);
    let s = 5.0f64.sqrt();
    let expected = [
        -3.0 / s * 2.0 + 0.5,
        -1.0 / s * 2.0 + 0.5,
        -2.0,
        0.0,
        1.0 / s * 2.0 + 0.5,
        3.0 / s * 2.0 + 0.5,
        -2.0,
        0.0,
    ];
    close(&y.to_vec(), &expected, 1e-12);
    assert_eq!(stats.mean.to_vec(), vec![4.0, 1.0]);
    close(&stats.var.to_vec(), &[20.0 / 3.0, 4.0 / 3.0], 1e-12);
    assert_eq!(stats.count, 4);
    // A constant channel with eps: zeros (then the bias).
    let (y, _) = Tensor::ones([3, 1]).batch_norm_train(None, None, 1e-5);
    assert_eq!(y.to_vec(), vec![0.0; 3]);
}

#[test]
fn running_statistics_update_with_momentum_and_cumulative_average() {
    let x = Tensor64::from_vec(vec![1.0, 3.0], [2, 1]);
    let (_, stats) = x.batch_norm_train(None, None, 1e-5);
    let (mean, var) = (Tensor64::zeros([1]), Tensor64::ones([1]));
    stats.update_running(&mean, &var, Some(0.1), 1);
    close(&mean.to_vec(), &[0.2], 1e-15);
    close(&var.to_vec(), &[0.9 + 0.1 * 2.0], 1e-15);
    // momentum None: factor 1 / num_batches_tracked. After the 1st batch the running
    // values are the batch's; after a 2nd, the average of both.
    let (mean, var) = (Tensor64::zeros([1]), Tensor64::ones([1]));
    stats.update_running(&mean, &var, None, 1);
    assert_eq!((mean.to_vec(), var.to_vec()), (vec![2.0], vec![2.0]));
    let (_, second) = Tensor64::from_vec(vec![5.0, 9.0], [2, 1]).batch_norm_train(None, None, 1e-5);
    second.update_running(&mean, &var, None, 2);
    assert_eq!((mean.to_vec(), var.to_vec()), (vec![4.5], vec![(2.0 + 8.0) / 2.0]));
    assert!(stats.try_update_running(&Tensor64::zeros([2]), &var, Some(0.1), 1).is_err());
}

#[test]
fn batch_norm_eval_uses_the_running_statistics() {
    let x = Tensor64::from_vec(vec![3.0, 0.0, 5.0, 1.0], [2, 2]).requires_grad_(true);
    let (mean, var) = (Tensor64::from_vec(vec![1.0, 0.5], [2]), Tensor64::from_vec(vec![4.0, 0.25], [2]));
    let w = Tensor64::from_vec(vec![3.0, 1.0], [2]).requires_grad_(true);
    let y = x.batch_norm_eval(&mean, &var, Some(&w), None, 0.0);
    assert_eq!(y.to_vec(), vec![3.0, -1.0, 6.0, 1.0]);
    assert_eq!(y.grad_fn(), Some("NativeBatchNormBackward0"));
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![1.5, 2.0, 1.5, 2.0]);
    assert_eq!(w.grad().unwrap().to_vec(), vec![1.0 + 2.0, -1.0 + 1.0]);
}

#[test]
fn batch_norm_train_gradient_hand_computed() {
    // Σ of a normalized channel is constant (0 + bias), so dx = 0 and db = count.
    let x = Tensor64::from_vec(vec![1.0, 4.0, 2.0, 8.0], [4, 1]).requires_grad_(true);
    let b = Tensor64::zeros([1]).requires_grad_(true);
    let (y, _) = x.batch_norm_train(None, Some(&b), 1e-5);
    assert_eq!(y.grad_fn(), Some("NativeBatchNormBackward0"));
    y.sum().backward();
    close(&x.grad().unwrap().to_vec(), &[0.0; 4], 1e-12);
    assert_eq!(b.grad().unwrap().to_vec(), vec![4.0]);
}

#[test]
fn batch_norm_errors() {
    let err = Tensor::zeros([1, 3]).try_batch_norm_train(None, None, 1e-5).unwrap_err();
    assert_eq!(
        err.to_string(),
        "batch_norm: Expected more than 1 value per channel when training, got input size [1, 3]"
    );
    assert!(Tensor::zeros([1, 3, 2]).try_batch_norm_train(None, None, 1e-5).is_ok());
    let err = Tensor::zeros([4, 3]).try_batch_norm_train(Some(&Tensor::ones([4])), None, 1e-5).unwrap_err();
    assert_eq!(err.to_string(), "batch_norm: input [4, 3], weight [4]: expected weight of shape [3]");
    assert!(Tensor::zeros([4]).try_batch_norm_train(None, None, 1e-5).is_err());
}

#[test]
fn layer_norm_hand_computed() {
    let x = Tensor64::from_vec(vec![1.0, 2.0, 3.0, 4.0, 0.0, 0.0, 0.0, 8.0], [2, 2, 2]).requires_grad_(true);
    let y = x.layer_norm(&[2, 2], None, None, 0.0);
    let s = 1.25f64.sqrt();
    let expected = [
        -1.5 / s,
        -0.5 / s,
        0.5 / s,
        1.5 / s,
        -1.0 / 3f64.sqrt(),
        -1.0 / 3f64.sqrt(),
        -1.0 / 3f64.sqrt(),
        3f64.sqrt(),
    ];
    close(&y.to_vec(), &expected, 1e-12);
    assert_eq!(y.grad_fn(), Some("NativeLayerNormBackward0"));
    let w = Tensor64::from_vec(vec![2.0, 3.0], [2]).requires_grad_(true);
    let b = Tensor64::from_vec(vec![0.5, -0.5], [2]).requires_grad_(true);
    let y = Tensor64::from_vec(vec![1.0, 3.0], [1, 2]).layer_norm(&[2], Some(&w), Some(&b), 0.0);
    assert_eq!(y.to_vec(), vec![-1.5, 2.5]);
    y.sum().backward();
    assert_eq!((w.grad().unwrap().to_vec(), b.grad().unwrap().to_vec()), (vec![-1.0, 1.0], vec![1.0, 1.0]));
}

#[test]
fn layer_norm_errors() {
    let err = Tensor::zeros([3, 5, 8]).try_layer_norm(&[16], None, None, 1e-5).unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer_norm: Given normalized_shape=[16], expected input with shape [*, 16], but got input of size [3, 5, 8]"
    );
    let err = Tensor::zeros([3, 8]).try_layer_norm(&[8], Some(&Tensor::ones([4])), None, 1e-5).unwrap_err();
    assert!(err.to_string().contains("weight [4]"), "{err}");
}

#[test]
fn group_norm_hand_computed() {
    // [1, 4, 2] in 2 groups: channels 0-1 hold [1, 2, 4, 3] (mean 2.5, biased var 1.25),
    // channels 2-3 hold [5, 7, 6, 8] (mean 6.5, var 1.25).
    let x = Tensor64::from_vec(vec![1.0, 2.0, 4.0, 3.0, 5.0, 7.0, 6.0, 8.0], [1, 4, 2]).requires_grad_(true);
    let w = Tensor64::from_vec(vec![1.0, 2.0, 3.0, 4.0], [4]);
    let b = Tensor64::from_vec(vec![0.0, 0.0, 1.0, -1.0], [4]);
    let y = x.group_norm(2, Some(&w), Some(&b), 0.0);
    assert_eq!(y.grad_fn(), Some("NativeGroupNormBackward0"));
    let s = 1.25f64.sqrt();
    let xhat = [-1.5, -0.5, 1.5, 0.5, -1.5, 0.5, -0.5, 1.5].map(|v| v / s);
    let expected = [
        xhat[0],
        xhat[1],
        2.0 * xhat[2],
        2.0 * xhat[3],
        3.0 * xhat[4] + 1.0,
        3.0 * xhat[5] + 1.0,
        4.0 * xhat[6] - 1.0,
        4.0 * xhat[7] - 1.0,
    ];
    close(&y.to_vec(), &expected, 1e-12);
    // A constant group with eps: zeros (then the bias).
    let y = Tensor::ones([2, 2, 3]).group_norm(1, None, None, 1e-5);
    assert_eq!(y.to_vec(), vec![0.0; 12]);
}

#[test]
fn group_norm_with_one_group_is_layer_norm_and_with_c_groups_is_per_channel() {
    let x = Tensor64::randn([3, 4, 5]);
    let one = x.group_norm(1, None, None, 1e-5);
    close(&one.to_vec(), &x.layer_norm(&[4, 5], None, None, 1e-5).to_vec(), 1e-12);
    let per_channel = x.group_norm(4, None, None, 1e-5);
    close(&per_channel.to_vec(), &x.layer_norm(&[5], None, None, 1e-5).to_vec(), 1e-12);
}

#[test]
fn group_norm_errors() {
    let err = Tensor::zeros([2, 6, 3]).try_group_norm(4, None, None, 1e-5).unwrap_err();
    assert_eq!(
        err.to_string(),
        "group_norm: expected the number of channels of input [2, 6, 3] (6, in dim 1) to be divisible by num_groups=4"
    );
    assert!(Tensor::zeros([2, 6]).try_group_norm(0, None, None, 1e-5).is_err());
    let err = Tensor::zeros([6]).try_group_norm(2, None, None, 1e-5).unwrap_err();
    assert!(err.to_string().contains("at least 2 dims, but got input of size [6]"), "{err}");
    let err = Tensor::zeros([2, 6]).try_group_norm(2, Some(&Tensor::ones([3])), None, 1e-5).unwrap_err();
    assert_eq!(err.to_string(), "group_norm: input [2, 6], weight [3]: expected weight of shape [6]");
    let err = Tensor::zeros([2, 6]).try_group_norm(2, None, Some(&Tensor::ones([6, 1])), 1e-5).unwrap_err();
    assert!(err.to_string().contains("bias [6, 1]"), "{err}");
}

#[test]
#[should_panic(expected = "group_norm: expected the number of channels of input [1, 5] (5, in dim 1)")]
fn group_norm_panics_on_groups_that_do_not_divide() {
    Tensor::zeros([1, 5]).group_norm(2, None, None, 1e-5);
}

fn norm_shape() -> impl Strategy<Value = Vec<usize>> {
    // N, C and 0 to 2 spatial dims; at least 2 values per channel.
    (1usize..=3, 1usize..=3, prop::collection::vec(1usize..=3, 0..=2))
        .prop_map(|(n, c, rest)| [vec![n, c], rest].concat())
        .prop_filter("more than one value per channel", |s| s[0] * s[2..].iter().product::<usize>() > 1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20))]

    #[test]
    fn batch_norm_train_passes_gradcheck(shape in norm_shape(), affine in any::<bool>()) {
        let x = Tensor64::randn(&shape).requires_grad_(true);
        let c = shape[1];
        if affine {
            let w = Tensor64::randn([c]).requires_grad_(true);
            let b = Tensor64::randn([c]).requires_grad_(true);
            check(|t| t[0].batch_norm_train(Some(&t[1]), Some(&t[2]), 1e-5).0, &[x, w, b])?;
        } else {
            check(|t| t[0].batch_norm_train(None, None, 1e-5).0, &[x])?;
        }
    }

    #[test]
    fn batch_norm_eval_passes_gradcheck(shape in norm_shape()) {
        let c = shape[1];
        let x = Tensor64::randn(&shape).requires_grad_(true);
        let w = Tensor64::randn([c]).requires_grad_(true);
        let b = Tensor64::randn([c]).requires_grad_(true);
        let mean = Tensor64::randn([c]);
        let var = Tensor64::rand([c]) + 0.5;
        check(|t| t[0].batch_norm_eval(&mean, &var, Some(&t[1]), Some(&t[2]), 1e-5), &[x, w, b])?;
    }

    #[test]
    fn layer_norm_passes_gradcheck(lead in prop::collection::vec(1usize..=3, 0..=2), normalized in prop::collection::vec(1usize..=4, 1..=2), affine in any::<bool>()) {
        prop_assume!(normalized.iter().product::<usize>() > 1);
        let shape = [lead, normalized.clone()].concat();
        let x = Tensor64::randn(&shape).requires_grad_(true);
        if affine {
            let w = Tensor64::randn(&normalized).requires_grad_(true);
            let b = Tensor64::randn(&normalized).requires_grad_(true);
            check(|t| t[0].layer_norm(&normalized, Some(&t[1]), Some(&t[2]), 1e-5), &[x, w, b])?;
        } else {
            check(|t| t[0].layer_norm(&normalized, None, None, 1e-5), &[x])?;
        }
    }

    #[test]
    fn group_norm_passes_gradcheck(
        (n, groups, per_group) in (1usize..=3, 1usize..=3, 1usize..=2),
        spatial in prop::collection::vec(1usize..=3, 0..=2),
        affine in any::<bool>(),
    ) {
        prop_assume!(per_group * spatial.iter().product::<usize>() > 1);
        let c = groups * per_group;
        let shape = [vec![n, c], spatial].concat();
        let x = Tensor64::randn(&shape).requires_grad_(true);
        if affine {
            let w = Tensor64::randn([c]).requires_grad_(true);
            let b = Tensor64::randn([c]).requires_grad_(true);
            check(|t| t[0].group_norm(groups, Some(&t[1]), Some(&t[2]), 1e-5), &[x, w, b])?;
        } else {
            check(|t| t[0].group_norm(groups, None, None, 1e-5), &[x])?;
        }
    }
}
