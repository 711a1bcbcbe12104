//! `#[derive(Module)]` and `sequential!` on real values: keys and their
//! order, field kinds, reprs as PyTorch prints them, typed forwards.

use blocks::prelude::*;

fn parameter_names(module: &dyn Module) -> Vec<String> {
    module.named_parameters().into_iter().map(|(name, _)| name).collect()
}

fn member_names(module: &dyn Module) -> Vec<String> {
    module.named_members().into_iter().map(|(name, _)| name).collect()
}

/// d2l's `NestMLP`: a Sequential and a Linear.
#[derive(Module)]
#[module(name = "NestMLP")]
struct NestMlp {
    net: Sequential<(Linear<20, 64>, ReLU, Linear<64, 32>, ReLU)>,
    linear: Linear<32, 16>,
}

impl NestMlp {
    fn new() -> Self {
        NestMlp { net: sequential![Linear::new(), ReLU, Linear::new(), ReLU], linear: Linear::new() }
    }
}

impl Forward<Batch<20>> for NestMlp {
    type Output = Batch<16>;

    fn forward(&self, x: &Batch<20>) -> Batch<16> {
        self.linear.forward(&self.net.forward(x))
    }
}

/// d2l's `FixedHiddenMLP`: a constant random weight (plain data, as in
/// PyTorch, where it is never registered) and one Linear used twice.
#[derive(Module)]
#[module(name = "FixedHiddenMLP")]
struct FixedHiddenMlp {
    #[module(skip)]
    rand_weight: Tensor,
    linear: Linear<20, 20>,
}

impl FixedHiddenMlp {
    fn new() -> Self {
        FixedHiddenMlp { rand_weight: Tensor::rand([20, 20]), linear: Linear::new() }
    }
}

impl Forward<Batch<20>> for FixedHiddenMlp {
    type Output = Scalar;

    fn forward(&self, x: &Batch<20>) -> Scalar {
        let x = self.linear.forward(x);
        let x = x.matmul(&self.rand_weight).add_scalar(1.0).relu();
        let mut x = self.linear.forward(&x).into_tensor();
        while (x.relu() + (-&x).relu()).sum().item() > 1.0 {
            x /= 2.0;
        }
        Scalar::new(x.sum())
    }
}

#[test]
fn nest_mlp_prints_like_pytorch() {
    assert_eq!(
        NestMlp::new().to_string(),
        "NestMLP(\n  (net): Sequential(\n    (0): Linear(in_features=20, out_features=64, bias=True)\n    (1): ReLU()\n    (2): Linear(in_features=64, out_features=32, bias=True)\n    (3): ReLU()\n  )\n  (linear): Linear(in_features=32, out_features=16, bias=True)\n)"
    );
}

#[test]
fn named_struct_keys_in_declaration_order() {
    let net = NestMlp::new();
    assert_eq!(
        parameter_names(&net),
        ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias", "linear.weight", "linear.bias"]
    );
    assert_eq!(net.type_name(), "NestMLP");
    let children: Vec<String> = net.named_children().into_iter().map(|(n, _)| n).collect();
    assert_eq!(children, ["net", "linear"]);
}

#[test]
fn skipped_field_is_not_registered() {
    let net = FixedHiddenMlp::new();
    assert_eq!(member_names(&net), ["linear.weight", "linear.bias"]);
    assert_eq!(
        net.to_string(),
        "FixedHiddenMLP(\n  (linear): Linear(in_features=20, out_features=20, bias=True)\n)"
    );
}

#[test]
fn typed_forward_of_derived_blocks() {
    let y = NestMlp::new().forward(&Batch::rand(3));
    assert_eq!(y.shape(), vec![3, 16]);
    let s = FixedHiddenMlp::new().forward(&Batch::rand(2));
    assert!(s.item().abs() <= 1.0);
}

