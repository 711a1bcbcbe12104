//! The forward of a stacked, maybe bidirectional recurrent layer: the
//! layout checks (`[L, N, D]`, `batch_first`, unbatched), the initial
//! state's checks, the loop over time (each step's input projected on its
//! own), dropout between layers.

use crate::nn::layers::recurrent::fused::lstm_layers;
use crate::nn::layers::recurrent::options::{Mode, Spec};
use crate::nn::layers::recurrent::step::{State, input_gates, step};
use crate::nn::layers::recurrent::weights::StackWeights;
use crate::{Element, TensorBase};

/// What a stack gives: the output (the last layer's `h` at every step, both
/// directions side by side), and every layer's and direction's last `h`
/// (and `c`), `[layers·directions, N, H']`.
pub(crate) struct Outcome<E: Element> {
    pub(crate) output: TensorBase<E>,
    pub(crate) h_n: TensorBase<E>,
    pub(crate) c_n: Option<TensorBase<E>>,
}

/// Runs the stack of `spec` on `x` from `initial` (`h_0`, and `c_0` for an
/// LSTM; zeros when `None`). `name` is the layer's printout, for the panics.
///
/// # Panics
///
/// When `x` is not `[L, N, input_size]` (`[N, L, input_size]` with
/// `batch_first`) or `[L, input_size]`, has no time step, or the initial
/// state is not `[layers·directions, N, H']` (`[layers·directions, H']`
/// for an unbatched input), in PyTorch's words.
#[track_caller]
pub(crate) fn run_stack<E: Element>(
    name: &str,
    spec: &Spec,
    weights: &StackWeights<E>,
    x: &TensorBase<E>,
    initial: Option<(&TensorBase<E>, Option<&TensorBase<E>>)>,
    training: bool,
) -> Outcome<E> {
    let shape = x.shape();
    let where_ = crate::nn::path::describe();
    if !matches!(shape.len(), 2 | 3) {
        panic!("{name}: Expected input to be 2D or 3D, got {}D instead{where_}", shape.len());
    }
    if shape[shape.len() - 1] != spec.input_size {
        panic!(
            "{name}: input.size(-1) must be equal to input_size. Expected {}, got {} (input of shape {shape:?}){where_}",
            spec.input_size,
            shape[shape.len() - 1]
        );
    }
    let batched = shape.len() == 3;
    let batch_first = batched && spec.options.batch_first;
    // [L, N, D] from here on.
    let layer_input = match (batched, batch_first) {
        (false, _) => x.unsqueeze(1),
        (true, true) => x.transpose(0, 1),
        (true, false) => x.clone(),
    };
    let (steps, rows) = (layer_input.shape()[0], layer_input.shape()[1]);
    if steps == 0 {
        panic!("{name}: the input has no time step (shape {shape:?}){where_}");
    }
    let units = spec.options.num_layers * spec.directions();
    let (h_0, c_0) = initial_state(name, spec, batched, rows, units, initial);

    if spec.mode == Mode::Lstm && spec.options.proj_size == 0 {
        let given = (h_0.as_ref(), c_0.as_ref());
        let (layer_input, last_h, last_c) = lstm_layers(spec, weights, layer_input, given, training);
        return finish(layer_input, &last_h, &last_c, batched, batch_first);
    }
    let mut last_h = Vec::with_capacity(units);
    let mut last_c = Vec::with_capacity(units);
    // Each step's input apart, so that backward through a step's product
    // gives that step's gradient alone (a slice of one product for all steps
    // would give, per step, a gradient of all of them, mostly zeros).
    let mut inputs: Vec<TensorBase<E>> = (0..steps).map(|t| layer_input.select(0, t as isize)).collect();
    for layer in 0..spec.options.num_layers {
        let mut outputs: Vec<Vec<TensorBase<E>>> = Vec::with_capacity(spec.directions());
        for direction in 0..spec.directions() {
            let cell = weights.cell(layer, direction);
            let unit = layer * spec.directions() + direction;
            let mut state = State {
                h: h_0
                    .as_ref()
                    .map_or_else(|| zeros(rows, spec.real_hidden()), |h| h.select(0, unit as isize)),
                c: (spec.mode == Mode::Lstm).then(|| {
                    c_0.as_ref().map_or_else(|| zeros(rows, spec.hidden_size), |c| c.select(0, unit as isize))
                }),
            };
            let mut hs: Vec<Option<TensorBase<E>>> = vec![None; steps];
            let order: Box<dyn Iterator<Item = usize>> =
                if direction == 0 { Box::new(0..steps) } else { Box::new((0..steps).rev()) };
            for t in order {
                state = step(spec.mode, cell, spec.hidden_size, &input_gates(cell, &inputs[t]), &state);
                hs[t] = Some(state.h.clone());
            }
            outputs.push(hs.into_iter().map(|h| h.expect("every step ran")).collect());
            last_h.push(state.h);
            last_c.extend(state.c);
        }
        inputs = (0..steps)
            .map(|t| match outputs.as_slice() {
                [one] => one[t].clone(),
                both => TensorBase::cat(&both.iter().map(|d| &d[t]).collect::<Vec<_>>(), 1),
            })
            .collect();
        if layer + 1 < spec.options.num_layers && spec.options.dropout > 0.0 {
            inputs = inputs.iter().map(|x| x.dropout(spec.options.dropout, training)).collect();
        }
    }
    let layer_input = TensorBase::stack(&inputs.iter().collect::<Vec<_>>(), 0);
    finish(layer_input, &last_h, &last_c, batched, batch_first)
}

