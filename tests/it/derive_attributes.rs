//! The derive's attributes for layers written as this crate's are:
//! `extra_repr` (PyTorch's settings in the printout), `transparent` (a
//! typed front over a run-time core), `manual` (a block writing `impl
//! Module` itself) and `any_input` (a `Forward` generic over what it is
//! fed), each used by a block of the user's own.

use blocks::nn::{AnyInput, DeepCopy, FeedsInto, OneInput, Takes, Visitor};
use blocks::prelude::*;

/// `y = scale * x`, printed as PyTorch prints a module with `extra_repr`.
#[derive(Module, Clone)]
#[module(name = "Scale", any_input, extra_repr = "Self::settings")]
struct Scale {
    #[module(skip)]
    scale: f32,
    hooks: Hooks,
}

impl Scale {
    fn settings(&self) -> String {
        format!("scale={}", self.scale)
    }
}

impl<K: TensorKind<Elem = f32>> Forward<K> for Scale {
    type Output = K;

    fn forward(&self, x: &K) -> K {
        blocks::nn::keep_kind(self, x, x.tensor() * self.scale)
    }
}

/// A typed front over `DynLinear`: widths in the type, everything else the
/// core's.
#[derive(Module, Clone)]
#[module(transparent, any_input)]
struct Dense<const I: usize, const O: usize> {
    core: DynLinear,
}

impl<const I: usize, const O: usize, K: FeedsInto<Batch<I>, Self>> Forward<K> for Dense<I, O> {
    type Output = Batch<O>;

    fn forward(&self, x: &K) -> Batch<O> {
        Batch::new(self.core.forward(&*x.feed_into()))
    }
}

/// A block whose name depends on its settings, so it writes `impl Module`.
#[derive(Module)]
#[module(manual)]
struct Power {
    exponent: i32,
    hooks: Hooks,
}

impl blocks::nn::Module for Power {
    fn type_name(&self) -> String {
        format!("Power{}", self.exponent)
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        visitor.hooks(&self.hooks);
    }
}

impl Forward<Tensor> for Power {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        x.powi(self.exponent)
    }
}

fn inputs<B: Takes<Inputs = I>, I>(_: &B) {}

#[test]
fn extra_repr_prints_the_settings_and_the_block_keeps_every_kind() {
    let scale = Scale { scale: 2.0, hooks: Hooks::new() };
    assert_eq!(scale.to_string(), "Scale(scale=2)");
    let y: Batch<3> = scale.forward(&Batch::<3>::new(Tensor::ones([2, 3])));
    assert_eq!(y.to_vec(), vec![2.0; 6]);
    inputs::<_, AnyInput>(&scale);
    // Settings only: the same block after `to_f64`, and its own copy.
    let copy = scale.deep_copy();
    assert_eq!(copy.to_string(), "Scale(scale=2)");
}

#[test]
fn a_transparent_front_shows_its_core() {
    manual_seed(0);
    let dense = Dense::<3, 2> { core: DynLinear::new(3, 2) };
    assert_eq!(dense.to_string(), "Linear(in_features=3, out_features=2, bias=True)");
    let keys: Vec<String> = dense.named_parameters().into_iter().map(|(key, _)| key).collect();
    assert_eq!(keys, ["weight", "bias"]);
    assert!(dense.core().is_some_and(|core| core.downcast_ref::<DynLinear>().is_some()));
    let y: Batch<2> = dense.forward(&Tensor::ones([4, 3]));
    assert_eq!(y.shape(), vec![4, 2]);
    let net = sequential![Flatten::default(), Dense::<6, 2> { core: DynLinear::new(6, 2) }];
    let y: Batch<2> = net.forward(&Tensor::ones([4, 2, 3]));
    assert_eq!(y.shape(), vec![4, 2]);
}

#[test]
fn a_manual_block_gets_its_forward_door_and_printout() {
    let power = Power { exponent: 3, hooks: Hooks::new() };
    assert_eq!(power.to_string(), "Power3()");
    inputs::<_, OneInput>(&power);
    let handle = power.register_forward_hook(|_, y| Some(y + 1.0));
    assert_eq!(power.forward(&Tensor::from_vec(vec![2.0], [1])).to_vec(), vec![9.0]);
    handle.remove();
}
