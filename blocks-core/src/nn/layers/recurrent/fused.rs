//! The layers of an LSTM stack (no projection) as whole-sequence ops:
//! each layer and direction one `lstm_layer` (`ops/lstm_layer.rs`, the
//! fused cell inside), instead of a node per gate and per step.

use crate::nn::layers::recurrent::options::Spec;
use crate::nn::layers::recurrent::weights::StackWeights;
use crate::ops::LstmWeights;
use crate::{Element, TensorBase};

/// The last layer's output (`[L, N, H·directions]`) and each layer's and
/// direction's last `h` and `c` (`[N, H]` each), from `input` (`[L, N, D]`)
/// and the initial states (`[units, N, H]`, zeros when `None`).
pub(crate) fn lstm_layers<E: Element>(
    spec: &Spec,
    weights: &StackWeights<E>,
    input: TensorBase<E>,
    (h_0, c_0): (Option<&TensorBase<E>>, Option<&TensorBase<E>>),
    training: bool,
) -> (TensorBase<E>, Vec<TensorBase<E>>, Vec<TensorBase<E>>) {
    let (steps, rows) = (input.shape()[0], input.shape()[1]);
    let units = spec.options.num_layers * spec.directions();
    let (mut last_h, mut last_c) = (Vec::with_capacity(units), Vec::with_capacity(units));
    let state = |given: Option<&TensorBase<E>>, unit: usize| {
        given.map_or_else(|| TensorBase::zeros([rows, spec.hidden_size]), |s| s.select(0, unit as isize))
    };
    let mut input = input;
    for layer in 0..spec.options.num_layers {
        let mut outputs = Vec::with_capacity(spec.directions());
        for direction in 0..spec.directions() {
            let cell = weights.cell(layer, direction);
            let unit = layer * spec.directions() + direction;
            let biases = cell.bias_ih.as_deref().zip(cell.bias_hh.as_deref());
            let lstm = LstmWeights { weight_ih: &cell.weight_ih, weight_hh: &cell.weight_hh, biases };
            let y = input.lstm_layer(&state(h_0, unit), &state(c_0, unit), lstm, direction == 1);
            let last = if direction == 1 { 0 } else { steps - 1 };
            last_h.push(y.select(0, last as isize));
            last_c.push(y.select(0, steps as isize));
            outputs.push(y.narrow(0, 0, steps));
        }
        input = match outputs.as_slice() {
            [one] => one.clone(),
            both => TensorBase::cat(&both.iter().collect::<Vec<_>>(), 2),
        };
        if layer + 1 < spec.options.num_layers && spec.options.dropout > 0.0 {
            input = input.dropout(spec.options.dropout, training);
        }
    }
    (input, last_h, last_c)
}
