//! One way to run a block: every block (layer, `sequential!`, derived block,
//! `Box<dyn Block>`) runs through its `Forward`, from its input kind or from
//! a plain tensor checked at run time; train/eval reach a derived block's
//! own `TrainingFlag`; `Images<C>` carries channels as `Batch<N>` carries
//! widths.

use blocks::nn::{Block, TensorKind};
use blocks::prelude::*;

#[derive(Module)]
#[module(name = "MLP")]
struct Mlp {
    hidden: Linear<20, 256>,
    out: Linear<256, 10>,
}

impl Forward<Batch<20>> for Mlp {
    type Output = Batch<10>;

    fn forward(&self, x: &Batch<20>) -> Batch<10> {
        self.out.forward(&self.hidden.forward(x).relu())
    }
}

fn mlp() -> Mlp {
    Mlp { hidden: Linear::new(), out: Linear::new() }
}

#[test]
fn a_derived_block_takes_a_plain_tensor_and_its_typed_input_alike() {
    manual_seed(0);
    let net = mlp();
    let x = Tensor::rand([3, 20]);
    let from_tensor: Batch<10> = net.forward(&x);
    let from_batch: Batch<10> = net.forward(&Batch::<20>::new(x.clone()));
    assert_eq!(from_tensor.shape(), vec![3, 10]);
    assert_eq!(from_tensor.to_vec(), from_batch.to_vec());
    // The same values as the layers called by hand.
    let by_hand = x.linear(net.hidden.weight(), net.hidden.bias().map(|b| &**b)).relu();
    let by_hand = by_hand.linear(net.out.weight(), net.out.bias().map(|b| &**b));
    assert_eq!(from_tensor.to_vec(), by_hand.to_vec());
}

#[test]
#[should_panic(expected = "Mlp takes 20 input features, but got a tensor of shape [2, 19]")]
fn a_plain_tensor_of_the_wrong_width_names_the_derived_block() {
    mlp().forward(&Tensor::rand([2, 19]));
}

/// `Mlp` generic over what it is fed (`#[module(any_input)]`): it takes a
/// plain tensor wherever it is, so it also goes in a `Box<dyn Block>`.
#[derive(Module)]
#[module(name = "MLP", any_input)]
struct AnyMlp {
    hidden: Linear<20, 256>,
    out: Linear<256, 10>,
}

impl<K: FeedsInto<Batch<20>, Self>> Forward<K> for AnyMlp {
    type Output = Batch<10>;

    #[track_caller]
    fn forward(&self, x: &K) -> Batch<10> {
        self.out.forward(&self.hidden.forward(&x.feed_into()).relu())
    }
}

#[test]
#[should_panic(expected = "AnyMlp takes 20 input features, but got a tensor of shape [2, 19] (at block 1)")]
fn inside_a_dynamic_container_the_error_names_the_path() {
    let mut net = DynSequential::new();
    net.push(DynLinear::new(4, 19)).push(AnyMlp { hidden: Linear::new(), out: Linear::new() });
    net.forward(&Tensor::rand([2, 4]));
}

/// d2l's dropout written by hand: zero with probability `p` and scale by
/// `1 / (1 - p)` in training, the identity in eval. Derive only: the
/// `TrainingFlag` field is its `self.training`.
#[derive(Module)]
#[module(keeps_width)]
struct MyDropout {
    #[module(skip)]
    p: f32,
    training: TrainingFlag,
}

impl MyDropout {
    fn new(p: f32) -> Self {
        MyDropout { p, training: TrainingFlag::default() }
    }
}

impl Forward<Tensor> for MyDropout {
    type Output = Tensor;

    fn forward(&self, x: &Tensor) -> Tensor {
        if !self.training.get() {
            return x.clone();
        }
        let keep: Vec<f32> = Tensor::rand(x.shape())
            .to_vec()
            .into_iter()
            .map(|u| if u >= self.p { 1.0 } else { 0.0 })
            .collect();
        x * &Tensor::from_vec(keep, x.shape()) * (1.0 / (1.0 - self.p))
    }
}

