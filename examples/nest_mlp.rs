//! d2l 6.1.3: blocks inside blocks. `NestMLP` holds a Sequential and a
//! Linear, and the `chimera` chains it with a Linear and a FixedHiddenMLP;
//! the compiler checks that NestMLP's 16 features feed `Linear<16, 20>`.
//!
//! Run with `cargo run --example nest_mlp`.

use std::sync::atomic::{AtomicUsize, Ordering};

use blocks::prelude::*;

/// ```python
/// class NestMLP(nn.Module):
///     def __init__(self):
///         super().__init__()
///         self.net = nn.Sequential(nn.LazyLinear(64), nn.ReLU(),
///                                  nn.LazyLinear(32), nn.ReLU())
///         self.linear = nn.LazyLinear(16)
///     def forward(self, X):
///         return self.linear(self.net(X))
/// ```
#[derive(Module)]
#[module(name = "NestMLP")]
struct NestMlp {
    net: Sequential<(Linear<20, 64>, ReLU, Linear<64, 32>, ReLU)>,
    linear: Linear<32, 16>,
}

impl NestMlp {
    fn new() -> Self {
        NestMlp { net: sequential![Linear::new(), ReLU, Linear::new(), ReLU], linear: Linear::new() }
    }
}

impl Forward for NestMlp {
    type Input = Batch<20>;
    type Output = Batch<16>;

    fn forward(&self, x: &Batch<20>) -> Batch<16> {
        self.linear.forward(&self.net.forward(x))
    }
}

/// As in the `fixed_hidden_mlp` example.
#[derive(Module)]
#[module(name = "FixedHiddenMLP")]
struct FixedHiddenMlp {
    #[module(buffer)]
    rand_weight: Tensor,
    linear: Linear<20, 20>,
    #[module(skip)]
    halvings: AtomicUsize,
}

impl FixedHiddenMlp {
    fn new() -> Self {
        FixedHiddenMlp {
            rand_weight: Tensor::rand([20, 20]),
            linear: Linear::new(),
            halvings: AtomicUsize::new(0),
        }
    }
}

impl Forward for FixedHiddenMlp {
    type Input = Batch<20>;
    type Output = Scalar;

    fn forward(&self, x: &Batch<20>) -> Scalar {
        let x = self.linear.forward(x);
        let x = x.map(|x| (x.matmul(&self.rand_weight) + 1.0).relu());
        let mut x = self.linear.forward(&x);
        let mut halvings = 0;
        while x.abs().sum().item() > 1.0 {
            x /= 2.0;
            halvings += 1;
        }
        self.halvings.store(halvings, Ordering::Relaxed);
        Scalar::new(x.sum())
    }
}

fn main() {
    manual_seed(4);
    // chimera = nn.Sequential(NestMLP(), nn.LazyLinear(20), FixedHiddenMLP())
    let chimera = sequential![NestMlp::new(), Linear::<16, 20>::new(), FixedHiddenMlp::new()];
    let x = Tensor::rand([2, 20]);
    println!("{}", chimera.forward(&x));
    println!("{chimera}");
    let keys: Vec<String> = chimera.named_parameters().into_iter().map(|(key, _)| key).collect();
    println!("{keys:?}");
}
