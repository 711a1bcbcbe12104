//! [`DynConv`]: the core of `nn.Conv2d` and `nn.Conv1d`, its channels and
//! kernel from a config, taking plain tensors; the typed fronts
//! `Conv2d<I, O, K>` and `Conv1d<I, O, K>` hold one.

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::{DeepCopy, MapElement, Mapper, Module, Parameter, TrainingFlag, Visitor, register_parameter};
use crate::{ConvOptions, Element, Tensor, TensorBase};

/// A convolution over `D` spatial dims whose channels and kernel are known
/// only at run time: [`DynConv2d`] is `nn.Conv2d`, [`DynConv1d`] is
/// `nn.Conv1d`. Weight `[out, in / groups, k...]`, bias `[out]`.
///
/// ```
/// use blocks_core::nn::{DynConv2d, Module, ModuleExt};
/// use blocks_core::{Conv2dOptions, Tensor};
/// let conv = DynConv2d::with_options(1, 6, [5, 5], Conv2dOptions { padding: [2, 2], ..Default::default() }, true);
/// assert_eq!(conv.to_string(), "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))");
/// assert_eq!(conv.forward(&Tensor::rand([2, 1, 28, 28])).shape(), vec![2, 6, 28, 28]);
/// ```
///
/// `DynConv<D, f64>` is the layer in float64 ([`to_f64`](crate::nn::ToElement::to_f64)).
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", manual, input = "TensorBase<E>")]
pub struct DynConv<const D: usize, E: Element = f32> {
    in_channels: usize,
    out_channels: usize,
    kernel_size: [usize; D],
    options: ConvOptions<D>,
    weight: Parameter<E>,
    bias: Option<Parameter<E>>,
    training: TrainingFlag,
    hooks: Hooks,
}

/// `nn.Conv2d` with channels chosen at run time (see [`DynConv`]).
pub type DynConv2d = DynConv<2>;

/// `nn.Conv1d` with channels chosen at run time (see [`DynConv`]).
pub type DynConv1d = DynConv<1>;

impl<const D: usize> DynConv<D> {
    /// A convolution with stride 1, no padding, dilation 1, one group and a
    /// bias, initialized as PyTorch does (see [`with_options`](Self::with_options)).
    ///
    /// ```
    /// let conv = blocks_core::nn::DynConv1d::new(2, 4, [3]);
    /// assert_eq!(conv.weight().shape(), vec![4, 2, 3]);
    /// assert_eq!(conv.to_string(), "Conv1d(2, 4, kernel_size=(3,), stride=(1,))");
    /// ```
    #[track_caller]
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: [usize; D]) -> Self {
        Self::with_options(in_channels, out_channels, kernel_size, ConvOptions::default(), true)
    }

    /// A convolution with the given stride, padding, dilation and groups,
    /// with or without a bias. Weight and bias are drawn as PyTorch's
    /// `reset_parameters` does: kaiming_uniform with `a = √5` (so
    /// U(-1/√fan_in, 1/√fan_in), `fan_in = in / groups · ∏k`), and the
    /// bias from the same range.
    ///
    /// # Panics
    ///
    /// When `groups` is 0 or does not divide both channel counts, or a
    /// kernel size, stride or dilation is 0, as PyTorch's constructor refuses them;
    /// when a dilation or padding is so large that the kernel's extent or the
    /// padded size overflows, or the weight would not fit in memory.
    ///
    /// ```
    /// use blocks_core::{nn::DynConv2d, Conv2dOptions};
    /// let conv = DynConv2d::with_options(4, 8, [3, 3], Conv2dOptions { groups: 2, ..Default::default() }, false);
    /// assert_eq!(conv.weight().shape(), vec![8, 2, 3, 3]);
    /// assert!(conv.bias().is_none());
    /// ```
    #[track_caller]
    pub fn with_options(
        in_channels: usize,
        out_channels: usize,
        kernel_size: [usize; D],
        options: ConvOptions<D>,
        bias: bool,
    ) -> Self {
        let groups = options.groups;
        assert!(groups > 0, "Conv{D}d: groups must be a positive integer");
        assert!(in_channels.is_multiple_of(groups), "Conv{D}d: in_channels must be divisible by groups");
        assert!(out_channels.is_multiple_of(groups), "Conv{D}d: out_channels must be divisible by groups");
        for (what, values) in
            [("kernel_size", kernel_size), ("stride", options.stride), ("dilation", options.dilation)]
        {
            assert!(values.iter().all(|&v| v > 0), "Conv{D}d: {what} must be positive, got {values:?}");
        }
        // As the op checks them: sizes that overflow are refused here, not at the first forward.
        for axis in 0..D {
            let (k, dilation, padding) = (kernel_size[axis], options.dilation[axis], options.padding[axis]);
            assert!(
                dilation.checked_mul(k - 1).is_some_and(|e| e < usize::MAX),
                "Conv{D}d: dilation {:?} with kernel_size {kernel_size:?} is too large (the kernel's extent \
                 overflows)",
                options.dilation
            );
            assert!(
                padding.checked_mul(2).is_some(),
                "Conv{D}d: padding {:?} is too large (twice it overflows)",
                options.padding
            );
        }
        let mut shape = vec![out_channels, in_channels / groups];
        shape.extend_from_slice(&kernel_size);
        if let Err(error) = crate::numel::checked_alloc::<f32>(&format!("Conv{D}d"), "the weight", &shape) {
            panic!("{error}");
        }
        let weight = Parameter::new(Tensor::zeros(shape));
        let bias = bias.then(|| Parameter::new(Tensor::zeros([out_channels])));
        crate::nn::init::reset_linear(&weight, bias.as_ref());
        DynConv {
            hooks: Hooks::new(),
            in_channels,
            out_channels,
            kernel_size,
            options,
            weight,
            bias,
            training: TrainingFlag::default(),
        }
    }

    /// Draws new weight and bias as PyTorch's `reset_parameters` does.
    ///
    /// ```
    /// let conv = blocks_core::nn::DynConv2d::new(1, 2, [3, 3]);
    /// blocks_core::nn::init::zeros_(conv.weight());
    /// conv.reset_parameters();
    /// assert!(conv.weight().to_vec().iter().any(|w| *w != 0.0));
    /// ```
    pub fn reset_parameters(&self) {
        crate::nn::init::reset_linear(&self.weight, self.bias.as_ref());
    }
}

