//! d2l's custom layers: `CenteredLayer` (no parameters, keeps the width, fits
//! anywhere in a typed chain) and `MyLinear` (its own `Parameter`s, trained
//! through the graph: the mistake of the book's `.data` version cannot be
//! written).

use blocks::nn::{apply_to, init};
use blocks::prelude::*;

/// ```python
/// class CenteredLayer(nn.Module):
///     def forward(self, X):
///         return X - X.mean()
/// ```
#[derive(Module)]
#[module(keeps_width)]
struct CenteredLayer;

impl Forward<Tensor> for CenteredLayer {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        x - &x.mean()
    }
}

/// ```python
/// class MyLinear(nn.Module):
///     def __init__(self, in_units, units):
///         super().__init__()
///         self.weight = nn.Parameter(torch.randn(in_units, units))
///         self.bias = nn.Parameter(torch.randn(units,))
///     def forward(self, X):
///         linear = torch.matmul(X, self.weight.data) + self.bias.data
///         return F.relu(linear)
/// ```
#[derive(Module)]
#[module(name = "MyLinear")]
struct MyLinear<const IN: usize, const UNITS: usize> {
    weight: Parameter,
    bias: Parameter,
}

impl<const IN: usize, const UNITS: usize> MyLinear<IN, UNITS> {
    fn new() -> Self {
        MyLinear {
            weight: Parameter::new(Tensor::randn([IN, UNITS])),
            bias: Parameter::new(Tensor::randn([UNITS])),
        }
    }
}

impl<const IN: usize, const UNITS: usize> Forward<Batch<IN>> for MyLinear<IN, UNITS> {
    type Output = Batch<UNITS>;

    fn forward(&self, x: &Batch<IN>) -> Batch<UNITS> {
        Batch::new((x.matmul(&self.weight) + &*self.bias).relu())
    }
}

/// A generic width-keeping layer: scales by a parameter, whatever block it wraps.
#[derive(Module)]
#[module(keeps_width)]
struct Scaled<B> {
    scale: Parameter,
    #[module(skip)]
    _inner: std::marker::PhantomData<B>,
}

impl<B: Send + Sync + 'static> Forward<Tensor> for Scaled<B> {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        x * &*self.scale
    }
}

/// A layer that claims to keep the width and does not.
#[derive(Module)]
#[module(keeps_width)]
struct Liar;

impl Forward<Tensor> for Liar {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        x.sum_dim(&[-1], true)
    }
}

#[test]
fn centered_layer_prints_as_d2l_shows() {
    let y = CenteredLayer.forward(&Tensor::from_vec(vec![1.0, 2.0, 3.0, 4.0, 5.0], [5]));
    assert_eq!(y.to_string(), "tensor([-2., -1.,  0.,  1.,  2.])");
    assert_eq!(CenteredLayer.to_string(), "CenteredLayer()");
    assert!(CenteredLayer.named_parameters().is_empty());
}

#[test]
fn centered_layer_keeps_every_tensor_kind() {
    let t: Tensor = CenteredLayer.forward(&Tensor::rand([2, 3]));
    assert_eq!(t.shape(), vec![2, 3]);
    let b: Batch<3> = CenteredLayer.forward(&Batch::<3>::rand(2));
    assert_eq!(b.shape(), vec![2, 3]);
    let s: Scalar = CenteredLayer.forward(&Scalar::new(Tensor::scalar(4.0)));
    assert_eq!(s.item(), 0.0);
}

#[test]
fn centered_layer_in_a_typed_chain_centres_the_output() {
    manual_seed(0);
    // net = nn.Sequential(nn.LazyLinear(128), CenteredLayer()); Y = net(torch.rand(4, 8)); Y.mean()
    let net = sequential![Linear::<8, 128>::new(), CenteredLayer];
    let y: Batch<128> = net.forward(&Tensor::rand([4, 8]));
    assert_eq!(y.shape(), vec![4, 128]);
    let mean = y.mean();
    assert!(mean.item().abs() < 1e-6, "{mean}");
    assert_eq!(mean.grad_fn(), Some("MeanBackward0"));
    // The width is still in the type: a typed layer follows without a run-time check.
    let head = sequential![Linear::<8, 128>::new(), CenteredLayer, Linear::<128, 2>::new()];
    let _: Batch<2> = head.forward(&Batch::<8>::rand(4));
    assert_eq!(
        net.to_string(),
        "Sequential(\n  (0): Linear(in_features=8, out_features=128, bias=True)\n  (1): CenteredLayer()\n)"
    );
}

#[test]
fn centered_layer_is_a_block_for_run_time_containers() {
    let mut net = DynSequential::new();
    net.add_module("hidden", DynLinear::new(3, 6)).add_module("center", CenteredLayer);
    let y = net.forward(&Tensor::rand([2, 3]));
    assert!(y.mean().item().abs() < 1e-6);
    assert_eq!(net["center"].type_name(), "CenteredLayer");
}

