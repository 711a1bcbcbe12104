//! d2l "Parameter Initialization": built-in initializers applied to every
//! Linear with `apply`, different ones on different layers, d2l's custom
//! `my_init`, and writing values directly.
//!
//! Run with `cargo run --example init`. The functions are shared with
//! `tests/it/examples_output.rs`, which checks what this prints.

use blocks::nn::{apply, init};
use blocks::prelude::*;

/// `nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))`, after
/// `net(X)` on `X = torch.rand(size=(2, 4))` gave it its widths.
pub type Net = Sequential<(LazyLinear, ReLU, LazyLinear)>;

/// The net, run once on a `[2, 4]` batch so its widths are known.
pub fn net() -> Net {
    let net = sequential![LazyLinear::new(8), ReLU, LazyLinear::new(1)];
    net.forward(&Tensor::rand([2, 4]));
    net
}

/// ```python
/// def init_normal(module):
///     if type(module) == nn.Linear:
///         nn.init.normal_(module.weight, mean=0, std=0.01)
///         nn.init.zeros_(module.bias)
/// ```
pub fn init_normal(module: &dyn Module) {
    if let Some(linear) = module.downcast_ref::<DynLinear>() {
        init::normal_(linear.weight(), 0.0, 0.01);
        init::zeros_(linear.bias().expect("a bias"));
    }
}

/// `init_constant`: weights 1, biases 0.
pub fn init_constant(module: &dyn Module) {
    if let Some(linear) = module.downcast_ref::<DynLinear>() {
        init::constant_(linear.weight(), 1.0);
        init::zeros_(linear.bias().expect("a bias"));
    }
}

/// `def init_xavier(module): ... nn.init.xavier_uniform_(module.weight)`
pub fn init_xavier(module: &dyn Module) {
    if let Some(linear) = module.downcast_ref::<DynLinear>() {
        init::xavier_uniform_(linear.weight(), 1.0);
    }
}

/// `def init_42(module): ... nn.init.constant_(module.weight, 42)`
pub fn init_42(module: &dyn Module) {
    if let Some(linear) = module.downcast_ref::<DynLinear>() {
        init::constant_(linear.weight(), 42.0);
    }
}

/// ```python
/// def my_init(module):
///     if type(module) == nn.Linear:
///         print("Init", *[(name, param.shape) for name, param in module.named_parameters()][0])
///         nn.init.uniform_(module.weight, -10, 10)
///         module.weight.data *= module.weight.data.abs() >= 5
/// ```
/// Each weight is U(5, 10) or U(-10, -5) with probability 1/4, else 0.
/// Returns the line it prints, for the test.
pub fn my_init(module: &dyn Module) -> Option<String> {
    let linear = module.downcast_ref::<DynLinear>()?;
    let (name, first) = &linear.named_parameters()[0];
    let line = format!("Init {name} torch.Size({:?})", first.shape());
    println!("{line}");
    init::uniform_(linear.weight(), -10.0, 10.0);
    zero_small(linear.weight());
    Some(line)
}

/// `weight.data *= weight.data.abs() >= 5`: multiplying by the 0/1 mask, as
/// d2l does, keeps the sign of a zeroed negative weight (printed `-0.0000`).
pub fn zero_small(weight: &Parameter) {
    weight.data_mut().mapv_inplace(|w| w * if w.abs() >= 5.0 { 1.0 } else { 0.0 });
}

/// ```python
/// net[0].weight.data[:] += 1
/// net[0].weight.data[0, 0] = 42
/// ```
pub fn write_directly(net: &Net) {
    let mut weight = net.0.0.weight().data_mut();
    *weight += 1.0;
    weight[[0, 0]] = 42.0;
}

fn main() {
    manual_seed(0);
    let net = net();

    println!("# Built-in initialization");
    apply(&net, init_normal);
    // net[0].weight.data[0], net[0].bias.data[0]
    println!("{:?}", (net.0.0.weight().detach().get(0), net.0.0.bias().expect("a bias").detach().get(0)));
    apply(&net, init_constant);
    println!("{:?}", (net.0.0.weight().detach().get(0), net.0.0.bias().expect("a bias").detach().get(0)));

    println!("\n# Different initializers for different layers");
    apply(&net.0.0, init_xavier);
    apply(&net.0.2, init_42);
    println!("{}", net.0.0.weight().detach().get(0));
    println!("{}", net.0.2.weight().detach());

    println!("\n# Custom initialization");
    apply(&net, |m| {
        my_init(m);
    });
    // net[0].weight[:2]: still the parameter, so the slice is in the graph.
    println!("{}", net.0.0.weight().slice(0, 0, 2, 1));

    println!("\n# Setting parameters directly");
    write_directly(&net);
    println!("{}", net.0.0.weight().detach().get(0));
}
