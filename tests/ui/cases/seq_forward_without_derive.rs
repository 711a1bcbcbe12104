use std::fmt;

use blocks::nn::Visitor;
use blocks::prelude::*;

// A block written by hand: `impl Module` and `impl Forward`, but without the
// derive it has no rule for what it takes, so it cannot run in a chain yet.
struct Twice;

impl Module for Twice {
    fn type_name(&self) -> String {
        "Twice".into()
    }

    fn visit<'m>(&'m self, _: &mut dyn Visitor<'m>) {}
}

impl fmt::Display for Twice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        blocks::nn::fmt_module(self, f)
    }
}

impl Forward<Tensor> for Twice {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        x * 2.0
    }
}

fn main() {
    let _net = sequential![Linear::<4, 4>::new(), Twice];
}
