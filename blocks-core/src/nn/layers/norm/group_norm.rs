//! `nn.GroupNorm(num_groups, num_channels)`: one core, [`DynGroupNorm`]
//! (sizes from a config, taking plain tensors), and the typed front
//! [`GroupNorm<GROUPS, C>`] (on `Images<C>`, `C` divisible by `GROUPS` checked when
//! it is built).

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::images::Images;
use crate::nn::kinds::size_check::SizeMessage;
use crate::nn::{Parameter, TrainingFlag};
use crate::optim::pyrepr::{boolean, float};
use crate::{Element, Tensor, TensorBase};

/// Group normalization whose sizes are known only at run time, like
/// `nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True, bias=True)`:
/// the `C` channels of an `[N, C, *]` input split into `num_groups` groups,
/// each group of each sample normalized (mean 0, biased variance 1), then
/// `· weight + bias` per channel. It behaves the same in training and eval.
///
/// ```
/// use blocks_core::nn::{DynGroupNorm, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let gn = DynGroupNorm::new(2, 6);
/// assert_eq!(gn.to_string(), "GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)");
/// let y = gn.forward(&Tensor::rand([3, 6, 5, 5]));
/// assert!(y.reshape(&[3, 2, 75]).mean_dim(&[2], false).to_vec().iter().all(|m| m.abs() < 1e-5));
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "GroupNorm", input = "TensorBase<E>", extra_repr = "Self::settings")]
pub struct DynGroupNorm<E: Element = f32> {
    #[module(skip)]
    num_groups: usize,
    #[module(skip)]
    num_channels: usize,
    #[module(skip)]
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

/// Group normalization of `Images<C>` in `GROUPS` groups, both in its type,
/// like `nn.GroupNorm(GROUPS, C)`: feeding it other channels is a compile
/// error, and so is building one whose `C` is not divisible by `GROUPS`:
/// `GroupNorm::<4, 6>::new()` fails with "`GroupNorm<4, 6>`: 6 channels do
/// not split into 4 groups". That check is a constant the compiler
/// evaluates when it generates code (`cargo build`, `test`, `run`), so
/// `cargo check` alone does not report it.
///
/// ```compile_fail,E0080
/// let gn = blocks_core::nn::GroupNorm::<4, 6>::new(); // 6 channels do not split into 4 groups
/// ```
///
/// ```
/// use blocks_core::nn::{GroupNorm, Images, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let gn = GroupNorm::<3, 6>::new();
/// assert_eq!(gn.to_string(), "GroupNorm(3, 6, eps=1e-05, affine=True, bias=True)");
/// let y: Images<6> = gn.forward(&Images::<6>::new(Tensor::rand([2, 6, 4, 4])));
/// assert_eq!(y.shape(), vec![2, 6, 4, 4]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Images<C, E>")]
pub struct GroupNorm<const GROUPS: usize, const C: usize, E: Element = f32> {
    layer: DynGroupNorm<E>,
}

/// Why `channels` do not split into `groups`, in plain words, or `None` when they do.
const fn groups_message(groups: usize, channels: usize) -> Option<SizeMessage> {
    if groups != 0 && channels.is_multiple_of(groups) {
        return None;
    }
    let message = SizeMessage::new().layer("GroupNorm", &[groups, channels]);
    Some(if groups == 0 {
        message.text("a group norm needs at least one group")
    } else {
        message.number(channels).text(" channels do not split into ").number(groups).text(" groups")
    })
}

impl<const GROUPS: usize, const C: usize> GroupNorm<GROUPS, C> {
    /// `C % GROUPS == 0`, checked when the type is used (a compile error otherwise).
    const DIVIDES: () = if let Some(message) = &groups_message(GROUPS, C) {
        panic!("{}", message.as_str())
    };

    /// The layer with PyTorch's defaults (eps `1e-5`, affine, with bias).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::GroupNorm::<2, 4>::new().core().num_groups(), 2);
    /// ```
    #[allow(clippy::let_unit_value)]
    pub fn new() -> Self {
        let () = Self::DIVIDES;
        GroupNorm { layer: DynGroupNorm::with_options(GROUPS, C, 1e-5, true, true) }
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

impl<E: Element> DynGroupNorm<E> {
    /// PyTorch's `extra_repr`: the settings in the printout.
    fn settings(&self) -> String {
        format!(
            "{}, {}, eps={}, affine={}, bias={}",
            self.num_groups,
            self.num_channels,
            float(self.eps),
            boolean(self.weight.is_some()),
            boolean(self.bias.is_some())
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_compile_time_message_reads_in_plain_words() {
        let message =
            |groups, channels| super::groups_message(groups, channels).map(|m| m.as_str().to_string());
        assert_eq!(message(4, 6).unwrap(), "`GroupNorm<4, 6>`: 6 channels do not split into 4 groups");
        assert_eq!(message(0, 6).unwrap(), "`GroupNorm<0, 6>`: a group norm needs at least one group");
        assert_eq!(message(3, 6), None);
    }
}
