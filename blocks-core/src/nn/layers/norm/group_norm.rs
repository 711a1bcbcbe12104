//! `nn.GroupNorm(num_groups, num_channels)`: one core, [`DynGroupNorm`]
//! (sizes from a config, taking plain tensors), and the typed front
//! [`GroupNorm<GROUPS, C>`] (on `Images<C>`, `C` divisible by `GROUPS` checked when
//! it is built).

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::images::Images;
use crate::nn::{DeepCopy, MapElement, Mapper, Module, Parameter, TrainingFlag, Visitor, register_parameter};
use crate::optim::pyrepr::{boolean, float};
use crate::{Element, Tensor, TensorBase};

/// Group normalization whose sizes are known only at run time, like
/// `nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True, bias=True)`:
/// the `C` channels of an `[N, C, *]` input split into `num_groups` groups,
/// each group of each sample normalized (mean 0, biased variance 1), then
/// `· weight + bias` per channel. It behaves the same in training and eval.
///
/// ```
/// use blocks_core::nn::{DynGroupNorm, Module};
/// use blocks_core::Tensor;
/// let gn = DynGroupNorm::new(2, 6);
/// assert_eq!(gn.to_string(), "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)");
/// let y = gn.forward(&Tensor::rand([3, 6, 5, 5]));
/// assert!(y.reshape(&[3, 2, 75]).mean_dim(&[2], false).to_vec().iter().all(|m| m.abs() < 1e-5));
/// ```
#[derive(Clone)]
pub struct DynGroupNorm<E: Element = f32> {
    num_groups: usize,
    num_channels: usize,
    eps: f64,
    weight: Option<Parameter<E>>,
    bias: Option<Parameter<E>>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl DynGroupNorm {
    /// A layer splitting `num_channels` into `num_groups` groups, with eps
    /// `1e-5`, weight 1 and bias 0 (PyTorch's defaults).
    ///
    /// # Panics
    ///
    /// When `num_groups` is 0 or does not divide `num_channels`, naming both
    /// (PyTorch's `ValueError`).
    ///
    /// ```
    /// let gn = blocks_core::nn::DynGroupNorm::new(3, 6);
    /// assert_eq!(gn.weight().unwrap().to_vec(), vec![1.0; 6]);
    /// let err = std::panic::catch_unwind(|| blocks_core::nn::DynGroupNorm::new(4, 6)).err().unwrap();
    /// assert_eq!(err.downcast_ref::<String>().unwrap(), "GroupNorm: num_channels (6) must be divisible by num_groups (4)");
    /// ```
    #[track_caller]
    pub fn new(num_groups: usize, num_channels: usize) -> Self {
        Self::with_options(num_groups, num_channels, 1e-5, true, true)
    }

    /// A layer with the given `eps`, with or without the learnable
    /// per-channel `weight` (`affine`) and `bias` (PyTorch's keyword `bias`,
    /// which needs `affine`).
    ///
    /// # Panics
    ///
    /// When `num_groups` is 0 or does not divide `num_channels`, naming both.
    ///
    /// ```
    /// let gn = blocks_core::nn::DynGroupNorm::with_options(2, 4, 1e-3, false, true);
    /// assert!(gn.weight().is_none() && gn.bias().is_none());
    /// assert_eq!(gn.to_string(), "GroupNorm(2, 4, eps=0.001, affine=False, bias=False)");
    /// ```
    #[track_caller]
    pub fn with_options(num_groups: usize, num_channels: usize, eps: f64, affine: bool, bias: bool) -> Self {
        assert!(num_groups > 0, "GroupNorm: num_groups must be positive, got {num_groups}");
        assert!(
            num_channels.is_multiple_of(num_groups),
            "GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
        );
        DynGroupNorm {
            hooks: Hooks::new(),
            num_groups,
            num_channels,
            eps,
            weight: affine.then(|| Parameter::new(Tensor::ones([num_channels]))),
            bias: (affine && bias).then(|| Parameter::new(Tensor::zeros([num_channels]))),
            training: TrainingFlag::default(),
        }
    }
}

impl<E: Element> DynGroupNorm<E> {
    /// The number of groups.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynGroupNorm::new(3, 6).num_groups(), 3);
    /// ```
    pub fn num_groups(&self) -> usize {
        self.num_groups
    }

