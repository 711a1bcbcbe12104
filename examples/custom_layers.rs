//! d2l "Custom Layers": a layer without parameters (`CenteredLayer`) that
//! fits anywhere in a typed chain, and a layer with its own parameters
//! (`MyLinear`) that trains through the graph.
//!
//! Run with `cargo run --example custom_layers`. The functions are shared
//! with `tests/it/examples_output.rs`, which checks what this prints.

use blocks::prelude::*;

/// ```python
/// class CenteredLayer(nn.Module):
///     def __init__(self):
///         super().__init__()
///     def forward(self, X):
///         return X - X.mean()
/// ```
/// `keeps_width`: given a `Batch<N>` it gives a `Batch<N>` (a `Tensor` for a
/// `Tensor`), so the compiler still knows the width after it.
#[derive(Module)]
#[module(keeps_width)]
pub struct CenteredLayer;

impl Forward<Tensor> for CenteredLayer {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        x - &x.mean()
    }
}

/// `layer = CenteredLayer(); layer(torch.tensor([1.0, 2, 3, 4, 5]))`
pub fn centered() -> Tensor {
    CenteredLayer.forward(&Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0], [5]))
}

/// `net = nn.Sequential(nn.LazyLinear(128), CenteredLayer())`, widths in the types.
pub type CenteredNet = Sequential<(Linear<8, 128>, CenteredLayer)>;

/// `Y = net(torch.rand(4, 8)); Y.mean()`
pub fn centered_net() -> (CenteredNet, Batch<128>) {
    let net = sequential![Linear::<8, 128>::new(), CenteredLayer];
    let y = net.forward(&Tensor::rand([4, 8]));
    (net, y)
}

/// ```python
/// class MyLinear(nn.Module):
///     def __init__(self, in_units, units):
///         super().__init__()
///         self.weight = nn.Parameter(torch.randn(in_units, units))
///         self.bias = nn.Parameter(torch.randn(units,))
///     def forward(self, X):
///         linear = torch.matmul(X, self.weight.data) + self.bias.data
///         return F.relu(linear)
/// ```
/// The book's forward uses `.data`, tensors outside the graph, so nothing
/// it computes can train the layer. Here a `Parameter` is the tensor in the
/// graph and there is no `.data` tensor to reach for: the output has a
/// `grad_fn` and backward reaches `weight` and `bias`.
#[derive(Module)]
#[module(name = "MyLinear")]
pub struct MyLinear<const IN: usize, const UNITS: usize> {
    /// `[IN, UNITS]`, drawn from a standard normal (`torch.randn`).
    pub weight: Parameter,
    /// `[UNITS]`, drawn from a standard normal.
    pub bias: Parameter,
}

impl<const IN: usize, const UNITS: usize> MyLinear<IN, UNITS> {
    /// A layer with weight and bias drawn from a standard normal, as the book's.
    pub fn new() -> Self {
        MyLinear {
            weight: Parameter::new(Tensor::randn([IN, UNITS])),
            bias: Parameter::new(Tensor::randn([UNITS])),
        }
    }
}

impl<const IN: usize, const UNITS: usize> Default for MyLinear<IN, UNITS> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const IN: usize, const UNITS: usize> Forward<Batch<IN>> for MyLinear<IN, UNITS> {
    type Output = Batch<UNITS>;

    fn forward(&self, x: &Batch<IN>) -> Batch<UNITS> {
        Batch::new((x.matmul(&self.weight) + &*self.bias).relu())
    }
}

/// `linear = MyLinear(5, 3); linear(torch.rand(2, 5))`, then a backward.
pub fn my_linear() -> (MyLinear<5, 3>, Batch<3>) {
    let linear = MyLinear::<5, 3>::new();
    let y = linear.forward(&Batch::rand(2));
    (linear, y)
}

/// `net = nn.Sequential(MyLinear(64, 8), MyLinear(8, 1)); net(torch.rand(2, 64))`
pub fn my_linear_net() -> Batch<1> {
    let net = sequential![MyLinear::<64, 8>::new(), MyLinear::<8, 1>::new()];
    net.forward(&Tensor::rand([2, 64]))
}

fn main() {
    manual_seed(0);
    println!("# A layer without parameters");
    println!("{}", centered());
    let (net, y) = centered_net();
    println!("{net}");
    println!("Y.mean(): {}", y.mean());

    println!("\n# A layer with parameters");
    let (linear, y) = my_linear();
    println!("{}", linear.weight);
    println!("{y}");
    y.sum().backward();
    println!(
        "after backward, linear.weight.grad:\n{}",
        linear.weight.grad().expect("backward reached the weight")
    );
    println!("linear.bias.grad: {}", linear.bias.grad().expect("backward reached the bias"));
    println!("{}", my_linear_net());
}