/// The outcome in the input's layout, from the last layer's output
/// (`[L, N, ·]`) and each unit's last states.
fn finish<E: Element>(
    layer_input: TensorBase<E>,
    last_h: &[TensorBase<E>],
    last_c: &[TensorBase<E>],
    batched: bool,
    batch_first: bool,
) -> Outcome<E> {
    let stack = |states: &[TensorBase<E>]| {
        let stacked = TensorBase::stack(&states.iter().collect::<Vec<_>>(), 0);
        if batched { stacked } else { stacked.squeeze_dim(1) }
    };
    let output = match (batched, batch_first) {
        (false, _) => layer_input.squeeze_dim(1),
        (true, true) => layer_input.transpose(0, 1),
        (true, false) => layer_input,
    };
    Outcome { output, h_n: stack(last_h), c_n: (!last_c.is_empty()).then(|| stack(last_c)) }
}

/// `[rows, width]` zeros, a state no one gave.
fn zeros<E: Element>(rows: usize, width: usize) -> TensorBase<E> {
    TensorBase::zeros([rows, width])
}

/// The given initial state as `[units, N, ·]`, checked against what the
/// stack needs; `None` for what was not given.
#[track_caller]
fn initial_state<E: Element>(
    name: &str,
    spec: &Spec,
    batched: bool,
    rows: usize,
    units: usize,
    initial: Option<(&TensorBase<E>, Option<&TensorBase<E>>)>,
) -> (Option<TensorBase<E>>, Option<TensorBase<E>>) {
    let Some((h, c)) = initial else { return (None, None) };
    let check = |what: &str, state: &TensorBase<E>, width: usize| {
        let expected: Vec<usize> = if batched { vec![units, rows, width] } else { vec![units, width] };
        if state.shape() != expected {
            panic!(
                "{name}: Expected {what} size {}, got {:?}{}",
                python_tuple(&expected),
                state.shape(),
                crate::nn::path::describe()
            );
        }
        if batched { state.clone() } else { state.unsqueeze(1) }
    };
    let h = check("hidden", h, spec.real_hidden());
    let c = match (spec.mode, c) {
        (Mode::Lstm, Some(c)) => Some(check("cell", c, spec.hidden_size)),
        (Mode::Lstm, None) => panic!("{name}: an LSTM's initial state is (h_0, c_0), got h_0 alone"),
        (_, Some(_)) => panic!("{name}: only an LSTM's initial state has a cell state c_0"),
        (_, None) => None,
    };
    (Some(h), c)
}

/// `(2, 3, 20)`, as PyTorch prints a size in its messages.
pub(crate) fn python_tuple(sizes: &[usize]) -> String {
    let parts: Vec<String> = sizes.iter().map(usize::to_string).collect();
    if parts.len() == 1 { format!("({},)", parts[0]) } else { format!("({})", parts.join(", ")) }
}
