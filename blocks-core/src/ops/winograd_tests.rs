//! Winograd's convolution against the definition's sums: odd sizes (partial
//! tiles at the right and bottom), padding 0 to 3, 1 to 3 images, channels
//! that are multiples of nothing, panels of tile rows and of images, on 1, 2
//! and 3 threads (bit for bit the same); the input's gradient; the float32
//! error on 512 channels; a float64 gradcheck through `conv2d`.

use super::*;
use crate::{Conv2dOptions, Tensor, Tensor64, gradcheck};

/// Deterministic values in [-1, 1).
fn values(len: usize, seed: usize) -> Vec<f64> {
    (0..len).map(|i| ((i * 7919 + seed * 104_729) % 2001) as f64 / 1000.0 - 1.0).collect()
}

/// The sizes of a 3×3 stride-1 convolution.
fn geometry(n: usize, c: usize, (h, w): (usize, usize), padding: [usize; 2]) -> Geometry {
    let (oh, ow) = (h + 2 * padding[0] - 2, w + 2 * padding[1] - 2);
    Geometry { n, c, h, w, kh: 3, kw: 3, stride: [1, 1], padding, dilation: [1, 1], oh, ow }
}

/// The convolution and the input's gradient (for the output's gradient
/// `dy`) by the definition's sums, in `f64`.
fn reference(g: &Geometry, k: usize, x: &[f64], w: &[f64], dy: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut y = vec![0.0; g.n * k * g.oh * g.ow];
    let mut dx = vec![0.0; x.len()];
    for img in 0..g.n {
        for o in 0..k {
            for oy in 0..g.oh {
                for ox in 0..g.ow {
                    let at = ((img * k + o) * g.oh + oy) * g.ow + ox;
                    for ch in 0..g.c {
                        for ki in 0..3 {
                            for kj in 0..3 {
                                let iy = (oy + ki).checked_sub(g.padding[0]).filter(|&i| i < g.h);
                                let ix = (ox + kj).checked_sub(g.padding[1]).filter(|&i| i < g.w);
                                let (Some(iy), Some(ix)) = (iy, ix) else { continue };
                                let xi = ((img * g.c + ch) * g.h + iy) * g.w + ix;
                                let wi = ((o * g.c + ch) * 3 + ki) * 3 + kj;
                                y[at] += x[xi] * w[wi];
                                dx[xi] += dy[at] * w[wi];
                            }
                        }
                    }
                }
            }
        }
    }
    (y, dx)
}

fn assert_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!((a - b).abs() <= 1e-11 * (1.0 + b.abs()), "{what} at {i}: {a} vs {b}");
    }
}

#[test]
fn forward_and_input_gradient_match_the_definition() {
    let cases = [
        // (geometry, out channels): odd sizes and partial tiles, each padding.
        (geometry(1, 17, (7, 9), [1, 1]), 19),
        (geometry(2, 16, (5, 5), [0, 0]), 21),
        (geometry(3, 18, (6, 11), [2, 2]), 16),
        (geometry(2, 16, (4, 3), [2, 0]), 17),
        (geometry(1, 20, (3, 3), [0, 1]), 16),
        (geometry(2, 16, (8, 5), [3, 3]), 16),
        // Panels of tile rows (many channels, a tall image) and of several images.
        (geometry(2, 300, (21, 6), [1, 1]), 17),
        (geometry(3, 16, (4, 4), [1, 1]), 300),
        (geometry(11, 16, (6, 6), [1, 1]), 16),
    ];
    for (g, k) in cases {
        let x = values(g.n * g.c * g.h * g.w, 1);
        let w = values(k * g.c * 9, 2);
        let dy = values(g.n * k * g.oh * g.ow, 3);
        let bias = values(k, 4);
        let (mut y, dx) = reference(&g, k, &x, &w, &dy);
        let kernels = Winograd::new(&w, k, g.c);
        let one = kernels.forward(&g, &x, None, 1);
        assert_close(&one, &y, &format!("y of {g:?}"));
        for threads in [2, 3] {
            assert_eq!(kernels.forward(&g, &x, None, threads), one, "{g:?} on {threads} threads");
        }
        for (value, plane) in y.chunks_exact_mut(g.oh * g.ow).enumerate() {
            plane.iter_mut().for_each(|v| *v += bias[value % k]);
        }
        assert_close(&kernels.forward(&g, &x, Some(&bias), 2), &y, &format!("y + bias of {g:?}"));
        if g.padding[0] <= 2 && g.padding[1] <= 2 {
            let kernels = Winograd::input_gradient(&w, k, g.c);
            let gg = Winograd::<f64>::input_gradient_geometry(&g, k);
            for threads in [1, 2, 3] {
                assert_close(&kernels.forward(&gg, &dy, None, threads), &dx, &format!("dx of {g:?}"));
            }
        }
    }
}

