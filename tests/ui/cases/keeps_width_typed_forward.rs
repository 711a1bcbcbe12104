use blocks::prelude::*;

// Marked as keeping the width, but its forward takes a typed batch: a
// width-keeping forward goes from `Tensor` to `Tensor`.
#[derive(Module)]
#[module(keeps_width)]
struct Shift;

impl Forward<Batch<4>> for Shift {
    type Output = Batch<4>;

    fn forward(&self, x: &Batch<4>) -> Batch<4> {
        x.map(|t| t + 1.0)
    }
}

fn main() {}
