//! The one matrix product every op runs through: `c = a · b + beta · c`,
//! choosing by size how to multiply.
//!
//! - **Small products without packing.** When one side is a few rows (batch 2
//!   of a linear layer), a packing GEMM spends more time copying the other
//!   operand into its panels than multiplying. Such products run as dot
//!   products over contiguous rows (`x · Wᵀ` with `W` row-major) or as
//!   row updates `c_i += a_ip · b_p` (`G · W`, `Gᵀ · X`).
//! - **Large products on several threads.** The output is cut into
//!   [`get_num_threads`](crate::get_num_threads) blocks of rows (or columns)
//!   that run on blocks' thread pool, each a single-threaded
//!   `matrixmultiply` product.
//! - **Everything else** is one `matrixmultiply` product on the calling thread.
//!
//! The thresholds were measured with `cargo bench --bench gemm` (see
//! BENCHMARKS.md).

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayD, ArrayView2, ArrayViewMut2, Axis};

use crate::autograd::pool;
use crate::{Element, get_num_threads};

/// Products whose smaller outer size (`m` for `x · Wᵀ`) or inner size is at
/// most this run without packing.
const UNPACKED_MAX: usize = 4;

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
    if m.min(k) <= UNPACKED_MAX && unpacked(a, b, beta, c) {
        return;
    }
    let threads = get_num_threads();
    if threads > 1 && m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN {
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

/// Storage for a `rows × cols` product that [`gemm`] will write with
/// `beta = 0`: recycled and not zeroed, since every element is overwritten.
pub(crate) fn output<E: Element>(rows: usize, cols: usize) -> Array2<E> {
    Array2::from_shape_vec((rows, cols), pool::scratch(rows * cols)).expect("rows × cols elements")
}

/// The product without packing, when the layouts allow it; `false` (and
/// nothing written) when they do not.
fn unpacked<E: Element>(
    a: &ArrayView2<'_, E>,
    b: &ArrayView2<'_, E>,
    beta: E,
    c: &mut ArrayViewMut2<'_, E>,
) -> bool {
    let bt = b.t();
    if a.nrows() <= UNPACKED_MAX && a.as_slice().is_some() && bt.as_slice().is_some() {
        // c_ij = a_i · (bᵀ)_j: dot products of contiguous rows.
        for (a_row, mut c_row) in a.rows().into_iter().zip(c.rows_mut()) {
            let a_row = a_row.to_slice().expect("a row of a row-major matrix");
            for (b_col, out) in bt.rows().into_iter().zip(c_row.iter_mut()) {
                let value = dot(a_row, b_col.to_slice().expect("a row of a row-major matrix"));
                *out = if beta == E::zero() { value } else { value + beta * *out };
            }
        }
        return true;
    }
    if b.as_slice().is_some() && c.as_slice().is_some() && a.nrows().min(a.ncols()) <= UNPACKED_MAX {
        // c_i = beta c_i + Σ_p a_ip b_p: row updates over contiguous rows of b.
        for (a_row, mut c_row) in a.rows().into_iter().zip(c.rows_mut()) {
            let c_row = c_row.as_slice_mut().expect("a row of a row-major matrix");
            scale(c_row, beta);
            for (&coef, b_row) in a_row.iter().zip(b.rows()) {
                axpy(coef, b_row.to_slice().expect("a row of a row-major matrix"), c_row);
            }
        }
        return true;
    }
    false
}

/// `a · b`, with eight partial sums so that the loop vectorizes.
fn dot<E: Element>(a: &[E], b: &[E]) -> E {
    let mut sums = [E::zero(); 8];
    let (a_body, b_body) = (a.chunks_exact(8), b.chunks_exact(8));
    let (a_tail, b_tail) = (a_body.remainder(), b_body.remainder());
    for (x, y) in a_body.zip(b_body) {
        for lane in 0..8 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    let mut total = ((sums[0] + sums[4]) + (sums[1] + sums[5])) + ((sums[2] + sums[6]) + (sums[3] + sums[7]));
    for (&x, &y) in a_tail.iter().zip(b_tail) {
        total += x * y;
    }
    total
}

/// `y += alpha · x`.
fn axpy<E: Element>(alpha: E, x: &[E], y: &mut [E]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// `y = beta · y`, writing zeros (never reading `y`) when `beta = 0`.
fn scale<E: Element>(y: &mut [E], beta: E) {
    if beta == E::zero() {
        y.fill(E::zero());
    } else if beta != E::one() {
        y.iter_mut().for_each(|v| *v *= beta);
    }
}

/// The product cut into `threads` blocks of rows of `c` (or of columns, when
/// `c` is wider than tall), run on blocks' pool.
fn threaded<E: Element>(
    a: &ArrayView2<'_, E>,
    b: &ArrayView2<'_, E>,
    beta: E,
    c: &mut ArrayViewMut2<'_, E>,
    threads: usize,
) {
    let Some(pool) = crate::threading::pool(threads) else {
        general_mat_mul(E::one(), a, b, beta, c);
        return;
    };
    let (m, n) = c.dim();
    let by_rows = m >= n;
    let size = if by_rows { m } else { n };
    let chunk = size.div_ceil(threads);
    pool.install(|| {
        rayon::scope(|scope| {
            if by_rows {
                let parts = a.axis_chunks_iter(Axis(0), chunk).zip(c.axis_chunks_iter_mut(Axis(0), chunk));
                for (a_part, mut c_part) in parts {
                    scope.spawn(move |_| general_mat_mul(E::one(), &a_part, b, beta, &mut c_part));
                }
            } else {
                let parts = b.axis_chunks_iter(Axis(1), chunk).zip(c.axis_chunks_iter_mut(Axis(1), chunk));
                for (b_part, mut c_part) in parts {
                    scope.spawn(move |_| general_mat_mul(E::one(), a, &b_part, beta, &mut c_part));
                }
            }
        })
    });
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, ShapeBuilder};

    use super::*;

    /// Deterministic values in [-1, 1).
    fn matrix(rows: usize, cols: usize, seed: usize, column_major: bool) -> Array2<f64> {
        let values = (0..rows * cols).map(|i| ((i * 7919 + seed * 104_729) % 2001) as f64 / 1000.0 - 1.0);
        let shape = if column_major { (rows, cols).f() } else { (rows, cols).into_shape_with_order() };
        Array2::from_shape_vec(shape, values.collect()).expect("rows × cols")
    }

    /// The product by matrixmultiply on one thread, in one piece.
    fn reference(a: &Array2<f64>, b: &Array2<f64>, beta: f64, c: &Array2<f64>) -> Array2<f64> {
        let mut out = c.clone();
        general_mat_mul(1.0, a, b, beta, &mut out);
        out
    }

    /// Every path (unpacked dot, unpacked rows, threaded by rows and by
    /// columns) against one single-threaded matrixmultiply product, in every
    /// layout, with `beta = 0` over NaN and `beta = 1` and `0.5` over values.
    #[test]
    fn every_path_matches_the_triple_loop() {
        let shapes = [
            (2, 20, 256),
            (256, 2, 20),
            (2, 256, 10),
            (3, 5, 1),
            (1, 7, 4),
            (9, 3, 11),
            (300, 90, 100),
            (90, 300, 100),
            (0, 3, 2),
            (2, 0, 3),
        ];
        let before = get_num_threads();
        for threads in [1, 2, 3] {
            crate::set_num_threads(threads);
            for &(m, k, n) in &shapes {
                for (a_cm, b_cm) in [(false, false), (false, true), (true, false), (true, true)] {
                    let (a, b) = (matrix(m, k, 1, a_cm), matrix(k, n, 2, b_cm));
                    for beta in [0.0, 1.0, 0.5] {
                        let start = matrix(m, n, 3, false);
                        let expected = reference(&a, &b, beta, &start);
                        let mut c = if beta == 0.0 { Array2::from_elem((m, n), f64::NAN) } else { start };
                        gemm(&a.view(), &b.view(), beta, &mut c.view_mut());
                        for (got, want) in c.iter().zip(&expected) {
                            assert!(
                                (got - want).abs() <= 1e-12 * k as f64,
                                "{m}x{k}x{n} {a_cm} {b_cm} {beta}: {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
        crate::set_num_threads(before);
    }

    /// Many threads multiplying large matrices at once while others change
    /// the thread count: every product is still right, and all finish (a
    /// watchdog fails the test instead of hanging).
    #[test]
    fn concurrent_products_while_the_thread_count_changes() {
        let (a, b) = (matrix(160, 130, 4, false), matrix(130, 150, 5, true));
        let expected = reference(&a, &b, 0.0, &Array2::zeros((160, 150)));
        let before = get_num_threads();
        let (done, finished) = std::sync::mpsc::channel();
        for worker in 0..8 {
            let (a, b, expected, done) = (a.clone(), b.clone(), expected.clone(), done.clone());
            std::thread::spawn(move || {
                for round in 0..3 {
                    if worker % 4 == 0 {
                        crate::set_num_threads(1 + (worker + round) % 3);
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
