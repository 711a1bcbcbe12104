//! d2l "Lazy Initialization": a network whose input width is not written
//! anywhere, which learns it from its first batch (the dry run), and d2l's
//! `apply_init`: run the dry run, then initialize with `apply`.
//!
//! Run with `cargo run --example lazy`. The functions are shared with
//! `tests/it/examples_output.rs`, which checks what this prints.

use blocks::nn::{apply, init, uninitialized_parameters};
use blocks::prelude::*;

/// `net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))`
pub type Net = Sequential<(LazyLinear, ReLU, LazyLinear)>;

/// The net, its widths not yet known.
pub fn net() -> Net {
    sequential![LazyLinear::new(256), ReLU, LazyLinear::new(10)]
}

/// d2l's `apply_init`: a dry run on `inputs` gives every lazy layer its
/// widths, then `init` runs on every block. The order matters: before its
/// dry run a lazy layer is not a Linear yet (`downcast_ref::<DynLinear>()` gives `None`, as
/// `type(m) == nn.Linear` is false in PyTorch), so an `apply` then would
/// pass it over, and initializing its parameters directly panics, as
/// PyTorch raises.
///
/// ```python
/// def apply_init(self, inputs, init=None):
///     self.forward(*inputs)
///     if init is not None:
///         self.net.apply(init)
/// ```
pub fn apply_init<M>(net: &M, inputs: &Tensor, init: Option<fn(&dyn Module)>)
where
    M: Forward<Tensor> + 'static,
    M::Output: HookValue,
{
    run(net, inputs);
    if let Some(init) = init {
        apply(net, init);
    }
}

/// An initializer for `apply_init`: Xavier weights, zero biases.
pub fn init_xavier(module: &dyn Module) {
    if let Some(linear) = module.downcast_ref::<DynLinear>() {
        init::xavier_uniform_(linear.weight(), 1.0);
        init::zeros_(linear.bias().expect("a bias"));
    }
}

fn main() {
    manual_seed(0);
    let net = net();
    // net[0].weight
    println!("{}", net.0.0.weight());
    println!("{net}");
    println!("uninitialized: {:?}", uninitialized_parameters(&net));
    apply(&net, init_xavier);
    println!("after an apply before the dry run, still: {:?}", uninitialized_parameters(&net));

    // X = torch.rand(2, 20); net(X); net[0].weight.shape
    let x = Tensor::rand([2, 20]);
    net.forward(&x);
    println!("\nnet[0].weight.shape: {:?}", net.0.0.weight().shape());
    println!("{net}");
    println!("uninitialized: {:?}", uninitialized_parameters(&net));

    println!("\n# apply_init");
    let net = self::net();
    apply_init(&net, &x, Some(init_xavier));
    println!("net[2].bias.data: {}", net.0.2.bias().expect("a bias").detach());
    let bound = (6.0f32 / (20.0 + 256.0)).sqrt();
    let within = net.0.0.weight().to_vec().iter().all(|w| w.abs() <= bound);
    println!("net[0].weight within the Xavier bound {bound:.4}: {within}");
}
