//! `nn.RNN`: [`DynRNN`] (sizes from a config, taking plain tensors) and
//! the typed front [`RNN<I, H>`] (taking `Seq<I>`, a wrong width a compile
//! error).

use super::typed_width::output_width_message;
use super::with_state::WithState;
use crate::nn::Hooks;
use crate::nn::forward::Forward;
use crate::nn::layers::recurrent::options::{Mode, RecurrentOptions, Spec};
use crate::nn::layers::recurrent::output::RnnOutput;
use crate::nn::layers::recurrent::stack::run_stack;
use crate::nn::layers::recurrent::weights::StackWeights;
use crate::nn::sequence::Seq;
use crate::nn::{FeedsInto, TrainingFlag};
use crate::{Element, TensorBase};

/// An Elman recurrent layer whose sizes are known only at run time, like
/// `nn.RNN(input_size, hidden_size, ...)`: at each step
/// `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)` (ReLU instead of tanh with
/// `nonlinearity='relu'`, which PyTorch's printout does not show).
///
/// It takes `[L, N, in]` (`[N, L, in]` with `batch_first`, `[L, in]`
/// unbatched) and gives `(output, h_n)`: the last layer's `h` at every
/// step (both directions side by side), and each layer's and direction's
/// last `h`, `[layers·directions, N, H]`. The states start at zero;
/// [`forward_with_state`](Self::forward_with_state) starts them from given
/// ones. Parameters under PyTorch's keys (`weight_ih_l0`, `bias_hh_l1_reverse`,
/// ...), all drawn from U(-1/√H, 1/√H).
///
/// ```
/// use blocks_core::nn::{DynRNN, Module, ModuleExt, RecurrentOptions};
/// use blocks_core::Tensor;
/// let options = RecurrentOptions { num_layers: 2, batch_first: true, bidirectional: true, ..Default::default() };
/// let rnn = DynRNN::with_options(10, 20, options);
/// assert_eq!(rnn.to_string(), "RNN(10, 20, num_layers=2, batch_first=True, bidirectional=True)");
/// let (output, h_n) = rnn.forward(&Tensor::rand([3, 5, 10])); // 3 sequences of 5 steps
/// assert_eq!((output.shape(), h_n.shape()), (vec![3, 5, 40], vec![4, 3, 20]));
/// assert_eq!(rnn.state_dict().get("weight_ih_l1_reverse").unwrap().shape(), vec![20, 40]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "RNN", input = "TensorBase<E>", extra_repr = "Self::settings")]
pub struct DynRNN<E: Element = f32> {
    #[module(skip)]
    spec: Spec,
    weights: StackWeights<E>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl DynRNN {
    /// One layer, one direction, with biases (PyTorch's defaults).
    ///
    /// ```
    /// let rnn = blocks_core::nn::DynRNN::new(3, 4);
    /// assert_eq!(rnn.to_string(), "RNN(3, 4)");
    /// ```
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        Self::with_options(input_size, hidden_size, RecurrentOptions::default())
    }

    /// A layer with the given settings.
    ///
    /// # Panics
    ///
    /// On a zero `hidden_size` or `num_layers`, a dropout outside `[0, 1]`,
    /// or a `proj_size` (an LSTM's alone), in PyTorch's words.
    ///
    /// ```
    /// use blocks_core::nn::{DynRNN, RecurrentOptions};
    /// let rnn = DynRNN::with_options(3, 4, RecurrentOptions { bias: false, ..Default::default() });
    /// assert_eq!(rnn.to_string(), "RNN(3, 4, bias=False)");
    /// ```
    #[track_caller]
    pub fn with_options(input_size: usize, hidden_size: usize, options: RecurrentOptions) -> Self {
        Self::with_nonlinearity(input_size, hidden_size, "tanh", options)
    }

    /// A layer with the given settings and `nonlinearity`, `"tanh"` or `"relu"`.
    ///
    /// # Panics
    ///
    /// On another nonlinearity, or settings [`with_options`](Self::with_options)
    /// refuses, in PyTorch's words.
    ///
    /// ```
    /// use blocks_core::nn::{DynRNN, RecurrentOptions};
    /// let rnn = DynRNN::with_nonlinearity(3, 4, "relu", RecurrentOptions::default());
    /// assert_eq!(rnn.nonlinearity(), "relu");
    /// ```
    #[track_caller]
    pub fn with_nonlinearity(
        input_size: usize,
        hidden_size: usize,
        nonlinearity: &str,
        options: RecurrentOptions,
    ) -> Self {
        let spec = Spec::new(Mode::rnn(nonlinearity), input_size, hidden_size, options);
        DynRNN {
            spec,
            weights: StackWeights::new(&spec),
            training: TrainingFlag::default(),
            hooks: Hooks::new(),
        }
    }
}

