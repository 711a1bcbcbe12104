// GroupNorm and Dropout2d in a typed chain: GroupNorm<GROUPS, C> takes
// Images<C>, so 6 channels fed to a GroupNorm over 4 is a compile error on it,
// also past a Dropout2d (which keeps the channels).
use blocks::nn::{Conv2d, Dropout2d, GroupNorm};
use blocks::prelude::*;

fn main() {
    let _direct = sequential![Conv2d::<3, 6, 3>::new(), GroupNorm::<2, 4>::new(), ReLU];
    let _past_dropout = sequential![Conv2d::<3, 6, 3>::new(), Dropout2d::new(0.5), GroupNorm::<4, 8>::new()];
}
