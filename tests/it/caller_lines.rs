//! A shape panic in a layer points at the caller's line (`#[track_caller]`
//! through the layer's forward), one layer family at a time, and inside a
//! `Sequential` it names the block's place (`(at block N)`).

use blocks::nn::{AdaptiveAvgPool2d, DynGroupNorm, LogSoftmax, Softmax};
use blocks::prelude::*;

use crate::support::panic_site;

/// `(message, site)` of `f`, asserting the site is `line` of this file.
#[track_caller]
fn assert_at_line<T>(line: u32, f: impl FnOnce() -> T) -> String {
    let (message, site) = panic_site(f);
    assert_eq!(site, format!("{}:{line}", file!()), "the panic ({message}) points at the library");
    message
}

#[test]
fn pools_point_at_the_callers_line_and_name_their_place() {
    let small = Tensor::rand([1, 1, 4, 4]);
    let line = line!() + 1;
    let message = assert_at_line(line, || MaxPool2d::new(5).forward(&small));
    assert!(message.contains("max_pool2d"), "{message}");
    let line = line!() + 1;
    assert_at_line(line, || AvgPool2d::new(5).forward(&small));
    let line = line!() + 1;
    assert_at_line(line, || AdaptiveAvgPool2d::new(1).forward(&Tensor::rand([4])));

    let net = sequential![Conv2d::<1, 2, 1>::new(), ReLU, MaxPool2d::new(5)];
    let line = line!() + 1;
    let message = assert_at_line(line, || net.forward(&small));
    assert!(message.ends_with("(at block 2)"), "{message}");
}

#[test]
fn norms_point_at_the_callers_line_and_name_their_place() {
    let line = line!() + 1;
    let message = assert_at_line(line, || LayerNorm::new([4]).forward(&Tensor::rand([2, 5])));
    assert!(message.contains("layer_norm"), "{message}");
    let line = line!() + 1;
    assert_at_line(line, || DynGroupNorm::new(2, 4).forward(&Tensor::rand([2, 6, 3])));
    let net = sequential![Linear::<3, 5>::new(), LayerNorm::new([4])];
    let line = line!() + 1;
    let message = assert_at_line(line, || net.forward(&Tensor::rand([2, 3])));
    assert!(message.ends_with("(at block 1)"), "{message}");
}

#[test]
fn softmaxes_point_at_the_callers_line_and_name_their_place() {
    let line = line!() + 1;
    let message = assert_at_line(line, || Softmax::new(3).forward(&Tensor::rand([2, 3])));
    assert!(message.contains("softmax"), "{message}");
    let line = line!() + 1;
    assert_at_line(line, || LogSoftmax::new(-3).forward(&Tensor::rand([2, 3])));
    let net = sequential![Linear::<3, 3>::new(), Softmax::new(2)];
    let line = line!() + 1;
    let message = assert_at_line(line, || net.forward(&Tensor::rand([2, 3])));
    assert!(message.ends_with("(at block 1)"), "{message}");
}

#[test]
fn dropout_and_flatten_point_at_the_callers_line_and_name_their_place() {
    let line = line!() + 1;
    assert_at_line(line, || Dropout2d::new(0.5).forward(&Tensor::rand([4])));
    let line = line!() + 1;
    assert_at_line(line, || Flatten::new(2, 3).forward(&Tensor::rand([2, 3])));
    let net = sequential![Linear::<3, 3>::new(), Flatten::new(3, 4)];
    let line = line!() + 1;
    let message = assert_at_line(line, || net.forward(&Tensor::rand([2, 3])));
    assert!(message.contains("flatten") && message.ends_with("(at block 1)"), "{message}");
    let net = sequential![ReLU, Dropout2d::new(0.5)];
    let line = line!() + 1;
    let message = assert_at_line(line, || net.forward(&Tensor::rand([4])));
    assert!(message.contains("dropout2d") && message.ends_with("(at block 1)"), "{message}");
    let net = sequential![ReLU, Flatten::new(1, 0)]; // start after end
    let line = line!() + 1;
    let message = assert_at_line(line, || net.forward(&Tensor::rand([2, 3])));
    assert!(
        message.contains("start_dim cannot come after end_dim") && message.ends_with("(at block 1)"),
        "{message}"
    );
    // In float64 too.
    let net = sequential![ReLU, Flatten::new(3, 4)];
    let line = line!() + 1;
    let message = assert_at_line(line, || net.forward(&Tensor64::zeros([2, 3])));
    assert!(message.ends_with("(at block 1)"), "{message}");
}

#[test]
fn linear_and_conv_point_at_the_callers_line_and_name_their_place() {
    let line = line!() + 1;
    assert_at_line(line, || Linear::<4, 2>::new().forward(&Tensor::rand([2, 5])));
    let line = line!() + 1;
    assert_at_line(line, || Conv2d::<1, 2, 5>::new().forward(&Tensor::rand([1, 1, 3, 3])));
    let convs = sequential![Conv2d::<1, 2, 3>::new(), ReLU, Conv2d::<2, 2, 5>::new()];
    let line = line!() + 1;
    let message = assert_at_line(line, || convs.forward(&Tensor::rand([1, 1, 5, 5])));
    assert!(message.ends_with("(at block 2)"), "{message}");
    let net = sequential![Linear::<3, 4>::new(), Flatten::default(), Linear::<5, 2>::new()];
    let line = line!() + 1;
    let message = assert_at_line(line, || net.forward(&Tensor::rand([2, 3])));
    assert!(message.ends_with("(at block 2)"), "{message}");
}

#[test]
fn optimizers_and_data_splits_point_at_the_callers_line() {
    let layer = Linear::<2, 2>::new();
    let sgd = SgdConfig { lr: -1.0, ..Default::default() };
    let line = line!() + 1;
    let message = assert_at_line(line, || Sgd::new(layer.parameters(), sgd));
    assert!(message.contains("learning rate"), "{message}");
    let adam = AdamConfig { lr: -1.0, ..Default::default() };
    let line = line!() + 1;
    assert_at_line(line, || Adam::new(layer.parameters(), adam));
    let data = TensorDataset::new(Tensor::rand([4, 2]), vec![0, 1, 0, 1]);
    let line = line!() + 1;
    assert_at_line(line, || data.split(1.5, 0));
}
