//! The one matrix product every op runs through: `c = a · b + beta · c`,
//! choosing by size how to multiply.
//!
//! - **faer's kernel** (`gemm_kernel.rs`) when the three views are
//!   contiguous (row- or column-major), as every op's are. It also
//!   multiplies the small products (batch 2 of a linear layer) 1.5 to 6
//!   times faster than the dot-product and row-update loops blocks had for
//!   them (which were compiled for baseline x86-64), so there is no separate
//!   small-product path.
//! - **Large products on several threads**: the output cut into one block per
//!   thread of [`get_num_threads`](crate::get_num_threads), the calling
//!   thread taking the first. Two independent large products (the two
//!   gradient products of a linear layer, [`product_pair`]) instead run side
//!   by side, each whole on its share of the threads.
//! - **Other layouts** (strided views) through ndarray's `matrixmultiply`,
//!   the output cut into blocks of rows (or columns) the same way.
//!
//! The thresholds were measured with `cargo bench --bench gemm` and
//! `--bench training_step` (see BENCHMARKS.md).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayD, ArrayView2, ArrayViewMut2, Axis};

use crate::autograd::pool;
use crate::threading::run_parts;
use crate::{Element, get_num_threads};

/// Products with fewer multiply-adds (`m·n·k`) than this stay on one thread:
/// below it, handing work to the pool costs more than it saves. Measured on
/// the seed net's batch-256 step (products of 0.7 and 1.3 M multiply-adds):
/// with the threshold at 2²⁰ its 2-thread step ran at 0.64× the 1-thread
/// speed (the pool's threads wake for each small product), at 2²¹ it keeps
/// its speed; a lone 256×20×256 product in a loop gains 1.3×.
const PARALLEL_MIN: usize = 1 << 21;

/// `c = a · b + beta · c`. With `beta = 0`, `c` is only written, never read
/// (it may hold stale values, even NaN).
///
/// ```text
/// gemm(&x.view(), &w.t(), 0.0, &mut out.view_mut());
/// ```
///
/// # Panics
///
/// If the shapes do not chain (`a` is `m × k`, `b` is `k × n`, `c` is `m × n`).
pub(crate) fn gemm<E: Element>(
    a: &ArrayView2<'_, E>,
    b: &ArrayView2<'_, E>,
    beta: E,
    c: &mut ArrayViewMut2<'_, E>,
) {
    gemm_sized(a, b, beta, c, get_num_threads());
}

/// [`gemm`] on at most `threads` threads (one if the product is small), for
/// work that already has its share of the threads (one half of a
/// [`join`](crate::threading::join)).
///
/// ```text
/// gemm_sized(&w.t(), &dy.view(), 0.0, &mut dcols.view_mut(), own_threads);
/// ```
///
/// # Panics
///
/// If the shapes do not chain, as [`gemm`].
pub(crate) fn gemm_sized<E: Element>(
    a: &ArrayView2<'_, E>,
    b: &ArrayView2<'_, E>,
    beta: E,
    c: &mut ArrayViewMut2<'_, E>,
    threads: usize,
) {
    let ((m, k), (k_b, n)) = (a.dim(), b.dim());
    assert!(
        k == k_b && c.dim() == (m, n),
        "gemm: cannot multiply {:?} by {:?} into {:?}",
        a.shape(),
        b.shape(),
        c.shape()
    );
    if m == 0 || n == 0 {
        return;
    }
    let threads = if is_large(m, k, n) { threads } else { 1 };
    gemm_on(a, b, beta, c, threads);
}

/// `c = bias + a · b`, the 1-D `bias` added to every row of `c`, when the
/// product's kernel adds it in its own output pass (see `gemm_kernel.rs`);
/// `false`, with nothing written, otherwise (the caller fills `c` with the
/// bias and multiplies with `beta = 1`, which gives the same values).
///
/// ```text
/// if !gemm_bias(&x, &w.t(), &bias, &mut out.view_mut()) { /* fill, then gemm with beta = 1 */ }
/// ```
///
/// # Panics
///
/// If the shapes do not chain, as [`gemm`].
pub(crate) fn gemm_bias<E: Element>(
    a: &ArrayView2<'_, E>,
    b: &ArrayView2<'_, E>,
    bias: &ArrayD<E>,
    c: &mut ArrayViewMut2<'_, E>,
) -> bool {
    let ((m, k), (k_b, n)) = (a.dim(), b.dim());
    assert!(
        k == k_b && c.dim() == (m, n),
        "gemm: cannot multiply {:?} by {:?} into {:?}",
        a.shape(),
        b.shape(),
        c.shape()
    );
    let Some(bias) = bias.as_slice() else { return false };
    let threads = if is_large(m, k, n) { get_num_threads() } else { 1 };
    m > 0 && n > 0 && E::fast_gemm_bias(a, b, bias, c, threads)
}

