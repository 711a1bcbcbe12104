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
//!
//! A product `x · Wᵀ` with few rows and a long weight (both operands
//! contiguous along the inner size, a row-major output: a linear layer's
//! forward at batch 16 to 128) is multiplied column-major into scratch
//! storage and transposed into the output ([`by_columns`]), so that faer
//! packs the batch rather than the weight.

use faer::linalg::matmul::matmul;
use faer::traits::ComplexField;
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{ArrayView2, ArrayViewMut2, Axis};

use crate::Element;
use crate::autograd::pool;

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
    if row_major && a.col_stride() == 1 && b.row_stride() == 1 && through_columns(rows, a.ncols(), cols) {
        by_columns(a, b, accum, None, c.view_mut(), threads);
        return true;
    }
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

/// `c = bias + a · b` (the bias added to every row) by the column-major
/// path ([`by_columns`]), the bias added in its transposing pass, when the
/// product takes that path; `false`, with nothing written, otherwise.
///
/// ```text
/// if !faer_gemm_bias(&x.view(), &w.t(), bias, &mut out.view_mut(), threads) { /* fill, then add */ }
/// ```
pub(crate) fn faer_gemm_bias<T: Element + ComplexField>(
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    bias: &[T],
    c: &mut ArrayViewMut2<'_, T>,
    threads: usize,
) -> bool {
    let (Some(a), Some(b)) = (mat_ref(a), mat_ref(b)) else {
        return false;
    };
    let (rows, cols) = c.dim();
    let fits = c.is_standard_layout() && a.col_stride() == 1 && b.row_stride() == 1;
    if !fits || bias.len() != cols || !through_columns(rows, a.ncols(), cols) {
        return false;
    }
    by_columns(a, b, Accum::Replace, Some(bias), c.view_mut(), threads);
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

/// Whether `c = a · b` with `a`, `bᵀ` and `c` row-major (`x · Wᵀ`: both
/// operands contiguous along the inner size) and few rows is faster computed
/// column-major and transposed ([`by_columns`]). faer multiplies a row-major
/// `c` as `cᵀ = bᵀ · aᵀ` and packs `bᵀ` (the weight, `n × k`); column-major it
/// packs `a` (the batch, `m × k`) instead, and the transposing pass costs
/// less than the packing saved when the weight is the larger by far. Measured
/// one product at a time (an ad-hoc probe, BENCHMARKS.md "Few-row products
/// column-major (issue 21)"): 128×784×512 0.89–0.93 of the time, 128×512×512
/// 0.90–0.96, 64×256×1024 0.78–0.82, 16×512×512 0.63–0.73; but 128×256×256
/// 1.03–1.06, 128×128×512 1.15–1.19, 256×784×512 0.99–1.09.
fn through_columns(m: usize, k: usize, n: usize) -> bool {
    (16..=128).contains(&m) && k >= 256 && k.saturating_mul(n) >= 1 << 18
}

/// `c = a · b (+ c)` for a row-major `c`, multiplied column-major into
/// scratch storage and transposed into `c`: the columns of `c` cut into
/// `threads` blocks, each block a product and its transposing pass on one
/// thread (the first on the calling thread). Every element is the same sum
/// on any thread count.
fn by_columns<T: Element + ComplexField>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    accum: Accum,
    bias: Option<&[T]>,
    mut c: ArrayViewMut2<'_, T>,
    threads: usize,
) {
    let (m, n) = c.dim();
    let chunk = n.div_ceil(threads.max(1)).max(1);
    let mut scratch = pool::scratch::<T>(m * n);
    let mut parts = Vec::with_capacity(threads);
    let mut b = b;
    let mut start = 0;
    for (columns, c_part) in scratch.chunks_mut(chunk * m).zip(c.axis_chunks_iter_mut(Axis(1), chunk)) {
        let width = c_part.ncols();
        let (head, tail) = b.split_at_col(width);
        let bias = bias.map(|bias| &bias[start..start + width]);
        parts.push((head, columns, bias, c_part));
        (b, start) = (tail, start + width);
    }
    crate::threading::run_parts(parts, |(b, columns, bias, c_part)| {
        let width = c_part.ncols();
        product(a, b, Accum::Replace, MatMut::from_column_major_slice_mut(columns, m, width));
        match (accum, bias) {
            (_, Some(bias)) => transpose_into::<T, true>(columns, Some(bias), c_part),
            (Accum::Replace, None) => transpose_into::<T, false>(columns, None, c_part),
            (Accum::Add, None) => transpose_into::<T, true>(columns, None, c_part),
        }
    });
    pool::recycle_vec(scratch);
}

/// `c = tᵀ` (or `c += tᵀ` when `ADD`) for the column-major `t` of `c`'s
/// shape and a `c` whose rows are contiguous: eight columns of `t` at a
/// time, each row of `c` taking eight contiguous values. With a `bias` (and
/// `ADD`), `c = bias + tᵀ` instead, `c` not read: the bias is added as if it
/// had been written into `c` first.
fn transpose_into<T: Element, const ADD: bool>(t: &[T], bias: Option<&[T]>, mut c: ArrayViewMut2<'_, T>) {
    let (m, n) = c.dim();
    let whole = n / 8 * 8;
    for j0 in (0..whole).step_by(8) {
        let columns: [&[T]; 8] = std::array::from_fn(|q| &t[(j0 + q) * m..(j0 + q + 1) * m]);
        let start: [T; 8] = match bias {
            Some(bias) => bias[j0..j0 + 8].try_into().expect("eight values"),
            None => [T::zero(); 8],
        };
        for (i, mut row) in c.rows_mut().into_iter().enumerate() {
            let row = row.as_slice_mut().expect("the rows of c are contiguous");
            let out: &mut [T; 8] = (&mut row[j0..j0 + 8]).try_into().expect("eight values");
            if bias.is_some() {
                *out = start;
            }
            for (o, column) in out.iter_mut().zip(&columns) {
                *o = if ADD { *o + column[i] } else { column[i] };
            }
        }
    }
    for j in whole..n {
        let start = bias.map(|bias| bias[j]);
        for (o, &v) in c.column_mut(j).iter_mut().zip(&t[j * m..(j + 1) * m]) {
            let before = start.unwrap_or(*o);
            *o = if ADD { before + v } else { v };
        }
    }
}