#[test]
fn panels_cover_every_tile_row_once() {
    let g = geometry(3, 512, (40, 40), [1, 1]);
    let tiling = Tiling::new(&g, 512);
    assert!(tiling.rows_per_panel < tiling.th, "{}", tiling.rows_per_panel);
    let panels = tiling.panels(0..g.n);
    let tiles: usize = panels.iter().map(|p| p.images.len() * p.rows.len() * tiling.tw).sum();
    assert_eq!(tiles, g.n * 20 * 20);
    let small = Tiling::new(&geometry(10, 16, (4, 4), [1, 1]), 16);
    assert!(small.images_per_panel > 1);
    assert_eq!(small.panels(0..10).iter().map(|p| p.images.len()).sum::<usize>(), 10);
}

/// The float32 error of F(2×2, 3×3) on 512 channels (a ResNet's last stage)
/// against the float64 definition, relative to the conformance tolerance
/// `1e-4 + 1e-4 |ref|`: well inside it.
#[test]
fn float32_error_at_512_channels() {
    let (g, k) = (geometry(1, 512, (6, 7), [1, 1]), 8);
    // Values of a trained layer's scale: inputs in [-1, 1), kernels ~ 1/sqrt(fan in).
    let x = values(g.n * g.c * g.h * g.w, 5);
    let scale = 1.0 / ((g.c * 9) as f64).sqrt();
    let w: Vec<f64> = values(k * g.c * 9, 6).iter().map(|v| v * scale * 3.0).collect();
    let (y, _) = reference(&g, k, &x, &w, &vec![0.0; g.n * k * g.oh * g.ow]);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
    let got = Winograd::new(&w32, k, g.c).forward(&g, &x32, None, 1);
    let worst = got
        .iter()
        .zip(&y)
        .map(|(&a, &b)| (f64::from(a) - b).abs() / (1e-4 + 1e-4 * b.abs()))
        .fold(0.0, f64::max);
    assert!(worst < 0.05, "float32 error at {worst} of the tolerance");
}

/// `conv2d` takes the Winograd path for these sizes (forward and input
/// gradient; a weight that needs no gradient keeps no columns); its
/// input's gradient by central differences in float64.
#[test]
fn conv2d_by_winograd_gradcheck_in_float64() {
    let g = geometry(1, 16, (15, 16), [1, 1]);
    assert!(applies(&g, 1, 16) && applies_to_input_gradient(&g, 1, 16));
    let x = Tensor64::from_vec(values(16 * 240, 7), [1, 16, 15, 16]).requires_grad_(true);
    let w = Tensor64::from_vec(values(16 * 16 * 9, 8), [16, 16, 3, 3]);
    let b = Tensor64::from_vec(values(16, 9), [16]);
    let options = Conv2dOptions { padding: [1, 1], ..Default::default() };
    let squared = |t: &[Tensor64]| {
        let y = t[0].conv2d(&w, Some(&b), options);
        (&y * &y).sum()
    };
    gradcheck(squared, &[x]).unwrap();
}

/// `conv2d` in float32 through Winograd agrees with the GEMM path's sizes
/// and values (the same layer with 15 channels takes the GEMM path).
#[test]
fn conv2d_dispatch_keeps_the_result() {
    let x: Vec<f32> = values(2 * 16 * 16 * 15, 10).iter().map(|&v| v as f32).collect();
    let w: Vec<f32> = values(16 * 16 * 9, 11).iter().map(|&v| v as f32).collect();
    let options = Conv2dOptions { padding: [1, 1], ..Default::default() };
    let y = Tensor::from_vec(x.clone(), [2, 16, 16, 15]).conv2d(
        &Tensor::from_vec(w.clone(), [16, 16, 3, 3]),
        None,
        options,
    );
    let g = geometry(2, 16, (16, 15), [1, 1]);
    assert!(applies(&g, 1, 16));
    let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let w64: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
    let (want, _) = reference(&g, 16, &x64, &w64, &vec![0.0; 2 * 16 * 240]);
    assert_eq!(y.shape(), vec![2, 16, 16, 15]);
    for (a, b) in y.to_vec().iter().zip(&want) {
        assert!((f64::from(*a) - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }
}
