//! [`DynConvTranspose`]: the core of `nn.ConvTranspose2d` and
//! `nn.ConvTranspose1d`, its channels and kernel from a config, taking plain
//! tensors; the typed fronts `ConvTranspose2d<I, O, K>` and
//! `ConvTranspose1d<I, O, K>` hold one.

use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::{DeepCopy, MapElement, Mapper, Module, Parameter, TrainingFlag, Visitor, register_parameter};
use crate::{ConvTransposeOptions, Element, Tensor, TensorBase};

/// A transposed convolution over `D` spatial dims whose channels and kernel
/// are known only at run time: [`DynConvTranspose2d`] is
/// `nn.ConvTranspose2d`, [`DynConvTranspose1d`] is `nn.ConvTranspose1d`.
/// Weight `[in, out / groups, k...]` (PyTorch's layout), bias `[out]`.
///
/// ```
/// use blocks_core::nn::{DynConvTranspose2d, Module, ModuleExt};
/// use blocks_core::{ConvTranspose2dOptions, Tensor};
/// let options = ConvTranspose2dOptions { stride: [2, 2], padding: [1, 1], output_padding: [1, 1], ..Default::default() };
/// let up = DynConvTranspose2d::with_options(16, 8, [3, 3], options, true);
/// assert_eq!(
///     up.to_string(),
///     "ConvTranspose2d(16, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))"
/// );
/// assert_eq!(up.forward(&Tensor::rand([2, 16, 5, 5])).shape(), vec![2, 8, 10, 10]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", manual, input = "TensorBase<E>")]
pub struct DynConvTranspose<const D: usize, E: Element = f32> {
    in_channels: usize,
    out_channels: usize,
    kernel_size: [usize; D],
    options: ConvTransposeOptions<D>,
    weight: Parameter<E>,
    bias: Option<Parameter<E>>,
    training: TrainingFlag,
    hooks: Hooks,
}

/// `nn.ConvTranspose2d` with channels chosen at run time (see [`DynConvTranspose`]).
pub type DynConvTranspose2d = DynConvTranspose<2>;

/// `nn.ConvTranspose1d` with channels chosen at run time (see [`DynConvTranspose`]).
pub type DynConvTranspose1d = DynConvTranspose<1>;

impl<const D: usize> DynConvTranspose<D> {
    /// A transposed convolution with stride 1, no padding or output
    /// padding, dilation 1, one group and a bias, initialized as PyTorch
    /// does (see [`with_options`](Self::with_options)).
    ///
    /// ```
    /// let up = blocks_core::nn::DynConvTranspose1d::new(2, 4, [3]);
    /// assert_eq!(up.weight().shape(), vec![2, 4, 3]);
    /// assert_eq!(up.to_string(), "ConvTranspose1d(2, 4, kernel_size=(3,), stride=(1,))");
    /// ```
    #[track_caller]
    pub fn new(in_channels: usize, out_channels: usize, kernel_size: [usize; D]) -> Self {
        Self::with_options(in_channels, out_channels, kernel_size, ConvTransposeOptions::default(), true)
    }