/// Whether an `m × k` by `k × n` product is large enough to gain from threads.
pub(crate) fn is_large(m: usize, k: usize, n: usize) -> bool {
    m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN
}

/// [`gemm`] on at most `threads` threads, whatever its size.
fn gemm_on<E: Element>(
    a: &ArrayView2<'_, E>,
    b: &ArrayView2<'_, E>,
    beta: E,
    c: &mut ArrayViewMut2<'_, E>,
    threads: usize,
) {
    if E::fast_gemm(a, b, beta, c, threads) {
        return;
    }
    if threads > 1 {
        threaded(a, b, beta, c, threads);
        return;
    }
    general_mat_mul(E::one(), a, b, beta, c);
}

/// `a · b` into new storage (recycled, so not zeroed first: `beta = 0`).
pub(crate) fn product<E: Element>(a: ArrayView2<'_, E>, b: ArrayView2<'_, E>) -> ArrayD<E> {
    let mut out = output(a.nrows(), b.ncols());
    gemm(&a, &b, E::zero(), &mut out.view_mut());
    out.into_dyn()
}

/// Two independent products into new storage, as [`product`] makes each:
/// at the same time, each on its share of the threads, when both are large
/// (the two gradient products of a linear layer), since two whole products
/// side by side lose nothing to splitting; otherwise one after the other.
/// A `None` operand pair gives `None`.
///
/// ```text
/// let (dx, dw) = product_pair(Some((g, w)), Some((g.t(), x)));
/// ```
///
/// # Panics
///
/// If a pair's inner sizes differ.
pub(crate) fn product_pair<E: Element>(
    first: Option<(ArrayView2<'_, E>, ArrayView2<'_, E>)>,
    second: Option<(ArrayView2<'_, E>, ArrayView2<'_, E>)>,
) -> (Option<ArrayD<E>>, Option<ArrayD<E>>) {
    let large = |pair: &Option<(ArrayView2<'_, E>, ArrayView2<'_, E>)>| {
        pair.as_ref().is_some_and(|(a, b)| is_large(a.nrows(), a.ncols(), b.ncols()))
    };
    let threads = get_num_threads();
    if threads < 2 || !large(&first) || !large(&second) {
        return (first.map(|(a, b)| product(a, b)), second.map(|(a, b)| product(a, b)));
    }
    let (first, second) = (deferred(first.expect("large")), deferred(second.expect("large")));
    let (first, second) = crate::threading::join(threads, first, second);
    (Some(first), Some(second))
}

/// `a · b` to be run later on a given number of threads, its storage taken
/// now from the calling thread's cache (where it will be recycled).
fn deferred<'a, E: Element>(
    (a, b): (ArrayView2<'a, E>, ArrayView2<'a, E>),
) -> impl FnOnce(usize) -> ArrayD<E> + Send + 'a {
    let mut out = output(a.nrows(), b.ncols());
    move |threads| {
        gemm_on(&a, &b, E::zero(), &mut out.view_mut(), threads);
        out.into_dyn()
    }
}

/// Storage for a `rows × cols` product that [`gemm`] will write with
/// `beta = 0`: recycled and not zeroed, since every element is overwritten.
pub(crate) fn output<E: Element>(rows: usize, cols: usize) -> Array2<E> {
    Array2::from_shape_vec((rows, cols), pool::scratch(rows * cols)).expect("rows × cols elements")
}

