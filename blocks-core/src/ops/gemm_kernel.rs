//! The packing kernel behind [`gemm`](super::gemm::gemm) for `f32` and
//! `f64`: faer's matrix product, through its safe API over ndarray's
//! contiguous views, large products cut into blocks on several threads.
//!
//! faer was measured against ndarray's `matrixmultiply` and the `gemm` crate
//! in `benches/gemm.rs` (see BENCHMARKS.md): it is the fastest of the three
//! in the layouts blocks multiplies. Every faer call is on one thread
//! (`Par::Seq`). A large product is cut into one block of the output per
//! thread along its longer side, the calling thread multiplying the first
//! block while helper threads multiply the others
//! ([`run_parts`](crate::threading::run_parts)). Measured on the
//! 784-512-512-10 step on 2 threads, this beat faer's own `Par::rayon` run
//! inside the pool, where the caller slept while two pool threads worked
//! and woke it again for every product (BENCHMARKS.md).

use faer::linalg::matmul::matmul;
use faer::traits::ComplexField;
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{ArrayView2, ArrayViewMut2};

use crate::Element;

/// `c = a · b + beta · c` by faer, on `threads` threads of blocks' pool, when
/// all three views are contiguous (row- or column-major); `false`, with
/// nothing written, when one is not. With `beta = 0`, `c` is never read.
///
/// ```text
/// assert!(faer_gemm(&x.view(), &w.t(), 0.0, &mut out.view_mut(), 1));
/// ```
pub(crate) fn faer_gemm<T: Element + ComplexField>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    beta: T,
    c: &mut ArrayViewMut2<'_, T>,
    threads: usize,
) -> bool {
    let (Some(a), Some(b)) = (mat_ref(a), mat_ref(b)) else {
        return false;
    };
    let row_major = c.is_standard_layout();
    if !row_major && !c.t().is_standard_layout() {
        return false;
    }
    let accum = if beta == T::zero() {
        Accum::Replace
    } else {
        if beta != T::one() {
            c.map_inplace(|v| *v *= beta);
        }
        Accum::Add
    };
    let (rows, cols) = c.dim();
    let c = if row_major {
        MatMut::from_row_major_slice_mut(c.as_slice_mut().expect("checked row-major"), rows, cols)
    } else {
        let slice = c.view_mut().reversed_axes().into_slice().expect("checked column-major");
        MatMut::from_column_major_slice_mut(slice, rows, cols)
    };
    if threads > 1 {
        threaded(a, b, accum, c, threads);
    } else {
        product(a, b, accum, c);
    }
    true
}

/// One faer product on the calling thread, then the vector registers' upper
/// halves cleared: faer's assembly kernels return without `vzeroupper`, and
/// until it runs every SSE instruction after them (all of blocks' own loops,
/// compiled for baseline x86-64) is slowed down: a slice loop took 74 µs
/// instead of 42 after one faer product, and the seed net's hand-written
/// batch-2 forward in the training-step bench 11 µs instead of 4.
fn product<T: Element + ComplexField>(a: MatRef<'_, T>, b: MatRef<'_, T>, accum: Accum, c: MatMut<'_, T>) {
    matmul(c, accum, a, b, T::one(), Par::Seq);
    clear_upper_halves();
}

/// `vzeroupper`, where the CPU has AVX (through pulp's safe intrinsics).
#[cfg(target_arch = "x86_64")]
fn clear_upper_halves() {
    if let Some(avx) = pulp::core_arch::x86::Avx::try_new() {
        avx._mm256_zeroupper();
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn clear_upper_halves() {}

/// `view` as a faer matrix, if it is row- or column-major and contiguous.
fn mat_ref<'a, T>(view: &ArrayView2<'a, T>) -> Option<MatRef<'a, T>> {
    let (rows, cols) = view.dim();
    if let Some(slice) = view.to_slice() {
        return Some(MatRef::from_row_major_slice(slice, rows, cols));
    }
    let slice = (*view).reversed_axes().to_slice()?;
    Some(MatRef::from_column_major_slice(slice, rows, cols))
}

/// One product on `threads` threads: `c` cut into `threads` blocks along
/// its longer side, each block a product on one thread, the first on the
/// calling thread.
fn threaded<T: Element + ComplexField>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accum: Accum,
    c: MatMut<'_, T>,
    threads: usize,
) {
    let (m, n) = (c.nrows(), c.ncols());
    let by_rows = m >= n;
    let size = if by_rows { m } else { n };
    let chunk = size.div_ceil(threads).max(1);
    let mut parts = Vec::with_capacity(threads.min(size));
    let (mut a, mut b, mut c) = (a, b, c);
    loop {
        let left = if by_rows { c.nrows() } else { c.ncols() };
        if left <= chunk {
            parts.push((a, b, c));
            break;
        }
        if by_rows {
            let (a_head, a_tail) = a.split_at_row(chunk);
            let (c_head, c_tail) = c.split_at_row_mut(chunk);
            parts.push((a_head, b, c_head));
            (a, c) = (a_tail, c_tail);
        } else {
            let (b_head, b_tail) = b.split_at_col(chunk);
            let (c_head, c_tail) = c.split_at_col_mut(chunk);
            parts.push((a, b_head, c_head));
            (b, c) = (b_tail, c_tail);
        }
    }
    crate::threading::run_parts(parts, |(a, b, c)| product(a, b, accum, c));
}
