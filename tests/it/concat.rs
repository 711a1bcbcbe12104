//! Channel concatenation on typed images (`Images::<C>::cat`, PyTorch's
//! `torch.cat((p1, p2, p3, p4), dim=1)`): d2l's Inception block written with
//! its channels in its types gives what the run-time block (checked against
//! PyTorch's `inception` case in `conformance_layers`) gives, with the same
//! keys and printout.

use blocks::nn::{Images, MaxPool2d};
use blocks::prelude::*;

use crate::conformance_layers::Inception;

/// `Inception(3, 2, (2, 3), (1, 2), 2)`: 2 + 3 + 2 + 2 = 9 channels out,
/// which `Images::<9>::cat` checks when the test is built.
#[derive(Module)]
#[module(name = "Inception")]
struct TypedInception {
    p1_1: Conv2d<3, 2, 1>,
    p2_1: Conv2d<3, 2, 1>,
    p2_2: Conv2d<2, 3, 3>,
    p3_1: Conv2d<3, 1, 1>,
    p3_2: Conv2d<1, 2, 5>,
    p4_1: MaxPool2d,
    p4_2: Conv2d<3, 2, 1>,
}

impl Forward<Images<3>> for TypedInception {
    type Output = Images<9>;

    fn forward(&self, x: &Images<3>) -> Images<9> {
        let relu = |y: Images<2>| y.map(|t| t.relu());
        let p1 = relu(self.p1_1.forward(x));
        let p2 = self.p2_2.forward(&relu(self.p2_1.forward(x))).map(|t| t.relu());
        let p3 = relu(self.p3_2.forward(&self.p3_1.forward(x).map(|t| t.relu())));
        let p4 = relu(self.p4_2.forward(&self.p4_1.forward(x)));
        Images::<9>::cat((&p1, &p2, &p3, &p4))
    }
}

#[test]
fn a_typed_inception_block_gives_what_the_run_time_one_gives() {
    manual_seed(11);
    let typed = TypedInception {
        p1_1: Conv2d::new(),
        p2_1: Conv2d::new(),
        p2_2: Conv2d::new().padding(1),
        p3_1: Conv2d::new(),
        p3_2: Conv2d::new().padding(2),
        p4_1: MaxPool2d::new(3).stride(1).padding(1),
        p4_2: Conv2d::new(),
    };
    let dynamic = Inception::new(3, 2, [2, 3], [1, 2], 2);
    dynamic.load_state_dict(&typed.state_dict()).unwrap();
    assert_eq!(typed.to_string(), dynamic.to_string());

    let x = Tensor::rand([2, 3, 5, 7]).requires_grad_(true);
    let y = typed.forward(&Images::<3>::new(x.clone()));
    assert_eq!(y.shape(), vec![2, 9, 5, 7]);
    assert_eq!(y.to_vec(), dynamic.forward(&x).to_vec());

    // The gradients through the concatenation are the run-time block's, key by key.
    y.sum().backward();
    let x_dynamic = x.detach().requires_grad_(true);
    dynamic.forward(&x_dynamic).sum().backward();
    assert_eq!(x.grad().unwrap().to_vec(), x_dynamic.grad().unwrap().to_vec());
    let theirs: std::collections::BTreeMap<String, Vec<f32>> =
        dynamic.named_parameters().into_iter().map(|(key, p)| (key, p.grad().unwrap().to_vec())).collect();
    for (key, parameter) in typed.named_parameters() {
        assert_eq!(parameter.grad().unwrap().to_vec(), theirs[&key], "{key}");
    }
}
