//! Matrix products side by side: faer (what blocks calls), ndarray's
//! `matrixmultiply` (what it called before) and the `gemm` crate (what
//! candle uses), f32 and f64, in the layouts blocks really multiplies, plus
//! blocks' own `matmul` on 1 and 2 threads and where a 2-way split starts to
//! pay. Every median is printed as GFLOP/s and as a fraction of the
//! machine's peak FMA throughput, measured in the same run.
//!
//! ```text
//! cargo bench --bench gemm
//! cargo bench --bench gemm -- square     # one group
//! BLOCKS_BENCH_CLOCK=thread-cpu cargo bench --bench gemm   # kernels by CPU time
//! ```
//!
//! With `BLOCKS_BENCH_CLOCK=thread-cpu` the single-threaded kernel groups
//! time the benchmark thread's CPU time (for a machine shared with other
//! work); the groups that compare thread counts always use the wall clock.

mod common;

use std::time::Duration;

use blocks::{Tensor, set_num_threads};
use common::scaling;
use common::timing::Clock;
use common::{Peak, bench, median};
use criterion::Criterion;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, LinalgScalar, ShapeBuilder};

/// A product as blocks runs it: `c[m×n] = a · b` with `a` and `b` in given layouts.
struct Case {
    name: &'static str,
    /// (m, k, n)
    dims: (usize, usize, usize),
    /// `a` is stored column-major (a transposed row-major matrix, like `Gᵀ`).
    a_transposed: bool,
    /// `b` is stored column-major (like `Wᵀ` of an `[out, in]` weight).
    b_transposed: bool,
}

const CASES: [Case; 11] = [
    Case { name: "square_512_nn", dims: (512, 512, 512), a_transposed: false, b_transposed: false },
    Case { name: "square_512_nt", dims: (512, 512, 512), a_transposed: false, b_transposed: true },
    Case { name: "square_512_tn", dims: (512, 512, 512), a_transposed: true, b_transposed: false },
    // The 784-512 layer at batch 128: forward x·Wᵀ, backward dX = G·W, dW = Gᵀ·X.
    Case { name: "mlp_forward_x_wt", dims: (128, 784, 512), a_transposed: false, b_transposed: true },
    Case { name: "mlp_backward_g_w", dims: (128, 512, 784), a_transposed: false, b_transposed: false },
    Case { name: "mlp_backward_gt_x", dims: (512, 128, 784), a_transposed: true, b_transposed: false },
    // The digits CNN's second convolution at batch 64 (8x8 images, pooled to 4x4):
    // forward W·cols, dcols = Wᵀ·G, dW = G·colsᵀ.
    Case { name: "conv_forward_w_cols", dims: (16, 72, 1024), a_transposed: false, b_transposed: false },
    Case { name: "conv_backward_wt_g", dims: (72, 16, 1024), a_transposed: true, b_transposed: false },
    Case { name: "conv_backward_g_colst", dims: (16, 1024, 72), a_transposed: false, b_transposed: true },
    // The seed net at batch 2: forward of Linear(20, 256), and its dW = Gᵀ·X.
    Case { name: "seed_batch2_x_wt", dims: (2, 20, 256), a_transposed: false, b_transposed: true },
    Case { name: "seed_batch2_gt_x", dims: (256, 2, 20), a_transposed: true, b_transposed: false },
];

fn matrix<T: LinalgScalar + From<f32>>(
    rows: usize,
    cols: usize,
    column_major: bool,
    seed: usize,
) -> Array2<T> {
    let values = (0..rows * cols).map(|i| T::from(((i * 7919 + seed) % 1000) as f32 / 500.0 - 1.0)).collect();
    let shape = if column_major { (rows, cols).f() } else { (rows, cols).into_shape_with_order() };
    Array2::from_shape_vec(shape, values).expect("rows × cols")
}

/// `a` as a faer matrix (row- or column-major, contiguous).
fn faer_ref<'a, T>(a: &'a Array2<T>) -> faer::MatRef<'a, T> {
    let (rows, cols) = a.dim();
    match a.as_slice() {
        Some(slice) => faer::MatRef::from_row_major_slice(slice, rows, cols),
        None => faer::MatRef::from_column_major_slice(a.t().to_slice().expect("contiguous"), rows, cols),
    }
}