impl<E: Element> DynRNN<E> {
    /// The input features.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynRNN::new(3, 4).input_size(), 3);
    /// ```
    pub fn input_size(&self) -> usize {
        self.spec.input_size
    }

    /// The hidden units per direction.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynRNN::new(3, 4).hidden_size(), 4);
    /// ```
    pub fn hidden_size(&self) -> usize {
        self.spec.hidden_size
    }

    /// `"tanh"` or `"relu"`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynRNN::new(3, 4).nonlinearity(), "tanh");
    /// ```
    pub fn nonlinearity(&self) -> &'static str {
        self.spec.mode.nonlinearity().expect("an RNN has a nonlinearity")
    }

    /// The settings.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::DynRNN::new(3, 4).options().num_layers, 1);
    /// ```
    pub fn options(&self) -> RecurrentOptions {
        self.spec.options
    }

    /// Draws every parameter again from U(-1/√H, 1/√H).
    ///
    /// ```
    /// use blocks_core::nn::{DynRNN, ModuleExt};
    /// let rnn = DynRNN::new(3, 4);
    /// let before = rnn.state_dict().get("weight_ih_l0").unwrap().to_vec();
    /// rnn.reset_parameters();
    /// assert_ne!(rnn.state_dict().get("weight_ih_l0").unwrap().to_vec(), before);
    /// ```
    pub fn reset_parameters(&self) {
        for cell in &self.weights.cells {
            cell.reset(self.spec.hidden_size);
        }
    }

    /// The forward from the initial state `h_0`, `[layers·directions, N, H]`
    /// (`[layers·directions, H]` for an unbatched input), as `rnn(x, h_0)`.
    /// It runs through the layer's hooks (they see `x`), as a call does.
    ///
    /// # Panics
    ///
    /// When the input or a state does not have the shape above.
    ///
    /// ```
    /// use blocks_core::nn::DynRNN;
    /// use blocks_core::Tensor;
    /// let rnn = DynRNN::new(3, 4);
    /// let (output, h_n) = rnn.forward_with_state(&Tensor::rand([5, 2, 3]), &Tensor::rand([1, 2, 4]));
    /// assert_eq!(output.select(0, -1).to_vec(), h_n.select(0, 0).to_vec());
    /// ```
    #[track_caller]
    pub fn forward_with_state(&self, x: &TensorBase<E>, h_0: &TensorBase<E>) -> RnnOutput<TensorBase<E>, E> {
        crate::nn::run(self, &WithState::new(x, h_0))
    }

    #[track_caller]
    fn run(
        &self,
        x: &TensorBase<E>,
        initial: Option<(&TensorBase<E>, Option<&TensorBase<E>>)>,
    ) -> RnnOutput<TensorBase<E>, E> {
        let outcome =
            run_stack(&self.to_string(), &self.spec, &self.weights, x, initial, self.training.get());
        (outcome.output, outcome.h_n)
    }

    /// PyTorch's `extra_repr`.
    fn settings(&self) -> String {
        self.spec.repr()
    }
}

/// `rnn(x, h_0)`: [`forward_with_state`](DynRNN::forward_with_state) through the door.
impl<'a, E: Element> Forward<WithState<'a, E, &'a TensorBase<E>>> for DynRNN<E> {
    type Output = RnnOutput<TensorBase<E>, E>;

    #[track_caller]
    fn forward(&self, call: &WithState<'a, E, &'a TensorBase<E>>) -> RnnOutput<TensorBase<E>, E> {
        self.run(call.input, Some((call.state, None)))
    }
}

impl<E: Element, Fed: FeedsInto<TensorBase<E>, Self>> Forward<Fed> for DynRNN<E> {
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, RnnOutput<TensorBase<E>, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> RnnOutput<TensorBase<E>, E> {
        self.run(given.feed_ref(), None)
    }
}

/// An RNN with its widths in its type, taking `Seq<I>`: `I` inputs, `H`
/// hidden units, `O` output features (`H` for one direction, the default;
/// `2H` for a bidirectional layer). Feeding it a sequence of another width
/// is a compile error on that line ("`RNN<8, 16>` takes 8 input features,
/// but the argument has 5"); a plain tensor is checked at run time.
///
/// ```
/// use blocks_core::nn::{RNN, Module, ModuleExt, Seq};
/// let rnn = RNN::<8, 16>::new();
/// let (output, h_n) = rnn.forward(&Seq::<8>::rand(35, 4));
/// let _: &Seq<16> = &output;
/// assert_eq!((output.shape(), h_n.shape()), (vec![35, 4, 16], vec![1, 4, 16]));
/// let both_ways = RNN::<8, 16, 32>::bidirectional();
/// assert_eq!(both_ways.to_string(), "RNN(8, 16, bidirectional=True)");
/// ```
///
/// A width that does not fit its direction fails to build:
///
/// ```compile_fail,E0080
/// let rnn = blocks_core::nn::RNN::<8, 16, 20>::new(); // 20 is neither 16 nor 32
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", transparent, input = "Seq<I, E>")]
pub struct RNN<const I: usize, const H: usize, const O: usize = H, E: Element = f32> {
    layer: DynRNN<E>,
}

