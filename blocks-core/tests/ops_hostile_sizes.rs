//! Hostile sizes for the Result-returning conv, pool, index and init
//! functions: huge stride, padding, dilation, kernel, groups and output
//! sizes give an error naming the op (never an overflow panic, an
//! allocation abort or wrong values), and every size that is accepted gives
//! the values of the definition, computed here in `i128` where nothing can
//! overflow. The property tests draw each option either small or huge
//! (powers of two near the limits, `usize::MAX`), with a bounded case count.

use blocks_core::nn::init::calculate_fan_in_and_fan_out;
use blocks_core::{Conv2dOptions, Indices, Tensor64};
use proptest::prelude::*;

/// A small input of distinct values: `[n, c, h, w]`.
fn input(shape: [usize; 4]) -> Tensor64 {
    let count = shape.iter().product();
    Tensor64::from_vec((0..count).map(|v| ((v * 7) % 11) as f64 - 5.0).collect(), shape)
}

/// One output size along an axis, by the definition, or `None` when the
/// kernel's extent does not fit in the padded input.
fn out_size(size: usize, k: usize, stride: usize, padding: usize, dilation: usize) -> Option<i128> {
    let (size, k, stride, padding, dilation) =
        (size as i128, k as i128, stride as i128, padding as i128, dilation as i128);
    let room = size + 2 * padding - dilation * (k - 1) - 1;
    (room >= 0).then_some(room / stride + 1)
}

/// What the definition says of a convolution: no output, an output far
/// too large for memory (its size), or its shape and values.
#[derive(Debug)]
enum Expected {
    NoOutput,
    TooLarge(i128),
    Values(Vec<usize>, Vec<f64>),
}

/// The input coordinate of output `o`'s tap `k`, if it lies inside `0..size`.
fn tap(o: usize, k: usize, stride: usize, padding: usize, dilation: usize, size: usize) -> Option<usize> {
    let at = o as i128 * stride as i128 + k as i128 * dilation as i128 - padding as i128;
    (0..size as i128).contains(&at).then_some(at as usize)
}

/// What the definition says of conv2d's output (groups 1) without computing
/// it: no output, too large, or its shape (with no values yet).
fn conv2d_extent(x: &Tensor64, w: &Tensor64, o: Conv2dOptions) -> Expected {
    let (xs, ws) = (x.shape(), w.shape());
    let (n, h, wd, oc, kh, kw) = (xs[0], xs[2], xs[3], ws[0], ws[2], ws[3]);
    let oh = out_size(h, kh, o.stride[0], o.padding[0], o.dilation[0]);
    let ow = out_size(wd, kw, o.stride[1], o.padding[1], o.dilation[1]);
    let (Some(oh), Some(ow)) = (oh, ow) else { return Expected::NoOutput };
    // Beyond 2^31 positions the column matrix alone is more than 2^36 bytes.
    match oh.checked_mul(ow) {
        Some(positions) if positions <= 1 << 31 => {
            Expected::Values(vec![n, oc, oh as usize, ow as usize], Vec::new())
        }
        positions => Expected::TooLarge(positions.unwrap_or(i128::MAX)),
    }
}

/// conv2d by its definition (groups 1), with its output shape: computed only
/// for a convolution blocks accepted (its output fits in memory), as a
/// refused one may have 2^31 positions that the definition would compute
/// one by one for minutes.
fn direct_conv2d(x: &Tensor64, w: &Tensor64, o: Conv2dOptions) -> Expected {
    let Expected::Values(shape, _) = conv2d_extent(x, w, o) else { return conv2d_extent(x, w, o) };
    let (n, c, h, wd, oc, kh, kw) =
        (shape[0], x.shape()[1], x.shape()[2], x.shape()[3], shape[1], w.shape()[2], w.shape()[3]);
    let (oh, ow) = (shape[2], shape[3]);
    let (xv, wv) = (x.to_vec(), w.to_vec());
    let mut out = Vec::new();
    for img in 0..n {
        for f in 0..oc {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut sum = 0.0;
                    for ch in 0..c {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let y = tap(oy, ky, o.stride[0], o.padding[0], o.dilation[0], h);
                                let x = tap(ox, kx, o.stride[1], o.padding[1], o.dilation[1], wd);
                                if let (Some(y), Some(x)) = (y, x) {
                                    sum += xv[((img * c + ch) * h + y) * wd + x]
                                        * wv[((f * c + ch) * kh + ky) * kw + kx];
                                }
                            }
                        }
                    }
                    out.push(sum);
                }
            }
        }
    }
    Expected::Values(vec![n, oc, oh, ow], out)
}