#[derive(Module)]
struct Net {
    body: Sequential<(Linear<8, 64>, ReLU, MyDropout)>,
    head: Linear<64, 2>,
}

impl Forward<Batch<8>> for Net {
    type Output = Batch<2>;

    fn forward(&self, x: &Batch<8>) -> Batch<2> {
        self.head.forward(&self.body.forward(x))
    }
}

#[test]
fn eval_and_train_on_an_ancestor_reach_a_derived_dropout() {
    manual_seed(3);
    let net = Net { body: sequential![Linear::new(), ReLU, MyDropout::new(0.5)], head: Linear::new() };
    let dropout = &net.body.0.2;
    let x = Tensor::ones([16, 64]);

    assert!(net.is_training() && dropout.is_training());
    let dropped = dropout.forward(&x).to_vec();
    let zeros = dropped.iter().filter(|v| **v == 0.0).count();
    assert!(dropped.iter().all(|v| *v == 0.0 || *v == 2.0), "{dropped:?}");
    // 1024 draws at p = 0.5: far from none and far from all.
    assert!((300..724).contains(&zeros), "{zeros} of 1024 zeroed");

    net.eval();
    assert!(!net.is_training());
    assert!(!dropout.is_training());
    assert!(!net.body.0.0.is_training());
    assert_eq!(dropout.forward(&x).to_vec(), x.to_vec());
    // The whole net is deterministic in eval mode.
    let input = Batch::<8>::rand(4);
    assert_eq!(net.forward(&input).to_vec(), net.forward(&input).to_vec());

    net.train();
    assert!(dropout.is_training());
    assert!(dropout.forward(&x).to_vec().contains(&0.0));
}

#[test]
fn a_derived_flag_is_its_own_mode_and_not_a_member() {
    let dropout = MyDropout::new(0.1);
    assert!(dropout.named_members().is_empty());
    dropout.eval();
    assert!(!dropout.is_training());
    assert_eq!(dropout.to_string(), "MyDropout()");
    // Width-keeping: the kind it is given comes back.
    let kept: Batch<3> = dropout.forward(&Batch::<3>::rand(2));
    assert_eq!(kept.shape(), vec![2, 3]);
}

/// A tiny typed channel block standing in for a convolution: a 1x1 mixing
/// of `I` channels into `O`, on `[N, I, ...]`.
#[derive(Module)]
#[module(name = "Mix", any_input)]
struct Mix<const I: usize, const O: usize> {
    weight: Parameter,
}

impl<const I: usize, const O: usize> Mix<I, O> {
    fn new() -> Self {
        Mix { weight: Parameter::new(Tensor::ones([O, I])) }
    }
}

/// Generic over what it is fed (`#[module(any_input)]`): `Images<I>`, or a
/// plain tensor checked at run time, also in the middle of a chain.
impl<const I: usize, const O: usize, K: FeedsInto<Images<I>, Self>> Forward<K> for Mix<I, O> {
    type Output = Images<O>;

    #[track_caller]
    fn forward(&self, x: &K) -> Images<O> {
        let x = x.feed_into();
        // [N, I, L] -> [N, L, I] x [I, O] -> [N, L, O] -> [N, O, L]
        let shape: Vec<isize> = x.shape().into_iter().map(|d| d as isize).collect();
        let rows = x.transpose(1, 2).reshape(&[shape[0] * shape[2], I as isize]);
        let mixed = rows.matmul(&self.weight.transpose(0, 1)).reshape(&[shape[0], shape[2], O as isize]);
        Images::new(mixed.transpose(1, 2))
    }
}