    /// A transposed convolution with the given options, with or without a
    /// bias. Weight and bias are drawn as PyTorch's `reset_parameters` does:
    /// kaiming_uniform with `a = √5` on the weight `[in, out / groups, k...]`
    /// (so U(-1/√fan_in, 1/√fan_in) with `fan_in = out / groups · ∏k`, the
    /// weight's dim 1 as PyTorch computes it), and the bias from the same range.
    ///
    /// # Panics
    ///
    /// When `groups` is 0 or does not divide both channel counts, a kernel
    /// size, stride or dilation is 0, or an output padding is not smaller
    /// than either the stride or the dilation (PyTorch's message); when the
    /// kernel's extent or twice the padding overflows, or the weight would
    /// not fit in memory.
    ///
    /// ```
    /// use blocks_core::{nn::DynConvTranspose2d, ConvTranspose2dOptions};
    /// let options = ConvTranspose2dOptions { groups: 2, ..Default::default() };
    /// let up = DynConvTranspose2d::with_options(4, 8, [3, 3], options, false);
    /// assert_eq!(up.weight().shape(), vec![4, 4, 3, 3]);
    /// assert!(up.bias().is_none());
    /// ```
    #[track_caller]
    pub fn with_options(
        in_channels: usize,
        out_channels: usize,
        kernel_size: [usize; D],
        options: ConvTransposeOptions<D>,
        bias: bool,
    ) -> Self {
        let name = format!("ConvTranspose{D}d");
        let groups = options.groups;
        check_options(kernel_size, options);
        assert!(in_channels.is_multiple_of(groups), "{name}: in_channels must be divisible by groups");
        assert!(out_channels.is_multiple_of(groups), "{name}: out_channels must be divisible by groups");
        let mut shape = vec![in_channels, out_channels / groups];
        shape.extend_from_slice(&kernel_size);
        if let Err(error) = crate::numel::checked_alloc::<f32>(&name, "the weight", &shape) {
            panic!("{error}");
        }
        let weight = Parameter::new(Tensor::zeros(shape));
        let bias = bias.then(|| Parameter::new(Tensor::zeros([out_channels])));
        crate::nn::init::reset_linear(&weight, bias.as_ref());
        DynConvTranspose {
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
    /// let up = blocks_core::nn::DynConvTranspose2d::new(1, 2, [3, 3]);
    /// blocks_core::nn::init::zeros_(up.weight());
    /// up.reset_parameters();
    /// assert!(up.weight().to_vec().iter().any(|w| *w != 0.0));
    /// ```
    pub fn reset_parameters(&self) {
        crate::nn::init::reset_linear(&self.weight, self.bias.as_ref());
    }

    /// The layer with `options` and `bias`, its weights kept when their
    /// shapes stay.
    #[track_caller]
    fn with(self, options: ConvTransposeOptions<D>, bias: bool) -> Self {
        if options.groups != self.options.groups || bias != self.bias.is_some() {
            DynConvTranspose::with_options(
                self.in_channels,
                self.out_channels,
                self.kernel_size,
                options,
                bias,
            )
        } else {
            check_options(self.kernel_size, options);
            DynConvTranspose { options, ..self }
        }
    }

    /// The same layer with stride `stride` in every spatial dim.
    ///
    /// # Panics
    ///
    /// When `stride` is 0, or the output padding is then not smaller than
    /// either stride or dilation.
    ///
    /// ```
    /// let up = blocks_core::nn::DynConvTranspose2d::new(3, 6, [3, 3]).stride(2);
    /// assert_eq!(up.options().stride, [2, 2]);
    /// ```
    #[track_caller]
    pub fn stride(self, stride: usize) -> Self {
        let (options, bias) =
            (ConvTransposeOptions { stride: [stride; D], ..self.options }, self.bias.is_some());
        self.with(options, bias)
    }

    /// The same layer with `padding` rows and columns taken off both sides of
    /// the output.
    ///
    /// ```
    /// let up = blocks_core::nn::DynConvTranspose2d::new(1, 6, [3, 3]).padding(1);
    /// assert_eq!(up.to_string(), "ConvTranspose2d(1, 6, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))");
    /// ```
    #[track_caller]
    pub fn padding(self, padding: usize) -> Self {
        let (options, bias) =
            (ConvTransposeOptions { padding: [padding; D], ..self.options }, self.bias.is_some());
        self.with(options, bias)
    }

    /// The same layer with `output_padding` added at the end of every
    /// spatial dim of the output.
    ///
    /// # Panics
    ///
    /// When it is not smaller than either the stride or the dilation, as PyTorch refuses it.
    ///
    /// ```
    /// let up = blocks_core::nn::DynConvTranspose2d::new(1, 1, [3, 3]).stride(2).output_padding(1);
    /// assert_eq!(up.forward(&blocks_core::Tensor::ones([1, 1, 4, 4])).shape(), vec![1, 1, 10, 10]);
    /// ```
    #[track_caller]
    pub fn output_padding(self, output_padding: usize) -> Self {
        let options = ConvTransposeOptions { output_padding: [output_padding; D], ..self.options };
        let bias = self.bias.is_some();
        self.with(options, bias)
    }

    /// The same layer with the kernel taps `dilation` apart.
    ///
    /// # Panics
    ///
    /// When `dilation` is 0.
    ///
    /// ```
    /// let up = blocks_core::nn::DynConvTranspose2d::new(1, 2, [3, 3]).dilation(2);
    /// assert_eq!(up.options().dilation, [2, 2]);
    /// ```
    #[track_caller]
    pub fn dilation(self, dilation: usize) -> Self {
        let options = ConvTransposeOptions { dilation: [dilation; D], ..self.options };
        let bias = self.bias.is_some();
        self.with(options, bias)
    }

    /// The layer split into `groups` channel groups (new weights, of shape
    /// `[I, O / groups, K...]`).
    ///
    /// # Panics
    ///
    /// When `groups` does not divide the channels.
    ///
    /// ```
    /// let up = blocks_core::nn::DynConvTranspose2d::new(4, 8, [3, 3]).groups(2);
    /// assert_eq!(up.weight().shape(), vec![4, 4, 3, 3]);
    /// ```
    #[track_caller]
    pub fn groups(self, groups: usize) -> Self {
        let (options, bias) = (ConvTransposeOptions { groups, ..self.options }, self.bias.is_some());
        self.with(options, bias)
    }

    /// The layer with or without a bias (`bias=False`).
    ///
    /// ```
    /// let up = blocks_core::nn::DynConvTranspose2d::new(1, 8, [3, 3]).with_bias(false);
    /// assert!(up.bias().is_none());
    /// ```
    pub fn with_bias(self, bias: bool) -> Self {
        let options = self.options;
        self.with(options, bias)
    }
}

impl<const D: usize, E: Element> DynConvTranspose<D, E> {
    /// The number of input channels.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConvTranspose2d::new(3, 8, [3, 3]).in_channels(), 3);
    /// ```
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// The number of output channels.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConvTranspose2d::new(3, 8, [3, 3]).out_channels(), 8);
    /// ```
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }

    /// The kernel size per spatial dim.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConvTranspose2d::new(3, 8, [3, 5]).kernel_size(), [3, 5]);
    /// ```
    pub fn kernel_size(&self) -> [usize; D] {
        self.kernel_size
    }

    /// Stride, padding, output padding, dilation and groups.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConvTranspose2d::new(3, 8, [3, 3]).options().groups, 1);
    /// ```
    pub fn options(&self) -> ConvTransposeOptions<D> {
        self.options
    }

    /// The weight, `[in, out / groups, k...]`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConvTranspose2d::new(3, 8, [3, 3]).weight().shape(), vec![3, 8, 3, 3]);
    /// ```
    pub fn weight(&self) -> &Parameter<E> {
        &self.weight
    }

    /// The bias, `[out]`, if the layer has one.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynConvTranspose2d::new(3, 8, [3, 3]).bias().unwrap().shape(), vec![8]);
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

impl<E: Element, Fed: crate::nn::FeedsInto<TensorBase<E>, Self>> Forward<Fed> for DynConvTranspose<2, E> {
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let x: &TensorBase<E> = &given.feed_into();
        self.check_input(x, true);
        crate::nn::path::or_panic(x.try_conv_transpose2d(&self.weight, self.bias.as_deref(), self.options))
    }
}

impl<E: Element, Fed: crate::nn::FeedsInto<TensorBase<E>, Self>> Forward<Fed> for DynConvTranspose<1, E> {
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let x: &TensorBase<E> = &given.feed_into();
        self.check_input(x, true);
        crate::nn::path::or_panic(x.try_conv_transpose1d(&self.weight, self.bias.as_deref(), self.options))
    }
}

