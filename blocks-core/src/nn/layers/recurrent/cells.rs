//! `nn.RNNCell`, `nn.LSTMCell`, `nn.GRUCell`: one step of a unit, the
//! state carried by the caller. Parameters `weight_ih`, `weight_hh`,
//! `bias_ih`, `bias_hh`, drawn from U(-1/√H, 1/√H).

use super::with_state::WithState;
use crate::nn::forward::Forward;
use crate::nn::layers::recurrent::options::Mode;
use crate::nn::layers::recurrent::step::{State, input_gates, step};
use crate::nn::layers::recurrent::weights::CellWeights;
use crate::nn::{FeedsInto, Hooks, TrainingFlag};
use crate::optim::pyrepr::boolean;
use crate::{Element, TensorBase};

/// A cell's settings: its unit's kind, its sizes, whether it has biases.
#[derive(Clone, Copy, Debug)]
struct CellSpec {
    mode: Mode,
    input_size: usize,
    hidden_size: usize,
    bias: bool,
}

/// A cell's parameters, drawn as PyTorch draws them.
#[track_caller]
fn weights(mode: Mode, name: &str, input_size: usize, hidden_size: usize, bias: bool) -> CellWeights {
    assert!(hidden_size > 0, "{name}: hidden_size must be greater than zero");
    if let Err(error) = crate::numel::checked_alloc::<f32>(
        name,
        "a weight",
        &[mode.gates(), hidden_size, input_size.max(hidden_size)],
    ) {
        panic!("{error}");
    }
    CellWeights::new(mode.gates(), input_size, hidden_size, 0, bias)
}

/// PyTorch's `extra_repr` of a cell: `10, 20`, then `bias=False` and a
/// nonlinearity other than tanh.
fn cell_repr(core: &CellSpec) -> String {
    let mut s = format!("{}, {}", core.input_size, core.hidden_size);
    if !core.bias {
        s += &format!(", bias={}", boolean(false));
    }
    if core.mode == Mode::RnnRelu {
        s += ", nonlinearity=relu";
    }
    s
}

/// One step of `core` on `x` (`[N, in]` or `[in]`) from `state` (zeros when
/// `None`; `[N, H]` or `[H]` each), the new state in the input's layout.
#[track_caller]
fn cell_step<E: Element>(
    name: &str,
    core: &CellSpec,
    weights: &CellWeights<E>,
    x: &TensorBase<E>,
    state: Option<(&TensorBase<E>, Option<&TensorBase<E>>)>,
) -> State<E> {
    let where_ = crate::nn::path::describe();
    let shape = x.shape();
    if !matches!(shape.len(), 1 | 2) {
        panic!("{name}: Expected input to be 1D or 2D, got {}D instead{where_}", shape.len());
    }
    if shape[shape.len() - 1] != core.input_size {
        panic!(
            "{name}: input has inconsistent input_size: got {} expected {}{where_}",
            shape[shape.len() - 1],
            core.input_size
        );
    }
    let batched = shape.len() == 2;
    let x = if batched { x.clone() } else { x.unsqueeze(0) };
    let rows = x.shape()[0];
    let expected: Vec<usize> = if batched { vec![rows, core.hidden_size] } else { vec![core.hidden_size] };
    let given = |what: &str, t: Option<&TensorBase<E>>| match t {
        None => TensorBase::zeros([rows, core.hidden_size]),
        Some(t) if t.shape() == expected => {
            if batched {
                t.clone()
            } else {
                t.unsqueeze(0)
            }
        }
        Some(t) => panic!("{name}: Expected {what} of shape {expected:?}, got {:?}{where_}", t.shape()),
    };
    let (h, c) = match state {
        Some((h, c)) => (Some(h), c),
        None => (None, None),
    };
    let before = State { h: given("hx", h), c: (core.mode == Mode::Lstm).then(|| given("cx", c)) };
    let after = step(core.mode, weights, core.hidden_size, &input_gates(weights, &x), &before);
    if batched { after } else { State { h: after.h.squeeze_dim(0), c: after.c.map(|c| c.squeeze_dim(0)) } }
}

/// An Elman cell, like `nn.RNNCell(input_size, hidden_size)`:
/// `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)` (or ReLU) on `[N, in]` or `[in]`,
/// from `h = 0`; [`forward_with_state`](Self::forward_with_state) takes `h`.
///
/// ```
/// use blocks_core::nn::{Module, ModuleExt, RNNCell};
/// use blocks_core::Tensor;
/// let cell = RNNCell::new(3, 4);
/// assert_eq!(cell.to_string(), "RNNCell(3, 4)");
/// let h = cell.forward(&Tensor::rand([2, 3]));
/// let h = cell.forward_with_state(&Tensor::rand([2, 3]), &h);
/// assert_eq!(h.shape(), vec![2, 4]);
/// assert_eq!(cell.state_dict().keys(), ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "RNNCell", input = "TensorBase<E>", extra_repr = "Self::settings")]
pub struct RNNCell<E: Element = f32> {
    #[module(skip)]
    core: CellSpec,
    weights: CellWeights<E>,
    training: TrainingFlag,
    hooks: Hooks,
}