#[test]
fn a_generic_width_keeping_layer_registers_its_parameter() {
    let layer =
        Scaled::<u8> { scale: Parameter::new(Tensor::full([1], 2.0)), _inner: std::marker::PhantomData };
    let net = sequential![Linear::<3, 4>::new(), layer];
    let y: Batch<4> = net.forward(&Batch::<3>::rand(2));
    y.sum().backward();
    assert_eq!(net.named_parameters()[2].0, "1.scale");
    assert!(net.0.1.scale.grad().is_some());
}

#[test]
#[should_panic(
    expected = "Liar is marked #[module(keeps_width)], but its forward turned a tensor of shape [2, 4] \
                           into one of shape [2, 1] (at block 1)"
)]
fn a_layer_that_changes_the_width_is_caught_naming_it() {
    let net = sequential![Linear::<3, 4>::new(), Liar, Linear::<4, 1>::new()];
    net.forward(&Batch::<3>::rand(2));
}

#[test]
fn my_linear_registers_its_parameters_as_pytorch() {
    let linear = MyLinear::<5, 3>::new();
    let names: Vec<String> = linear.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight", "bias"]);
    assert_eq!(linear.weight.shape(), vec![5, 3]);
    assert!(linear.weight.to_string().starts_with("Parameter containing:\ntensor([["));
    assert!(linear.weight.to_string().ends_with("requires_grad=True)"));
    assert_eq!(linear.to_string(), "MyLinear()");
}

#[test]
fn my_linear_output_is_in_the_graph_and_trains_its_parameters() {
    // The book's forward used `self.weight.data`: its output had no grad_fn and
    // backward gave the parameters no gradient. Here a Parameter is the tensor
    // in the graph; there is no detached `.data` tensor to compute with.
    let linear = MyLinear::<5, 3>::new();
    let y = linear.forward(&Batch::<5>::new(Tensor::rand([2, 5])));
    assert_eq!(y.grad_fn(), Some("ReluBackward0"));
    assert!(linear.weight.grad().is_none() && linear.bias.grad().is_none());
    // With every unit active, the gradients are exact: 2 rows give each bias 2,
    // and weight[i][j] the sum of column i of X.
    init::constant_(&linear.weight, 0.1);
    init::constant_(&linear.bias, 1.0);
    let x = Tensor::from_vec(vec![0.1, 0.2, 0.3, 0.4, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0], [2, 5]);
    linear.forward(&Batch::<5>::new(x)).sum().backward();
    let (w, b) = (linear.weight.grad().unwrap(), linear.bias.grad().unwrap());
    assert_eq!(b.to_vec(), vec![2.0; 3]);
    let column_sums = [1.1f32, 1.2, 1.3, 1.4, 1.5];
    let expected: Vec<f32> = column_sums.iter().flat_map(|s| [*s; 3]).collect();
    for (got, want) in w.to_vec().iter().zip(&expected) {
        assert!((got - want).abs() < 1e-6, "{w}");
    }
}

#[test]
fn an_optimizer_step_moves_my_linear() {
    let linear = MyLinear::<4, 2>::new();
    // Known values, so every unit is active: relu(1·4·0.1 + 1) > 0.
    init::constant_(&linear.weight, 0.1);
    init::constant_(&linear.bias, 1.0);
    let mut opt = Sgd::new(linear.parameters(), SgdConfig { lr: 0.1, ..Default::default() });
    linear.forward(&Batch::<4>::new(Tensor::ones([3, 4]))).sum().backward();
    opt.step();
    // d sum / d W = Xᵀ · 1 = 3 everywhere, so W = 0.1 - 0.1 · 3; the book's `.data`
    // version would leave it at 0.1.
    for w in linear.weight.to_vec() {
        assert!((w - (-0.2)).abs() < 1e-6, "{w}");
    }
    for b in linear.bias.to_vec() {
        assert!((b - (1.0 - 0.1 * 3.0)).abs() < 1e-6, "{b}");
    }
}

#[test]
fn models_of_my_linear_chain_by_type() {
    // net = nn.Sequential(MyLinear(64, 8), MyLinear(8, 1)); net(torch.rand(2, 64))
    let net = sequential![MyLinear::<64, 8>::new(), MyLinear::<8, 1>::new()];
    let y: Batch<1> = net.forward(&Tensor::rand([2, 64]));
    assert_eq!(y.shape(), vec![2, 1]);
    assert_eq!(net.num_params(), 64 * 8 + 8 + 8 + 1);
    let mut seen = 0;
    apply_to(&net, |_: &MyLinear<64, 8>| seen += 1);
    assert_eq!(seen, 1);
}
