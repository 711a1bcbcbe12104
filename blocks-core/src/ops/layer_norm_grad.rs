//! The backward passes of `layer_norm` ([`super::layer_norm`]) written so
//! their loops vectorize: the input gradient of one row in chunks of four
//! lanes, and the weight's and bias's gradients by runs of columns on the
//! threads, each column summed over the rows in row order (the same numbers
//! on any thread count, and the same as one pass over the rows).

use crate::Element;
use crate::threading::{get_num_threads, loop_parts, run_parts};

/// The input gradient of one row: `invstd · (d − mean(d) − x̂ · mean(d · x̂))`
/// with `d = grad · weight`, the sums in four running lanes (element `j` in
/// lane `j % 4`), in f64.
pub(super) fn row_input_grad<E: Element>(
    x: &[E],
    g: &[E],
    (mean, invstd): (f64, f64),
    w: Option<&[E]>,
    dx: &mut [E],
) {
    match w {
        Some(w) => row_input_grad_with(x, g, mean, invstd, |j| w[j].as_f64(), dx),
        None => row_input_grad_with(x, g, mean, invstd, |_| 1.0, dx),
    }
}

fn row_input_grad_with<E: Element>(
    x: &[E],
    g: &[E],
    mean: f64,
    invstd: f64,
    w: impl Fn(usize) -> f64,
    dx: &mut [E],
) {
    let m = x.len();
    let (mut sum_d, mut sum_d_xhat) = ([0.0f64; 4], [0.0f64; 4]);
    let whole = m - m % 4;
    for base in (0..whole).step_by(4) {
        for lane in 0..4 {
            let j = base + lane;
            let dj = g[j].as_f64() * w(j);
            sum_d[lane] += dj;
            sum_d_xhat[lane] += dj * ((x[j].as_f64() - mean) * invstd);
        }
    }
    for j in whole..m {
        let dj = g[j].as_f64() * w(j);
        sum_d[j % 4] += dj;
        sum_d_xhat[j % 4] += dj * ((x[j].as_f64() - mean) * invstd);
    }
    let total = |a: [f64; 4]| (a[0] + a[1]) + (a[2] + a[3]);
    let (mean_d, mean_d_xhat) = (total(sum_d) / m as f64, total(sum_d_xhat) / m as f64);
    for (j, ((o, &xv), &gv)) in dx.iter_mut().zip(x).zip(g).enumerate() {
        let xhat = (xv.as_f64() - mean) * invstd;
        *o = E::of(invstd * (gv.as_f64() * w(j) - mean_d - xhat * mean_d_xhat));
    }
}

/// The weight's and bias's gradients, `Σ_rows grad · x̂` and `Σ_rows grad`
/// per column (rows of `m` in `xs` and `gs`, `stats` one `(mean, invstd)`
/// per row), in f64. Runs of columns go to the threads when the rows are
/// long enough in all (about four element-steps per element); every column
/// is summed over the rows in row order.
pub(super) fn param_grads<E: Element>(
    xs: &[E],
    gs: &[E],
    stats: &[(f64, f64)],
    m: usize,
) -> (Vec<f64>, Vec<f64>) {
    let (mut dw, mut db) = (vec![0.0; m], vec![0.0; m]);
    if m == 0 {
        return (dw, db);
    }
    let parts = loop_parts(xs.len().saturating_mul(4), m, get_num_threads());
    let mut pieces = Vec::with_capacity(parts);
    let (mut dw_rest, mut db_rest, mut first) = (&mut dw[..], &mut db[..], 0);
    for p in 1..=parts {
        let count = m * p / parts - first;
        let (dw_part, dw_next) = dw_rest.split_at_mut(count);
        let (db_part, db_next) = db_rest.split_at_mut(count);
        pieces.push((first, dw_part, db_part));
        (dw_rest, db_rest, first) = (dw_next, db_next, first + count);
    }
    let work = |(first, dw, db): (usize, &mut [f64], &mut [f64])| {
        let cols = first..first + dw.len();
        for ((xr, gr), &(mean, invstd)) in xs.chunks_exact(m).zip(gs.chunks_exact(m)).zip(stats) {
            let (xr, gr) = (&xr[cols.clone()], &gr[cols.clone()]);
            for (((w, b), &xv), &g) in dw.iter_mut().zip(db.iter_mut()).zip(xr).zip(gr) {
                let g = g.as_f64();
                *w += g * ((xv.as_f64() - mean) * invstd);
                *b += g;
            }
        }
    };
    if parts <= 1 {
        pieces.into_iter().for_each(work);
    } else {
        run_parts(pieces, work);
    }
    (dw, db)
}
