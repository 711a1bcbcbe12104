//! The global random number generator behind `rand`, `randn` and the initializers.
//!
//! One generator is shared by all threads (behind a mutex), as in PyTorch:
//! after [`manual_seed`], the same sequence of calls gives the same numbers,
//! whichever thread makes them.

use std::sync::{Mutex, MutexGuard, OnceLock};

use rand::SeedableRng;
use rand::rngs::{StdRng, SysRng};

fn generator() -> &'static Mutex<StdRng> {
    static GENERATOR: OnceLock<Mutex<StdRng>> = OnceLock::new();
    GENERATOR.get_or_init(|| {
        let rng = StdRng::try_from_rng(&mut SysRng).unwrap_or_else(|_| StdRng::seed_from_u64(0));
        Mutex::new(rng)
    })
}

/// Seeds the global generator, like `torch.manual_seed`.
///
/// ```
/// use blocks_core::{manual_seed, Tensor};
/// manual_seed(42);
/// let a = Tensor::rand([3]).to_vec();
/// manual_seed(42);
/// assert_eq!(a, Tensor::rand([3]).to_vec());
/// ```
pub fn manual_seed(seed: u64) {
    *lock() = StdRng::seed_from_u64(seed);
}

/// Runs `f` with exclusive use of the global generator.
///
/// ```
/// use rand::RngExt;
/// let x: f64 = blocks_core::with_rng(|rng| rng.random());
/// assert!((0.0..1.0).contains(&x));
/// ```
pub fn with_rng<T>(f: impl FnOnce(&mut StdRng) -> T) -> T {
    f(&mut lock())
}

fn lock() -> MutexGuard<'static, StdRng> {
    // A panic while the generator was held leaves it in a valid state.
    generator().lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
