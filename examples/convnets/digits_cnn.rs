//! The CNN of `train_digits --model cnn`: two convolution stages on the 8x8
//! digits, then dropout and one Linear.

use blocks::nn::{BatchNorm2d, Conv2d, Dropout, Flatten, MaxPool2d};
use blocks::prelude::*;

/// The type of the digits CNN:
///
/// ```python
/// net = nn.Sequential(
///     nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),   # 32 x 4 x 4
///     nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),  # 64 x 2 x 2
///     nn.Flatten(), nn.Dropout(0.25), nn.Linear(256, 10))
/// ```
///
/// The convolutions have no bias: the batch norm right after each one
/// subtracts the mean, which would cancel it.
pub type DigitsCnn = Sequential<(
    Conv2d<1, 32, 3>,
    BatchNorm2d<32>,
    ReLU,
    MaxPool2d,
    Conv2d<32, 64, 3>,
    BatchNorm2d<64>,
    ReLU,
    MaxPool2d,
    Flatten,
    Dropout,
    Linear<256, 10>,
)>;

/// The digits CNN, freshly initialized as PyTorch initializes it. It takes
/// `[N, 1, 8, 8]` images and gives `[N, 10]` logits.
pub fn digits_cnn() -> DigitsCnn {
    sequential![
        Conv2d::<1, 32, 3>::new().padding(1).bias(false),
        BatchNorm2d::<32>::new(),
        ReLU,
        MaxPool2d::new(2),
        Conv2d::<32, 64, 3>::new().padding(1).bias(false),
        BatchNorm2d::<64>::new(),
        ReLU,
        MaxPool2d::new(2),
        Flatten::default(),
        Dropout::new(0.25),
        Linear::<256, 10>::new(),
    ]
}