#[test]
fn images_keep_their_channels_through_typed_and_width_keeping_blocks() {
    let net = sequential![Mix::<1, 6>::new(), ReLU, MyDropout::new(0.5), Mix::<6, 16>::new()];
    net.eval();
    let y: Images<16> = net.forward(&Images::<1>::new(Tensor::ones([2, 1, 5])));
    assert_eq!(y.shape(), vec![2, 16, 5]);
    assert_eq!(y.channels(), 16);
    // Six ones summed per output channel.
    assert!(y.to_vec().iter().all(|v| *v == 6.0));
    let kept: Images<3> = ReLU::default().forward(&Images::<3>::new(Tensor::ones([1, 3, 2, 2])));
    assert_eq!(kept.shape(), vec![1, 3, 2, 2]);
    assert!(Images::<3>::from_same_kind(Tensor::ones([1, 4, 2])).is_none());
}

#[test]
fn a_plain_tensor_into_a_channel_block_is_checked_at_run_time() {
    let net = sequential![Mix::<1, 6>::new(), ReLU, Mix::<6, 16>::new()];
    let y: Images<16> = net.forward(&Tensor::ones([2, 1, 7]));
    assert_eq!(y.shape(), vec![2, 16, 7]);
}

#[test]
#[should_panic(
    expected = "Mix<6, 16> takes 6 input channels (a tensor [N, 6, ...] of 3 or more dimensions), but got a tensor of \
                shape [2, 5, 7] (at block 1)"
)]
fn a_plain_tensor_with_the_wrong_channels_names_the_block_and_its_path() {
    let net = sequential![ReLU, Mix::<6, 16>::new()];
    net.forward(&Tensor::ones([2, 5, 7]));
}

#[test]
#[should_panic(expected = "Mix<6, 16> takes 6 input channels")]
fn a_flat_tensor_is_not_images() {
    Mix::<6, 16>::new().forward(&Tensor::ones([2, 6]));
}

#[test]
fn a_boxed_block_runs_in_a_typed_chain() {
    let boxed: Box<dyn Block> = Box::new(DynLinear::new(4, 3));
    let net = sequential![Linear::<2, 4>::new(), boxed, ReLU, Linear::<3, 1>::new()];
    let y: Batch<1> = net.forward(&Tensor::rand([5, 2]));
    assert_eq!(y.shape(), vec![5, 1]);
    assert_eq!(net.named_parameters()[2].0, "1.weight");
}

#[test]
fn a_hand_written_module_needs_only_its_name_and_members() {
    struct Scale(Parameter);
    impl Module for Scale {
        fn type_name(&self) -> String {
            "Scale".into()
        }
        fn visit<'m>(&'m self, visitor: &mut dyn blocks::nn::Visitor<'m>) {
            visitor.parameter("weight", (&self.0).into());
        }
    }
    let list = vec![Scale(Parameter::new(Tensor::ones([3])))];
    assert_eq!(list.named_parameters()[0].0, "0.weight");
    assert!(list.submodule("0").unwrap().as_any().is::<Scale>());
    assert!(blocks::nn::module_repr(&list).starts_with("ModuleList(\n  (0): Scale()"));
}

/// A stand-in `Flatten`: `[N, ...]` to `[N, rest]`, sizes known only at run time.
#[derive(Module)]
#[module(any_input)]
struct Flatten;

impl<K: FeedsInto<Tensor, Self>> Forward<K> for Flatten {
    type Output = Tensor;

    fn forward(&self, x: &K) -> Tensor {
        let x = x.feed_into();
        let rows = x.shape()[0] as isize;
        x.reshape(&[rows, -1])
    }
}

#[test]
fn after_a_flatten_the_next_linear_checks_its_width_at_run_time() {
    let net = sequential![Mix::<1, 6>::new(), Flatten, Linear::<30, 2>::new()];
    let y: Batch<2> = net.forward(&Images::<1>::new(Tensor::ones([2, 1, 5])));
    assert_eq!(y.shape(), vec![2, 2]);
}

#[test]
#[should_panic(
    expected = "Linear<31, 2> takes 31 input features, but got a tensor of shape [2, 30] (at block 2)"
)]
fn after_a_flatten_a_wrong_width_names_the_linear_and_its_path() {
    let net = sequential![Mix::<1, 6>::new(), Flatten, Linear::<31, 2>::new()];
    net.forward(&Images::<1>::new(Tensor::ones([2, 1, 5])));
}