impl<const D: usize, E: Element> DynConv<D, E> {
    /// The number of input channels.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConv2d::new(3, 8, [3, 3]).in_channels(), 3);
    /// ```
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// The number of output channels.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConv2d::new(3, 8, [3, 3]).out_channels(), 8);
    /// ```
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }

    /// The kernel size per spatial dim.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConv2d::new(3, 8, [3, 5]).kernel_size(), [3, 5]);
    /// ```
    pub fn kernel_size(&self) -> [usize; D] {
        self.kernel_size
    }

    /// Stride, padding, dilation and groups.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConv2d::new(3, 8, [3, 3]).options().groups, 1);
    /// ```
    pub fn options(&self) -> ConvOptions<D> {
        self.options
    }

    /// The weight, `[out, in / groups, k...]`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConv2d::new(3, 8, [3, 3]).weight().shape(), vec![8, 3, 3, 3]);
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        &self.weight
    }

    /// The bias, `[out]`, if the layer has one.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConv2d::new(3, 8, [3, 3]).bias().unwrap().shape(), vec![8]);
    /// ```
    pub fn bias(&self) -> Option<&Parameter<E>> {
        self.bias.as_ref()
    }

    /// Panics unless `x` is `[N, in_channels, ...D]` or (when `unbatched`
    /// is allowed) `[in_channels, ...D]`.
    #[track_caller]
    pub(crate) fn check_input(&self, x: &TensorBase<E>, unbatched: bool) {
        let shape = x.shape();
        let fits = (shape.len() == D + 2 && shape[1] == self.in_channels)
            || (unbatched && shape.len() == D + 1 && shape[0] == self.in_channels);
        if !fits {
            panic!(
                "{self} takes {} input channels (a tensor [N, {}, ...] of {} dimensions), but got a tensor of \
                 shape {shape:?}{}",
                self.in_channels,
                self.in_channels,
                D + 2,
                crate::nn::path::describe()
            );
        }
    }
}

impl<E: Element, Fed: crate::nn::FeedsInto<TensorBase<E>, Self>> Forward<Fed> for DynConv<2, E> {
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let x: &TensorBase<E> = &given.feed_into();
        self.check_input(x, true);
        crate::nn::path::or_panic(x.try_conv2d(&self.weight, self.bias.as_deref(), self.options))
    }
}

impl<E: Element, Fed: crate::nn::FeedsInto<TensorBase<E>, Self>> Forward<Fed> for DynConv<1, E> {
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let x: &TensorBase<E> = &given.feed_into();
        self.check_input(x, true);
        crate::nn::path::or_panic(x.try_conv1d(&self.weight, self.bias.as_deref(), self.options))
    }
}

/// A Python tuple: `(5, 5)`, `(3,)`.
fn tuple<const D: usize>(values: [usize; D]) -> String {
    let items: Vec<String> = values.iter().map(usize::to_string).collect();
    if D == 1 { format!("({},)", items[0]) } else { format!("({})", items.join(", ")) }
}

#[diagnostic::do_not_recommend]
impl<const D: usize, E: Element> Module for DynConv<D, E> {
    fn type_name(&self) -> String {
        format!("Conv{D}d")
    }