    /// The number of channels.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynGroupNorm::new(3, 6).num_channels(), 6);
    /// ```
    pub fn num_channels(&self) -> usize {
        self.num_channels
    }

    /// The number added to the variance.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynGroupNorm::new(3, 6).eps(), 1e-5);
    /// ```
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// The per-channel scale, if the layer is affine.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynGroupNorm::new(1, 2).weight().unwrap().to_vec(), vec![1.0, 1.0]);
    /// ```
    pub fn weight(&self) -> Option<&Parameter<E>> {
        self.weight.as_ref()
    }

    /// The per-channel shift, if the layer has one.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynGroupNorm::new(1, 2).bias().unwrap().to_vec(), vec![0.0, 0.0]);
    /// ```
    pub fn bias(&self) -> Option<&Parameter<E>> {
        self.bias.as_ref()
    }

    /// The forward: checks `x` is `[N, num_channels, *]`, then normalizes.
    #[track_caller]
    fn normalize(&self, x: &TensorBase<E>) -> TensorBase<E> {
        let shape = x.shape();
        if shape.len() < 2 || shape[1] != self.num_channels {
            panic!(
                "{self} takes [N, {}, *] (channels in dimension 1), but got a tensor of shape {shape:?}{}",
                self.num_channels,
                crate::nn::path::describe()
            );
        }
        crate::nn::path::or_panic(x.try_group_norm(
            self.num_groups,
            self.weight.as_deref(),
            self.bias.as_deref(),
            E::of(self.eps),
        ))
    }
}

impl<E: Element, Fed: crate::nn::FeedsInto<TensorBase<E>, Self>> Forward<Fed> for DynGroupNorm<E> {
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let x: &TensorBase<E> = &given.feed_into();
        self.normalize(x)
    }
}

impl_block! {
    /// Normalizes a plain `[N, C, *]` tensor.
    ///
    /// # Panics
    ///
    /// When the input has fewer than 2 dims or another channel count,
    /// naming the layer, the shape and where it sits in a `Sequential`.
    ///
    /// ```
    /// let gn = blocks_core::nn::DynGroupNorm::new(2, 4);
    /// assert_eq!(gn.forward(&blocks_core::Tensor::rand([2, 4, 3])).shape(), vec![2, 4, 3]);
    /// ```
    [E: Element] DynGroupNorm<E>
}

#[diagnostic::do_not_recommend]
impl<E: Element> Module for DynGroupNorm<E> {
    fn type_name(&self) -> String {
        "GroupNorm".into()
    }

    fn extra_repr(&self) -> String {
        format!(
            "{}, {}, eps={}, affine={}, bias={}",
            self.num_groups,
            self.num_channels,
            float(self.eps),
            boolean(self.weight.is_some()),
            boolean(self.bias.is_some())
        )
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        if let Some(weight) = &self.weight {
            register_parameter(visitor, "weight", weight);
        }
        if let Some(bias) = &self.bias {
            register_parameter(visitor, "bias", bias);
        }
        visitor.training_flag(&self.training);
        visitor.hooks(&self.hooks);
    }
}

impl<E: Element> MapElement for DynGroupNorm<E> {
    type As<F: Element> = DynGroupNorm<F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> DynGroupNorm<F> {
        DynGroupNorm {
            hooks: self.hooks.clone(),
            num_groups: self.num_groups,
            num_channels: self.num_channels,
            eps: self.eps,
            weight: self.weight.map_element(mapper),
            bias: self.bias.map_element(mapper),
            training: self.training.clone(),
        }
    }
}

/// The copy is the map to the layer's own element type.
impl<E: Element> DeepCopy for DynGroupNorm<E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.map_element::<E>(mapper)
    }
}

