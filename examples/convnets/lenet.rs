//! d2l's LeNet (7.6), as a typed `sequential!`: the compiler checks every
//! channel count along the convolutions, and the first Linear checks its 400
//! features at run time (they come from a `Flatten`).

use blocks::nn::{AvgPool2d, Block, Conv2d, Flatten, Sigmoid};
use blocks::prelude::*;

/// The type of d2l's LeNet:
///
/// ```python
/// net = nn.Sequential(
///     nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
///     nn.AvgPool2d(kernel_size=2, stride=2),
///     nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
///     nn.AvgPool2d(kernel_size=2, stride=2),
///     nn.Flatten(),
///     nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
///     nn.Linear(120, 84), nn.Sigmoid(),
///     nn.Linear(84, 10))
/// ```
pub type LeNet = Sequential<(
    Conv2d<1, 6, 5>,
    Sigmoid,
    AvgPool2d,
    Conv2d<6, 16, 5>,
    Sigmoid,
    AvgPool2d,
    Flatten,
    Linear<400, 120>,
    Sigmoid,
    Linear<120, 84>,
    Sigmoid,
    Linear<84, 10>,
)>;

/// d2l's LeNet, freshly initialized as PyTorch initializes it.
pub fn lenet() -> LeNet {
    sequential![
        Conv2d::<1, 6, 5>::new().padding(2),
        Sigmoid,
        AvgPool2d::new(2).stride(2),
        Conv2d::<6, 16, 5>::new(),
        Sigmoid,
        AvgPool2d::new(2).stride(2),
        Flatten::default(),
        Linear::<400, 120>::new(),
        Sigmoid,
        Linear::<120, 84>::new(),
        Sigmoid,
        Linear::<84, 10>::new(),
    ]
}

/// d2l's line for one layer, `print(layer.__class__.__name__, 'output shape: \t', X.shape)`:
/// the same spaces and tab, with the shape as Rust prints a `Vec<usize>`
/// (`[1, 6, 28, 28]`) where PyTorch prints `torch.Size([1, 6, 28, 28])`.
pub fn shape_line(name: &str, shape: &[usize]) -> String {
    format!("{name} output shape: \t {shape:?}")
}

/// Runs `x` through `net` one layer at a time, as d2l does to show the
/// shapes, and gives each layer's class name with the shape of its output:
///
/// ```python
/// for layer in net:
///     X = layer(X)
///     print(layer.__class__.__name__, 'output shape: \t', X.shape)
/// ```
pub fn output_shapes(net: &LeNet, x: &Tensor) -> Vec<(String, Vec<usize>)> {
    let mut x = x.clone();
    let mut shapes = Vec::new();
    for layer in net.iter() {
        x = layer.forward_tensor(&x);
        shapes.push((layer.type_name(), x.shape()));
    }
    shapes
}