    fn extra_repr(&self) -> String {
        let o = &self.options;
        let mut s = format!(
            "{}, {}, kernel_size={}, stride={}",
            self.in_channels,
            self.out_channels,
            tuple(self.kernel_size),
            tuple(o.stride)
        );
        if o.padding != [0; D] {
            s += &format!(", padding={}", tuple(o.padding));
        }
        if o.dilation != [1; D] {
            s += &format!(", dilation={}", tuple(o.dilation));
        }
        if o.groups != 1 {
            s += &format!(", groups={}", o.groups);
        }
        if self.bias.is_none() {
            s += ", bias=False";
        }
        s
    }

    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        register_parameter(visitor, "weight", &self.weight);
        if let Some(bias) = &self.bias {
            register_parameter(visitor, "bias", bias);
        }
        visitor.training_flag(&self.training);
        visitor.hooks(&self.hooks);
    }
}

impl<const D: usize, E: Element> MapElement for DynConv<D, E> {
    type As<F: Element> = DynConv<D, F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> DynConv<D, F> {
        DynConv {
            hooks: self.hooks.clone(),
            in_channels: self.in_channels,
            out_channels: self.out_channels,
            kernel_size: self.kernel_size,
            options: self.options,
            weight: self.weight.map_element(mapper),
            bias: self.bias.map_element(mapper),
            training: self.training.clone(),
        }
    }
}

/// The copy is the map to the layer's own element type.
impl<const D: usize, E: Element> DeepCopy for DynConv<D, E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.map_element::<E>(mapper)
    }
}

/// Builders: the same layer with other options, as the keyword arguments
/// of `nn.Conv2d(...)`. A change of groups or bias makes new weights.
impl<const D: usize> DynConv<D> {
    /// The layer with `options` and `bias`, its weights kept when their
    /// shapes stay.
    #[track_caller]
    fn with(self, options: ConvOptions<D>, bias: bool) -> Self {
        if options.groups != self.options.groups || bias != self.bias.is_some() {
            DynConv::with_options(self.in_channels, self.out_channels, self.kernel_size, options, bias)
        } else {
            DynConv { options, ..self }
        }
    }

    /// The same layer with stride `stride` in every spatial dim.
    ///
    /// # Panics
    ///
    /// When `stride` is 0.
    ///
    /// ```
    /// let conv = blocks_core::nn::DynConv2d::new(3, 6, [3, 3]).stride(2);
    /// assert_eq!(conv.options().stride, [2, 2]);
    /// ```
    #[track_caller]
    pub fn stride(self, stride: usize) -> Self {
        assert!(stride > 0, "Conv{D}d: stride must be positive");
        let (options, bias) = (ConvOptions { stride: [stride; D], ..self.options }, self.bias.is_some());
        self.with(options, bias)
    }

    /// The same layer with `padding` zeros on both sides of every spatial dim.
    ///
    /// ```
    /// let conv = blocks_core::nn::DynConv2d::new(1, 6, [5, 5]).padding(2);
    /// assert_eq!(conv.to_string(), "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))");
    /// ```
    #[track_caller]
    pub fn padding(self, padding: usize) -> Self {
        let (options, bias) = (ConvOptions { padding: [padding; D], ..self.options }, self.bias.is_some());
        self.with(options, bias)
    }

    /// The same layer with the kernel taps `dilation` apart.
    ///
    /// # Panics
    ///
    /// When `dilation` is 0.
    ///
    /// ```
    /// let conv = blocks_core::nn::DynConv2d::new(1, 2, [3, 3]).dilation(2);
    /// assert_eq!(conv.options().dilation, [2, 2]);
    /// ```
    #[track_caller]
    pub fn dilation(self, dilation: usize) -> Self {
        assert!(dilation > 0, "Conv{D}d: dilation must be positive");
        let (options, bias) = (ConvOptions { dilation: [dilation; D], ..self.options }, self.bias.is_some());
        self.with(options, bias)
    }

    /// The layer split into `groups` channel groups (new weights, of shape
    /// `[O, I / groups, K...]`).
    ///
    /// # Panics
    ///
    /// When `groups` does not divide the channels.
    ///
    /// ```
    /// let conv = blocks_core::nn::DynConv2d::new(4, 8, [3, 3]).groups(2);
    /// assert_eq!(conv.weight().shape(), vec![8, 2, 3, 3]);
    /// ```
    #[track_caller]
    pub fn groups(self, groups: usize) -> Self {
        let (options, bias) = (ConvOptions { groups, ..self.options }, self.bias.is_some());
        self.with(options, bias)
    }

    /// The layer with or without a bias (`bias=False`).
    ///
    /// ```
    /// let conv = blocks_core::nn::DynConv2d::new(1, 8, [3, 3]).with_bias(false);
    /// assert!(conv.bias().is_none());
    /// ```
    pub fn with_bias(self, bias: bool) -> Self {
        let options = self.options;
        self.with(options, bias)
    }
}