/// Panics, as PyTorch's constructor and forward refuse them, on a zero
/// group count, kernel size, stride or dilation, an output padding not
/// smaller than either stride or dilation, and sizes whose kernel extent or
/// doubled padding overflows.
#[track_caller]
fn check_options<const D: usize>(kernel_size: [usize; D], options: ConvTransposeOptions<D>) {
    let name = format!("ConvTranspose{D}d");
    assert!(options.groups > 0, "{name}: groups must be a positive integer");
    for (what, values) in
        [("kernel_size", kernel_size), ("stride", options.stride), ("dilation", options.dilation)]
    {
        assert!(values.iter().all(|&v| v > 0), "{name}: {what} must be positive, got {values:?}");
    }
    if let Some(why) = options.output_padding_error() {
        panic!("{name}: {why}");
    }
    for axis in 0..D {
        let (k, dilation, padding) = (kernel_size[axis], options.dilation[axis], options.padding[axis]);
        assert!(
            dilation.checked_mul(k - 1).is_some_and(|e| e < usize::MAX),
            "{name}: dilation {:?} with kernel_size {kernel_size:?} is too large (the kernel's extent overflows)",
            options.dilation
        );
        assert!(
            padding.checked_mul(2).is_some(),
            "{name}: padding {:?} is too large (twice it overflows)",
            options.padding
        );
    }
}

