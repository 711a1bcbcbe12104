//! d2l "Parameter Management": reading one layer's parameters, all of them
//! at once, the nested blocks of `rgnet` (built by a loop under names chosen
//! in code), and parameters tied between layers.
//!
//! Run with `cargo run --example parameters`. The functions are shared with
//! `tests/it/examples_output.rs`, which checks what this prints.

use blocks::prelude::*;

/// `nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))`.
pub type Net = Sequential<(LazyLinear, ReLU, LazyLinear)>;

/// ```python
/// net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(1))
/// X = torch.rand(size=(2, 4))
/// net(X).shape
/// ```
pub fn net(x: &Tensor) -> (Net, Tensor) {
    let net = sequential![LazyLinear::new(8), ReLU, LazyLinear::new(1)];
    let y = net.forward(x);
    (net, y)
}

/// `[(name, param.shape) for name, param in net.named_parameters()]`.
pub fn shapes(net: &dyn Module) -> Vec<(String, Vec<usize>)> {
    net.named_parameters().into_iter().map(|(name, p)| (name, p.shape())).collect()
}

/// ```python
/// def block1():
///     return nn.Sequential(nn.LazyLinear(8), nn.ReLU(), nn.LazyLinear(4), nn.ReLU())
/// ```
pub type Block1 = Sequential<(LazyLinear, ReLU, LazyLinear, ReLU)>;

/// d2l's `block1()`: two lazy linear layers, each followed by a ReLU.
pub fn block1() -> Block1 {
    sequential![LazyLinear::new(8), ReLU, LazyLinear::new(4), ReLU]
}

/// ```python
/// def block2():
///     net = nn.Sequential()
///     for i in range(4):
///         net.add_module(f'block {i}', block1())
///     return net
/// ```
pub fn block2() -> DynSequential {
    let mut net = DynSequential::new();
    for i in 0..4 {
        net.add_module(format!("block {i}"), block1());
    }
    net
}

/// `rgnet = nn.Sequential(block2(), nn.LazyLinear(1))`.
pub type RgNet = Sequential<(DynSequential, LazyLinear)>;

/// d2l's `rgnet`: four `block1()`s in a `block2()`, then one lazy linear layer.
pub fn rgnet() -> RgNet {
    sequential![block2(), LazyLinear::new(1)]
}

/// `rgnet[0][1][0].bias`: by position, then back to the layer's own type.
pub fn rgnet_bias(rgnet: &RgNet) -> &Parameter {
    let layer = rgnet.0.0[1][0].downcast_ref::<LazyLinear>().expect("block 1 starts with a LazyLinear");
    layer.bias().expect("LazyLinear::new has a bias")
}

/// The tied network: one `shared` layer at positions 2 and 4.
pub type Tied = Sequential<(LazyLinear, ReLU, LazyLinear, ReLU, LazyLinear, ReLU, LazyLinear)>;

/// ```python
/// shared = nn.LazyLinear(8)
/// net = nn.Sequential(nn.LazyLinear(8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), nn.LazyLinear(1))
/// net(X)
/// ```
/// A clone of a layer shares its parameters: the same tensors, not copies.
pub fn tied(x: &Tensor) -> Tied {
    let shared = LazyLinear::new(8);
    let net = sequential![LazyLinear::new(8), ReLU, shared.clone(), ReLU, shared, ReLU, LazyLinear::new(1)];
    net.forward(x);
    net
}

/// `net[2].weight.data[0] == net[4].weight.data[0]`, printed as PyTorch prints the bool tensor.
pub fn rows_equal(net: &Tied) -> String {
    net.0.2.weight().get(0).eq(net.0.4.weight().get(0)).mask_repr()
}

fn main() {
    manual_seed(0);
    let x = Tensor::rand([2, 4]);
    let (net, y) = net(&x);
    println!("net(X).shape: {:?}", y.shape());

    println!("\n# Parameter access\nnet[2].state_dict():");
    println!("{}", net.0.2.state_dict());

    let bias = net.0.2.bias().expect("LazyLinear::new has a bias");
    println!("\ntype(net[2].bias), net[2].bias, net[2].bias.data:");
    println!("{}", std::any::type_name_of_val(bias));
    println!("{bias}");
    // `.data`: the values alone, a copy outside the graph.
    println!("{}", bias.detach());
    println!("net[2].weight.grad is None: {}", net.0.2.weight().grad().is_none());

    println!("\n# All parameters at once\n{:?}", shapes(&net.0.0));
    println!("{:?}", shapes(&net));
    println!("net.state_dict()['2.bias'].data: {}", net.state_dict().get("2.bias").expect("a key").detach());

    println!("\n# Nested blocks");
    let rgnet = rgnet();
    println!("{}", rgnet.forward(&x));
    println!("{rgnet}");
    println!("rgnet[0][1][0].bias.data: {}", rgnet_bias(&rgnet).detach());
    let by_key = rgnet.parameter("0.block 1.0.bias").expect("a key");
    println!("the same tensor as the key '0.block 1.0.bias': {}", rgnet_bias(&rgnet).same(&by_key));

    println!("\n# Tied parameters");
    let net = tied(&x);
    println!("{}", rows_equal(&net));
    net.0.2.weight().data_mut()[[0, 0]] = 100.0;
    // The same tensor, not just the same values: the write shows through net[4].
    println!("{}", rows_equal(&net));
    println!("net[4].weight.data[0, 0]: {:?}", net.0.4.weight().data()[[0, 0]]);
    println!(
        "one set of parameters, listed once: {:?}",
        shapes(&net).into_iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
}
