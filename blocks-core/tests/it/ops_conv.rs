//! conv2d and conv1d: hand-computed answers, a direct (loop) convolution as
//! reference on random settings, shape errors, grad_fn names, and gradcheck
//! on random shapes with stride, padding, dilation and groups.

use crate::support;

use blocks_core::{Conv1dOptions, Conv2dOptions, Tensor, Tensor64};
use proptest::prelude::*;
use support::check;

/// The convolution written as its definition: a sum over channels of the group and kernel taps.
fn direct_conv2d(
    x: &Tensor64,
    w: &Tensor64,
    b: Option<&Tensor64>,
    o: Conv2dOptions,
) -> (Vec<f64>, Vec<usize>) {
    let (xs, ws) = (x.shape(), w.shape());
    let (n, c, h, wd) = (xs[0], xs[1], xs[2], xs[3]);
    let (oc, cg, kh, kw) = (ws[0], ws[1], ws[2], ws[3]);
    let og = oc / o.groups;
    let oh = (h + 2 * o.padding[0] - o.dilation[0] * (kh - 1) - 1) / o.stride[0] + 1;
    let ow = (wd + 2 * o.padding[1] - o.dilation[1] * (kw - 1) - 1) / o.stride[1] + 1;
    let (xv, wv) = (x.to_vec(), w.to_vec());
    let bv = b.map(|b| b.to_vec());
    let mut out = Vec::new();
    for img in 0..n {
        for co in 0..oc {
            let g = co / og;
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = bv.as_ref().map_or(0.0, |b| b[co]);
                    for ci in 0..cg {
                        let cin = g * cg + ci;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let y =
                                    (oy * o.stride[0] + ky * o.dilation[0]) as isize - o.padding[0] as isize;
                                let xx =
                                    (ox * o.stride[1] + kx * o.dilation[1]) as isize - o.padding[1] as isize;
                                if y < 0 || xx < 0 || y as usize >= h || xx as usize >= wd {
                                    continue;
                                }
                                let xi = ((img * c + cin) * h + y as usize) * wd + xx as usize;
                                let wi = ((co * cg + ci) * kh + ky) * kw + kx;
                                s += xv[xi] * wv[wi];
                            }
                        }
                    }
                    out.push(s);
                }
            }
        }
    }
    (out, vec![n, oc, oh, ow])
}

fn close(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!((a - e).abs() <= 1e-12 + 1e-12 * e.abs(), "element {i}: {a} vs {e}");
    }
}

#[test]
fn conv2d_hand_computed() {
    // x = 1..9 in a 3x3 image, a 2x2 kernel [[1, 0], [0, -1]]: y = x[i][j] - x[i+1][j+1] = -4.
    let x = Tensor::from_vec((1..=9).map(|v| v as f32).collect(), [1, 1, 3, 3]);
    let w = Tensor::from_vec(vec![1.0, 0.0, 0.0, -1.0], [1, 1, 2, 2]);
    let b = Tensor::from_vec(vec![0.5], [1]);
    let y = x.conv2d(&w, Some(&b), Conv2dOptions::default());
    assert_eq!(y.shape(), vec![1, 1, 2, 2]);
    assert_eq!(y.to_vec(), vec![-3.5; 4]);
    // Padding 1, stride 2: outputs at the corners of the padded image.
    let o = Conv2dOptions { padding: [1, 1], stride: [2, 2], ..Default::default() };
    let y = x.conv2d(&w, None, o);
    assert_eq!(y.shape(), vec![1, 1, 2, 2]);
    // Output (i, j) reads x[2i-1][2j-1] - x[2i][2j] (padding reads 0):
    // 0 - 1, 0 - 3, 0 - 7, 5 - 9.
    assert_eq!(y.to_vec(), vec![-1.0, -3.0, -7.0, -4.0]);
}

#[test]
fn conv2d_gradients_hand_computed() {
    // One 2x2 image, a 1x1 kernel of 3 and bias: dy/dx = 3, dy/dw = Σx, dy/db = 4.
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0], [1, 1, 2, 2]).requires_grad_(true);
    let w = Tensor::from_vec(vec![3.0], [1, 1, 1, 1]).requires_grad_(true);
    let b = Tensor::from_vec(vec![0.0], [1]).requires_grad_(true);
    let y = x.conv2d(&w, Some(&b), Conv2dOptions::default());
    assert_eq!(y.grad_fn(), Some("ConvolutionBackward0"));
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![3.0; 4]);
    assert_eq!(w.grad().unwrap().to_vec(), vec![10.0]);
    assert_eq!(b.grad().unwrap().to_vec(), vec![4.0]);
}