#[test]
fn chimera_sequential_of_derived_blocks() {
    let chimera = sequential![NestMlp::new(), Linear::<16, 20>::new(), FixedHiddenMlp::new()];
    let y: Scalar = chimera.forward(&Tensor::rand([2, 20]));
    assert_eq!(y.numel(), 1);
    assert_eq!(
        chimera.to_string(),
        "Sequential(\n  (0): NestMLP(\n    (net): Sequential(\n      (0): Linear(in_features=20, out_features=64, bias=True)\n      (1): ReLU()\n      (2): Linear(in_features=64, out_features=32, bias=True)\n      (3): ReLU()\n    )\n    (linear): Linear(in_features=32, out_features=16, bias=True)\n  )\n  (1): Linear(in_features=16, out_features=20, bias=True)\n  (2): FixedHiddenMLP(\n    (linear): Linear(in_features=20, out_features=20, bias=True)\n  )\n)"
    );
    assert_eq!(parameter_names(&chimera)[6], "1.weight");
    assert_eq!(parameter_names(&chimera)[8], "2.linear.weight");
}

/// A hand-written typed forward whose widths the compiler checks.
#[derive(Module)]
#[module(name = "MLP")]
struct Mlp {
    hidden: Linear<20, 256>,
    out: Linear<256, 10>,
}

impl Forward<Batch<20>> for Mlp {
    type Output = Batch<10>;

    fn forward(&self, x: &Batch<20>) -> Batch<10> {
        let h = self.hidden.forward(x).relu();
        self.out.forward(&h)
    }
}

#[test]
fn mlp_forward_and_repr() {
    let net = Mlp { hidden: Linear::new(), out: Linear::new() };
    assert_eq!(net.forward(&Batch::rand(2)).shape(), vec![2, 10]);
    assert_eq!(
        net.to_string(),
        "MLP(\n  (hidden): Linear(in_features=20, out_features=256, bias=True)\n  (out): Linear(in_features=256, out_features=10, bias=True)\n)"
    );
    assert_eq!(net.num_params(), 20 * 256 + 256 + 256 * 10 + 10);
}

#[derive(Module)]
struct Pair(Linear<2, 3>, #[module(skip)] u8, Linear<3, 1>);

#[derive(Module)]
struct Identity;

#[test]
fn tuple_and_unit_structs() {
    let pair = Pair(Linear::new(), 7, Linear::new());
    assert_eq!(pair.1, 7);
    assert_eq!(parameter_names(&pair), ["0.weight", "0.bias", "2.weight", "2.bias"]);
    assert_eq!(
        pair.to_string(),
        "Pair(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (2): Linear(in_features=3, out_features=1, bias=True)\n)"
    );
    assert!(Identity.named_members().is_empty());
    assert_eq!(Identity.to_string(), "Identity()");
}

/// A generic block: the bounds come from the field types.
#[derive(Module)]
struct Residual<B, N> {
    body: B,
    norm: Option<N>,
    #[module(skip)]
    label: String,
}

#[test]
fn generic_struct() {
    let block = Residual { body: Linear::<4, 4>::new(), norm: None::<ReLU>, label: "r".into() };
    assert_eq!(parameter_names(&block), ["body.weight", "body.bias"]);
    assert_eq!(block.type_name(), "Residual");
    assert_eq!(block.label, "r");
    let inner = Residual { body: ReLU, norm: Some(ReLU), label: String::new() };
    let nested = Residual { body: block, norm: Some(inner), label: String::new() };
    let names: Vec<String> = nested.named_modules().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["", "body", "body.body", "norm", "norm.body", "norm.norm"]);
}

/// A generic block over widths.
#[derive(Module)]
struct Widths<const H: usize> {
    first: Linear<8, H>,
    second: Linear<H, 2>,
}

#[test]
fn const_generic_struct() {
    let net = Widths::<5> { first: Linear::new(), second: Linear::new() };
    assert_eq!(net.first.weight().shape(), vec![5, 8]);
    assert_eq!(parameter_names(&net), ["first.weight", "first.bias", "second.weight", "second.bias"]);
}

#[derive(Module)]
struct Optional {
    bias: Option<Parameter>,
    weight: Parameter,
    extra: Option<Linear<2, 2>>,
    #[module(buffer)]
    mask: Option<Tensor>,
}

