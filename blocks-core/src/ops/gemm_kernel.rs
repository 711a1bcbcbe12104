//! The packing kernel behind [`gemm`](super::gemm::gemm) for `f32` and
//! `f64`: faer's matrix product, through its safe API over ndarray's
//! contiguous views, with large products cut into blocks on blocks' pool.
//!
//! faer was measured against ndarray's `matrixmultiply` and the `gemm` crate
//! in `benches/gemm.rs` (see BENCHMARKS.md): it is the fastest of the three
//! in the layouts blocks multiplies. A product on one thread passes
//! `Par::Seq`, so `set_num_threads(1)` keeps it on the calling thread; a
//! large one runs faer's `Par::rayon` inside blocks' own pool, never rayon's
//! global one.

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

/// One faer product on `threads` threads of blocks' pool: faer's own
/// parallel product (`Par::rayon`), run inside the pool so that it uses
/// blocks' threads and no others. faer splits the packed panels between the
/// threads, so the operand both halves share is packed once; cutting `c`
/// into blocks of rows, each its own product, packed it once per block and
/// reached 1.70x on 2 threads at 512^3 where this reaches the ratios in
/// BENCHMARKS.md.
fn threaded<T: Element + ComplexField>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accum: Accum,
    c: MatMut<'_, T>,
    threads: usize,
) {
    let Some(pool) = crate::threading::pool(threads) else {
        product(a, b, accum, c);
        return;
    };
    pool.install(|| {
        matmul(c, accum, a, b, T::one(), Par::rayon(threads));
        clear_upper_halves();
    });
}