/// A size drawn either small or huge: a huge padding makes an output far
/// beyond any memory (2^32 positions and more), a huge stride or dilation
/// leaves one output or none, and the largest overflow any product.
fn size(small: std::ops::Range<usize>) -> impl Strategy<Value = usize> {
    prop_oneof![
        3 => small,
        1 => prop::sample::select(vec![1 << 31, 1 << 32, 1 << 62, 1 << 63, usize::MAX - 1, usize::MAX]),
    ]
}

fn close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= 1e-9, "{g} vs {w}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn conv2d_refuses_or_computes_the_definition(
        stride in [size(1..3), size(1..3)],
        padding in [size(0..3), size(0..3)],
        dilation in [size(1..3), size(1..3)],
        groups in size(1..2),
        kernel in [1usize..4, 1usize..4],
    ) {
        let x = input([1, 2, 4, 5]);
        let w = input([2, 2, kernel[0], kernel[1]]);
        let options = Conv2dOptions { stride, padding, dilation, groups };
        let got = x.try_conv2d(&w, None, options);
        // The values of the definition only where blocks gave values to compare.
        let direct = match (&got, groups) {
            (_, 2..) => Expected::NoOutput,
            (Ok(_), _) => direct_conv2d(&x, &w, options),
            (Err(_), _) => conv2d_extent(&x, &w, options),
        };
        match (got, direct) {
            (Ok(y), Expected::Values(shape, values)) => {
                prop_assert_eq!(y.shape(), shape);
                close(&y.to_vec(), &values);
            }
            (Err(error), direct) => {
                let message = error.to_string();
                prop_assert!(message.starts_with("conv2d: input [1, 2, 4, 5]"), "{}", message);
                // Refused only when the definition has no output, or it is too
                // large to allocate, or a size overflows usize.
                let honest = message.contains("allocation limit") || message.contains("overflows");
                match direct {
                    Expected::NoOutput => {}
                    Expected::TooLarge(positions) => prop_assert!(honest, "{} positions: {}", positions, message),
                    Expected::Values(..) => prop_assert!(honest, "{}", message),
                }
            }
            (Ok(y), direct) => prop_assert!(false, "accepted {:?} ({:?}) with output {:?}", options, direct, y.shape()),
        }
    }

    #[test]
    fn max_and_avg_pool2d_refuse_or_compute_the_definition(
        kernel in [size(1..4), size(1..4)],
        stride in [size(1..3), size(1..3)],
        padding in [size(0..2), size(0..2)],
        dilation in [size(1..3), size(1..3)],
        ceil_mode in any::<bool>(),
    ) {
        let x = input([1, 2, 5, 4]);
        let check = |op: &str, result: Result<Tensor64, blocks_core::ShapeError>, dilation: [usize; 2]| {
            match result {
                Ok(y) => {
                    // Accepted: the sizes are those of the definition (floor mode
                    // gives at most that of ceil mode), and the values finite or -inf.
                    let shape = y.shape();
                    for axis in 0..2 {
                        let size = [5, 4][axis];
                        let floor = out_size(size, kernel[axis], stride[axis], padding[axis], dilation[axis]);
                        let got = shape[2 + axis] as i128;
                        assert!(floor.is_some_and(|f| got >= f && got <= f + 1),
                            "{op}: {shape:?} for kernel {kernel:?}");
                    }
                    assert!(y.to_vec().iter().all(|v| !v.is_nan()), "{op}: NaN from {kernel:?}");
                }
                Err(error) => assert!(error.to_string().starts_with(&format!("{op}: input [1, 2, 5, 4]")), "{error}"),
            }
        };
        check("max_pool2d", x.try_max_pool2d(kernel, stride, padding, dilation, ceil_mode), dilation);
        check("avg_pool2d", x.try_avg_pool2d(kernel, stride, padding, ceil_mode, true), [1, 1]);
        check("avg_pool2d", x.try_avg_pool2d(kernel, stride, padding, ceil_mode, false), [1, 1]);
    }

    #[test]
    fn adaptive_avg_pool2d_refuses_huge_outputs(output in [size(1..6), size(1..6)]) {
        let x = input([1, 2, 5, 4]);
        match x.try_adaptive_avg_pool2d(output) {
            Ok(y) => prop_assert_eq!(y.shape(), vec![1, 2, output[0], output[1]]),
            Err(error) => prop_assert!(error.to_string().contains("adaptive_avg_pool2d"), "{}", error),
        }
    }
}