#[test]
fn options_are_absent_when_none() {
    let none = Optional { bias: None, weight: Parameter::new(Tensor::ones([2])), extra: None, mask: None };
    assert_eq!(member_names(&none), ["weight"]);
    let some = Optional {
        bias: Some(Parameter::new(Tensor::zeros([2]))),
        weight: Parameter::new(Tensor::ones([2])),
        extra: Some(Linear::new()),
        mask: Some(Tensor::ones([2])),
    };
    assert_eq!(member_names(&some), ["bias", "weight", "mask", "extra.weight", "extra.bias"]);
    assert_eq!(some.to_string(), "Optional(\n  (extra): Linear(in_features=2, out_features=2, bias=True)\n)");
}

#[derive(Module)]
struct Lists {
    blocks: Vec<Linear<3, 3>>,
    heads: [Linear<3, 1>; 2],
}

#[test]
fn vec_and_array_are_module_lists() {
    let net = Lists { blocks: vec![Linear::new(), Linear::new()], heads: [Linear::new(), Linear::new()] };
    assert_eq!(
        parameter_names(&net),
        [
            "blocks.0.weight",
            "blocks.0.bias",
            "blocks.1.weight",
            "blocks.1.bias",
            "heads.0.weight",
            "heads.0.bias",
            "heads.1.weight",
            "heads.1.bias"
        ]
    );
    assert_eq!(
        net.to_string(),
        "Lists(\n  (blocks): ModuleList(\n    (0-1): 2 x Linear(in_features=3, out_features=3, bias=True)\n  )\n  (heads): ModuleList(\n    (0-1): 2 x Linear(in_features=3, out_features=1, bias=True)\n  )\n)"
    );
    let empty = Lists { blocks: Vec::new(), heads: [Linear::new(), Linear::new()] };
    assert!(empty.to_string().starts_with("Lists(\n  (blocks): ModuleList()\n  (heads)"));
}

#[derive(Module)]
struct Boxed {
    body: Box<Linear<2, 2>>,
    any: Box<dyn Module>,
    many: Vec<Box<dyn Module>>,
}

#[test]
fn boxes_and_dyn_modules() {
    let net = Boxed {
        body: Box::new(Linear::new()),
        any: Box::new(ReLU),
        many: vec![Box::new(Linear::<2, 4>::new()), Box::new(NestMlp::new())],
    };
    assert_eq!(
        parameter_names(&net)[..6],
        [
            "body.weight",
            "body.bias",
            "many.0.weight",
            "many.0.bias",
            "many.1.net.0.weight",
            "many.1.net.0.bias"
        ]
    );
    assert!(net.submodule("any").unwrap().as_any().is::<ReLU>());
    assert!(net.submodule("many.1").unwrap().as_any().is::<NestMlp>());
    assert!(
        net.to_string().starts_with(
            "Boxed(\n  (body): Linear(in_features=2, out_features=2, bias=True)\n  (any): ReLU()\n  (many): ModuleList(\n    (0): Linear(in_features=2, out_features=4, bias=True)\n    (1): NestMLP(\n"
        )
    );
}

#[derive(Module)]
struct Renamed {
    #[module(rename = "fc1")]
    first: Linear<2, 2>,
    #[module(rename = "type")]
    second: Linear<2, 2>,
    r#in: Linear<2, 2>,
}

