// A sequential! in a struct literal: the field's type reaches the blocks
// before the chain is checked, so the block that fits neither is blamed,
// in the chain's words or as the field's type.
use blocks::prelude::*;

struct Net {
    body: Sequential<(Linear<4, 8>, ReLU, Linear<9, 2>)>,
}

struct Fixed {
    body: Sequential<(Linear<4, 8>, ReLU, Linear<8, 2>)>,
}

fn main() {
    // The field's type itself does not chain: block 2 takes 9, block 0 gives 8.
    let _net = Net { body: sequential![Linear::new(), ReLU, Linear::new()] };
    // The field wants Linear<8, 2> where the user wrote Linear<9, 2>.
    let _fixed = Fixed { body: sequential![Linear::<4, 8>::new(), ReLU, Linear::<9, 2>::new()] };
}