/// The product cut into `threads` blocks of rows of `c` (or of columns, when
/// `c` is wider than tall), the first on the calling thread, the others on
/// helper threads.
fn threaded<E: Element>(
    a: &ArrayView2<'_, E>,
    b: &ArrayView2<'_, E>,
    beta: E,
    c: &mut ArrayViewMut2<'_, E>,
    threads: usize,
) {
    let (m, n) = c.dim();
    let by_rows = m >= n;
    let chunk = (if by_rows { m } else { n }).div_ceil(threads).max(1);
    if by_rows {
        let parts: Vec<_> =
            a.axis_chunks_iter(Axis(0), chunk).zip(c.axis_chunks_iter_mut(Axis(0), chunk)).collect();
        run_parts(parts, |(a_part, mut c_part)| general_mat_mul(E::one(), &a_part, b, beta, &mut c_part));
    } else {
        let parts: Vec<_> =
            b.axis_chunks_iter(Axis(1), chunk).zip(c.axis_chunks_iter_mut(Axis(1), chunk)).collect();
        run_parts(parts, |(b_part, mut c_part)| general_mat_mul(E::one(), a, &b_part, beta, &mut c_part));
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ShapeBuilder, Slice};

    use super::*;

    /// How a test matrix is stored.
    #[derive(Clone, Copy, Debug)]
    enum Layout {
        RowMajor,
        ColumnMajor,
        /// Every other row of a row-major matrix twice as tall (neither
        /// layout: the `matrixmultiply` fallback).
        Strided,
    }

    /// Deterministic values in [-1, 1).
    fn values(rows: usize, cols: usize, seed: usize) -> Vec<f64> {
        (0..rows * cols).map(|i| ((i * 7919 + seed * 104_729) % 2001) as f64 / 1000.0 - 1.0).collect()
    }

    /// [`values`] as a row-major matrix.
    fn exact(rows: usize, cols: usize, seed: usize) -> Array2<f64> {
        Array2::from_shape_vec((rows, cols), values(rows, cols, seed)).expect("rows × cols")
    }

    fn matrix(rows: usize, cols: usize, seed: usize, column_major: bool) -> Array2<f64> {
        let shape = if column_major { (rows, cols).f() } else { (rows, cols).into_shape_with_order() };
        Array2::from_shape_vec(shape, values(rows, cols, seed)).expect("rows × cols")
    }

    /// `exact` as a matrix of `E` in `layout`, stored in `backing`.
    fn stored<'a, E: Element>(
        exact: &Array2<f64>,
        layout: Layout,
        backing: &'a mut Array2<E>,
    ) -> ArrayViewMut2<'a, E> {
        let (rows, cols) = exact.dim();
        *backing = match layout {
            Layout::RowMajor => exact.mapv(E::of),
            Layout::ColumnMajor => {
                let mut m = Array2::from_elem((rows, cols).f(), E::zero());
                m.zip_mut_with(exact, |x, &v| *x = E::of(v));
                m
            }
            Layout::Strided => {
                let mut m = Array2::from_elem((2 * rows, cols), E::nan());
                m.slice_axis_mut(Axis(0), Slice::new(0, None, 2)).zip_mut_with(exact, |x, &v| *x = E::of(v));
                m
            }
        };
        match layout {
            Layout::Strided => backing.slice_axis_mut(Axis(0), Slice::new(0, None, 2)),
            _ => backing.view_mut(),
        }
    }

    /// `a · b + beta · c` by the triple loop, in `f64`, all row-major.
    fn triple_loop(a: &Array2<f64>, b: &Array2<f64>, beta: f64, c: &Array2<f64>) -> Array2<f64> {
        let ((m, k), n) = (a.dim(), b.ncols());
        let (a, b) = (a.as_slice().expect("row-major"), b.as_slice().expect("row-major"));
        let mut out = if beta == 0.0 { Array2::zeros((m, n)) } else { c.mapv(|v| beta * v) };
        let rows = out.as_slice_mut().expect("row-major").chunks_mut(n.max(1));
        for (i, out_row) in rows.enumerate().take(m) {
            for p in 0..k {
                let coef = a[i * k + p];
                for (o, &x) in out_row.iter_mut().zip(&b[p * n..(p + 1) * n]) {
                    *o += coef * x;
                }
            }
        }
        out
    }

    /// Every path (faer on one thread and split by rows and by columns, the
    /// matrixmultiply fallback, likewise) against the
    /// triple loop, with every operand and the output in every layout, with
    /// `beta = 0` over NaN and `beta = 1` and `0.5` over values; `tolerance`
    /// is per unit of the inner size.
    fn every_path_matches_the_triple_loop<E: Element>(tolerance: f64) {
        let shapes = [
            (2, 20, 256),
            (256, 2, 20),
            (2, 256, 10),
            (3, 5, 1),
            (1, 7, 4),
            (9, 3, 11),
            (300, 90, 100),
            (90, 300, 100),
            // Few rows, a long weight: the column-major path of `gemm_kernel`.
            (20, 300, 900),
            (0, 3, 2),
            (2, 0, 3),
        ];
        let layouts = [Layout::RowMajor, Layout::ColumnMajor, Layout::Strided];
        let before = get_num_threads();
        for &(m, k, n) in &shapes {
            let (a_exact, b_exact, c_exact) = (exact(m, k, 1), exact(k, n, 2), exact(m, n, 3));
            let expected =
                [0.0, 1.0, 0.5].map(|beta| (beta, triple_loop(&a_exact, &b_exact, beta, &c_exact)));
            // The thread count matters only from PARALLEL_MIN multiply-adds on.
            let thread_counts: &[usize] = if m * n * k >= PARALLEL_MIN { &[1, 2, 3] } else { &[1] };
            for &threads in thread_counts {
                crate::set_num_threads_oversubscribed(threads);
                for (a_layout, b_layout, c_layout) in layouts
                    .iter()
                    .flat_map(|&a| layouts.iter().flat_map(move |&b| layouts.map(|c| (a, b, c))))
                {
                    let (mut a_store, mut b_store) = (Array2::zeros((0, 0)), Array2::zeros((0, 0)));
                    let a = stored::<E>(&a_exact, a_layout, &mut a_store);
                    let b = stored::<E>(&b_exact, b_layout, &mut b_store);
                    for (beta, expected) in &expected {
                        let beta = *beta;
                        let mut c_store = Array2::zeros((0, 0));
                        let mut c = stored::<E>(&c_exact, c_layout, &mut c_store);
                        if beta == 0.0 {
                            c.fill(E::nan());
                        }
                        gemm(&a.view(), &b.view(), E::of(beta), &mut c);
                        let case =
                            format!("{m}x{k}x{n}, {threads} threads, {a_layout:?} {b_layout:?} {c_layout:?}");
                        for (got, want) in c.iter().zip(expected) {
                            assert!(
                                (got.as_f64() - want).abs() <= tolerance * k.max(1) as f64,
                                "{case}, beta {beta}: {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
        crate::set_num_threads(before);
    }

    #[test]
    fn every_path_matches_the_triple_loop_f64() {
        every_path_matches_the_triple_loop::<f64>(1e-14);
    }

    #[test]
    fn every_path_matches_the_triple_loop_f32() {
        every_path_matches_the_triple_loop::<f32>(1e-6);
    }

    /// `gemm_bias` gives the bits of "fill the bias, multiply with
    /// `beta = 1`" on 1, 2 and 3 threads, on the column-major path (20 rows,
    /// a 300 × 900 weight) and declines elsewhere (2 rows), writing nothing.
    #[test]
    fn the_folded_bias_gives_the_bits_of_fill_then_add() {
        let before = get_num_threads();
        for (m, k, n, folded) in [(20, 300, 900, true), (2, 300, 900, false)] {
            let x = exact(m, k, 1).mapv(|v| v as f32);
            let w = exact(n, k, 2).mapv(|v| v as f32);
            let bias = ArrayD::from_shape_vec(ndarray::IxDyn(&[n]), values(1, n, 3))
                .expect("n values")
                .mapv(|v| v as f32);
            let mut want = Array2::from_shape_fn((m, n), |(_, j)| bias[j]);
            gemm(&x.view(), &w.t(), 1.0, &mut want.view_mut());
            for threads in [1, 2, 3] {
                crate::set_num_threads_oversubscribed(threads);
                let mut got = Array2::from_elem((m, n), f32::NAN);
                assert_eq!(gemm_bias(&x.view(), &w.t(), &bias, &mut got.view_mut()), folded);
                if folded {
                    assert!(
                        got.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{threads} threads"
                    );
                } else {
                    assert!(got.iter().all(|v| v.is_nan()), "nothing written");
                }
            }
        }
        crate::set_num_threads(before);
    }

    /// The reference of the thread test: one matrixmultiply product.
    fn reference(a: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
        let mut out = Array2::zeros((a.nrows(), b.ncols()));
        general_mat_mul(1.0, a, b, 0.0, &mut out);
        out
    }

    /// Many threads multiplying large matrices at once while others change
    /// the thread count: every product is still right, and all finish (a
    /// watchdog fails the test instead of hanging).
    #[test]
    fn concurrent_products_while_the_thread_count_changes() {
        let (a, b) = (matrix(160, 130, 4, false), matrix(130, 150, 5, true));
        let expected = reference(&a, &b);
        let before = get_num_threads();
        let (done, finished) = std::sync::mpsc::channel();
        for worker in 0..8 {
            let (a, b, expected, done) = (a.clone(), b.clone(), expected.clone(), done.clone());
            std::thread::spawn(move || {
                for round in 0..3 {
                    if worker % 4 == 0 {
                        crate::set_num_threads_oversubscribed(1 + (worker + round) % 3);
                    }
                    let mut c = Array2::from_elem((160, 150), f64::NAN);
                    gemm(&a.view(), &b.view(), 0.0, &mut c.view_mut());
                    let worst = c.iter().zip(&expected).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
                    assert!(worst <= 1e-10, "worker {worker} round {round}: off by {worst}");
                }
                done.send(()).expect("the test is waiting");
            });
        }
        drop(done);
        for _ in 0..8 {
            finished
                .recv_timeout(std::time::Duration::from_secs(120))
                .expect("every worker finishes (a panic or a hang ends up here)");
        }
        crate::set_num_threads(before);
    }
}