/// `c = a · b` by faer on the calling thread, then `vzeroupper` as blocks
/// does (faer's kernels leave the vector registers' upper halves dirty,
/// which slows down the SSE code of the other kernels measured after it).
fn faer_kernel<T: faer::traits::ComplexField + LinalgScalar>(
    a: faer::MatRef<'_, T>,
    b: faer::MatRef<'_, T>,
    c: faer::MatMut<'_, T>,
) {
    faer::linalg::matmul::matmul(c, faer::Accum::Replace, a, b, T::one(), faer::Par::Seq);
    #[cfg(target_arch = "x86_64")]
    if let Some(avx) = pulp::core_arch::x86::Avx::try_new() {
        avx._mm256_zeroupper();
    }
}

/// `c = a · b` by the gemm crate, on `threads` threads of rayon's pool.
#[allow(unsafe_code)] // measurement only (see Cargo.toml)
fn gemm_crate<T: 'static + LinalgScalar>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    threads: usize,
) {
    let ((m, k), n) = (a.dim(), b.ncols());
    let parallelism = if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    let (a_s, b_s, c_s) = (a.strides().to_vec(), b.strides().to_vec(), c.strides().to_vec());
    // SAFETY: the pointers and strides describe the three live views
    // (m×k, k×n, m×n), `c` is borrowed mutably and does not overlap `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_s[1],
            c_s[0],
            false,
            a.as_ptr(),
            a_s[1],
            a_s[0],
            b.as_ptr(),
            b_s[1],
            b_s[0],
            T::zero(),
            T::one(),
            false,
            false,
            false,
            parallelism,
        )
    }
}

const SAMPLES: usize = 20;

fn report(peak: Option<&Peak>, group: &str, id: &str, flops: f64, threads: usize, time: Option<Duration>) {
    let Some(time) = time else { return };
    let gflops = flops / time.as_secs_f64() / 1e9;
    let fraction =
        peak.map(|p| format!(", {:.0}% of the {threads}-thread peak", 100.0 * gflops / p.of(threads)));
    println!("{group}/{id}: {time:.2?}, {gflops:.1} GFLOP/s{}", fraction.unwrap_or_default());
}

fn kernels<T: 'static + LinalgScalar + From<f32> + faer::traits::ComplexField>(
    c: &mut Criterion,
    peak: Option<&Peak>,
    dtype: &str,
    clock: Clock,
) {
    for case in &CASES {
        let (m, k, n) = case.dims;
        let flops = 2.0 * (m * k * n) as f64;
        let a = matrix::<T>(m, k, case.a_transposed, 1);
        let b = matrix::<T>(k, n, case.b_transposed, 2);
        let mut out = Array2::<T>::zeros((m, n));
        let name = format!("{}_{dtype}", case.name);
        let mut group = c.benchmark_group(&name);
        group
            .sample_size(SAMPLES)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        let mm = bench(&mut group, "matrixmultiply", clock, || {
            general_mat_mul(T::one(), &a, &b, T::zero(), &mut out)
        });
        let gc = bench(&mut group, "gemm_crate", clock, || {
            gemm_crate(&a.view(), &b.view(), &mut out.view_mut(), 1)
        });
        let fa = bench(&mut group, "faer", clock, || {
            let c = faer::MatMut::from_row_major_slice_mut(out.as_slice_mut().expect("row-major"), m, n);
            faer_kernel(faer_ref(&a), faer_ref(&b), c)
        });
        group.finish();
        report(peak, &name, "matrixmultiply", flops, 1, median(&mm, SAMPLES));
        report(peak, &name, "gemm_crate", flops, 1, median(&gc, SAMPLES));
        report(peak, &name, "faer", flops, 1, median(&fa, SAMPLES));
        println!();
    }
}