impl<const I: usize, const H: usize, const O: usize> RNN<I, H, O> {
    /// `O == H`, checked when [`new`](Self::new) is used (a compile error otherwise).
    const ONE_WAY: () = if let Some(message) = &output_width_message("RNN", I, H, O, 1) {
        panic!("{}", message.as_str())
    };
    /// `O == 2H`, checked when [`bidirectional`](Self::bidirectional) is used.
    const TWO_WAYS: () = if let Some(message) = &output_width_message("RNN", I, H, O, 2) {
        panic!("{}", message.as_str())
    };

    /// One layer, one direction (PyTorch's defaults).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::RNN::<3, 4>::new().to_string(), "RNN(3, 4)");
    /// ```
    pub fn new() -> Self {
        let () = Self::ONE_WAY;
        RNN { layer: DynRNN::new(I, H) }
    }

    /// One bidirectional layer (`O` must be `2H`).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::RNN::<3, 4, 8>::bidirectional().core().options().bidirectional, true);
    /// ```
    pub fn bidirectional() -> Self {
        let () = Self::TWO_WAYS;
        RNN {
            layer: DynRNN::with_options(I, H, RecurrentOptions { bidirectional: true, ..Default::default() }),
        }
    }

    /// A layer with the given settings.
    ///
    /// # Panics
    ///
    /// When the output's width (`H` times the directions) is not `O`, or on
    /// settings [`DynRNN::with_options`] refuses.
    ///
    /// ```
    /// use blocks_core::nn::{RNN, RecurrentOptions};
    /// let rnn = RNN::<3, 4>::with_options(RecurrentOptions { num_layers: 2, ..Default::default() });
    /// assert_eq!(rnn.to_string(), "RNN(3, 4, num_layers=2)");
    /// ```
    #[track_caller]
    pub fn with_options(options: RecurrentOptions) -> Self {
        Self::with_nonlinearity("tanh", options)
    }

    /// A layer with the given settings and `nonlinearity`, `"tanh"` or `"relu"`.
    ///
    /// # Panics
    ///
    /// As [`with_options`](Self::with_options), and on another nonlinearity.
    ///
    /// ```
    /// use blocks_core::nn::{RNN, RecurrentOptions};
    /// let relu = RNN::<3, 4>::with_nonlinearity("relu", RecurrentOptions::default());
    /// assert_eq!(relu.core().nonlinearity(), "relu");
    /// ```
    #[track_caller]
    pub fn with_nonlinearity(nonlinearity: &str, options: RecurrentOptions) -> Self {
        let layer = DynRNN::with_nonlinearity(I, H, nonlinearity, options);
        let gives = layer.spec.output_size();
        assert!(gives == O, "RNN<{I}, {H}, {O}>: the settings give {gives} output features, not {O}");
        RNN { layer }
    }
}

impl<const I: usize, const H: usize, const O: usize, E: Element> RNN<I, H, O, E> {
    /// The run-time core (settings, parameters).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::RNN::<3, 4>::new().core().hidden_size(), 4);
    /// ```
    pub fn core(&self) -> &DynRNN<E> {
        &self.layer
    }

    /// The forward from `h_0` (see [`DynRNN::forward_with_state`]).
    ///
    /// # Panics
    ///
    /// When a state does not have the shape the layer needs.
    ///
    /// ```
    /// use blocks_core::nn::{RNN, Seq};
    /// use blocks_core::Tensor;
    /// let rnn = RNN::<3, 4>::new();
    /// let (output, _) = rnn.forward_with_state(&Seq::<3>::rand(5, 2), &Tensor::zeros([1, 2, 4]));
    /// assert_eq!(output.shape(), vec![5, 2, 4]);
    /// ```
    #[track_caller]
    pub fn forward_with_state<Fed: FeedsInto<Seq<I, E>, Self>>(
        &self,
        x: &Fed,
        state: &TensorBase<E>,
    ) -> RnnOutput<Seq<O, E>, E> {
        let (output, h_n) = self.layer.forward_with_state(x.feed_ref(), state);
        (Seq::trusted(output), h_n)
    }
}

impl<const I: usize, const H: usize> Default for RNN<I, H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const I: usize, const H: usize, const O: usize, E: Element, Fed: FeedsInto<Seq<I, E>, Self>> Forward<Fed>
    for RNN<I, H, O, E>
{
    type Output = crate::nn::Checked<Fed, Seq<I, E>, Self, RnnOutput<Seq<O, E>, E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> RnnOutput<Seq<O, E>, E> {
        let (output, h_n) = self.layer.run(given.feed_ref(), None);
        (Seq::trusted(output), h_n)
    }
}