/// A long short-term memory cell, like `nn.LSTMCell(input_size,
/// hidden_size)`: gates `i, f, g, o`, `c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g)`,
/// `h' = σ(o) ⊙ tanh(c')`; gives `(h', c')` from zeros, or from a given
/// `(h, c)` with [`forward_with_state`](Self::forward_with_state).
///
/// ```
/// use blocks_core::nn::{LSTMCell, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let cell = LSTMCell::with_bias(3, 4, false);
/// assert_eq!(cell.to_string(), "LSTMCell(3, 4, bias=False)");
/// let (h, c) = cell.forward(&Tensor::rand([2, 3]));
/// let (h, _) = cell.forward_with_state(&Tensor::rand([2, 3]), (&h, &c));
/// assert_eq!(h.shape(), vec![2, 4]);
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "LSTMCell", input = "TensorBase<E>", extra_repr = "Self::settings")]
pub struct LSTMCell<E: Element = f32> {
    #[module(skip)]
    core: CellSpec,
    weights: CellWeights<E>,
    training: TrainingFlag,
    hooks: Hooks,
}

/// A gated recurrent unit cell, like `nn.GRUCell(input_size, hidden_size)`:
/// gates `r, z, n`, `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`,
/// `h' = (1 - z) ⊙ n + z ⊙ h`.
///
/// ```
/// use blocks_core::nn::{GRUCell, Module, ModuleExt};
/// use blocks_core::Tensor;
/// let cell = GRUCell::new(3, 4);
/// assert_eq!(cell.to_string(), "GRUCell(3, 4)");
/// assert_eq!(cell.forward(&Tensor::rand([3])).shape(), vec![4]); // one unbatched input
/// ```
#[derive(blocks_macros::Module, Clone)]
#[module(crate = "crate", name = "GRUCell", input = "TensorBase<E>", extra_repr = "Self::settings")]
pub struct GRUCell<E: Element = f32> {
    #[module(skip)]
    core: CellSpec,
    weights: CellWeights<E>,
    training: TrainingFlag,
    hooks: Hooks,
}

impl RNNCell {
    /// A tanh cell with biases (PyTorch's defaults).
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::RNNCell::new(3, 4).hidden_size(), 4);
    /// ```
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        Self::with_options(input_size, hidden_size, true, "tanh")
    }

    /// A cell with or without biases, `nonlinearity` `"tanh"` or `"relu"`.
    ///
    /// # Panics
    ///
    /// On another nonlinearity or a zero `hidden_size`, in PyTorch's words.
    ///
    /// ```
    /// let cell = blocks_core::nn::RNNCell::with_options(3, 4, false, "relu");
    /// assert_eq!(cell.to_string(), "RNNCell(3, 4, bias=False, nonlinearity=relu)");
    /// ```
    #[track_caller]
    pub fn with_options(input_size: usize, hidden_size: usize, bias: bool, nonlinearity: &str) -> Self {
        let mode = Mode::rnn(nonlinearity);
        let weights = weights(mode, "RNNCell", input_size, hidden_size, bias);
        let core = CellSpec { mode, input_size, hidden_size, bias };
        RNNCell { core, weights, training: TrainingFlag::default(), hooks: Hooks::new() }
    }
}

impl LSTMCell {
    /// A cell with biases.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::LSTMCell::new(3, 4).input_size(), 3);
    /// ```
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        Self::with_bias(input_size, hidden_size, true)
    }

    /// A cell with or without biases.
    ///
    /// # Panics
    ///
    /// On a zero `hidden_size`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::LSTMCell::with_bias(3, 4, false).to_string(), "LSTMCell(3, 4, bias=False)");
    /// ```
    #[track_caller]
    pub fn with_bias(input_size: usize, hidden_size: usize, bias: bool) -> Self {
        let weights = weights(Mode::Lstm, "LSTMCell", input_size, hidden_size, bias);
        let core = CellSpec { mode: Mode::Lstm, input_size, hidden_size, bias };
        LSTMCell { core, weights, training: TrainingFlag::default(), hooks: Hooks::new() }
    }
}

impl GRUCell {
    /// A cell with biases.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::GRUCell::new(3, 4).hidden_size(), 4);
    /// ```
    #[track_caller]
    pub fn new(input_size: usize, hidden_size: usize) -> Self {
        Self::with_bias(input_size, hidden_size, true)
    }