/// Group normalization of `Images<C>` in `GROUPS` groups, both in its type,
/// like `nn.GroupNorm(GROUPS, C)`: feeding it other channels is a compile
/// error, and so is building one whose `C` is not divisible by `GROUPS`:
/// `GroupNorm::<4, 6>::new()` fails with "evaluation of
/// `GroupNorm::<4, 6>::DIVIDES` failed: GroupNorm<GROUPS, C>: the channels C
/// must be divisible by the groups GROUPS". That check is a constant the
/// compiler evaluates when it generates code (`cargo build`, `test`, `run`),
/// so `cargo check` alone does not report it.
///
/// ```compile_fail,E0080
/// let gn = blocks_core::nn::GroupNorm::<4, 6>::new(); // 6 channels do not split into 4 groups
/// ```
///
/// ```
/// use blocks_core::nn::{GroupNorm, Images, Module};
/// use blocks_core::Tensor;
/// let gn = GroupNorm::<3, 6>::new();
/// assert_eq!(gn.to_string(), "GroupNorm(3, 6, eps=1e-05, affine=True, bias=True)");
/// let y: Images<6> = gn.forward(&Images::<6>::new(Tensor::rand([2, 6, 4, 4])));
/// assert_eq!(y.shape(), vec![2, 6, 4, 4]);
/// ```
#[derive(Clone)]
pub struct GroupNorm<const GROUPS: usize, const C: usize, E: Element = f32> {
    layer: DynGroupNorm<E>,
}

impl<const GROUPS: usize, const C: usize> GroupNorm<GROUPS, C> {
    /// `C % GROUPS == 0`, checked when the type is used (a compile error otherwise).
    const DIVIDES: () = assert!(
        GROUPS > 0 && C.is_multiple_of(GROUPS),
        "GroupNorm<GROUPS, C>: the channels C must be divisible by the groups GROUPS"
    );

    /// The layer with PyTorch's defaults (eps `1e-5`, affine, with bias).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::GroupNorm::<2, 4>::new().core().num_groups(), 2);
    /// ```
    pub fn new() -> Self {
        Self::with_options(1e-5, true, true)
    }

    /// The layer with the given `eps`, `affine` and `bias` (see
    /// [`DynGroupNorm::with_options`]).
    ///
    /// ```
    /// let gn = blocks_core::nn::GroupNorm::<2, 4>::with_options(1e-5, false, false);
    /// assert!(gn.to_string().ends_with("affine=False, bias=False)"));
    /// ```
    pub fn with_options(eps: f64, affine: bool, bias: bool) -> Self {
        let () = Self::DIVIDES;
        GroupNorm { layer: DynGroupNorm::with_options(GROUPS, C, eps, affine, bias) }
    }
}

impl<const GROUPS: usize, const C: usize, E: Element> GroupNorm<GROUPS, C, E> {
    /// The run-time core (settings, weight, bias).
    ///
    /// ```
    /// assert!(blocks_core::nn::GroupNorm::<1, 2>::new().core().weight().is_some());
    /// ```
    pub fn core(&self) -> &DynGroupNorm<E> {
        &self.layer
    }
}

impl<const GROUPS: usize, const C: usize> Default for GroupNorm<GROUPS, C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const GROUPS: usize, const C: usize, E: Element, Fed: crate::nn::FeedsInto<Images<C, E>, Self>>
    Forward<Fed> for GroupNorm<GROUPS, C, E>
{
    type Output = crate::nn::Checked<Fed, Images<C, E>, Self, Images<C, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> Images<C, E> {
        let x: &Images<C, E> = &given.feed_into();
        Images::trusted(self.layer.normalize(x))
    }
}

impl_block! {
    /// Normalizes `Images<C>` (channels checked by the compiler) or a plain
    /// tensor (checked at run time), giving `Images<C>`.
    ///
    /// # Panics
    ///
    /// When a plain tensor has other channels, naming the layer and the shape.
    ///
    /// ```
    /// use blocks_core::nn::{GroupNorm, Images};
    /// let y: Images<4> = GroupNorm::<2, 4>::new().forward(&blocks_core::Tensor::rand([2, 4, 3, 3]));
    /// assert_eq!(y.shape(), vec![2, 4, 3, 3]);
    /// ```
    [const GROUPS: usize, const C: usize, E: Element] GroupNorm<GROUPS, C, E>
}

typed_front! {
    [const GROUPS: usize, const C: usize, E: Element] GroupNorm<GROUPS, C, E> => GroupNorm<GROUPS, C, F>
}
