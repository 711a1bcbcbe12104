//! d2l's ResNet `Residual` block (8.6) as a derived block, with its channels
//! in its type: it takes `Images<I>` and gives `Images<O>`.

use blocks::nn::{BatchNorm2d, Conv2d, Images};
use blocks::prelude::*;

/// d2l's residual block: two 3x3 convolutions with batch norm, added to the
/// input (through a 1x1 convolution when the shape changes).
///
/// ```python
/// class Residual(nn.Module):
///     def __init__(self, input_channels, num_channels, use_1x1conv=False, strides=1):
///         super().__init__()
///         self.conv1 = nn.Conv2d(input_channels, num_channels, kernel_size=3, padding=1, stride=strides)
///         self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
///         if use_1x1conv:
///             self.conv3 = nn.Conv2d(input_channels, num_channels, kernel_size=1, stride=strides)
///         else:
///             self.conv3 = None
///         self.bn1 = nn.BatchNorm2d(num_channels)
///         self.bn2 = nn.BatchNorm2d(num_channels)
///
///     def forward(self, X):
///         Y = F.relu(self.bn1(self.conv1(X)))
///         Y = self.bn2(self.conv2(Y))
///         if self.conv3:
///             X = self.conv3(X)
///         Y += X
///         return F.relu(Y)
/// ```
///
/// `Residual(3, 3)` is `Residual::<3, 3>::new()`;
/// `Residual(3, 6, use_1x1conv=True, strides=2)` is `Residual::<3, 6>::with_1x1conv(2)`.
/// The fields are in PyTorch's registration order, so the `state_dict` keys
/// (`conv1.weight`, ..., `bn2.num_batches_tracked`) are PyTorch's.
#[derive(Module)]
pub struct Residual<const I: usize, const O: usize> {
    pub conv1: Conv2d<I, O, 3>,
    pub conv2: Conv2d<O, O, 3>,
    pub conv3: Option<Conv2d<I, O, 1>>,
    pub bn1: BatchNorm2d<O>,
    pub bn2: BatchNorm2d<O>,
}

impl<const I: usize, const O: usize> Residual<I, O> {
    /// The block without the 1x1 convolution: the input is added as it is, so
    /// it must have as many channels as the output, and stride 1.
    ///
    /// # Panics
    ///
    /// When `I != O` (use [`with_1x1conv`](Self::with_1x1conv) to change the
    /// channel count).
    #[track_caller]
    pub fn new() -> Self {
        assert!(
            I == O,
            "Residual<{I}, {O}>: without the 1x1 convolution the input ({I} channels) is added to the \
             output ({O} channels); use Residual::with_1x1conv to change the channel count"
        );
        Residual {
            conv1: Conv2d::new().padding(1),
            conv2: Conv2d::new().padding(1),
            conv3: None,
            bn1: BatchNorm2d::new(),
            bn2: BatchNorm2d::new(),
        }
    }

    /// The block with a 1x1 convolution on the shortcut, both it and `conv1`
    /// stepping by `strides` (d2l's `use_1x1conv=True, strides=strides`).
    ///
    /// # Panics
    ///
    /// When `strides` is 0.
    #[track_caller]
    pub fn with_1x1conv(strides: usize) -> Self {
        Residual {
            conv1: Conv2d::new().padding(1).stride(strides),
            conv2: Conv2d::new().padding(1),
            conv3: Some(Conv2d::new().stride(strides)),
            bn1: BatchNorm2d::new(),
            bn2: BatchNorm2d::new(),
        }
    }
}

impl<const I: usize, const O: usize> Forward<Images<I>> for Residual<I, O> {
    type Output = Images<O>;

    fn forward(&self, x: &Images<I>) -> Images<O> {
        let y = self.bn1.forward(&self.conv1.forward(x)).relu();
        let y = self.bn2.forward(&self.conv2.forward(&Images::<O>::new(y)));
        let shortcut: Tensor = match &self.conv3 {
            Some(conv3) => conv3.forward(x).into(),
            None => Tensor::clone(x),
        };
        Images::new((&*y + &shortcut).relu())
    }
}
