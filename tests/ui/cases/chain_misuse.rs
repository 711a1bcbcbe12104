// What `#[module(chain)]` refuses, each on the user's token.
use blocks::nn::Parameter;
use blocks::prelude::*;

#[derive(Module)]
#[module(chain)]
struct WithParameter {
    hidden: Linear<4, 4>,
    scale: Parameter,
}

#[derive(Module)]
#[module(chain)]
struct WithOption {
    hidden: Linear<4, 4>,
    extra: Option<Linear<4, 4>>,
}

#[derive(Module)]
#[module(chain)]
struct NoBlocks {
    #[module(skip)]
    depth: usize,
}

#[derive(Module)]
#[module(chain)]
struct Generic<B> {
    body: B,
}

#[derive(Module)]
#[module(chain, keeps_width)]
struct Both {
    act: ReLU,
}

#[derive(Module)]
#[module(chain)]
struct WithList {
    first: Linear<4, 4>,
    #[module(flatten)]
    rest: Vec<Linear<4, 4>>,
}

#[derive(Module)]
#[module(chain = "yes")]
struct WithValue {
    #[module(chain)]
    act: ReLU,
}

fn main() {}