#[test]
fn conv1d_and_unbatched_inputs() {
    let x = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0], [1, 1, 5]).requires_grad_(true);
    let w = Tensor::from_vec(vec![1.0, 1.0], [1, 1, 2]);
    let o = Conv1dOptions { dilation: [2], padding: [1], ..Default::default() };
    // Taps at i-1 and i+1: [0+2, 1+3, 2+4, 3+5, 4+0].
    let y = x.conv1d(&w, None, o);
    assert_eq!(y.to_vec(), vec![2.0, 4.0, 6.0, 8.0, 4.0]);
    assert_eq!(y.grad_fn(), Some("ConvolutionBackward0"));
    y.sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), vec![1.0, 2.0, 2.0, 2.0, 1.0]);
    let unbatched = Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0], [1, 5]).conv1d(&w, None, o);
    assert_eq!(unbatched.shape(), vec![1, 5]);
    let image = Tensor::ones([2, 4, 4]).conv2d(&Tensor::ones([3, 2, 3, 3]), None, Conv2dOptions::default());
    assert_eq!(image.shape(), vec![3, 2, 2]);
    assert_eq!(image.to_vec(), vec![18.0; 12]);
}

#[test]
fn conv_shape_errors_name_op_and_shapes() {
    let x = Tensor::zeros([2, 3, 8, 8]);
    let err = x.try_conv2d(&Tensor::zeros([6, 1, 5, 5]), None, Conv2dOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "conv2d: input [2, 3, 8, 8], weight [6, 1, 5, 5]: with groups=1, expected the input to have 1 channels, \
         but got 3 channels instead"
    );
    let err = x.try_conv2d(&Tensor::zeros([6, 3, 9, 9]), None, Conv2dOptions::default()).unwrap_err();
    assert!(err.to_string().contains("Kernel size: (9 x 9). Kernel size can't be greater"), "{err}");
    let err = x.try_conv2d(&Tensor::zeros([6, 3, 3, 3]), Some(&Tensor::zeros([5])), Conv2dOptions::default());
    assert!(err.unwrap_err().to_string().contains("bias [5]"));
    let grouped = Conv2dOptions { groups: 2, ..Default::default() };
    assert!(x.try_conv2d(&Tensor::zeros([6, 3, 3, 3]), None, grouped).is_err());
    let err = Tensor::zeros([3, 8]).try_conv2d(&Tensor::zeros([6, 3, 3, 3]), None, Conv2dOptions::default());
    assert!(err.unwrap_err().to_string().contains("expected a 3-D (unbatched) or 4-D (batched) input"));
    let zero_stride = Conv2dOptions { stride: [0, 1], ..Default::default() };
    assert!(x.try_conv2d(&Tensor::zeros([6, 3, 3, 3]), None, zero_stride).is_err());
}

#[test]
#[should_panic(expected = "conv2d: input [1, 2, 4, 4], weight [1, 1, 3, 3]")]
fn conv2d_panics_naming_both_shapes() {
    Tensor::zeros([1, 2, 4, 4]).conv2d(&Tensor::zeros([1, 1, 3, 3]), None, Conv2dOptions::default());
}

