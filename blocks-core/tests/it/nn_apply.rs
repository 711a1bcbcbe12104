//! `nn::apply` in PyTorch's order, `downcast_ref::<DynLinear>()` for every kind of Linear,
//! `apply_to` for one type, and d2l's parameter-management recipes: its
//! init functions, direct writes to `.data`, tied weights and freezing.

use std::fmt;

use blocks_core::nn::{
    DynLinear, LazyLinear, Linear, Module, ModuleExt, Parameter, ReLU, Sequential, Visitor, apply, apply_to,
    init,
};
use blocks_core::{Tensor, manual_seed};

fn order(module: &dyn Module) -> Vec<String> {
    let mut names = Vec::new();
    apply(module, |m| names.push(m.type_name()));
    names
}

#[test]
fn children_first_then_the_block_as_pytorch() {
    // PyTorch: Sequential(Linear(2,3), Sequential(ReLU(), Linear(3,3)), Linear(3,1)).apply(...)
    let net = Sequential::new((
        Linear::<2, 3>::new(),
        Sequential::new((ReLU, Linear::<3, 3>::new())),
        Linear::<3, 1>::new(),
    ));
    assert_eq!(order(&net), ["Linear", "ReLU", "Linear", "Sequential", "Linear", "Sequential"]);
    let mut widths = Vec::new();
    apply(&net, |m| {
        widths.extend(m.downcast_ref::<DynLinear>().map(|l| (l.in_features(), l.out_features())))
    });
    assert_eq!(widths, [(2, 3), (3, 3), (3, 1)]);
}

/// d2l's tied network written by hand: one `shared` layer registered as
/// children 2 and 4 of the same block, like `nn.Sequential(..., shared, ReLU(), shared, ...)`.
struct Tied {
    first: DynLinear,
    relus: (ReLU, ReLU, ReLU),
    shared: DynLinear,
    last: DynLinear,
}

