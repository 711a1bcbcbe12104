//! Seeded shuffling that never changes: SplitMix64 and Fisher–Yates, written
//! out here so a seed gives the same order in every version of blocks
//! (`rand`'s `StdRng` may change its algorithm between releases).

/// SplitMix64 (Steele, Lea and Flood, 2014): a small, fast generator whose
/// output sequence is fixed by its seed.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform integer in `0..bound` (`bound > 0`), without bias (Lemire's method).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(bound);
            if product as u64 >= threshold {
                return (product >> 64) as u64;
            }
        }
    }
}

/// A random order of `0..n`, fixed by `seed` (Fisher–Yates).
pub(crate) fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(&mut order, seed);
    order
}

/// Shuffles `items` in place, in an order fixed by `seed`.
pub(crate) fn shuffle(items: &mut [usize], seed: u64) {
    let mut rng = SplitMix64::new(seed);
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

/// The seed of epoch `epoch` of a loader seeded with `seed`: distinct epochs
/// get unrelated orders.
pub(crate) fn epoch_seed(seed: u64, epoch: u64) -> u64 {
    SplitMix64::new(seed ^ SplitMix64::new(epoch).next_u64()).next_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The first outputs for seed 1234567 from the reference C implementation.
        let mut rng = SplitMix64::new(1234567);
        let expected = [6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431];
        for value in expected {
            assert_eq!(rng.next_u64(), value);
        }
    }

    #[test]
    fn permutations_are_fixed_by_the_seed_and_complete() {
        assert_eq!(permutation(10, 42), permutation(10, 42));
        assert_ne!(permutation(10, 42), permutation(10, 43));
        let mut sorted = permutation(1000, 7);
        sorted.sort();
        assert_eq!(sorted, (0..1000).collect::<Vec<_>>());
        assert_eq!(permutation(0, 1), Vec::<usize>::new());
        assert_eq!(permutation(1, 1), vec![0]);
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut rng = SplitMix64::new(3);
        let mut counts = [0usize; 6];
        for _ in 0..60_000 {
            counts[rng.below(6) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_400..10_600).contains(&c)), "{counts:?}");
    }
}