    /// A cell with or without biases.
    ///
    /// # Panics
    ///
    /// On a zero `hidden_size`.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::GRUCell::with_bias(3, 4, false).to_string(), "GRUCell(3, 4, bias=False)");
    /// ```
    #[track_caller]
    pub fn with_bias(input_size: usize, hidden_size: usize, bias: bool) -> Self {
        let weights = weights(Mode::Gru, "GRUCell", input_size, hidden_size, bias);
        let core = CellSpec { mode: Mode::Gru, input_size, hidden_size, bias };
        GRUCell { core, weights, training: TrainingFlag::default(), hooks: Hooks::new() }
    }
}

impl<E: Element> RNNCell<E> {
    /// The input features.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::RNNCell::new(3, 4).input_size(), 3);
    /// ```
    pub fn input_size(&self) -> usize {
        self.core.input_size
    }

    /// The hidden units.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::RNNCell::new(3, 4).hidden_size(), 4);
    /// ```
    pub fn hidden_size(&self) -> usize {
        self.core.hidden_size
    }

    /// Draws every parameter again from U(-1/√H, 1/√H).
    ///
    /// ```
    /// use blocks_core::nn::ModuleExt;
    /// let cell = blocks_core::nn::RNNCell::new(3, 4);
    /// let before = cell.state_dict().get("weight_hh").unwrap().to_vec();
    /// cell.reset_parameters();
    /// assert_ne!(cell.state_dict().get("weight_hh").unwrap().to_vec(), before);
    /// ```
    pub fn reset_parameters(&self) {
        self.weights.reset(self.core.hidden_size);
    }

    /// One step from the hidden state `h` (`[N, H]`, or `[H]` for an
    /// unbatched input), as `cell(x, h)`, through the cell's hooks
    /// (they see `x`).
    ///
    /// # Panics
    ///
    /// When `x` or `h` does not have the shape above.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let cell = blocks_core::nn::RNNCell::new(3, 4);
    /// let x = Tensor::rand([2, 3]);
    /// let from_zeros = cell.forward_with_state(&x, &Tensor::zeros([2, 4]));
    /// assert_eq!(from_zeros.to_vec(), cell.forward(&x).to_vec());
    /// ```
    #[track_caller]
    pub fn forward_with_state(&self, x: &TensorBase<E>, h: &TensorBase<E>) -> TensorBase<E> {
        crate::nn::run(self, &WithState::new(x, h))
    }

    /// PyTorch's `extra_repr`.
    fn settings(&self) -> String {
        cell_repr(&self.core)
    }
}

/// `cell(x, h)`: [`forward_with_state`](RNNCell::forward_with_state) through the door.
impl<'a, E: Element> Forward<WithState<'a, E, &'a TensorBase<E>>> for RNNCell<E> {
    type Output = TensorBase<E>;

    #[track_caller]
    fn forward(&self, call: &WithState<'a, E, &'a TensorBase<E>>) -> TensorBase<E> {
        cell_step(&self.to_string(), &self.core, &self.weights, call.input, Some((call.state, None))).h
    }
}

impl<E: Element, Fed: FeedsInto<TensorBase<E>, Self>> Forward<Fed> for RNNCell<E> {
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let state = cell_step(&self.to_string(), &self.core, &self.weights, given.feed_ref(), None);
        state.h
    }
}

impl<E: Element> LSTMCell<E> {
    /// The input features.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::LSTMCell::new(3, 4).input_size(), 3);
    /// ```
    pub fn input_size(&self) -> usize {
        self.core.input_size
    }

    /// The hidden units.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::LSTMCell::new(3, 4).hidden_size(), 4);
    /// ```
    pub fn hidden_size(&self) -> usize {
        self.core.hidden_size
    }

    /// Draws every parameter again from U(-1/√H, 1/√H).
    ///
    /// ```
    /// use blocks_core::nn::ModuleExt;
    /// let cell = blocks_core::nn::LSTMCell::new(3, 4);
    /// let before = cell.state_dict().get("weight_hh").unwrap().to_vec();
    /// cell.reset_parameters();
    /// assert_ne!(cell.state_dict().get("weight_hh").unwrap().to_vec(), before);
    /// ```
    pub fn reset_parameters(&self) {
        self.weights.reset(self.core.hidden_size);
    }

    /// One step from the state `(h, c)` (each `[N, H]`, or `[H]` for an
    /// unbatched input), as `cell(x, (h, c))`, through the cell's hooks
    /// (they see `x`).
    ///
    /// # Panics
    ///
    /// When `x`, `h` or `c` does not have the shape above.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let cell = blocks_core::nn::LSTMCell::new(3, 4);
    /// let x = Tensor::rand([3]);
    /// let (h, c) = cell.forward_with_state(&x, (&Tensor::zeros([4]), &Tensor::zeros([4])));
    /// assert_eq!((h.to_vec(), c.to_vec()), { let (h, c) = cell.forward(&x); (h.to_vec(), c.to_vec()) });
    /// ```
    #[track_caller]
    pub fn forward_with_state(
        &self,
        x: &TensorBase<E>,
        (h, c): (&TensorBase<E>, &TensorBase<E>),
    ) -> (TensorBase<E>, TensorBase<E>) {
        crate::nn::run(self, &WithState::new(x, (h, c)))
    }