/// GEMM 512³ through `Tensor::matmul` on 1 and 2 threads, next to the gemm
/// crate on 2 threads.
fn threads(c: &mut Criterion, peak: Option<&Peak>) {
    let flops = 2.0 * 512f64.powi(3);
    let a = Tensor::from_array(matrix::<f32>(512, 512, false, 1).into_dyn());
    let b = Tensor::from_array(matrix::<f32>(512, 512, false, 2).into_dyn());
    let (a2, b2) = (matrix::<f32>(512, 512, false, 1), matrix::<f32>(512, 512, false, 2));
    let mut out = Array2::<f32>::zeros((512, 512));
    let mut group = c.benchmark_group("square_512_threads");
    group
        .sample_size(SAMPLES)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    set_num_threads(1);
    let one = bench(&mut group, "blocks_1_thread", Clock::Wall, || a.matmul(&b));
    set_num_threads(2);
    let two = bench(&mut group, "blocks_2_threads", Clock::Wall, || a.matmul(&b));
    let gc = bench(&mut group, "gemm_crate_2_threads", Clock::Wall, || {
        gemm_crate(&a2.view(), &b2.view(), &mut out.view_mut(), 2)
    });
    group.finish();
    let (one, two) = (median(&one, SAMPLES), median(&two, SAMPLES));
    report(peak, "square_512_threads", "blocks_1_thread", flops, 1, one);
    report(peak, "square_512_threads", "blocks_2_threads", flops, 2, two);
    report(peak, "square_512_threads", "gemm_crate_2_threads", flops, 2, median(&gc, SAMPLES));
    if let (Some(one), Some(two)) = (one, two) {
        println!(
            "square_512_threads: 2 threads are {:.2}x the speed of 1 (criterion medians, measured seconds apart)",
            one.as_secs_f64() / two.as_secs_f64()
        );
    }
    let paired = scaling::two_threads_against_one(|| a.matmul(&b), 10);
    println!("square_512_threads: 2 threads against 1, paired rounds: {}\n", paired.show());
}

/// Where threading starts to pay: faer's product on 1 thread against the
/// same product split in two halves of rows, the calling thread multiplying
/// the top half while one helper thread multiplies the bottom (what blocks'
/// `gemm` does from `PARALLEL_MIN` multiply-adds on), from the seed net's
/// batch-256 shapes up to 256³.
fn threshold(c: &mut Criterion) {
    let shapes = [
        (256, 20, 256),
        (256, 256, 20),
        (128, 128, 128),
        (160, 160, 160),
        (256, 64, 256),
        (192, 192, 192),
        (256, 256, 256),
    ];
    for (m, k, n) in shapes {
        let name = format!("threshold_{m}x{k}x{n}");
        let a = matrix::<f32>(m, k, false, 1);
        let b = matrix::<f32>(k, n, false, 2);
        let mut out = Array2::<f32>::zeros((m, n));
        let mut group = c.benchmark_group(&name);
        group
            .sample_size(SAMPLES)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        let one = bench(&mut group, "1_thread", Clock::Wall, || {
            let c = faer::MatMut::from_row_major_slice_mut(out.as_slice_mut().expect("row-major"), m, n);
            faer_kernel(faer_ref(&a), faer_ref(&b), c)
        });
        let helper = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a helper thread");
        let two = bench(&mut group, "2_threads_split_rows", Clock::Wall, || {
            let c = faer::MatMut::from_row_major_slice_mut(out.as_slice_mut().expect("row-major"), m, n);
            let (a_top, a_bottom) = faer_ref(&a).split_at_row(m / 2);
            let (c_top, c_bottom) = c.split_at_row_mut(m / 2);
            let b = faer_ref(&b);
            helper.in_place_scope(|scope| {
                scope.spawn(move |_| faer_kernel(a_bottom, b, c_bottom));
                faer_kernel(a_top, b, c_top);
            })
        });
        group.finish();
        if let (Some(one), Some(two)) = (median(&one, SAMPLES), median(&two, SAMPLES)) {
            println!(
                "{name} ({} multiply-adds): 1 thread {one:.2?}, 2 threads {two:.2?}: {:.2}x\n",
                m * k * n,
                one.as_secs_f64() / two.as_secs_f64()
            );
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let peak = Peak::measure(2);
    threads(&mut c, peak.as_ref());
    threshold(&mut c);
    set_num_threads(1);
    let clock = Clock::from_env();
    println!("kernel groups timed by the {}\n", clock.name());
    kernels::<f32>(&mut c, peak.as_ref(), "f32", clock);
    kernels::<f64>(&mut c, peak.as_ref(), "f64", clock);
    c.final_summary();
}
