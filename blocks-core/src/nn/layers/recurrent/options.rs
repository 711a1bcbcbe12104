//! The settings of a recurrent layer (PyTorch's keyword arguments of
//! `nn.RNN`, `nn.LSTM`, `nn.GRU`), their checks and their printout.

use crate::optim::pyrepr::{boolean, float};

/// The keyword arguments of `nn.RNN`, `nn.LSTM` and `nn.GRU`, with
/// PyTorch's defaults: one layer, biases, `[L, N, D]` input (not
/// `batch_first`), no dropout, one direction, no projection.
///
/// ```
/// use blocks_core::nn::{DynLSTM, RecurrentOptions};
/// let options = RecurrentOptions { num_layers: 2, bidirectional: true, ..Default::default() };
/// let lstm = DynLSTM::with_options(10, 20, options);
/// assert_eq!(lstm.to_string(), "LSTM(10, 20, num_layers=2, bidirectional=True)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RecurrentOptions {
    /// Stacked layers, each taking the previous one's output (`num_layers`).
    pub num_layers: usize,
    /// Whether each layer has `bias_ih` and `bias_hh` (`bias`).
    pub bias: bool,
    /// Input and output as `[N, L, D]` instead of `[L, N, D]` (`batch_first`);
    /// the states `h_n`, `c_n` stay `[layers·directions, N, H]`.
    pub batch_first: bool,
    /// The probability of zeroing each output of every layer but the last,
    /// in training only (`dropout`).
    pub dropout: f64,
    /// A second pass from the last step to the first, its outputs
    /// concatenated after the first's (`bidirectional`).
    pub bidirectional: bool,
    /// LSTM only: each hidden state projected to this many features by
    /// `weight_hr` (`proj_size`; 0 for none).
    pub proj_size: usize,
}

impl Default for RecurrentOptions {
    fn default() -> Self {
        RecurrentOptions {
            num_layers: 1,
            bias: true,
            batch_first: false,
            dropout: 0.0,
            bidirectional: false,
            proj_size: 0,
        }
    }
}

/// What a recurrent unit computes at each step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)` (`nonlinearity='tanh'`).
    RnnTanh,
    /// The same with ReLU (`nonlinearity='relu'`).
    RnnRelu,
    /// Gates i, f, g, o.
    Lstm,
    /// Gates r, z, n.
    Gru,
}

impl Mode {
    /// The number of gates, the rows of `W_ih` per hidden unit.
    pub(crate) fn gates(self) -> usize {
        match self {
            Mode::RnnTanh | Mode::RnnRelu => 1,
            Mode::Lstm => 4,
            Mode::Gru => 3,
        }
    }

    /// PyTorch's class name of the full layer.
    pub(crate) fn layer_name(self) -> &'static str {
        match self {
            Mode::RnnTanh | Mode::RnnRelu => "RNN",
            Mode::Lstm => "LSTM",
            Mode::Gru => "GRU",
        }
    }

    /// `'tanh'` or `'relu'` as PyTorch spells them (the RNNs), `None` otherwise.
    pub(crate) fn nonlinearity(self) -> Option<&'static str> {
        match self {
            Mode::RnnTanh => Some("tanh"),
            Mode::RnnRelu => Some("relu"),
            Mode::Lstm | Mode::Gru => None,
        }
    }

    /// The RNN mode for PyTorch's `nonlinearity` argument.
    ///
    /// # Panics
    ///
    /// For anything but `"tanh"` and `"relu"`, in PyTorch's words.
    #[track_caller]
    pub(crate) fn rnn(nonlinearity: &str) -> Mode {
        match nonlinearity {
            "tanh" => Mode::RnnTanh,
            "relu" => Mode::RnnRelu,
            other => panic!("Unknown nonlinearity '{other}'. Select from 'tanh' or 'relu'."),
        }
    }
}

/// A recurrent layer's sizes and settings: what its weights' shapes and
/// its printout follow.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Spec {
    pub(crate) mode: Mode,
    pub(crate) input_size: usize,
    pub(crate) hidden_size: usize,
    pub(crate) options: RecurrentOptions,
}

impl Spec {
    /// Checks the settings as PyTorch's `RNNBase.__init__` does.
    ///
    /// # Panics
    ///
    /// On a zero `hidden_size` or `num_layers`, a dropout outside `[0, 1]`,
    /// a `proj_size` on a layer other than an LSTM or not below
    /// `hidden_size`, in PyTorch's words.
    #[track_caller]
    pub(crate) fn new(mode: Mode, input_size: usize, hidden_size: usize, options: RecurrentOptions) -> Spec {
        let name = mode.layer_name();
        assert!(hidden_size > 0, "{name}: hidden_size must be greater than zero");
        assert!(options.num_layers > 0, "{name}: num_layers must be greater than zero");
        assert!(
            (0.0..=1.0).contains(&options.dropout),
            "{name}: dropout should be a number in range [0, 1] representing the probability of an element being \
             zeroed, got {}",
            options.dropout
        );
        if options.proj_size > 0 {
            assert!(
                mode == Mode::Lstm,
                "{name}: proj_size argument is only supported for LSTM, not RNN or GRU"
            );
            assert!(options.proj_size < hidden_size, "{name}: proj_size has to be smaller than hidden_size");
        }
        // The largest weight, W_ih of a layer above the first or W_hh, must fit before anything is allocated.
        let widest = input_size.max(hidden_size.saturating_mul(2));
        if let Err(error) =
            crate::numel::checked_alloc::<f32>(name, "a weight", &[mode.gates(), hidden_size, widest])
        {
            panic!("{error}");
        }
        Spec { mode, input_size, hidden_size, options }
    }

    /// 1, or 2 when bidirectional.
    pub(crate) fn directions(&self) -> usize {
        if self.options.bidirectional { 2 } else { 1 }
    }

    /// The features of each direction's output and hidden state: `proj_size`
    /// if set, else `hidden_size`.
    pub(crate) fn real_hidden(&self) -> usize {
        if self.options.proj_size > 0 { self.options.proj_size } else { self.hidden_size }
    }

    /// The features of the output: `real_hidden · directions`.
    pub(crate) fn output_size(&self) -> usize {
        self.real_hidden() * self.directions()
    }

    /// PyTorch's `extra_repr`: `10, 20, num_layers=2, batch_first=True`.
    pub(crate) fn repr(&self) -> String {
        let o = &self.options;
        let mut s = format!("{}, {}", self.input_size, self.hidden_size);
        if o.proj_size != 0 {
            s += &format!(", proj_size={}", o.proj_size);
        }
        if o.num_layers != 1 {
            s += &format!(", num_layers={}", o.num_layers);
        }
        if !o.bias {
            s += &format!(", bias={}", boolean(o.bias));
        }
        if o.batch_first {
            s += &format!(", batch_first={}", boolean(o.batch_first));
        }
        if o.dropout != 0.0 {
            s += &format!(", dropout={}", float(o.dropout));
        }
        if o.bidirectional {
            s += &format!(", bidirectional={}", boolean(o.bidirectional));
        }
        s
    }
}
