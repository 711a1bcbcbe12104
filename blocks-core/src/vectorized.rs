//! Loops compiled for the CPU the program runs on: blocks is built for
//! baseline x86-64 (SSE2: 4 floats a step, no fused multiply-add), so the
//! elementwise loops of a convolutional net (batch norm, pooling) run inside
//! [`vectorized`], which compiles them a second time with AVX2 and FMA and
//! picks that copy when the CPU has them (pulp's runtime dispatch, the one
//! faer uses; safe code). The arithmetic is the same either way: the
//! compiler only widens loops, it never reorders a sum, so results are the
//! same bit for bit whichever copy runs.

/// Runs `work`, compiled with AVX2 and FMA enabled when the CPU has them
/// (on x86-64; elsewhere it simply runs `work`). `work` should be a plain
/// loop over slices, and must be inlined into the dispatched copy: pass a
/// closure marked `#[inline(always)]` that calls `#[inline(always)]`
/// functions (a closure the compiler leaves out of line is compiled for the
/// baseline only, as perf showed for the batch norm's sums).
///
/// ```text
/// vectorized(#[inline(always)] || scale_all(out, x, scale));
/// ```
#[inline(always)]
pub(crate) fn vectorized<R>(work: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        pulp::Arch::new().dispatch(work)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        work()
    }
}

#[cfg(test)]
mod tests {
    use super::vectorized;

    #[test]
    fn runs_the_work_and_returns_its_result() {
        let x: Vec<f32> = (0..37).map(|i| i as f32 * 0.5).collect();
        let doubled: Vec<f32> = vectorized(|| x.iter().map(|v| v * 2.0).collect());
        assert_eq!(doubled, (0..37).map(|i| i as f32).collect::<Vec<_>>());
    }
}