/// A Python tuple: `(5, 5)`, `(3,)`.
fn tuple<const D: usize>(values: [usize; D]) -> String {
    let items: Vec<String> = values.iter().map(usize::to_string).collect();
    if D == 1 { format!("({},)", items[0]) } else { format!("({})", items.join(", ")) }
}

#[diagnostic::do_not_recommend]
impl<const D: usize, E: Element> Module for DynConvTranspose<D, E> {
    fn type_name(&self) -> String {
        format!("ConvTranspose{D}d")
    }

    /// PyTorch's `_ConvNd.extra_repr`: settings that differ from the default.
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
        if o.output_padding != [0; D] {
            s += &format!(", output_padding={}", tuple(o.output_padding));
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

impl<const D: usize, E: Element> MapElement for DynConvTranspose<D, E> {
    type As<F: Element> = DynConvTranspose<D, F>;

    fn map_element<F: Element>(&self, mapper: &mut Mapper) -> DynConvTranspose<D, F> {
        DynConvTranspose {
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
impl<const D: usize, E: Element> DeepCopy for DynConvTranspose<D, E> {
    fn deep_copy_with(&self, mapper: &mut Mapper) -> Self {
        self.map_element::<E>(mapper)
    }
}

#[cfg(test)]
mod tests {
    use crate::nn::{DynConvTranspose2d, ToElement};
    use crate::{ConvTranspose2dOptions, Tensor64, gradcheck_module};

    /// The layer in float64 (weight and bias) against finite differences.
    #[test]
    fn conv_transpose_layer_gradcheck_in_float64() {
        let options = ConvTranspose2dOptions {
            stride: [2, 2],
            padding: [1, 0],
            output_padding: [1, 1],
            ..Default::default()
        };
        let up = DynConvTranspose2d::with_options(2, 3, [3, 2], options, true).to_f64();
        let x = Tensor64::rand([2, 2, 3, 2]).requires_grad_(true);
        gradcheck_module(
            &up,
            |xs| {
                let y = up.forward(&xs[0]);
                (&y * &y).sum()
            },
            &[x],
        )
        .unwrap();
    }

    /// PyTorch's init: U(-b, b) with b = 1/√fan_in, fan_in from the
    /// weight's dim 1 (`out / groups · ∏k`, not the input channels).
    #[test]
    fn init_draws_from_pytorchs_bound() {
        let options = ConvTranspose2dOptions { groups: 2, ..Default::default() };
        let up = DynConvTranspose2d::with_options(64, 8, [3, 3], options, true);
        let bound = 1.0 / ((8 / 2 * 9) as f32).sqrt();
        let w = up.weight().to_vec();
        assert!(w.iter().all(|v| v.abs() <= bound));
        // The draws fill the range: the largest is near the bound, far above 1/√(64·9).
        assert!(w.iter().fold(0.0f32, |m, v| m.max(v.abs())) > 0.9 * bound);
        assert!(up.bias().unwrap().to_vec().iter().all(|v| v.abs() <= bound));
    }
}