#[test]
fn rename_and_raw_identifiers() {
    let net = Renamed { first: Linear::new(), second: Linear::new(), r#in: Linear::new() };
    let children: Vec<String> = net.named_children().into_iter().map(|(n, _)| n).collect();
    assert_eq!(children, ["fc1", "type", "in"]);
    assert!(net.parameter("fc1.weight").unwrap().same(net.first.weight()));
}

#[derive(Module)]
struct WithBuffers {
    linear: Linear<2, 2>,
    #[module(buffer)]
    running_mean: Tensor,
    scale: Parameter,
}

#[test]
fn buffers_are_saved_not_trained() {
    let net = WithBuffers {
        linear: Linear::new(),
        running_mean: Tensor::zeros([2]),
        scale: Parameter::new(Tensor::ones([1])),
    };
    // A block's own tensors first, in field order, then its children's.
    assert_eq!(member_names(&net), ["running_mean", "scale", "linear.weight", "linear.bias"]);
    assert_eq!(parameter_names(&net), ["scale", "linear.weight", "linear.bias"]);
    let buffers = net.named_buffers();
    assert_eq!(buffers.len(), 1);
    assert_eq!(buffers[0].0, "running_mean");
    assert!(buffers[0].1.same(&net.running_mean));
    assert!(!net.parameters().iter().any(|p| p.same(&net.running_mean)));
}

#[derive(Module)]
struct Tied {
    encoder: Linear<4, 4>,
    decoder: Linear<4, 4>,
}

#[test]
fn shared_linear_listed_once() {
    let shared = Linear::<4, 4>::new();
    let net = Tied { encoder: shared.clone(), decoder: shared };
    assert_eq!(parameter_names(&net), ["encoder.weight", "encoder.bias"]);
    assert_eq!(member_names(&net).len(), 4);
    assert_eq!(net.num_params(), 20);
}

#[test]
fn train_and_eval_reach_every_field() {
    let net = NestMlp::new();
    net.eval();
    assert!(!net.is_training());
    assert!(!net.net.0.0.is_training());
    net.train();
    assert!(net.linear.is_training());
}

#[test]
fn nested_sequential_macro_and_trailing_comma() {
    let net = sequential![sequential![Linear::<4, 8>::new(), ReLU,], Linear::<8, 2>::new(),];
    assert_eq!(net.forward(&Batch::<4>::rand(3)).shape(), vec![3, 2]);
    assert_eq!(parameter_names(&net), ["0.0.weight", "0.0.bias", "1.weight", "1.bias"]);
    let twelve = sequential![ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU, ReLU];
    assert_eq!(twelve.named_children().len(), 12);
    let one = sequential![DynLinear::new(3, 2)];
    assert_eq!(one.forward(&Tensor::ones([1, 3])).shape(), vec![1, 2]);
}

/// The user's own names do not disturb the generated code.
mod user_names {
    #![allow(dead_code)]

    use blocks::nn::{Linear, ReLU};
    use blocks::{Module, sequential};

    trait Module {}
    struct Tensor;
    type Result = ();
    enum Option {}
    struct Vec;
    struct Box;
    struct String;
    trait Send {}
    trait Sync {}
    trait Any {}
    mod core {}
    mod std {}

    #[derive(Module)]
    struct Net {
        layer: Linear<2, 2>,
        #[module(skip)]
        plain: Tensor,
        #[module(buffer)]
        saved: blocks::Tensor,
    }

    #[derive(Module)]
    struct Generic<B> {
        body: B,
    }

    #[test]
    fn compiles_with_the_users_names_in_scope() {
        let net = Net { layer: Linear::new(), plain: Tensor, saved: blocks::Tensor::zeros([1]) };
        assert_eq!(blocks::nn::ModuleExt::named_members(&net).len(), 3);
        let seq = sequential![Linear::<2, 2>::new(), ReLU];
        assert_eq!(blocks::nn::Module::type_name(&seq), "Sequential");
        let g = Generic { body: ReLU };
        assert_eq!(g.to_string(), "Generic(\n  (body): ReLU()\n)");
    }
}

/// A crate that re-exports blocks names the path with `crate = "..."`.
mod reexport {
    pub mod deep {
        pub use blocks as engine;
    }

    #[derive(blocks::Module)]
    #[module(crate = "crate::derive::reexport::deep::engine", name = "Head")]
    struct Head {
        fc: blocks::nn::Linear<2, 1>,
    }

    #[test]
    fn crate_path_override() {
        let head = Head { fc: blocks::nn::Linear::new() };
        assert_eq!(head.to_string(), "Head(\n  (fc): Linear(in_features=2, out_features=1, bias=True)\n)");
    }
}

/// A user's own block named `Tensor` is registered as a child, like any block.
mod own_tensor_block {
    use blocks::Module;

    #[derive(Module)]
    struct Tensor;

    #[derive(Module)]
    struct Holder {
        inner: Tensor,
        maybe: Option<Tensor>,
    }

    #[test]
    fn users_tensor_block_is_a_child() {
        let holder = Holder { inner: Tensor, maybe: Some(Tensor) };
        assert_eq!(holder.to_string(), "Holder(\n  (inner): Tensor()\n  (maybe): Tensor()\n)");
    }
}
