//! The blocks of d2l's "Layers and Blocks" (the seed of blocks), written as a
//! user writes them: used by the examples, and by the conformance suite and
//! the tests (`tests/*.rs` include this file).
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use blocks::prelude::*;

/// `nn.Sequential(nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 10))`.
pub type SequentialMlp = Sequential<(Linear<20, 256>, ReLU, Linear<256, 10>)>;

/// The seed's Sequential MLP, freshly initialized.
pub fn sequential_mlp() -> SequentialMlp {
    sequential![Linear::<20, 256>::new(), ReLU, Linear::<256, 10>::new()]
}

/// d2l's `MLP`:
///
/// ```python
/// class MLP(nn.Module):
///     def __init__(self):
///         super().__init__()
///         self.hidden = nn.LazyLinear(256)
///         self.out = nn.LazyLinear(10)
///     def forward(self, X):
///         return self.out(F.relu(self.hidden(X)))
/// ```
#[derive(Module)]
#[module(name = "MLP")]
pub struct Mlp {
    pub hidden: Linear<20, 256>,
    pub out: Linear<256, 10>,
}

impl Mlp {
    pub fn new() -> Self {
        Mlp { hidden: Linear::new(), out: Linear::new() }
    }
}

impl Forward<Batch<20>> for Mlp {
    type Output = Batch<10>;

    fn forward(&self, x: &Batch<20>) -> Batch<10> {
        self.out.forward(&self.hidden.forward(x).relu())
    }
}

/// d2l's `FixedHiddenMLP`: a constant weight, one Linear used twice, and a
/// `while` loop in forward.
///
/// ```python
/// class FixedHiddenMLP(nn.Module):
///     def __init__(self):
///         super().__init__()
///         self.rand_weight = torch.rand((20, 20))  # a constant, never trained
///         self.linear = nn.LazyLinear(20)
///     def forward(self, X):
///         X = self.linear(X)
///         X = F.relu(X @ self.rand_weight + 1)
///         X = self.linear(X)  # the same parameters again
///         while X.abs().sum() > 1:
///             X /= 2
///         return X.sum()
/// ```
#[derive(Module)]
#[module(name = "FixedHiddenMLP")]
pub struct FixedHiddenMlp {
    /// Saved with the model, never trained.
    #[module(buffer)]
    pub rand_weight: Tensor,
    pub linear: Linear<20, 20>,
    /// How many times the last forward halved X.
    #[module(skip)]
    pub halvings: AtomicUsize,
}

impl FixedHiddenMlp {
    pub fn new() -> Self {
        FixedHiddenMlp {
            rand_weight: Tensor::rand([20, 20]),
            linear: Linear::new(),
            halvings: AtomicUsize::new(0),
        }
    }
}

impl Forward<Batch<20>> for FixedHiddenMlp {
    type Output = Scalar;

    fn forward(&self, x: &Batch<20>) -> Scalar {
        let x = self.linear.forward(x);
        // The constant weight: no gradient flows into it.
        let x = x.map(|x| (x.matmul(&self.rand_weight) + 1.0).relu());
        // The same Linear again: its parameters get the sum of both gradients.
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

/// d2l's `NestMLP`: a Sequential and a Linear.
///
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
pub struct NestMlp {
    pub net: Sequential<(Linear<20, 64>, ReLU, Linear<64, 32>, ReLU)>,
    pub linear: Linear<32, 16>,
}

impl NestMlp {
    pub fn new() -> Self {
        NestMlp { net: sequential![Linear::new(), ReLU, Linear::new(), ReLU], linear: Linear::new() }
    }
}

impl Forward<Batch<20>> for NestMlp {
    type Output = Batch<16>;

    fn forward(&self, x: &Batch<20>) -> Batch<16> {
        self.linear.forward(&self.net.forward(x))
    }
}

/// d2l's `chimera`: `nn.Sequential(NestMLP(), nn.Linear(16, 20), FixedHiddenMLP())`.
pub type Chimera = Sequential<(NestMlp, Linear<16, 20>, FixedHiddenMlp)>;

/// The chimera, freshly initialized.
pub fn chimera() -> Chimera {
    sequential![NestMlp::new(), Linear::<16, 20>::new(), FixedHiddenMlp::new()]
}

/// The halving counts of every FixedHiddenMLP in `model`, in tree order.
pub fn halvings(model: &dyn Module) -> Vec<usize> {
    model
        .named_modules()
        .into_iter()
        .filter_map(|(_, m)| m.as_any().downcast_ref::<FixedHiddenMlp>())
        .map(|m| m.halvings.load(Ordering::Relaxed))
        .collect()
}

/// d2l's tied model: `Sequential(Linear(4, 8), ReLU, shared, ReLU, shared, ReLU, Linear(8, 1))`
/// where `shared = Linear(8, 8)` sits at positions 2 and 4 (one set of parameters).
pub type Tied = Sequential<(Linear<4, 8>, ReLU, Linear<8, 8>, ReLU, Linear<8, 8>, ReLU, Linear<8, 1>)>;

/// The tied model, freshly initialized.
pub fn tied() -> Tied {
    let shared = Linear::<8, 8>::new();
    sequential![Linear::<4, 8>::new(), ReLU, shared.clone(), ReLU, shared, ReLU, Linear::<8, 1>::new()]
}
