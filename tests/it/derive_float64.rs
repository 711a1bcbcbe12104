//! `#[derive(Module)]` on a block generic over its element type
//! (`struct Net<E: Element = f32>`): `to_f64()` converts every field (layers,
//! parameters, buffers), clones the rest, keeps names and ties, and the
//! converted block runs, trains and gradchecks in float64.

use blocks::prelude::*;
use blocks::{TensorBase, gradcheck_module};

/// d2l's MLP with a learned scale, a buffer and plain data, in either element type.
#[derive(Module, Clone)]
struct Mlp<E: Element = f32> {
    hidden: Linear<4, 8, E>,
    norm: BatchNorm1d<8, E>,
    act: ReLU,
    out: Linear<8, 2, E>,
    scale: Parameter<E>,
    #[module(buffer)]
    offset: TensorBase<E>,
    #[module(skip)]
    note: String,
    training: TrainingFlag,
}

impl Mlp {
    fn new() -> Self {
        Mlp {
            hidden: Linear::new(),
            norm: BatchNorm1d::new(),
            act: ReLU,
            out: Linear::new(),
            scale: Parameter::new(blocks::Tensor::from_vec(vec![1.5], [1])),
            offset: blocks::Tensor::from_vec(vec![0.25, -0.25], [2]),
            note: "d2l 5.1".into(),
            training: TrainingFlag::default(),
        }
    }
}

impl<E: Element> Forward<Batch<4, E>> for Mlp<E> {
    type Output = Batch<2, E>;

    fn forward(&self, x: &Batch<4, E>) -> Batch<2, E> {
        let h = self.act.forward(&self.norm.forward(&self.hidden.forward(x)));
        self.out.forward(&h).map(|y| &(y * &*self.scale) + &self.offset)
    }
}

#[test]
fn a_derived_generic_block_converts_to_float64_and_back() {
    manual_seed(7);
    let net = Mlp::new();
    net.eval();
    let double: Mlp<f64> = net.to_f64();
    assert_eq!(double.note, "d2l 5.1");
    assert!(!double.is_training(), "the mode is kept");
    assert_eq!(net.to_string(), double.to_string());
    assert_eq!(net.state_dict().keys(), double.state_dict().keys());
    // A block's own tensors first, then its children's, as PyTorch lists them.
    assert_eq!(
        double.named_buffers_of::<f64>().iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["offset", "norm.running_mean", "norm.running_var"]
    );
    assert_eq!(double.scale.to_vec(), [1.5]);
    let x = blocks::Tensor::randn([3, 4]);
    let (y, y64) = (net.forward(&x), double.forward(&x.cast::<f64>()));
    for (a, b) in y.to_vec().iter().zip(y64.to_vec()) {
        assert!((f64::from(*a) - b).abs() < 1e-5, "{a} vs {b}");
    }
    let back: Mlp = double.to_f32();
    assert_eq!(back.hidden.weight().to_vec(), net.hidden.weight().to_vec());
}

#[test]
fn a_derived_generic_block_gradchecks_in_float64_in_training_mode() {
    manual_seed(8);
    let net = Mlp::new().to_f64();
    let x = Tensor64::randn([5, 4]).requires_grad_(true);
    gradcheck_module(&net, |xs| net.forward(&xs[0]).into_tensor().tanh().sum(), &[x]).unwrap();
}
