//! torchvision's ResNet-18 (`torchvision.models.resnet18()`) as derived
//! blocks: [`BasicBlock`] and [`ResNet`], their fields in torchvision's
//! registration order so the state dict's keys, order and shapes are
//! torchvision's (`layer2.0.downsample.0.weight`, `bn1.num_batches_tracked`,
//! `fc.bias`, ...) and a file torchvision wrote loads strictly.
//!
//! The channel counts are in the types (`Conv2d<64, 128, 3>`, `Images<128>`),
//! so the compiler checks every stage against the next; the image size is a
//! run-time value (any H, W >= 32), and the head's width (`num_classes`) too.

use blocks::nn::{BatchNorm2d, Conv2d, DynLinear, Images};
use blocks::prelude::*;

/// The 1x1 convolution and batch norm torchvision puts on the shortcut of a
/// block that changes the shape: `nn.Sequential(conv1x1(I, O, stride), nn.BatchNorm2d(O))`.
pub type Downsample<const I: usize, const O: usize> = Sequential<(Conv2d<I, O, 1>, BatchNorm2d<O>)>;

/// torchvision's `BasicBlock` (expansion 1): two 3x3 convolutions without
/// bias, each followed by batch norm, the input added (through `downsample`
/// when the stride or the channel count changes), ReLU.
///
/// ```python
/// class BasicBlock(nn.Module):
///     def __init__(self, inplanes, planes, stride=1, downsample=None, ...):
///         self.conv1 = conv3x3(inplanes, planes, stride)
///         self.bn1 = norm_layer(planes)
///         self.relu = nn.ReLU(inplace=True)
///         self.conv2 = conv3x3(planes, planes)
///         self.bn2 = norm_layer(planes)
///         self.downsample = downsample
///         self.stride = stride
///
///     def forward(self, x):
///         identity = x
///         out = self.relu(self.bn1(self.conv1(x)))
///         out = self.bn2(self.conv2(out))
///         if self.downsample is not None:
///             identity = self.downsample(x)
///         out += identity
///         return self.relu(out)
/// ```
#[derive(Module)]
pub struct BasicBlock<const I: usize, const O: usize> {
    pub conv1: Conv2d<I, O, 3>,
    pub bn1: BatchNorm2d<O>,
    pub relu: ReLU,
    pub conv2: Conv2d<O, O, 3>,
    pub bn2: BatchNorm2d<O>,
    pub downsample: Option<Downsample<I, O>>,
}

impl<const I: usize, const O: usize> BasicBlock<I, O> {
    /// The block as `ResNet._make_layer` builds it: `conv1` steps by `stride`,
    /// and the shortcut has a `downsample` exactly when `stride != 1` or the
    /// channel count changes.
    ///
    /// # Panics
    ///
    /// When `stride` is 0.
    #[track_caller]
    pub fn new(stride: usize) -> Self {
        let downsample = (stride != 1 || I != O)
            .then(|| Sequential::new((Conv2d::new().stride(stride).bias(false), BatchNorm2d::new())));
        BasicBlock {
            conv1: Conv2d::new().stride(stride).padding(1).bias(false),
            bn1: BatchNorm2d::new(),
            relu: ReLU,
            conv2: Conv2d::new().padding(1).bias(false),
            bn2: BatchNorm2d::new(),
            downsample,
        }
    }
}

impl<const I: usize, const O: usize> Forward<Images<I>> for BasicBlock<I, O> {
    type Output = Images<O>;

    fn forward(&self, x: &Images<I>) -> Images<O> {
        let out = self.bn1.forward(&self.conv1.forward(x)).relu();
        let out = self.bn2.forward(&self.conv2.forward(&Images::<O>::new(out)));
        let identity: Tensor = match &self.downsample {
            Some(downsample) => downsample.forward(x).into(),
            None => Tensor::clone(x),
        };
        Images::new((&*out + &identity).relu())
    }
}

/// A stage of two blocks (`nn.Sequential(BasicBlock, BasicBlock)`): the first
/// changes the channels and steps by the stride, the second keeps them.
pub type Stage<const I: usize, const O: usize> = Sequential<(BasicBlock<I, O>, BasicBlock<O, O>)>;

/// The stage `_make_layer(BasicBlock, O, 2, stride)` builds.
fn stage<const I: usize, const O: usize>(stride: usize) -> Stage<I, O> {
    Sequential::new((BasicBlock::new(stride), BasicBlock::new(1)))
}

/// torchvision's `ResNet` with `BasicBlock` and `[2, 2, 2, 2]` layers: ResNet-18.
///
/// ```python
/// self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
/// self.bn1 = norm_layer(64)
/// self.relu = nn.ReLU(inplace=True)
/// self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
/// self.layer1 = self._make_layer(block, 64, layers[0])
/// self.layer2 = self._make_layer(block, 128, layers[1], stride=2)
/// self.layer3 = self._make_layer(block, 256, layers[2], stride=2)
/// self.layer4 = self._make_layer(block, 512, layers[3], stride=2)
/// self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
/// self.fc = nn.Linear(512 * block.expansion, num_classes)
/// ```
#[derive(Module)]
pub struct ResNet {
    pub conv1: Conv2d<3, 64, 7>,
    pub bn1: BatchNorm2d<64>,
    pub relu: ReLU,
    pub maxpool: MaxPool2d,
    pub layer1: Stage<64, 64>,
    pub layer2: Stage<64, 128>,
    pub layer3: Stage<128, 256>,
    pub layer4: Stage<256, 512>,
    pub avgpool: AdaptiveAvgPool2d,
    pub fc: DynLinear,
}

/// `torchvision.models.resnet18(num_classes=num_classes)`, initialized by
/// the layers' own (PyTorch's default) initializers; load a state dict for
/// torchvision's values.
///
/// # Panics
///
/// When `num_classes` is 0 or too large for an allocation.
#[track_caller]
pub fn resnet18(num_classes: usize) -> ResNet {
    ResNet {
        conv1: Conv2d::new().stride(2).padding(3).bias(false),
        bn1: BatchNorm2d::new(),
        relu: ReLU,
        maxpool: MaxPool2d::new(3).stride(2).padding(1),
        layer1: stage(1),
        layer2: stage(2),
        layer3: stage(2),
        layer4: stage(2),
        avgpool: AdaptiveAvgPool2d::new((1, 1)),
        fc: DynLinear::new(512, num_classes),
    }
}

impl Forward<Images<3>> for ResNet {
    type Output = Tensor;

    /// The logits `[N, num_classes]` of images `[N, 3, H, W]`.
    fn forward(&self, x: &Images<3>) -> Tensor {
        let x = self.maxpool.forward(&Images::<64>::new(self.bn1.forward(&self.conv1.forward(x)).relu()));
        let x = self.layer4.forward(&self.layer3.forward(&self.layer2.forward(&self.layer1.forward(&x))));
        let x = self.avgpool.forward(&x).flatten(1, -1);
        self.fc.forward(&x)
    }
}
