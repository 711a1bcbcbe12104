//! The random number generator behind `rand`, `randn` and the initializers.
//!
//! Each thread has its own stream:
//! [`manual_seed`] seeds the calling thread's generator, so the same sequence
//! of calls on that thread gives the same numbers, whatever other threads
//! draw meanwhile (tests running in parallel cannot disturb each other). A
//! thread that never calls `manual_seed` starts from the operating system's
//! entropy.

use std::cell::RefCell;

use rand::SeedableRng;
use rand::rngs::{StdRng, SysRng};

thread_local! {
    static GENERATOR: RefCell<StdRng> = RefCell::new(
        StdRng::try_from_rng(&mut SysRng).unwrap_or_else(|_| StdRng::seed_from_u64(0)),
    );
}

/// Seeds this thread's generator, like `torch.manual_seed`.
///
/// ```
/// use blocks_core::{manual_seed, Tensor};
/// manual_seed(42);
/// let a = Tensor::rand([3]).to_vec();
/// manual_seed(42);
/// assert_eq!(a, Tensor::rand([3]).to_vec());
/// ```
pub fn manual_seed(seed: u64) {
    GENERATOR.with(|generator| *generator.borrow_mut() = StdRng::seed_from_u64(seed));
}

/// Runs `f` with this thread's generator.
///
/// ```
/// use rand::RngExt;
/// let x: f64 = blocks_core::with_rng(|rng| rng.random());
/// assert!((0.0..1.0).contains(&x));
/// ```
pub fn with_rng<T>(f: impl FnOnce(&mut StdRng) -> T) -> T {
    GENERATOR.with(|generator| f(&mut generator.borrow_mut()))
}
