//! `nn.RNN`, `nn.LSTM`, `nn.GRU` and their cells, as PyTorch's
//! `torch/nn/modules/rnn.py`: the settings (`options`), the parameters
//! under PyTorch's keys (`weights`), one step of a unit (`step`), a stack of
//! layers over time (`stack`), what hooks see of their tuples (`output`),
//! and the layers.

pub(crate) mod cells;
pub(crate) mod fused;
pub(crate) mod gru;
pub(crate) mod lstm;
pub(crate) mod options;
pub(crate) mod output;
pub(crate) mod rnn;
pub(crate) mod stack;
pub(crate) mod step;
pub(crate) mod typed_width;
pub(crate) mod weights;
pub(crate) mod with_state;