impl Module for Tied {
    fn type_name(&self) -> String {
        "Sequential".into()
    }
    fn visit<'m>(&'m self, v: &mut dyn Visitor<'m>) {
        v.child("0", &self.first);
        v.child("1", &self.relus.0);
        v.child("2", &self.shared);
        v.child("3", &self.relus.1);
        v.child("4", &self.shared);
        v.child("5", &self.relus.2);
        v.child("6", &self.last);
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

#[test]
fn a_block_registered_twice_is_visited_once_and_zero_sized_ones_each_time() {
    let net = Tied {
        first: DynLinear::new(4, 8),
        relus: (ReLU, ReLU, ReLU),
        shared: DynLinear::new(8, 8),
        last: DynLinear::new(8, 1),
    };
    // What PyTorch's apply gives on the tied net of d2l (checked with PyTorch 2.x).
    assert_eq!(order(&net), ["Linear", "ReLU", "Linear", "ReLU", "ReLU", "Linear", "Sequential"]);
    // The shared layer's parameters are still listed once.
    assert_eq!(net.parameters().len(), 6);
}

#[test]
fn downcast_ref_finds_every_linear_whatever_its_widths() {
    let lazy = LazyLinear::new(3);
    assert!(
        lazy.as_dyn().downcast_ref::<DynLinear>().is_none(),
        "a LazyLinear before its dry run is not a Linear yet"
    );
    lazy.forward(&Tensor::ones([1, 5]));
    let blocks: [&dyn Module; 3] = [&Linear::<2, 7>::new(), &DynLinear::new(9, 4), &lazy];
    let widths: Vec<_> = blocks
        .iter()
        .map(|m| m.downcast_ref::<DynLinear>().map(|l| (l.in_features(), l.out_features())))
        .collect();
    assert_eq!(widths, [Some((2, 7)), Some((9, 4)), Some((5, 3))]);
    assert!(ReLU::default().as_dyn().downcast_ref::<DynLinear>().is_none());
    assert!(Sequential::new((Linear::<1, 1>::new(),)).as_dyn().downcast_ref::<DynLinear>().is_none());
    // The DynLinear given holds the block's own parameters.
    let layer = Linear::<2, 7>::new();
    assert!(layer.as_dyn().downcast_ref::<DynLinear>().unwrap().weight().same(layer.weight()));
}

fn d2l_net() -> Sequential<(Linear<4, 8>, ReLU, Linear<8, 1>)> {
    Sequential::new((Linear::new(), ReLU, Linear::new()))
}

#[test]
fn d2l_init_normal_and_init_constant() {
    let net = d2l_net();
    apply(&net, |m| {
        if let Some(linear) = m.downcast_ref::<DynLinear>() {
            init::normal_(linear.weight(), 0.0, 0.01);
            init::zeros_(linear.bias().unwrap());
        }
    });
    let weight = net.0.0.weight().to_vec();
    assert!(weight.iter().all(|w| w.abs() < 0.06) && weight.iter().any(|w| *w != 0.0));
    assert_eq!(net.0.2.bias().unwrap().to_vec(), vec![0.0]);

    apply(&net, |m| {
        if let Some(linear) = m.downcast_ref::<DynLinear>() {
            init::constant_(linear.weight(), 1.0);
            init::zeros_(linear.bias().unwrap());
        }
    });
    assert_eq!(net.0.0.weight().to_vec(), vec![1.0; 32]);
    assert_eq!(net.0.2.weight().to_vec(), vec![1.0; 8]);
}

#[test]
fn d2l_different_init_per_block() {
    let net = d2l_net();
    apply(&net.0.0, |m| {
        if let Some(linear) = m.downcast_ref::<DynLinear>() {
            init::xavier_uniform_(linear.weight(), 1.0);
        }
    });
    apply(&net.0.2, |m| {
        if let Some(linear) = m.downcast_ref::<DynLinear>() {
            init::constant_(linear.weight(), 42.0);
        }
    });
    let bound = (6.0f32 / 12.0).sqrt();
    assert!(net.0.0.weight().to_vec().iter().all(|w| w.abs() <= bound));
    assert_eq!(net.0.2.weight().to_vec(), vec![42.0; 8]);
}

#[test]
fn d2l_my_init_and_direct_writes() {
    manual_seed(3);
    let net = d2l_net();
    let mut printed = Vec::new();
    apply(&net, |m| {
        if let Some(linear) = m.downcast_ref::<DynLinear>() {
            let (name, p) = &linear.named_parameters()[0];
            printed.push(format!("Init {name} {:?}", p.shape()));
            init::uniform_(linear.weight(), -10.0, 10.0);
            linear.weight().data_mut().mapv_inplace(|w| if w.abs() >= 5.0 { w } else { 0.0 });
        }
    });
    assert_eq!(printed, ["Init weight [8, 4]", "Init weight [1, 8]"]);
    let weight = net.0.0.weight().to_vec();
    assert!(weight.iter().all(|w| *w == 0.0 || (5.0..10.0).contains(&w.abs())));
    assert!(weight.contains(&0.0) && weight.iter().any(|w| *w != 0.0));

    // net[0].weight.data[:] += 1; net[0].weight.data[0, 0] = 42
    let w = net.0.0.weight();
    let before = w.to_vec();
    *w.data_mut() += 1.0;
    w.data_mut()[[0, 0]] = 42.0;
    let after = w.to_vec();
    assert_eq!(after[0], 42.0);
    assert!(after[1..].iter().zip(&before[1..]).all(|(a, b)| *a == b + 1.0));
    // Not recorded: still a leaf that trains.
    assert!(w.is_leaf() && w.grad_fn().is_none() && w.requires_grad());
    net.forward(&Tensor::ones([2, 4])).sum().backward();
    assert_eq!(w.grad().unwrap().shape(), vec![8, 4]);
}

#[test]
fn tied_layers_share_their_parameters() {
    let shared = Linear::<8, 8>::new();
    let net = Sequential::new((
        Linear::<4, 8>::new(),
        ReLU,
        shared.clone(),
        ReLU,
        shared,
        ReLU,
        Linear::<8, 1>::new(),
    ));
    net.0.2.weight().data_mut()[[0, 0]] = 100.0;
    assert_eq!(net.0.4.weight().data()[[0, 0]], 100.0);
    assert!(net.0.2.weight().same(net.0.4.weight()));
    assert_eq!(net.parameters().len(), 6);
}

#[test]
fn freezing_a_block_stops_its_gradients() {
    let net = d2l_net();
    net.0.0.requires_grad_(false);
    net.forward(&Tensor::ones([3, 4])).sum().backward();
    assert!(net.0.0.weight().grad().is_none());
    assert!(net.0.2.weight().grad().is_some());
}

/// d2l's custom layer `MyLinear`, written by hand: randn parameters, relu(XW + b).
struct MyLinear {
    weight: Parameter,
    bias: Parameter,
}

impl MyLinear {
    fn new(in_units: usize, units: usize) -> Self {
        MyLinear {
            weight: Parameter::new(Tensor::randn([in_units, units])),
            bias: Parameter::new(Tensor::randn([units])),
        }
    }
}

impl Module for MyLinear {
    fn type_name(&self) -> String {
        "MyLinear".into()
    }
    fn visit<'m>(&'m self, v: &mut dyn Visitor<'m>) {
        v.parameter("weight", (&self.weight).into());
        v.parameter("bias", (&self.bias).into());
    }
    fn as_dyn(&self) -> &dyn Module {
        self
    }
}

impl fmt::Display for MyLinear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        blocks_core::nn::fmt_module(self, f)
    }
}

#[test]
fn apply_to_acts_on_one_type_only() {
    let net = Sequential::new((MyLinear::new(64, 8), ReLU, DynLinear::new(8, 1), MyLinear::new(1, 1)));
    let mut seen = 0;
    apply_to(&net, |layer: &MyLinear| {
        seen += 1;
        init::zeros_(&layer.bias);
    });
    assert_eq!(seen, 2);
    assert_eq!(net.0.0.bias.to_vec(), vec![0.0; 8]);
    assert_eq!(net.0.3.bias.to_vec(), vec![0.0]);
    // A custom layer is not a Linear, and the DynLinear kept its bias.
    assert!(net.0.0.as_dyn().downcast_ref::<DynLinear>().is_none());
    assert_ne!(net.0.2.bias().unwrap().to_vec(), vec![0.0]);
    assert_eq!(net.0.0.to_string(), "MyLinear()");
    let mut relus = 0;
    apply_to(&net, |_: &ReLU| relus += 1);
    assert_eq!(relus, 1);
}