    /// PyTorch's `extra_repr`.
    fn settings(&self) -> String {
        cell_repr(&self.core)
    }
}

/// `cell(x, (h, c))`: [`forward_with_state`](LSTMCell::forward_with_state) through the door.
impl<'a, E: Element> Forward<WithState<'a, E, (&'a TensorBase<E>, &'a TensorBase<E>)>> for LSTMCell<E> {
    type Output = (TensorBase<E>, TensorBase<E>);

    #[track_caller]
    fn forward(
        &self,
        call: &WithState<'a, E, (&'a TensorBase<E>, &'a TensorBase<E>)>,
    ) -> (TensorBase<E>, TensorBase<E>) {
        let (h, c) = call.state;
        let state = cell_step(&self.to_string(), &self.core, &self.weights, call.input, Some((h, Some(c))));
        (state.h, state.c.expect("an LSTM cell keeps its cell state"))
    }
}

impl<E: Element, Fed: FeedsInto<TensorBase<E>, Self>> Forward<Fed> for LSTMCell<E> {
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, (TensorBase<E>, TensorBase<E>)>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> (TensorBase<E>, TensorBase<E>) {
        let state = cell_step(&self.to_string(), &self.core, &self.weights, given.feed_ref(), None);
        (state.h, state.c.expect("an LSTM cell keeps its cell state"))
    }
}

impl<E: Element> GRUCell<E> {
    /// The input features.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::GRUCell::new(3, 4).input_size(), 3);
    /// ```
    pub fn input_size(&self) -> usize {
        self.core.input_size
    }

    /// The hidden units.
    ///
    /// ```
    /// assert_eq!(blocks_core::nn::GRUCell::new(3, 4).hidden_size(), 4);
    /// ```
    pub fn hidden_size(&self) -> usize {
        self.core.hidden_size
    }

    /// Draws every parameter again from U(-1/√H, 1/√H).
    ///
    /// ```
    /// use blocks_core::nn::ModuleExt;
    /// let cell = blocks_core::nn::GRUCell::new(3, 4);
    /// let before = cell.state_dict().get("weight_hh").unwrap().to_vec();
    /// cell.reset_parameters();
    /// assert_ne!(cell.state_dict().get("weight_hh").unwrap().to_vec(), before);
    /// ```
    pub fn reset_parameters(&self) {
        self.weights.reset(self.core.hidden_size);
    }

    /// One step from the hidden state `h` (`[N, H]`, or `[H]` for an
    /// unbatched input), as `cell(x, h)`, through the cell's hooks
    /// (they see `x`).
    ///
    /// # Panics
    ///
    /// When `x` or `h` does not have the shape above.
    ///
    /// ```
    /// use blocks_core::Tensor;
    /// let cell = blocks_core::nn::GRUCell::new(3, 4);
    /// let x = Tensor::rand([2, 3]);
    /// let from_zeros = cell.forward_with_state(&x, &Tensor::zeros([2, 4]));
    /// assert_eq!(from_zeros.to_vec(), cell.forward(&x).to_vec());
    /// ```
    #[track_caller]
    pub fn forward_with_state(&self, x: &TensorBase<E>, h: &TensorBase<E>) -> TensorBase<E> {
        crate::nn::run(self, &WithState::new(x, h))
    }

    /// PyTorch's `extra_repr`.
    fn settings(&self) -> String {
        cell_repr(&self.core)
    }
}

/// `cell(x, h)`: [`forward_with_state`](GRUCell::forward_with_state) through the door.
impl<'a, E: Element> Forward<WithState<'a, E, &'a TensorBase<E>>> for GRUCell<E> {
    type Output = TensorBase<E>;

    #[track_caller]
    fn forward(&self, call: &WithState<'a, E, &'a TensorBase<E>>) -> TensorBase<E> {
        cell_step(&self.to_string(), &self.core, &self.weights, call.input, Some((call.state, None))).h
    }
}

impl<E: Element, Fed: FeedsInto<TensorBase<E>, Self>> Forward<Fed> for GRUCell<E> {
    type Output = crate::nn::Checked<Fed, TensorBase<E>, Self, TensorBase<E>>;

    #[track_caller]
    fn forward(&self, given: &Fed) -> TensorBase<E> {
        let state = cell_step(&self.to_string(), &self.core, &self.weights, given.feed_ref(), None);
        state.h
    }
}