/// Random conv2d settings whose kernel fits the padded input.
fn conv_case() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, bool, Conv2dOptions)> {
    (
        (1usize..=2, 1usize..=2, 1usize..=2, 1usize..=2),
        (1usize..=5, 1usize..=5, 1usize..=3, 1usize..=3),
        ([1usize..=2, 1usize..=2], [0usize..=2, 0usize..=2], [1usize..=2, 1usize..=2]),
        any::<bool>(),
    )
        .prop_filter_map(
            "kernel larger than the padded input",
            |((n, groups, cg, og), (h, w, kh, kw), (s, p, d), bias)| {
                let fits = |size: usize, k: usize, axis: usize| size + 2 * p[axis] > d[axis] * (k - 1);
                (fits(h, kh, 0) && fits(w, kw, 1)).then(|| {
                    let options = Conv2dOptions { stride: s, padding: p, dilation: d, groups };
                    (vec![n, groups * cg, h, w], vec![groups * og, cg, kh, kw], bias, options)
                })
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20))]

    #[test]
    fn conv2d_matches_the_direct_sum((xs, ws, bias, o) in conv_case()) {
        let x = Tensor64::randn(&xs);
        let w = Tensor64::randn(&ws);
        let b = bias.then(|| Tensor64::randn([ws[0]]));
        let y = x.conv2d(&w, b.as_ref(), o);
        let (expected, shape) = direct_conv2d(&x, &w, b.as_ref(), o);
        prop_assert_eq!(y.shape(), shape);
        close(&y.to_vec(), &expected);
    }

    #[test]
    fn conv2d_passes_gradcheck((xs, ws, bias, o) in conv_case()) {
        let x = Tensor64::randn(&xs).requires_grad_(true);
        let w = Tensor64::randn(&ws).requires_grad_(true);
        if bias {
            let b = Tensor64::randn([ws[0]]).requires_grad_(true);
            check(|t| t[0].conv2d(&t[1], Some(&t[2]), o), &[x, w, b])?;
        } else {
            check(|t| t[0].conv2d(&t[1], None, o), &[x, w])?;
        }
    }

    #[test]
    fn conv1d_passes_gradcheck(
        (n, groups, cg, og) in (1usize..=2, 1usize..=2, 1usize..=2, 1usize..=2),
        (l, k, s, p, d) in (1usize..=6, 1usize..=3, 1usize..=2, 0usize..=2, 1usize..=2),
    ) {
        prop_assume!(l + 2 * p > d * (k - 1));
        let x = Tensor64::randn([n, groups * cg, l]).requires_grad_(true);
        let w = Tensor64::randn([groups * og, cg, k]).requires_grad_(true);
        let b = Tensor64::randn([groups * og]).requires_grad_(true);
        let o = Conv1dOptions { stride: [s], padding: [p], dilation: [d], groups };
        check(|t| t[0].conv1d(&t[1], Some(&t[2]), o), &[x, w, b])?;
    }
}

/// conv → batch norm → max pool → dropout, with a per-thread seed for the mask.
fn pipeline(x: &Tensor, w: &Tensor, seed: u64) -> Vec<f32> {
    blocks_core::manual_seed(seed);
    let y = x.conv2d(w, None, Conv2dOptions { padding: [1, 1], ..Default::default() });
    let (y, _) = y.batch_norm_train(None, None, 1e-5);
    y.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false).dropout(0.5, true).to_vec()
}

#[test]
fn ops_on_shared_tensors_from_many_threads_agree_with_one_thread() {
    let x = Tensor::randn([2, 3, 6, 6]);
    let w = Tensor::randn([4, 3, 3, 3]);
    let expected: Vec<Vec<f32>> = (0..8).map(|seed| pipeline(&x, &w, seed)).collect();
    let (done, results) = std::sync::mpsc::channel();
    for seed in 0..8u64 {
        let (x, w, done) = (x.clone(), w.clone(), done.clone());
        std::thread::spawn(move || done.send((seed, pipeline(&x, &w, seed))).expect("receiver alive"));
    }
    for _ in 0..8 {
        // Watchdog: a thread that hangs fails the test instead of blocking it.
        let (seed, got) = results.recv_timeout(std::time::Duration::from_secs(120)).expect("a worker hung");
        assert_eq!(got, expected[seed as usize], "thread with seed {seed}");
    }
}

#[test]
fn flatten_with_nn_flatten_defaults() {
    // nn.Flatten() is flatten(start_dim=1, end_dim=-1): ViewBackward0, as PyTorch reports.
    let x = Tensor::ones([2, 3, 4, 5]).requires_grad_(true);
    let y = x.flatten(1, -1);
    assert_eq!((y.shape(), y.grad_fn()), (vec![2, 60], Some("ViewBackward0")));
    let already_flat = Tensor::ones([2, 7]);
    assert!(already_flat.flatten(1, -1).same(&already_flat), "nothing to merge: PyTorch returns the input");
}
