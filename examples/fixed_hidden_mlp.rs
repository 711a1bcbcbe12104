//! d2l 6.1.3: code in forward. `FixedHiddenMLP` has a constant weight that is
//! never trained, uses one Linear twice, and runs a `while` loop.
//!
//! Run with `cargo run --example fixed_hidden_mlp`.

use std::sync::atomic::{AtomicUsize, Ordering};

use blocks::prelude::*;

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
struct FixedHiddenMlp {
    /// Saved with the model (`state_dict` has `rand_weight`), never trained.
    #[module(buffer)]
    rand_weight: Tensor,
    linear: Linear<20, 20>,
    /// Plain data, not part of the model: how often the last forward halved X.
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
    manual_seed(3);
    let net = FixedHiddenMlp::new();
    let x = Batch::<20>::rand(2);
    let y = net.forward(&x);
    println!("{y}");
    println!("halved {} times", net.halvings.load(Ordering::Relaxed));

    y.backward();
    let grad = net.linear.weight().grad().expect("the shared Linear gets a gradient");
    println!("linear.weight.grad sums both uses: shape {:?}", grad.shape());
    println!("rand_weight is a buffer, not a parameter: {:?}", net.named_buffers()[0].0);
    println!("{net}");
}