#[test]
fn the_cases_of_the_report_are_errors_naming_the_op() {
    let x = input([1, 1, 4, 4]);
    let w = input([1, 1, 3, 3]);
    let huge_dilation = Conv2dOptions { dilation: [1 << 63, 1], ..Default::default() };
    let error = x.try_conv2d(&w, None, huge_dilation).unwrap_err().to_string();
    assert!(error.starts_with("conv2d: input [1, 1, 4, 4], weight [1, 1, 3, 3]"), "{error}");
    let huge_padding = Conv2dOptions { padding: [1 << 22, 1 << 22], ..Default::default() };
    let error = x.try_conv2d(&w, None, huge_padding).unwrap_err().to_string();
    assert!(error.contains("the column matrix would have") && error.contains("allocation limit"), "{error}");

    let error = x.try_max_pool2d([3, 3], [1, 1], [0, 0], [1 << 63, 1], false).unwrap_err().to_string();
    assert!(error.contains("Output size is too small"), "{error}");
    // A huge kernel with half as much padding: one window, computed from its bounds.
    // Every window covers the whole input: each output is its largest value.
    let y = x.try_max_pool2d([1 << 62, 1 << 62], [1, 1], [1 << 61, 1 << 61], [1, 1], false).unwrap();
    assert_eq!((y.shape(), y.to_vec()), (vec![1, 1, 5, 5], vec![5.0; 25]));
    let y = x.try_avg_pool2d([1 << 62, 1], [1, 1], [1 << 61, 0], false, false).unwrap();
    assert_eq!(y.shape(), vec![1, 1, 5, 4]);
    // Without count_include_pad, each is the mean of its column.
    let column_means: Vec<f64> =
        (0..4).map(|col| (0..4).map(|row| x.to_vec()[row * 4 + col]).sum::<f64>() / 4.0).collect();
    close(&y.to_vec()[..4], &column_means);
    let error = x.try_adaptive_avg_pool2d([1 << 46, 1]).unwrap_err().to_string();
    assert!(
        error.starts_with("adaptive_avg_pool2d: input [1, 1, 4, 4], output_size [70368744177664, 1]"),
        "{error}"
    );

    let error = Indices::try_from_vec(vec![], [1 << 32, 1 << 32]).unwrap_err().to_string();
    assert!(error.starts_with("indices: shape [4294967296, 4294967296] is too large"), "{error}");
    // 2^20 indices into a table 2^22 wide: 16 TB of output, refused before allocating.
    let indices = Indices::from_vec(vec![0; 1 << 20], [1 << 20]);
    let table = blocks_core::Tensor::zeros([1, 1 << 22]);
    let error = blocks_core::Tensor::try_embedding(&indices, &table).unwrap_err().to_string();
    assert!(error.starts_with("embedding: the output would have 1048576 x 4194304"), "{error}");
    let error = calculate_fan_in_and_fan_out(&[2, 1 << 33, 1 << 33]).unwrap_err().to_string();
    assert!(error.contains("overflow"), "{error}");
}

#[test]
fn conv_layers_refuse_options_that_overflow() {
    use blocks_core::nn::DynConv2d;
    let refused = |options: Conv2dOptions| {
        std::panic::catch_unwind(|| DynConv2d::with_options(2, 2, [3, 3], options, true))
            .map(|_| ())
            .unwrap_err()
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    };
    let message = refused(Conv2dOptions { dilation: [1 << 63, 1], ..Default::default() });
    assert!(message.starts_with("Conv2d: dilation [9223372036854775808, 1]"), "{message}");
    let message = refused(Conv2dOptions { padding: [1 << 63, 0], ..Default::default() });
    assert!(message.starts_with("Conv2d: padding"), "{message}");
    let message = std::panic::catch_unwind(|| DynConv2d::new(1 << 20, 1 << 20, [1 << 10, 1 << 10]))
        .map(|_| ())
        .unwrap_err()
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.starts_with("Conv2d: the weight would have"), "{message}");
}

#[test]
fn pool_layers_refuse_options_the_functions_refuse_where_they_are_built() {
    use blocks_core::nn::{AvgPool2d, MaxPool2d};
    let message = |build: fn()| {
        let payload = std::panic::catch_unwind(build).unwrap_err();
        payload.downcast_ref::<String>().cloned().unwrap_or_default()
    };
    assert_eq!(
        message(|| {
            let _ = MaxPool2d::new(0);
        }),
        "MaxPool2d: kernel_size must be positive, got 0"
    );
    assert_eq!(
        message(|| {
            let _ = MaxPool2d::new(2).stride([1, 0]);
        }),
        "MaxPool2d: stride must be positive, got (1, 0)"
    );
    assert_eq!(
        message(|| {
            let _ = MaxPool2d::new(2).dilation(0);
        }),
        "MaxPool2d: dilation must be positive, got 0"
    );
    assert_eq!(
        message(|| {
            let _ = AvgPool2d::new(3).padding(2);
        }),
        "AvgPool2d: pad should be at most half of effective kernel size, but got pad=2 and kernel_size=3"
    );
    // Huge but valid options build, and the functions refuse or compute them.
    let pool = MaxPool2d::new(1 << 62).padding(1 << 61).stride(usize::MAX);
    assert!(pool.to_string().starts_with("MaxPool2d(kernel_size=4611686018427387904"));
}
